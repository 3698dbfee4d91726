import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestCheckRunBefore, ManagementReviewRefusal, ManagementReviewStore, snapshotsOfKind } from '../../evidence/management-review.ts';
import { Scan, type EvidenceRecord } from '../../core/records.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { risk } from '../support/register-records.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-management-review-store-'));
let store: EvidenceStore;
let reviews: ManagementReviewStore;

beforeAll(async () => {
  store = await EvidenceStore.open(dir);
  reviews = new ManagementReviewStore(store.catalog);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const period = { from: '2026-01-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };

describe('management reviews and their decisions', () => {
  it('records decisions on the one open review, holds it, and refuses decisions on a held review or a second open one', async () => {
    const review = await reviews.open({ packEvidenceId: 'ev-pack-1', period, at: '2026-07-10T08:00:00.000Z', by: 'ceo@example.com' });
    expect(review).toMatchObject({ id: 'MR-0001', packEvidenceId: 'ev-pack-1', heldAt: null, occurrenceId: null });
    await expect(reviews.open({ packEvidenceId: 'ev-pack-2', period, at: '2026-07-11T08:00:00.000Z', by: 'ceo@example.com' })).rejects.toThrow(
      new ManagementReviewRefusal('management review MR-0001 is still open (on pack ev-pack-1): hold it before opening another'),
    );
    const first = await reviews.decide({
      reviewId: review.id,
      text: 'Hire a security engineer',
      owner: 'cto@example.com',
      dueDate: '2026-10-31',
      at: '2026-07-15T10:00:00.000Z',
      by: 'ceo@example.com',
    });
    const second = await reviews.decide({
      reviewId: review.id,
      text: 'Weekly base images',
      owner: 'ops@example.com',
      dueDate: '2026-09-30',
      at: '2026-07-15T10:05:00.000Z',
      by: 'ceo@example.com',
    });
    expect([first.id, second.id]).toEqual(['D-0001', 'D-0002']);
    expect(first).toMatchObject({
      reviewId: 'MR-0001',
      status: 'open',
      history: [{ at: '2026-07-15T10:00:00.000Z', actor: 'ceo@example.com', fromStatus: null, toStatus: 'open', note: null }],
    });

    const held = await reviews.hold(review.id, { at: '2026-07-15T16:00:00.000Z', by: 'ceo@example.com', minutesEvidenceId: 'ev-minutes-1' });
    expect(held).toMatchObject({ heldAt: '2026-07-15T16:00:00.000Z', heldBy: 'ceo@example.com', minutesEvidenceId: 'ev-minutes-1' });
    expect(await reviews.openReview()).toBeUndefined();
    // Holding again changes nothing.
    expect(await reviews.hold(review.id, { at: '2026-08-01T00:00:00.000Z', by: 'someone', minutesEvidenceId: 'ev-other' })).toEqual(held);
    await expect(
      reviews.decide({
        reviewId: review.id,
        text: 'Late idea',
        owner: 'x@example.com',
        dueDate: '2026-12-31',
        at: '2026-07-16T10:00:00.000Z',
        by: 'ceo@example.com',
      }),
    ).rejects.toThrow('management review MR-0001 was held on 2026-07-15T16:00:00.000Z: its decisions are final; record new ones on the next review');
    await expect(
      reviews.decide({ reviewId: 'MR-0099', text: 't', owner: 'o', dueDate: '2026-12-31', at: '2026-07-16T10:00:00.000Z', by: 'b' }),
    ).rejects.toThrow('no management review MR-0099');
  });

  it('moves decisions between open, done and dropped with who, when and why', async () => {
    const done = await reviews.setStatus('D-0001', 'done', { at: '2026-09-10T08:00:00.000Z', by: 'cto@example.com', note: 'started Sep 1' });
    expect(done.status).toBe('done');
    expect(done.history.at(-1)).toEqual({
      at: '2026-09-10T08:00:00.000Z',
      actor: 'cto@example.com',
      fromStatus: 'open',
      toStatus: 'done',
      note: 'started Sep 1',
    });
    await expect(reviews.setStatus('D-0001', 'done', { at: '2026-09-11T08:00:00.000Z', by: 'cto@example.com' })).rejects.toThrow(
      'decision D-0001 is already done',
    );
    await expect(reviews.setStatus('D-0404', 'done', { at: '2026-09-11T08:00:00.000Z', by: 'cto@example.com' })).rejects.toThrow(
      'no management review decision D-0404',
    );
  });

  it('finds the last review held before an instant, and the decisions of earlier reviews still open', async () => {
    const next = await reviews.open({
      packEvidenceId: 'ev-pack-2',
      period: { from: period.to, to: '2027-01-01T00:00:00.000Z' },
      at: '2027-01-10T08:00:00.000Z',
      by: 'ceo@example.com',
    });
    await reviews.decide({
      reviewId: next.id,
      text: 'Renew the SOC 2 report',
      owner: 'cfo@example.com',
      dueDate: '2027-03-31',
      at: '2027-01-15T10:00:00.000Z',
      by: 'ceo@example.com',
    });
    // Not held yet: the last held one is still MR-0001.
    expect((await reviews.lastHeld('2027-01-20T00:00:00.000Z'))?.id).toBe('MR-0001');
    await reviews.hold(next.id, { at: '2027-01-15T16:00:00.000Z', by: 'ceo@example.com', minutesEvidenceId: 'ev-minutes-2' });
    expect((await reviews.lastHeld('2027-01-20T00:00:00.000Z'))?.id).toBe('MR-0002');
    expect((await reviews.lastHeld('2026-12-01T00:00:00.000Z'))?.id).toBe('MR-0001');
    expect(await reviews.lastHeld('2026-07-15T16:00:00.000Z')).toBeUndefined();
    expect((await reviews.openDecisionsBefore('2027-01-15T16:00:00.000Z')).map((decision) => decision.id)).toEqual(['D-0002']);
    expect((await reviews.decisions(next.id)).map((decision) => decision.id)).toEqual(['D-0003']);
    await reviews.completedOccurrence(next.id, 'activity:management-review:2027-01-31');
    expect((await reviews.list()).map((review) => [review.id, review.occurrenceId])).toEqual([
      ['MR-0001', null],
      ['MR-0002', 'activity:management-review:2027-01-31'],
    ]);
  });
});

describe('reads of the review pack', () => {
  async function snapshot(runId: string, controlId: string, sourceName: string, collectedAt: string, records: EvidenceRecord[]): Promise<string> {
    const staged = await store.stage(runId, sourceName);
    for (const record of records) await staged.append(record);
    return (
      await store.commit(staged, {
        runId,
        controlId,
        sourceName,
        connector: 'test',
        connectorVersion: '1',
        kinds: [...new Set(records.map((record) => record.kind))],
        collectedAt,
        provenance: {},
        warnings: [],
      })
    ).id;
  }

  it('lists the snapshots holding a kind before an instant, newest first, and no others', async () => {
    const scan = Scan.parse({ kind: 'scan', source: 's', scanner: 'trivy', asset: 'a', scannedAt: '2026-09-01T00:00:00.000Z', origin: 'o', findingCount: 0 });
    const old = await snapshot('r1', 'risk-management', 'risks', '2026-08-01T00:00:00.000Z', [risk({ id: 'R-1' })]);
    const newer = await snapshot('r2', 'risk-management', 'risks', '2026-09-01T00:00:00.000Z', [risk({ id: 'R-1' })]);
    await snapshot('r3', 'scans', 'scan', '2026-09-02T00:00:00.000Z', [scan]);
    const later = await snapshot('r4', 'risk-management', 'risks', '2026-10-01T00:00:00.000Z', [risk({ id: 'R-1' })]);
    expect((await snapshotsOfKind(store.catalog, 'risk', '2026-10-01T00:00:00.000Z')).map((row) => row.id)).toEqual([newer, old]);
    expect((await snapshotsOfKind(store.catalog, 'risk', '2026-12-01T00:00:00.000Z')).map((row) => row.id)).toEqual([later, newer, old]);
    expect(await snapshotsOfKind(store.catalog, 'supplier', '2026-12-01T00:00:00.000Z')).toEqual([]);
    expect((await snapshotsOfKind(store.catalog, 'risk', '2026-12-01T00:00:00.000Z'))[0]).toMatchObject({
      runId: 'r4',
      controlId: 'risk-management',
      sourceName: 'risks',
      collectedAt: '2026-10-01T00:00:00.000Z',
    });
  });

  it("finds a control's latest run before an instant, leaving out access review campaigns' runs", async () => {
    const register = new Register(store.catalog);
    await register.saveCheckRun({ runId: 'control:ac:1', controlId: 'ac', evaluatedAt: '2026-09-01T06:00:00.000Z', status: 'pass', results: [] }, []);
    await register.saveCheckRun(
      { runId: 'review:ac:2026-Q3:close', controlId: 'ac', evaluatedAt: '2026-09-15T06:00:00.000Z', status: 'fail', results: [] },
      [],
    );
    await register.saveCheckRun({ runId: 'control:ac:2', controlId: 'ac', evaluatedAt: '2026-10-01T06:00:00.000Z', status: 'fail', results: [] }, []);
    expect(await latestCheckRunBefore(store.catalog, 'ac', '2026-09-30T00:00:00.000Z')).toMatchObject({ runId: 'control:ac:1', status: 'pass' });
    expect(await latestCheckRunBefore(store.catalog, 'ac', '2026-12-01T00:00:00.000Z')).toMatchObject({ runId: 'control:ac:2', status: 'fail' });
    expect(await latestCheckRunBefore(store.catalog, 'ac', '2026-08-01T00:00:00.000Z')).toBeUndefined();
  });
});
