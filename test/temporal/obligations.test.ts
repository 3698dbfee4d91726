import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { ManagementReviewStore } from '../../evidence/management-review.ts';
import type { CampaignSummary } from '../../core/access-review-contracts.ts';
import { completeOccurrence, openOccurrence } from '../../worker/calendar.ts';
import { createLogger } from '../../worker/logger.ts';
import { runControl } from '../../worker/run-control.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { decideReview, openReview, waitForReviewLists } from '../../worker/review.ts';
import { directoryUser, startFakeGoogleDirectory, type FakeGoogleDirectory } from '../support/fake-google-directory.ts';
import { runIsms } from '../support/cli.ts';
import { harness, writeConfig, type TemporalHarness } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';
import type { accessReviewCampaign } from '../../workflows/access-review.ts';

const { EventType } = temporal.api.enums.v1;
const TOKEN = `ya29.obligation-test-${randomUUID()}`;
const ADMIN = 'admin@example.com';
const DAY_MS = 86_400_000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);

let directory: FakeGoogleDirectory | undefined;
let current: TemporalHarness | undefined;
beforeAll(() => {
  process.env.OBLIGATION_GOOGLE_TOKEN = TOKEN;
});
afterEach(async () => {
  await current?.close();
  current = undefined;
  await directory?.close();
  directory = undefined;
});
afterAll(() => {
  delete process.env.OBLIGATION_GOOGLE_TOKEN;
});

/**
 * A reviewed access control and a calendar whose access-review activity is due once a year on `anchor` (UTC), so
 * the occurrence is due a few days from or before today whatever day the test runs.
 */
async function setUp(anchor: string) {
  directory = await startFakeGoogleDirectory({
    users: [directoryUser('1', ADMIN, 'Ada Admin', { isAdmin: true }), directoryUser('2', 'alice@example.com', 'Alice Example')],
    accessTokens: [{ token: TOKEN, subject: ADMIN }],
  });
  const controlId = `access-${randomUUID().slice(0, 8)}`;
  current = await harness(
    {
      timezone: 'UTC',
      controls: [
        {
          id: controlId,
          title: 'Access rights are reviewed',
          reference: ['A.5.18'],
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [
            {
              name: 'google',
              connector: 'google-workspace',
              config: { accessToken: { env: 'OBLIGATION_GOOGLE_TOKEN' }, rootUrl: directory.rootUrl, retryBaseMs: 5 },
            },
          ],
          checks: [{ check: 'mfa-missing' }],
          review: { every: 'annually', dueInDays: 1, reviewers: { google: 'it-lead@example.com' } },
        },
      ],
      calendar: {
        owner: 'isms@example.com',
        timezone: 'UTC',
        grace: '30d',
        activities: [
          {
            id: 'access-review',
            title: 'User access review',
            reference: 'A.5.18',
            every: '1 year',
            anchor,
            dueTime: '23:00',
            evidence: [{ name: 'access review record', required: true }],
          },
        ],
      },
    },
    testRegistries,
  );
  return { controlId, occurrenceId: `activity:access-review:${anchor}` };
}

/** Opens the campaign, approves every entry (which closes it) and waits for the campaign to end; a worker runs once, so `before` runs inside. */
async function reviewEverything(
  controlId: string,
  before?: () => Promise<void>,
): Promise<{ campaignId: string; summary: CampaignSummary; history: temporal.api.history.v1.IHistory }> {
  const { client, runtime, worker } = current!;
  return worker.runUntil(async () => {
    await before?.();
    const { campaignId } = await openReview(client, runtime.config, controlId);
    await waitForReviewLists(client, campaignId);
    await decideReview(client, campaignId, { entries: ['1-2'], decision: 'approve', by: 'it-lead@example.com' });
    const handle = client.workflow.getHandle<typeof accessReviewCampaign>(campaignId);
    const summary = await handle.result();
    return { campaignId, summary, history: await handle.fetchHistory() };
  });
}

