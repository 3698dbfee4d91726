import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Deviation } from '../../core/check-results.ts';
import { AccessReviewStore, type NewCampaign } from '../../evidence/access-reviews.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { entryDraft } from '../support/review-entries.ts';
import { BACKENDS, closeTestCatalogs, testCatalog, type Backend } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

const campaign: NewCampaign = {
  id: 'review:access:2026-Q4',
  controlId: 'access',
  period: '2026-Q4',
  openedAt: '2026-10-01T07:00:00.000Z',
  dueAt: '2026-10-15T07:00:00.000Z',
  systems: ['google', 'aws-prod'],
  missingSources: [],
  evidenceIds: ['ev-google', 'ev-aws'],
};

async function openStore(backend: Backend) {
  const reviews = new AccessReviewStore(await testCatalog(backend));
  await reviews.create(campaign, [
    entryDraft({ username: 'Ada@Example.com', privileged: true }),
    entryDraft({ username: 'bob@example.com' }),
    entryDraft({ username: 'carol@example.com' }),
    entryDraft({
      system: 'aws-prod',
      reviewer: 'cloud-lead@example.com',
      tenant: '111111111111',
      accountId: 'arn:aws:iam::111111111111:user/deploy',
      username: 'deploy',
      email: null,
    }),
  ]);
  return reviews;
}

const by = 'it-lead@example.com';

