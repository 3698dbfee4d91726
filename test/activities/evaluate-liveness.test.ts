import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { evaluateControl } from '../../activities/evaluate.ts';
import type { EvidenceRecord } from '../../core/records.ts';
import type { EvaluateInput, EvaluationSummary, EvidenceRef } from '../../core/contracts.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';

const OCCURRENCE = '2026-11-20T00:00:00.000Z';
/** Several of the evaluation's read batches (2,000 records), so there is a "between batches" to stop at. */
const FINDINGS = 12_000;
/** The evaluation's heartbeat timeout (workflows/policies.ts): an evaluation silent for this long is presumed lost. */
const HEARTBEAT_TIMEOUT_MS = 60_000;

let dir: string;
let runtime: Runtime;
/** Records the store has handed out so far, over every read of every snapshot. */
let yielded = 0;
/** Called by the store after each record it hands out: where a test acts mid-read. */
let onRecord: (count: number) => void = () => undefined;

beforeEach(async () => {
  yielded = 0;
  onRecord = () => undefined;
  dir = mkdtempSync(path.join(tmpdir(), 'isms-evaluate-liveness-'));
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      controls: [
        {
          id: 'big',
          title: 'big',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { every: '1 day' },
          sources: [{ name: 'scans', connector: 'paged-findings' }],
          checks: [{ check: 'vulnerability-sla' }, { check: 'scan-staleness' }],
        },
      ],
    }),
  );
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
  const recordBatches = runtime.store.recordBatches.bind(runtime.store);
  runtime.store.recordBatches = async function* (id: string, size?: number) {
    for await (const batch of recordBatches(id, size)) {
      for (const _record of batch) {
        yielded++;
        onRecord(yielded);
      }
      yield batch;
    }
  };
});

afterEach(() => {
  vi.useRealTimers();
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A snapshot of FINDINGS findings, each of its own subject, past its SLA (30 days for high) on the occurrence. */
async function bigSnapshot(runId: string): Promise<EvidenceRef> {
  const staged = await runtime.store.stage(runId, 'scans');
  const scannedAt = '2026-11-19T00:00:00.000Z';
  await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt, origin: 'test', findingCount: FINDINGS });
  for (let index = 0; index < FINDINGS; index++) {
    const finding: EvidenceRecord = {
      kind: 'finding',
      source: 'scans',
      scanner: 'trivy',
      id: `CVE-2026-${String(index).padStart(5, '0')}`,
      title: 'a vulnerability',
      severity: 'high',
      cvss: 7.5,
      asset: 'api',
      location: `lib${index}@1.0.0`,
      scannedAt,
      firstSeenAt: '2026-09-01T00:00:00.000Z',
      fixedAt: null,
      fixAvailable: true,
    };
    await staged.append(finding);
  }
  const row = await runtime.store.commit(staged, {
    runId,
    controlId: 'big',
    sourceName: 'scans',
    connector: 'paged-findings',
    connectorVersion: '1',
    kinds: ['finding', 'scan'],
    collectedAt: OCCURRENCE,
    provenance: {},
    warnings: [],
  });
  return runtime.store.ref(row);
}

const evaluateIn = (env: MockActivityEnvironment, input: EvaluateInput): Promise<EvaluationSummary> => env.run(evaluateControl, runtime, input);

describe('evaluateControl in its activity', () => {
  it('heartbeats the records read so far in every heartbeat-timeout window while it reads, so a live evaluation is never presumed lost', async () => {
    const runId = 'control:big:heartbeats';
    const ref = await bigSnapshot(runId);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const env = new MockActivityEnvironment();
    const beats: { recordsRead: number; yielded: number }[] = [];
    env.on('heartbeat', (details: { recordsRead: number }) => beats.push({ recordsRead: details.recordsRead, yielded }));
    // Each batch read takes a whole heartbeat timeout of the evaluation's clock: a heartbeat must come within each.
    const windows: number[] = [];
    onRecord = (count) => {
      if (count % 2_000 !== 0) return;
      const before = beats.length;
      vi.advanceTimersByTime(HEARTBEAT_TIMEOUT_MS);
      windows.push(beats.length - before);
    };

    const summary = await evaluateIn(env, { runId, controlId: 'big', occurrence: OCCURRENCE, refs: [ref], gaps: [] });

    expect(summary.status).toBe('fail');
    expect(windows.length, 'the snapshot was read in several batches, in more than one pass').toBeGreaterThan(FINDINGS / 2_000);
    expect(
      windows.every((count) => count >= 1),
      `heartbeats per window: ${windows.join(', ')}`,
    ).toBe(true);
    expect(beats[0], 'the first heartbeat comes as the evaluation starts').toEqual({ recordsRead: 0, yielded: 0 });
    const progress = beats.map((beat) => beat.recordsRead);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1), 'later heartbeats carry the records read').toBeGreaterThanOrEqual(FINDINGS);
  });

  it('cancelled mid-read, stops at the end of the batch with the SDK cancellation error and writes no check run; evaluated again, it stores one', async () => {
    const runId = 'control:big:cancelled';
    const ref = await bigSnapshot(runId);
    const input = { runId, controlId: 'big', occurrence: OCCURRENCE, refs: [ref], gaps: [] };
    const env = new MockActivityEnvironment();
    const cancelAt = 5_000;
    onRecord = (count) => {
      if (count === cancelAt) env.cancel();
    };

    const cancelled = evaluateIn(env, input);

    await expect(cancelled).rejects.toBeInstanceOf(CancelledFailure);
    expect(yielded, 'it read on to the end of its batch (2,000 records), no further').toBeLessThanOrEqual(cancelAt + 2_000);
    expect(await runtime.register.checkRunOf(runId), 'no check run was written').toBeUndefined();

    onRecord = () => undefined;
    const summary = await evaluateIn(new MockActivityEnvironment(), input);
    expect(summary.status).toBe('fail');
    expect(summary.checks).toEqual([
      { checkId: 'vulnerability-sla', status: 'fail', deviations: FINDINGS },
      { checkId: 'scan-staleness', status: 'pass', deviations: 0 },
    ]);
    expect((await runtime.register.checkRunOf(runId))?.id).toBe(summary.checkRunId);
  });
});
