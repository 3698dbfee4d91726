import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import type { DecideInput } from '../../core/access-review-contracts.ts';
import { decideUpdate, progressQuery } from '../../workflows/access-review.ts';
import { startDevServer } from '../../worker/dev-server.ts';
import { createLogger } from '../../worker/logger.ts';
import { decideReview, openReview, waitForReviewLists } from '../../worker/review.ts';
import { directoryUser, startFakeGoogleDirectory, type DirectoryUserJson, type FakeGoogleDirectory } from '../support/fake-google-directory.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { openAccessReview } from '../../workflows/access-review.ts';

const TOKEN = `ya29.review-test-${randomUUID()}`;
const ADMIN = 'admin@example.com';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

let directory: FakeGoogleDirectory;
let users: DirectoryUserJson[];
const bob = () => users.find((candidate) => candidate.primaryEmail === 'bob@example.com')!;

beforeAll(() => {
  process.env.REVIEW_GOOGLE_TOKEN = TOKEN;
});

async function startDirectory(): Promise<void> {
  users = [
    directoryUser('100000000000000000001', ADMIN, 'Ada Admin', { isAdmin: true }),
    directoryUser('100000000000000000002', 'alice@example.com', 'Alice Example'),
    directoryUser('100000000000000000003', 'bob@example.com', 'Bob Example', { isEnrolledIn2Sv: false, lastLoginTime: daysAgo(200) }),
    directoryUser('100000000000000000004', 'carol@example.com', 'Carol Gone', { suspended: true }),
  ];
  directory = await startFakeGoogleDirectory({ users, accessTokens: [{ token: TOKEN, subject: ADMIN }] });
}

/** An access control whose Google Workspace directory is reviewed; durations short enough for a test. */
function accessControl(controlId: string, review: Record<string, unknown>) {
  return {
    controls: [
      {
        id: controlId,
        title: 'Access rights are reviewed and revoked',
        reference: ['A.5.18', 'A.8.2'],
        owner: 'security@example.com',
        schedule: { cron: '0 6 * * *' },
        sources: [
          {
            name: 'google',
            connector: 'google-workspace',
            config: { accessToken: { env: 'REVIEW_GOOGLE_TOKEN' }, rootUrl: directory.rootUrl, retryBaseMs: 5 },
          },
        ],
        checks: [{ check: 'mfa-missing' }],
        review: { every: 'quarterly', reviewers: { google: 'it-lead@example.com' }, ...review },
      },
    ],
  };
}

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  await directory?.close();
});
afterAll(() => {
  delete process.env.REVIEW_GOOGLE_TOKEN;
});

/** `address`: a Temporal server of the test's own instead of the run's shared one. */
async function openCampaign(review: Record<string, unknown>, options: { address?: string } = {}) {
  await startDirectory();
  const controlId = `access-${randomUUID().slice(0, 8)}`;
  current = await harness(accessControl(controlId, review), testRegistries, options);
  const { client, runtime } = current;
  const opened = await openReview(client, runtime.config, controlId);
  return {
    controlId,
    campaignId: opened.campaignId,
    reviews: new AccessReviewStore(runtime.store.catalog),
    handle: client.workflow.getHandle(opened.campaignId),
  };
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const refusalOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return error.cause?.message ?? error.message;
    return (error as Error).message;
  }
  throw new Error('the decision was expected to be refused');
};