describe('one obligation, one record: the access review campaign completes its calendar occurrence', () => {
  it('a campaign closed before the occurrence is due completes it on time, starting the occurrence the schedule had not opened yet', async () => {
    const { controlId, occurrenceId } = await setUp(dateIn(3));
    const calendar = new CalendarStore(current!.runtime.store.catalog);
    expect(await calendar.get(occurrenceId)).toBeUndefined();

    const { campaignId, summary, history } = await reviewEverything(controlId);
    expect(summary).toMatchObject({ status: 'completed', undecidedAtClose: 0 });

    const occurrence = (await calendar.get(occurrenceId))!;
    expect(occurrence).toMatchObject({ status: 'done', late: false, completedBy: 'isms-worker' });
    expect(occurrence.note).toBe(`access review campaign ${campaignId} (${controlId}, ${summary.period}) closed completed: 2 of 2 entries decided`);
    // The decided lists are the evidence, kept again under the occurrence (same content, same blob).
    const campaign = (await new AccessReviewStore(current!.runtime.store.catalog).get(campaignId))!;
    const decided = async (suffix: string) => (await current!.runtime.store.list()).find((row) => row.sourceName === `${campaignId}/decisions.${suffix}`)!;
    expect(campaign.reportEvidenceIds).toContain((await decided('html')).id);
    expect(occurrence.evidence.map((item) => ('evidenceId' in item ? [item.name, item.sha256] : [item.name]))).toEqual([
      ['access review record', (await decided('html')).sha256],
      ['decided review list (CSV)', (await decided('csv')).sha256],
    ]);
    for (const item of occurrence.evidence) {
      if (!('evidenceId' in item)) throw new Error(`${item.name} is a link, not a stored file`);
      expect(await current!.runtime.store.get(item.evidenceId)).toMatchObject({ runId: occurrenceId, controlId: 'activity:access-review', uri: item.uri });
    }
    // Through the occurrence workflow's own Update: its history holds the completion.
    const occurrenceHistory = await current!.client.workflow.getHandle(occurrenceId).fetchHistory();
    expect(occurrenceHistory.events!.filter((event) => event.workflowExecutionUpdateCompletedEventAttributes)).toHaveLength(1);
    // The campaign's history has the patch marker and the one activity that did it.
    expect(history.events!.filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)).toHaveLength(1);
    expect(history.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toContain(
      'completeAccessReviewOccurrence',
    );
    expect((await current!.runtime.store.verify()).ok).toBe(true);
  });

  it('a campaign that closes after the occurrence was due completes it late', async () => {
    const { controlId, occurrenceId } = await setUp(dateIn(-2));
    const { client, runtime } = current!;
    const calendar = new CalendarStore(runtime.store.catalog);
    let before: unknown;
    const { summary } = await reviewEverything(controlId, async () => {
      await openOccurrence(client, runtime.config, 'access-review', { dueDate: occurrenceId.slice(-10) });
      const deadline = Date.now() + 20_000;
      while (!(await calendar.get(occurrenceId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      before = await calendar.get(occurrenceId);
    });
    expect(before).toMatchObject({ status: 'open' });
    expect(summary.status).toBe('completed');
    expect(await calendar.get(occurrenceId)).toMatchObject({ status: 'done', late: true, completedBy: 'isms-worker' });
    // Still within grace: no missed-activity nonconformity was raised.
    expect(await runtime.register.list({ controlId: 'activity:access-review' })).toEqual([]);
  });
});

describe('one obligation, one record: a held management review completes its calendar occurrence', () => {
  it('isms management-review close keeps the minutes and completes the management-review occurrence with them and the pack, once', async () => {
    const anchor = dateIn(5);
    const occurrenceId = `activity:management-review:${anchor}`;
    const { dir, file } = writeConfig({
      timezone: 'UTC',
      calendar: {
        owner: 'isms@example.com',
        timezone: 'UTC',
        activities: [
          {
            id: 'management-review',
            title: 'Management review',
            reference: '9.3',
            every: '1 year',
            anchor,
            evidence: [{ name: 'management review minutes', required: true }],
          },
        ],
      },
    });
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress') };
    const isms = (...args: string[]) => runIsms(['--config', file, 'management-review', ...args], { cwd: dir, env, timeout: 120_000 });
    try {
      const from = dateIn(-90);
      const to = dateIn(1);
      const generated = await isms('--from', from, '--to', to, '--out', path.join(dir, 'pack.html'));
      expect(generated.stderr).toBe('');
      const [, packId, htmlId] = /kept as evidence (ev-[0-9a-f-]+) \(JSON\) and (ev-[0-9a-f-]+) \(HTML\)/.exec(generated.stdout)!;
      expect(
        (await isms('decide', '--text', 'Budget a penetration test', '--owner', 'cto@example.com', '--due', dateIn(60), '--by', 'ceo@example.com')).code,
      ).toBe(0);

      const closed = await isms('close', '--by', 'ceo@example.com');
      expect(closed.stderr).toBe('');
      expect(closed.code).toBe(0);
      expect(closed.stdout).toContain(`${occurrenceId}: completed with the minutes and the pack as evidence`);

      const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
      try {
        const occurrence = (await new CalendarStore(runtime.store.catalog).get(occurrenceId))!;
        expect(occurrence).toMatchObject({ status: 'done', late: false, completedBy: 'ceo@example.com' });
        expect(occurrence.note).toBe(`management review MR-0001: 1 decision(s) on pack ${packId}`);
        const review = (await new ManagementReviewStore(runtime.store.catalog).get('MR-0001'))!;
        expect(review.occurrenceId).toBe(occurrenceId);
        // The minutes and the pack, kept again under the occurrence: the same content as the review's own.
        expect(occurrence.evidence.map((item) => ('evidenceId' in item ? [item.name, item.sha256] : [item.name]))).toEqual([
          ['management review minutes', (await runtime.store.get(review.minutesEvidenceId!))!.sha256],
          ['management review pack', (await runtime.store.get(htmlId!))!.sha256],
        ]);
        expect((await runtime.store.verify()).ok).toBe(true);
      } finally {
        runtime.close();
      }

      // Closing again completes nothing twice.
      const again = await isms('close', '--by', 'ceo@example.com');
      expect(again).toMatchObject({ code: 2, stderr: 'no management review is open: record its decisions first (isms management-review decide)\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('one obligation, one record: a reviewed SoA completes its calendar occurrence', () => {
  it('isms soa review completes the soa-review occurrence with the latest kept SoA, and refuses when none is kept', async () => {
    const anchor = dateIn(10);
    const occurrenceId = `activity:soa-review:${anchor}`;
    const { dir, file } = writeConfig({
      timezone: 'UTC',
      calendar: {
        owner: 'isms@example.com',
        timezone: 'UTC',
        activities: [
          {
            id: 'soa-review',
            title: 'Statement of Applicability review',
            reference: '6.1.3',
            every: '1 year',
            anchor,
            evidence: [{ name: 'statement of applicability', required: true }],
          },
        ],
      },
    });
    const isms = (...args: string[]) =>
      runIsms(['--config', file, 'soa', ...args], { cwd: dir, env: { TEMPORAL_ADDRESS: inject('temporalAddress') }, timeout: 120_000 });
    try {
      expect(await isms('review', '--by', 'isms@example.com')).toMatchObject({
        code: 2,
        stderr: 'soa review: no SoA is kept yet; `isms soa --out FILE` generates and keeps one\n',
      });
      const generated = await isms('--out', path.join(dir, 'soa.html'));
      expect(generated.code, generated.stderr).toBe(0);

      const reviewed = await isms('review', '--by', 'isms@example.com', '--note', 'no exclusions changed');
      expect(reviewed.stderr).toBe('');
      expect(reviewed.stdout).toMatch(
        new RegExp(`^SoA ev-[0-9a-f-]+ \\([^)]+\\) reviewed by isms@example.com\\n${occurrenceId}: completed with it as evidence\\n$`),
      );

      const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
      try {
        const occurrence = (await new CalendarStore(runtime.store.catalog).get(occurrenceId))!;
        expect(occurrence).toMatchObject({ status: 'done', late: false, completedBy: 'isms@example.com' });
        const soaRows = await runtime.store.list({ controlId: 'isms:soa' });
        const sha = (sourceName: string) => soaRows.find((row) => row.sourceName === sourceName)!.sha256;
        expect(occurrence.evidence.map((item) => ('evidenceId' in item ? [item.name, item.sha256] : [item.name]))).toEqual([
          ['statement of applicability', sha('soa.html')],
          ['statement of applicability (JSON)', sha('soa.json')],
        ]);
        expect(occurrence.note).toMatch(/^reviewed the SoA generated .+ \(evidence ev-[0-9a-f-]+\); no exclusions changed$/);
      } finally {
        runtime.close();
      }
      // Reviewed again: the occurrence is not completed twice.
      const again = await isms('review', '--by', 'isms@example.com');
      expect(again.stdout).toContain(`${occurrenceId}: already completed by isms@example.com; left as it is`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('one obligation, one record: a risk register with every risk reviewed completes the risk assessment review', () => {
  const risk = (id: string, lastReview: string) =>
    `  - id: ${id}\n    title: Risk ${id}\n    owner: dev@example.com\n    asset: order database\n    likelihood: possible\n    impact: major\n    residualLikelihood: unlikely\n    residualImpact: minor\n    treatment: mitigate\n    controls: [A.8.13]\n    lastReview: ${lastReview}\n`;

  /** A risk management control over a register file and a yearly risk-assessment-review activity due on `anchor` (UTC). */
  async function riskSetUp(anchor: string, lastReviews: string[]) {
    const controlId = `risks-${randomUUID().slice(0, 8)}`;
    current = await harness({
      timezone: 'UTC',
      controls: [
        {
          id: controlId,
          title: 'Risks are assessed and reviewed',
          reference: ['6.1.2', '8.2'],
          owner: 'isms@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [{ name: 'risks', connector: 'risk-register', config: { path: 'risks.yaml' } }],
          checks: [{ check: 'risk-review-overdue' }],
        },
      ],
      calendar: {
        owner: 'isms@example.com',
        timezone: 'UTC',
        grace: '30d',
        activities: [
          {
            id: 'risk-assessment-review',
            title: 'Risk assessment review',
            reference: ['6.1.2', '8.2'],
            every: '1 year',
            anchor,
            dueTime: '23:00',
            evidence: [
              { name: 'risk register', required: true },
              { name: 'risk treatment plan', required: false },
            ],
          },
        ],
      },
    });
    writeFileSync(path.join(current.dir, 'risks.yaml'), `risks:\n${lastReviews.map((day, index) => risk(`R-${index + 1}`, day)).join('')}`);
    return { controlId, occurrenceId: `activity:risk-assessment-review:${anchor}` };
  }
  const run = (controlId: string, minute: number) => runControl(current!.client, current!.runtime.config, controlId, new Date(Date.now() - minute * 60_000));

  it('every risk reviewed in the year before the due date: the control run completes the occurrence on time with the snapshot, and once', async () => {
    const { controlId, occurrenceId } = await riskSetUp(dateIn(3), [dateIn(-30), dateIn(-200)]);
    const { runtime, worker, client } = current!;
    const calendar = new CalendarStore(runtime.store.catalog);
    const [first, second] = await worker.runUntil(async () => [await run(controlId, 1), await run(controlId, 2)]);
    expect(first.status).toBe('pass');

    const occurrence = (await calendar.get(occurrenceId))!;
    expect(occurrence).toMatchObject({ status: 'done', late: false, completedBy: 'isms-worker' });
    const snapshot = first.evidence[0]!;
    expect(occurrence.note).toBe(`risk register risks (evidence ${snapshot.id}, control ${controlId}): all 2 risk(s) reviewed since ${dateIn(-362)}`);
    // The snapshot is the evidence, kept again under the occurrence as its records, pointing back at the snapshot.
    expect(occurrence.evidence).toHaveLength(1);
    const [kept] = occurrence.evidence;
    if (!kept || !('evidenceId' in kept)) throw new Error('the risk register is not kept as a stored file');
    expect(kept.name).toBe('risk register');
    const row = (await runtime.store.get(kept.evidenceId))!;
    expect(row).toMatchObject({
      runId: occurrenceId,
      controlId: 'activity:risk-assessment-review',
      provenance: { copyOf: snapshot.id, copyOfSha256: snapshot.sha256 },
    });
    const lines = (await runtime.store.fileContent(kept.evidenceId))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; id: string });
    expect(lines.map((record) => [record.kind, record.id])).toEqual([
      ['risk', 'R-1'],
      ['risk', 'R-2'],
    ]);

    // The second run found it done: one completion, through the occurrence workflow's own Update.
    expect(second.status).toBe('pass');
    const occurrenceHistory = await client.workflow.getHandle(occurrenceId).fetchHistory();
    expect(occurrenceHistory.events!.filter((event) => event.workflowExecutionUpdateCompletedEventAttributes)).toHaveLength(1);
    const runHistory = await client.workflow.getHandle(first.runId).fetchHistory();
    expect(runHistory.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual([
      'collectEvidence',
      'evaluateControl',
      'completeRiskAssessmentReview',
      'notify',
    ]);
    expect((await runtime.store.verify()).ok).toBe(true);
  });

  it('a snapshot taken after the occurrence was due completes it late', async () => {
    const { controlId, occurrenceId } = await riskSetUp(dateIn(-2), [dateIn(-10)]);
    const { runtime, worker } = current!;
    await worker.runUntil(() => run(controlId, 1));
    expect(await new CalendarStore(runtime.store.catalog).get(occurrenceId)).toMatchObject({ status: 'done', late: true, completedBy: 'isms-worker' });
  });

  it('a risk not reviewed in the period leaves the occurrence open, and a person still completes it', async () => {
    // Not the first test's due date: the dev server is shared, and an occurrence's workflow id is its due date.
    const { controlId, occurrenceId } = await riskSetUp(dateIn(4), [dateIn(-30), dateIn(-400)]);
    const { runtime, worker, client } = current!;
    const calendar = new CalendarStore(runtime.store.catalog);
    await worker.runUntil(async () => {
      await openOccurrence(client, runtime.config, 'risk-assessment-review', { dueDate: occurrenceId.slice(-10) });
      const deadline = Date.now() + 20_000;
      while (!(await calendar.get(occurrenceId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const summary = await run(controlId, 1);
      // R-2 is overdue: the check says so, and the calendar is left for a person.
      expect(summary.status).toBe('fail');
      expect(await calendar.get(occurrenceId)).toMatchObject({ status: 'open', completedBy: null });
      const runHistory = await client.workflow.getHandle(summary.runId).fetchHistory();
      expect(runHistory.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toContain(
        'completeRiskAssessmentReview',
      );

      const minutes = path.join(current!.dir, 'risk-review-minutes.txt');
      writeFileSync(minutes, 'R-2 reviewed in the risk meeting; residual unchanged');
      const receipt = await completeOccurrence(client, runtime, occurrenceId, { by: 'isms@example.com', files: [minutes] });
      expect(receipt).toMatchObject({ occurrenceId, completedBy: 'isms@example.com', late: false });
    });
    expect(await calendar.get(occurrenceId)).toMatchObject({ status: 'done', completedBy: 'isms@example.com' });
  });
});
