import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Deviation } from '../../checks/kit/contract.ts';
import { AccessReviewStore, type NewCampaign } from '../../evidence/access-reviews.ts';
import { Catalog } from '../../evidence/catalog.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { entryDraft } from '../support/review-entries.ts';

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

function openStore() {
  const reviews = new AccessReviewStore(new Catalog(':memory:'));
  reviews.create(campaign, [
    entryDraft({ username: 'Ada@Example.com', privileged: true }),
    entryDraft({ username: 'bob@example.com' }),
    entryDraft({ username: 'carol@example.com' }),
    entryDraft({ system: 'aws-prod', reviewer: 'cloud-lead@example.com', tenant: '111111111111', accountId: 'arn:aws:iam::111111111111:user/deploy', username: 'deploy', email: null }),
  ]);
  return reviews;
}

const by = 'it-lead@example.com';

describe('access review store', () => {
  it('numbers entries once; building the same campaign again returns it unchanged', () => {
    const reviews = openStore();
    const again = reviews.create(campaign, [entryDraft({ username: 'someone-else@example.com' })]);
    expect(again).toMatchObject({ id: campaign.id, status: 'open', entryCount: 4, undecided: 4, systems: ['google', 'aws-prod'], reportEvidenceIds: [] });
    expect(reviews.entries(campaign.id).map((entry) => [entry.entryNo, entry.system, entry.username, entry.privileged, entry.mfa, entry.flags.orphan])).toEqual([
      [1, 'google', 'Ada@Example.com', true, true, null],
      [2, 'google', 'bob@example.com', false, true, null],
      [3, 'google', 'carol@example.com', false, true, null],
      [4, 'aws-prod', 'deploy', false, true, null],
    ]);
    expect(reviews.list({ controlId: 'access' }).map((row) => row.id)).toEqual([campaign.id]);
    expect(reviews.list({ controlId: 'other' })).toEqual([]);
  });

  it('resolves numbers, ranges and account keys (username case aside), and names every reference it cannot', () => {
    const reviews = openStore();
    expect(reviews.resolve(campaign.id, ['3', '1-2', 'google:ada@example.COM', 'aws-prod:deploy'])).toEqual([1, 2, 3, 4]);
    expect(() => reviews.resolve(campaign.id, ['5', 'google:deploy', '2-9', 'nonsense'])).toThrow(`campaign ${campaign.id}: unknown entries 5, google:deploy, 2-9, nonsense`);
    expect(() => reviews.resolve('review:access:1999', ['1'])).toThrow('no access review campaign review:access:1999');
  });

  it('records decisions with their history, a later decision replacing an earlier one', () => {
    const reviews = openStore();
    expect(reviews.decide(campaign.id, { entries: ['1-2'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' })).toEqual({ entries: [1, 2], undecided: 2 });
    expect(reviews.decide(campaign.id, { entries: ['google:bob@example.com'], decision: 'revoke', reason: '  moved team ', by, at: '2026-10-03T09:00:00.000Z' })).toEqual({ entries: [2], undecided: 2 });
    expect(reviews.entries(campaign.id)[1]).toMatchObject({ decision: 'revoke', reason: 'moved team', decidedBy: by, decidedAt: '2026-10-03T09:00:00.000Z' });
    expect(reviews.decisionHistory(campaign.id).map((row) => [row.entryNo, row.decision])).toEqual([
      [1, 'approve'],
      [2, 'approve'],
      [2, 'revoke'],
    ]);
  });

  it('refuses a defer without reason, an unknown entry and any decision once closed, recording nothing', () => {
    const reviews = openStore();
    expect(() => reviews.decide(campaign.id, { entries: ['1'], decision: 'defer', by, at: '2026-10-02T09:00:00.000Z' })).toThrow('a defer decision needs a reason');
    expect(() => reviews.decide(campaign.id, { entries: ['1', 'google:nobody'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' })).toThrow('unknown entry google:nobody');
    expect(reviews.get(campaign.id)!.undecided).toBe(4);

    const closed = reviews.close(campaign.id, '2026-10-15T07:00:00.000Z');
    expect(closed).toMatchObject({ status: 'incomplete', closedAt: '2026-10-15T07:00:00.000Z', undecided: 4 });
    expect(reviews.close(campaign.id, '2026-10-16T07:00:00.000Z').closedAt).toBe('2026-10-15T07:00:00.000Z');
    expect(() => reviews.decide(campaign.id, { entries: ['1'], decision: 'approve', by, at: '2026-10-16T07:00:00.000Z' })).toThrow(`campaign ${campaign.id} is closed`);
    expect(reviews.decisionHistory(campaign.id)).toEqual([]);
  });

  it('completes when every entry is decided, and lists revocations to verify up to a cutoff until seen effective', () => {
    const reviews = openStore();
    reviews.decide(campaign.id, { entries: ['1', '2'], decision: 'approve', by, at: '2026-10-02T09:00:00.000Z' });
    reviews.decide(campaign.id, { entries: ['3'], decision: 'revoke', by, at: '2026-10-03T09:00:00.000Z' });
    reviews.decide(campaign.id, { entries: ['4'], decision: 'revoke', by, at: '2026-10-05T09:00:00.000Z' });
    expect(reviews.close(campaign.id, '2026-10-05T10:00:00.000Z').status).toBe('completed');

    expect(reviews.revocationsToVerify(campaign.id, '2026-10-03T08:59:59.999Z')).toEqual([]);
    expect(reviews.revocationsToVerify(campaign.id, '2026-10-03T09:00:00.000Z').map((entry) => entry.entryNo)).toEqual([3]);
    expect(reviews.revocationsToVerify(campaign.id, '2026-10-06T00:00:00.000Z').map((entry) => entry.entryNo)).toEqual([3, 4]);
    reviews.recordVerifications(
      campaign.id,
      [
        { entryNo: 3, verification: 'effective', evidenceId: 'ev-2' },
        { entryNo: 4, verification: 'not-effective', evidenceId: 'ev-2' },
      ],
      '2026-10-06T00:00:00.000Z',
    );
    expect(reviews.revocationsToVerify(campaign.id, '2026-10-06T00:00:00.000Z').map((entry) => [entry.entryNo, entry.verification])).toEqual([[4, 'not-effective']]);
    expect(reviews.entries(campaign.id)[2]).toMatchObject({ verification: 'effective', verifiedAt: '2026-10-06T00:00:00.000Z', verificationEvidenceId: 'ev-2' });
  });
});

describe('register: a run that examined some subjects only', () => {
  const deviation = (subject: string): Deviation => ({ checkId: 'revocation-not-effective', subject, title: `still active ${subject}`, severity: 'high', detail: 'x', values: {}, evidenceIds: [] });
  function verify(register: Register, runId: string, examined: string[], stillActive: string[]) {
    const run = register.saveCheckRun(
      { runId, controlId: 'access', evaluatedAt: runId, status: stillActive.length ? 'fail' : 'pass', results: [{ checkId: 'revocation-not-effective', status: stillActive.length ? 'fail' : 'pass', deviations: stillActive.length }] },
      stillActive.map(deviation),
    );
    return register.reconcile({
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

  it('settles only the nonconformities of the subjects it examined', () => {
    const register = new Register(new Catalog(':memory:'));
    expect(verify(register, '2026-10-06', ['google:a', 'google:b'], ['google:a', 'google:b']).opened).toEqual(['NC-0001', 'NC-0002']);
    // Another campaign verifies only b, and finds it gone: a is not its business and stays open.
    expect(verify(register, '2026-10-09', ['google:b'], [])).toEqual({ opened: [], stillObserved: [], reopened: [], noLongerObserved: ['NC-0002'] });
    expect(register.get('NC-0001')!.status).toBe('open');
  });
});

describe('evidence store: files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const meta = { runId: 'review:access:2026-Q4', controlId: 'access', sourceName: 'review:access:2026-Q4/decisions.csv', connector: 'access-review', connectorVersion: '1', collectedAt: '2026-10-15T07:00:00.000Z', provenance: { entries: 2 }, warnings: [] };

  it('keeps a file in the hash chain with its name and media type, once per run and name, and detects its tampering', async () => {
    const store = await EvidenceStore.open(path.join(dir, 'data'));
    try {
      const content = 'entry,account\r\n1,ada@example.com\r\n';
      const row = await store.storeFile(meta, { name: 'decisions.csv', mediaType: 'text/csv' }, content);
      expect(row).toMatchObject({ kinds: ['file'], recordCount: 0, size: Buffer.byteLength(content), provenance: { entries: 2, file: { name: 'decisions.csv', mediaType: 'text/csv' } } });
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
      store.close();
    }
  });
});