describe('access review campaign on a real Temporal server', () => {
  it('opens review lists from the directory, takes decisions by Update and by the CLI path, and verifies a revocation the directory carried out', async () => {
    const { campaignId, reviews, handle, controlId } = await openCampaign({ dueInDays: 1, verifyAfter: '2s' });
    const { worker, client, runtime } = current!;
    const summary = await worker.runUntil(async () => {
      const progress = await waitForReviewLists(client, campaignId);
      expect(progress).toMatchObject({ phase: 'open', entryCount: 3, undecided: 3, systems: ['google'], closed: false });

      // Suspended accounts cannot sign in: no access to review. Privileged accounts come first.
      const entries = await reviews.entries(campaignId);
      expect(entries.map((entry) => [entry.entryNo, entry.username, entry.reviewer, entry.privileged])).toEqual([
        [1, ADMIN, 'it-lead@example.com', true],
        [2, 'alice@example.com', 'it-lead@example.com', false],
        [3, 'bob@example.com', 'it-lead@example.com', false],
      ]);
      expect(entries[2]).toMatchObject({ mfa: false, flags: { inactive: true, neverUsed: false, orphan: null, leaver: null, owner: null } });

      const approved = await handle.executeUpdate(decideUpdate, { args: [{ entries: ['1'], decision: 'approve', by: 'it-lead@example.com' }] });
      expect(approved).toEqual({ campaignId, decision: 'approve', entries: [1], undecided: 2 });
      const revoked = await decideReview(client, campaignId, {
        entries: ['google:BOB@example.com'],
        decision: 'revoke',
        by: 'it-lead@example.com',
        reason: 'left the project',
      });
      expect(revoked).toMatchObject({ entries: [3], undecided: 1 });
      // The administrator carries out the revocation before the verification collects again.
      bob().suspended = true;
      await decideReview(client, campaignId, {
        entries: ['2'],
        decision: 'defer',
        by: 'it-lead@example.com',
        reason: 'on parental leave until March; decide on return',
      });
      return await handle.result();
    });

    expect(summary).toMatchObject({ campaignId, controlId, status: 'completed', entryCount: 3, undecidedAtClose: 0, verifications: 1 });
    expect(summary.revocations).toEqual({ effective: 1, notEffective: 0, unverifiable: 0 });
    expect(summary.nonconformities.opened).toEqual([]);
    expect(await runtime.register.list({ controlId })).toEqual([]);

    const campaign = (await reviews.get(campaignId))!;
    expect(campaign).toMatchObject({ status: 'completed', undecided: 0, systems: ['google'], missingSources: [] });
    const entries = await reviews.entries(campaignId);
    expect(entries.map((entry) => [entry.decision, entry.reason, entry.verification])).toEqual([
      ['approve', null, null],
      ['defer', 'on parental leave until March; decide on return', null],
      ['revoke', 'left the project', 'effective'],
    ]);
    expect((await reviews.decisionHistory(campaignId)).map((decision) => [decision.entryNo, decision.decision, decision.by])).toEqual([
      [1, 'approve', 'it-lead@example.com'],
      [3, 'revoke', 'it-lead@example.com'],
      [2, 'defer', 'it-lead@example.com'],
    ]);

    // The opening lists (one per system and reviewer) and the decided lists are evidence, in the hash chain.
    const files = await Promise.all(campaign.reportEvidenceIds.map(async (id) => (await runtime.store.get(id))!));
    expect(files.map((row) => (row.provenance['file'] as { mediaType: string }).mediaType).sort()).toEqual(['text/csv', 'text/csv', 'text/html', 'text/html']);
    const decided = files.find((row) => row.sourceName === `${campaignId}/decisions.csv`)!;
    const rows = parseCsv(await runtime.store.fileContent(decided.id), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row['account'], row['decision'], row['revocation verified']])).toEqual([
      [ADMIN, 'approve', ''],
      ['alice@example.com', 'defer', ''],
      ['bob@example.com', 'revoke', ''],
    ]);
    expect((await runtime.store.verify()).ok).toBe(true);
    // Two collections of the directory: the opening one and the verification.
    expect(directory.listRequests.filter((request) => request.status === 200)).toHaveLength(2);
  });

  it('refuses unknown entries, a defer without reason and decisions on a closed campaign, leaving no trace of the refused ones', async () => {
    const { campaignId, reviews, handle } = await openCampaign({ dueInDays: 1, verifyAfter: '5s', maxVerifications: 1 });
    const { worker, client } = current!;
    const decide = (decision: DecideInput) => handle.executeUpdate(decideUpdate, { args: [decision] });
    const by = 'it-lead@example.com';
    const refusals = await worker.runUntil(async () => {
      await waitForReviewLists(client, campaignId);
      const early = {
        unknownNumber: await refusalOf(decide({ entries: ['99'], decision: 'approve', by })),
        emptyReason: await refusalOf(decide({ entries: ['2'], decision: 'defer', by, reason: '   ' })),
        unknownSystem: await refusalOf(decide({ entries: ['github:alice'], decision: 'approve', by })),
        unknownDecision: await refusalOf(decide({ entries: ['1'], decision: 'delete' as never, by })),
        noReviewer: await refusalOf(decide({ entries: ['1'], decision: 'approve', by: '' })),
        unknownAccount: await refusalOf(decideReview(client, campaignId, { entries: ['google:nobody@example.com'], decision: 'approve', by })),
      };
      await decide({ entries: ['1-2'], decision: 'approve', by });
      await decide({ entries: ['google:bob@example.com'], decision: 'revoke', by });
      // Every entry is decided: the campaign closes, and waits only to verify the revocation.
      await until(async () => ((await reviews.get(campaignId))!.status === 'completed' ? true : undefined), 'the campaign to close');
      const closed = await refusalOf(decideReview(client, campaignId, { entries: ['1'], decision: 'revoke', by }));
      await handle.result();
      return { ...early, closed };
    });

    expect(refusals.unknownNumber).toBe('unknown entry 99: the campaign has entries 1-3');
    expect(refusals.emptyReason).toBe('a defer decision needs a reason');
    expect(refusals.unknownSystem).toBe('unknown entry github:alice: github is not under review (google)');
    expect(refusals.unknownDecision).toMatch(/^decision "delete" is not one of approve, revoke, defer/);
    expect(refusals.noReviewer).toBe('a decision needs the reviewer who takes it (by)');
    expect(refusals.unknownAccount).toBe(`campaign ${campaignId}: unknown entry google:nobody@example.com`);
    expect(refusals.closed).toBe(`campaign ${campaignId} is closed: decisions are no longer accepted`);

    expect((await reviews.entries(campaignId)).map((entry) => entry.decision)).toEqual(['approve', 'approve', 'revoke']);
    // A validator's refusal never reaches history; the one refused by the catalog (unknown account) does, as a failed Update.
    const history = await handle.fetchHistory();
    const accepted = history.events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(3);
  });

  it('closes at the due date with undecided entries and raises one nonconformity for the campaign naming the count', async () => {
    const { campaignId, reviews, handle, controlId } = await openCampaign({ dueInDays: 8 / 86_400 });
    const { worker, client, runtime } = current!;
    const summary = await worker.runUntil(async () => {
      await waitForReviewLists(client, campaignId);
      await decideReview(client, campaignId, { entries: ['2'], decision: 'approve', by: 'it-lead@example.com' });
      return await handle.result();
    });
    expect(summary).toMatchObject({ status: 'incomplete', undecidedAtClose: 2, verifications: 0 });
    const nonconformities = await runtime.register.list({ controlId });
    expect(nonconformities).toHaveLength(1);
    expect(nonconformities[0]).toMatchObject({
      checkId: 'access-review-incomplete',
      subject: campaignId,
      status: 'open',
      // An undecided privileged account makes it high.
      severity: 'high',
      title: `Access review ${campaignId} closed with 2 of 3 entries undecided`,
      owner: 'security@example.com',
      reference: 'A.5.18, A.8.2',
    });
    expect(nonconformities[0]!.values).toMatchObject({ undecided: 2, entryCount: 3, bySystem: { google: 2 }, reviewers: ['it-lead@example.com'] });
    expect(nonconformities[0]!.evidenceIds).toEqual((await reviews.get(campaignId))!.reportEvidenceIds.slice(-2));
    expect(summary.nonconformities.opened).toEqual([nonconformities[0]!.id]);
    expect(await reviews.get(campaignId)).toMatchObject({ status: 'incomplete', undecided: 2 });
  });

  it('raises revocation-not-effective while the revoked account stays active, and settles it once a later verification finds it archived', async () => {
    const { campaignId, reviews, handle, controlId } = await openCampaign({ dueInDays: 1, verifyAfter: '2s', maxVerifications: 4 });
    const { worker, client, runtime } = current!;
    const bobId = bob().id;
    const summary = await worker.runUntil(async () => {
      await waitForReviewLists(client, campaignId);
      await decideReview(client, campaignId, { entries: ['1-2'], decision: 'approve', by: 'it-lead@example.com' });
      await decideReview(client, campaignId, { entries: ['google:bob@example.com'], decision: 'revoke', by: 'it-lead@example.com' });
      const raised = await until(
        async () => (await runtime.register.list({ controlId })).find((nc) => nc.checkId === 'revocation-not-effective'),
        'the revocation nonconformity',
      );
      expect(raised).toMatchObject({
        subject: `google:${bobId}`,
        status: 'open',
        severity: 'high',
        title: 'Revoked access still active: bob@example.com in google (C03az79cb)',
      });
      expect(raised.values).toMatchObject({ campaignId, account: 'bob@example.com', status: 'active', decidedBy: 'it-lead@example.com' });
      expect((await reviews.entries(campaignId))[2]!.verification).toBe('not-effective');
      bob().archived = true;
      return await handle.result();
    });

    const [nc, ...others] = await runtime.register.list({ controlId });
    expect(others).toEqual([]);
    expect(nc).toMatchObject({ checkId: 'revocation-not-effective', subject: `google:${bobId}`, status: 'no-longer-observed', occurrences: 1 });
    expect(summary).toMatchObject({ status: 'completed', verifications: 2, revocations: { effective: 1, notEffective: 1, unverifiable: 0 } });
    expect(summary.nonconformities).toEqual({ opened: [nc!.id], noLongerObserved: [nc!.id] });
    expect((await reviews.entries(campaignId))[2]).toMatchObject({ verification: 'effective' });
    expect((await runtime.register.historyOf(nc!.id)).map((entry) => entry.toStatus)).toEqual(['open', 'no-longer-observed']);
  });

  it('continues as new when Temporal suggests it, keeping decisions, pending revocations and the summary', async () => {
    // A server of its own that suggests continuing as new after 50 events, so a handful of decisions crosses it.
    const server = await startDevServer({
      log: createLogger({ level: 'silent' }),
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=50'],
    });
    try {
      const { controlId, campaignId, reviews, handle } = await openCampaign({ dueInDays: 1, verifyAfter: '8s' }, { address: server.address });
      const { client, worker } = current!;
      const summary = await worker.runUntil(async () => {
        await waitForReviewLists(client, campaignId);
        const firstRunId = (await handle.describe()).runId;
        await decideReview(client, campaignId, {
          entries: ['google:bob@example.com'],
          decision: 'revoke',
          by: 'it-lead@example.com',
          reason: 'left the project',
        });
        bob().suspended = true;
        // Reviewers change their minds: every decision is a few more events in the campaign's history.
        for (let round = 0; round < 14; round++) {
          await decideReview(client, campaignId, {
            entries: ['1'],
            decision: round % 2 === 0 ? 'approve' : 'defer',
            by: 'it-lead@example.com',
            reason: 'still checking',
          });
        }
        expect((await client.workflow.getHandle(campaignId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
        expect((await handle.describe()).runId).not.toBe(firstRunId);
        expect(await handle.query(progressQuery)).toMatchObject({
          phase: 'open',
          entryCount: 3,
          undecided: 1,
          closed: false,
          revocationsAwaitingVerification: 1,
        });
        await decideReview(client, campaignId, { entries: ['1', '2'], decision: 'approve', by: 'it-lead@example.com' });
        return await handle.result();
      });
      expect(summary).toMatchObject({ campaignId, controlId, status: 'completed', entryCount: 3, undecidedAtClose: 0, verifications: 1 });
      expect(summary.revocations).toEqual({ effective: 1, notEffective: 0, unverifiable: 0 });
      expect((await reviews.entries(campaignId)).map((entry) => [entry.entryNo, entry.decision, entry.verification])).toEqual([
        [1, 'approve', null],
        [2, 'approve', null],
        [3, 'revoke', 'effective'],
      ]);
      expect(await reviews.decisionHistory(campaignId)).toHaveLength(17);
    } finally {
      await current?.close();
      current = undefined;
      await server.stop();
    }
  });

  it("opens one campaign per period: the schedule's opener and a manual open in the same period are the same campaign", async () => {
    await startDirectory();
    const controlId = `access-${randomUUID().slice(0, 8)}`;
    current = await harness(accessControl(controlId, { every: 'annually', dueInDays: 1 }));
    const { worker, client, runtime } = current;
    const { scheduled, manual } = await worker.runUntil(async () => {
      const opener = await client.workflow.execute(openAccessReview, {
        taskQueue: runtime.config.config.temporal.taskQueue,
        workflowId: `review-opener:${controlId}-test`,
        args: [{ controlId }],
      });
      const again = await openReview(client, runtime.config, controlId);
      await waitForReviewLists(client, again.campaignId);
      await decideReview(client, again.campaignId, { entries: ['1-3'], decision: 'approve', by: 'it-lead@example.com' });
      await client.workflow.getHandle(again.campaignId).result();
      return { scheduled: opener as { campaignId: string }, manual: again };
    });
    const year = new Date().getUTCFullYear();
    expect(scheduled).toEqual({ campaignId: `review:${controlId}:${year}` });
    expect(manual).toEqual({ campaignId: `review:${controlId}:${year}`, period: String(year) });
    const runs = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${manual.campaignId}'` })) runs.push(execution);
    expect(runs).toHaveLength(1);
    expect((await new AccessReviewStore(runtime.store.catalog).list({ controlId })).map((campaign) => [campaign.id, campaign.status])).toEqual([
      [manual.campaignId, 'completed'],
    ]);
  });
});