describe.each(BACKENDS)('access review store (%s)', (backend) => {
  it('numbers entries once; building the same campaign again returns it unchanged', async () => {
    const reviews = await openStore(backend);
    const again = await reviews.create(campaign, [entryDraft({ username: 'someone-else@example.com' })]);
    expect(again).toMatchObject({ id: campaign.id, status: 'open', entryCount: 4, undecided: 4, systems: ['google', 'aws-prod'], reportEvidenceIds: [] });
    expect(
      (await reviews.entries(campaign.id)).map((entry) => [entry.entryNo, entry.system, entry.username, entry.privileged, entry.mfa, entry.flags.orphan]),
    ).toEqual([
      [1, 'google', 'Ada@Example.com', true, true, null],
      [2, 'google', 'bob@example.com', false, true, null],
      [3, 'google', 'carol@example.com', false, true, null],
      [4, 'aws-prod', 'deploy', false, true, null],
    ]);
    expect((await reviews.list({ controlId: 'access' })).map((row) => row.id)).toEqual([campaign.id]);
    expect(await reviews.list({ controlId: 'other' })).toEqual([]);
  });

  it('resolves numbers, ranges and account keys (username case aside), and names every reference it cannot', async () => {
    const reviews = await openStore(backend);
    expect(await reviews.resolve(campaign.id, ['3', '1-2', 'google:ada@example.COM', 'aws-prod:deploy'])).toEqual([1, 2, 3, 4]);
    await expect(reviews.resolve(campaign.id, ['5', 'google:deploy', '2-9', 'nonsense'])).rejects.toThrow(
      `campaign ${campaign.id}: unknown entries 5, google:deploy, 2-9, nonsense`,
    );
    await expect(reviews.resolve('review:access:1999', ['1'])).rejects.toThrow('no access review campaign review:access:1999');
  });

  it('records decisions with their history, a later decision replacing an earlier one', async () => {
    const reviews = await openStore(backend);
    expect(await reviews.decide(campaign.id, { entries: ['1-2'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' })).toEqual({
      entries: [1, 2],
      undecided: 2,
    });
    expect(
      await reviews.decide(campaign.id, {
        entries: ['google:bob@example.com'],
        decision: 'revoke',
        reason: '  moved team ',
        by,
        at: '2026-10-03T09:00:00.000Z',
      }),
    ).toEqual({ entries: [2], undecided: 2 });
    expect((await reviews.entries(campaign.id))[1]).toMatchObject({
      decision: 'revoke',
      reason: 'moved team',
      decidedBy: by,
      decidedAt: '2026-10-03T09:00:00.000Z',
    });
    expect((await reviews.decisionHistory(campaign.id)).map((row) => [row.entryNo, row.decision])).toEqual([
      [1, 'approve'],
      [2, 'approve'],
      [2, 'revoke'],
    ]);
  });

  it('refuses a defer without reason, an unknown entry and any decision once closed, recording nothing', async () => {
    const reviews = await openStore(backend);
    await expect(reviews.decide(campaign.id, { entries: ['1'], decision: 'defer', by, at: '2026-10-02T09:00:00.000Z' })).rejects.toThrow(
      'a defer decision needs a reason',
    );
    await expect(reviews.decide(campaign.id, { entries: ['1', 'google:nobody'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' })).rejects.toThrow(
      'unknown entry google:nobody',
    );
    expect((await reviews.get(campaign.id))!.undecided).toBe(4);

    const closed = await reviews.close(campaign.id, '2026-10-15T07:00:00.000Z');
    expect(closed).toMatchObject({ status: 'incomplete', closedAt: '2026-10-15T07:00:00.000Z', undecided: 4 });
    expect((await reviews.close(campaign.id, '2026-10-16T07:00:00.000Z')).closedAt).toBe('2026-10-15T07:00:00.000Z');
    await expect(reviews.decide(campaign.id, { entries: ['1'], decision: 'approve', by, at: '2026-10-16T07:00:00.000Z' })).rejects.toThrow(
      `campaign ${campaign.id} is closed`,
    );
    expect(await reviews.decisionHistory(campaign.id)).toEqual([]);
  });

  it('completes when every entry is decided, and lists revocations to verify up to a cutoff until seen effective', async () => {
    const reviews = await openStore(backend);
    await reviews.decide(campaign.id, { entries: ['1', '2'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' });
    await reviews.decide(campaign.id, { entries: ['3'], decision: 'revoke', by, at: '2026-10-03T09:00:00.000Z' });
    await reviews.decide(campaign.id, { entries: ['4'], decision: 'revoke', by, at: '2026-10-05T09:00:00.000Z' });
    expect((await reviews.close(campaign.id, '2026-10-05T10:00:00.000Z')).status).toBe('completed');

    expect(await reviews.revocationsToVerify(campaign.id, '2026-10-03T08:59:59.999Z')).toEqual([]);
    expect((await reviews.revocationsToVerify(campaign.id, '2026-10-03T09:00:00.000Z')).map((entry) => entry.entryNo)).toEqual([3]);
    expect((await reviews.revocationsToVerify(campaign.id, '2026-10-06T00:00:00.000Z')).map((entry) => entry.entryNo)).toEqual([3, 4]);
    await reviews.recordVerifications(
      campaign.id,
      [
        { entryNo: 3, verification: 'effective', evidenceId: 'ev-2' },
        { entryNo: 4, verification: 'not-effective', evidenceId: 'ev-2' },
      ],
      '2026-10-06T00:00:00.000Z',
    );
    expect((await reviews.revocationsToVerify(campaign.id, '2026-10-06T00:00:00.000Z')).map((entry) => [entry.entryNo, entry.verification])).toEqual([
      [4, 'not-effective'],
    ]);
    expect((await reviews.entries(campaign.id))[2]).toMatchObject({
      verification: 'effective',
      verifiedAt: '2026-10-06T00:00:00.000Z',
      verificationEvidenceId: 'ev-2',
    });
  });
});

describe.each(BACKENDS)('register: a run that examined some subjects only (%s)', (backend) => {
  const deviation = (subject: string): Deviation => ({
    checkId: 'revocation-not-effective',
    subject,
    title: `still active ${subject}`,
    severity: 'high',
    detail: 'x',
    values: {},
    evidenceIds: [],
  });
  async function verify(register: Register, runId: string, examined: string[], stillActive: string[]) {
    const run = await register.saveCheckRun(
      {
        runId,
        controlId: 'access',
        evaluatedAt: runId,
        status: stillActive.length ? 'fail' : 'pass',
        results: [{ checkId: 'revocation-not-effective', status: stillActive.length ? 'fail' : 'pass', deviations: stillActive.length }],
      },
      stillActive.map(deviation),
    );
    return await register.reconcile({
      checkRunId: run.id,
      controlId: 'access',
      reference: 'A.5.18',
      owner: 'sec',
      at: runId,
      gaps: [],
      collectedSources: [],
      examined: examined.map((subject) => ({ checkId: 'revocation-not-effective', subject })),
    });
  }

  it('settles only the nonconformities of the subjects it examined', async () => {
    const register = new Register(await testCatalog(backend));
    expect((await verify(register, '2026-10-06', ['google:a', 'google:b'], ['google:a', 'google:b'])).opened).toEqual(['NC-0001', 'NC-0002']);
    // Another campaign verifies only b, and finds it gone: a is not its business and stays open.
    expect(await verify(register, '2026-10-09', ['google:b'], [])).toEqual({ opened: [], stillObserved: [], reopened: [], noLongerObserved: ['NC-0002'] });
    expect((await register.get('NC-0001'))!.status).toBe('open');
  });
});

describe('evidence store: files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const meta = {
    runId: 'review:access:2026-Q4',
    controlId: 'access',
    sourceName: 'review:access:2026-Q4/decisions.csv',
    connector: 'access-review',
    connectorVersion: '1',
    collectedAt: '2026-10-15T07:00:00.000Z',
    provenance: { entries: 2 },
    warnings: [],
  };

  it('keeps a file in the hash chain with its name and media type, once per run and name, and detects its tampering', async () => {
    const store = await EvidenceStore.open(path.join(dir, 'data'));
    try {
      const content = 'entry,account\r\n1,ada@example.com\r\n';
      const row = await store.storeFile(meta, { name: 'decisions.csv', mediaType: 'text/csv' }, content);
      expect(row).toMatchObject({
        kinds: ['file'],
        recordCount: 0,
        size: Buffer.byteLength(content),
        provenance: { entries: 2, file: { name: 'decisions.csv', mediaType: 'text/csv' } },
      });
      expect((await store.fileContent(row.id)).toString('utf8')).toBe(content);
      expect((await store.storeFile(meta, { name: 'other.csv', mediaType: 'text/csv' }, 'changed')).id).toBe(row.id);
      await expect(async () => {
        for await (const record of store.records(row.id)) void record;
      }).rejects.toThrow(`evidence ${row.id} is a file, not records`);
      expect(await store.verify()).toMatchObject({ ok: true, checked: 1 });

      const blob = store.blobPath(row.uri);
      await chmod(blob, 0o644);
      await writeFile(blob, 'not zstd');
      const report = await store.verify();
      expect(report.problems.map((problem) => [problem.evidenceId, problem.problem])).toEqual([[row.id, 'blob-modified']]);
    } finally {
      await store.close();
    }
  });
});
