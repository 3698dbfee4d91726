import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { evaluateControl } from '../../activities/evaluate.ts';
import { defaultChecks } from '../../checks/index.ts';
import { defineCheck, type AnyCheck } from '../../checks/kit/contract.ts';
import { FindingLedger } from '../../evidence/finding-ledger.ts';
import { LeaverClock } from '../../evidence/leaver-clock.ts';
import type { EvidenceRecord, Finding } from '../../core/records.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import type { EvaluateInput, EvaluationSummary, EvidenceRef } from '../../core/contracts.ts';
import { testRegistries } from '../support/test-connectors.ts';

const OCCURRENCE = '2026-11-20T00:00:00.000Z';
/** More records than the evaluation reads in one batch, so a check that saw them all at once would show it. */
const FINDINGS = 10_000;

/** Records handed out by the store so far, across every snapshot read. */
let yielded = 0;
/** The most records the store had handed out but a streaming check had not yet seen, over a run. */
let lag = 0;
let seenByProbe = 0;

const streamProbe = defineCheck({
  id: 'stream-probe',
  title: 'Sees findings as they are read',
  references: ['A.8.8'],
  inputs: ['finding'],
  params: z.strictObject({}),
  start: () => ({
    add() {
      seenByProbe++;
      lag = Math.max(lag, yielded - seenByProbe);
    },
    finish: () => [],
  }),
});

const throwing = defineCheck({
  id: 'throws',
  title: 'Fails on its first finding',
  references: ['A.8.8'],
  inputs: ['finding'],
  params: z.strictObject({}),
  start: () => ({
    add() {
      throw new Error('cannot judge this finding');
    },
    finish: () => [],
  }),
});

const NOVEMBER = Date.parse('2026-11-01T00:00:00.000Z');

/** Sees findings as the evaluation shows them: with the finding ledger's first-seen time, because it declares that state. */
const firstSeenProbe = defineCheck({
  id: 'first-seen-probe',
  title: 'Reports every finding first seen before November',
  references: ['A.8.8'],
  inputs: ['finding'],
  state: ['finding-first-seen'],
  params: z.strictObject({}),
  evaluate: (evidence) =>
    evidence
      .records('finding')
      .filter((finding) => Date.parse(finding.firstSeenAt) < NOVEMBER)
      .map((finding) => ({ subject: finding.id, title: finding.firstSeenAt, severity: 'low' as const, detail: '', values: {}, evidenceIds: [] })),
});

/** Keeps a leaver clock of its own making: what is stored is what the check hands over, whatever its name. */
const clockKeeper = defineCheck({
  id: 'clock-keeper',
  title: 'Hands one leaver entry to the leaver clock',
  references: ['A.5.18'],
  inputs: ['finding'],
  state: ['leaver-clock'],
  params: z.strictObject({}),
  evaluate: () => [],
  keep: (_evidence, at) => ({
    'leaver-clock': [
      {
        employeeId: 'E-7',
        system: 'vault',
        tenant: 'prod',
        account: 'e7',
        terminationDate: '2026-11-01T00:00:00.000Z',
        active: true,
        hoursSinceTermination: (at.getTime() - Date.parse('2026-11-01T00:00:00.000Z')) / 3_600_000,
      },
    ],
  }),
});

/** Reads a kind it did not declare: judging an empty list would pass it for want of data. */
const undeclaredReader = defineCheck({
  id: 'undeclared-reader',
  title: 'Reads scans while declaring only findings',
  references: ['A.8.8'],
  inputs: ['finding'],
  params: z.strictObject({}),
  evaluate: (evidence) =>
    evidence.records('scan').length > 0 ? [] : [{ subject: 'scans', title: 'no scan', severity: 'low' as const, detail: '', values: {}, evidenceIds: [] }],
});

const probes: AnyCheck[] = [streamProbe, throwing, firstSeenProbe, clockKeeper, undeclaredReader];

let dir: string;
let runtime: Runtime;
beforeEach(async () => {
  yielded = 0;
  lag = 0;
  seenByProbe = 0;
  dir = mkdtempSync(path.join(tmpdir(), 'isms-evaluate-activity-'));
  const control = (id: string, checks: object[]) => ({
    id,
    title: id,
    reference: 'A.8.8',
    owner: 'security@example.com',
    schedule: { every: '1 day' },
    sources: [
      { name: 'scans', connector: 'paged-findings' },
      { name: 'spare', connector: 'paged-findings' },
    ],
    checks,
  });
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      controls: [
        control('gapped', [
          { check: 'vulnerability-sla', sources: ['scans'] },
          { check: 'scan-staleness', sources: ['spare'] },
          { check: 'throws', sources: ['scans'] },
        ]),
        control('streamed', [{ check: 'stream-probe', sources: ['scans'] }]),
        control('first-seen', [{ check: 'first-seen-probe', sources: ['scans'] }]),
        control('undeclared', [{ check: 'scan-staleness', sources: ['scans'] }]),
        control('clock', [{ check: 'clock-keeper', sources: ['scans'] }]),
        control('reads-undeclared', [
          { check: 'undeclared-reader', sources: ['scans'] },
          { check: 'scan-staleness', sources: ['scans'] },
        ]),
      ],
    }),
  );
  const checks = new Map(defaultChecks);
  for (const probe of probes) checks.set(probe.id, probe);
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), { ...testRegistries, checks });
  // Count what the store hands out, to compare with what a streaming check has seen at each record.
  const recordBatches = runtime.store.recordBatches.bind(runtime.store);
  runtime.store.recordBatches = async function* (id: string, size?: number) {
    for await (const batch of recordBatches(id, size)) {
      yielded += batch.length;
      yield batch;
    }
  };
});
afterEach(() => {
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

function finding(index: number, firstSeenAt: string, scannedAt = firstSeenAt): Finding {
  return {
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
    firstSeenAt,
    fixedAt: null,
    fixAvailable: true,
  };
}

async function snapshot(runId: string, controlId: string, records: readonly EvidenceRecord[]): Promise<EvidenceRef> {
  const { store } = runtime;
  const staged = await store.stage(runId, 'scans');
  for (const record of records) await staged.append(record);
  const row = await store.commit(staged, {
    runId,
    controlId,
    sourceName: 'scans',
    connector: 'paged-findings',
    connectorVersion: '1',
    kinds: ['finding', 'scan'],
    collectedAt: OCCURRENCE,
    provenance: {},
    warnings: [],
  });
  return store.ref(row);
}

const scan = (scannedAt: string): EvidenceRecord => ({
  kind: 'scan',
  source: 'scans',
  scanner: 'trivy',
  asset: 'api',
  scannedAt,
  origin: 'f',
  findingCount: 1,
});

const evaluate = (input: EvaluateInput): Promise<EvaluationSummary> => new MockActivityEnvironment().run(evaluateControl, runtime, input);

describe('evaluateControl as an activity', () => {
  it('does not run a check whose source had a gap, runs the others, and makes a throwing check error; a retry returns the stored run', async () => {
    const runId = 'control:gapped:1';
    const ref = await snapshot(runId, 'gapped', [scan('2026-11-19T00:00:00.000Z'), finding(1, '2026-10-01T00:00:00.000Z', '2026-11-19T00:00:00.000Z')]);
    const input: EvaluateInput = {
      runId,
      controlId: 'gapped',
      occurrence: OCCURRENCE,
      refs: [ref],
      gaps: [{ sourceName: 'spare', reason: 'spare: the token was refused (401)', errorType: 'AuthError' }],
    };

    const first = await evaluate(input);
    expect(first.status).toBe('error');
    expect(first.checks).toEqual([
      { checkId: 'vulnerability-sla', status: 'fail', deviations: 1 },
      { checkId: 'scan-staleness', status: 'error', deviations: 0, message: 'not evaluated: no evidence from spare' },
      { checkId: 'throws', status: 'error', deviations: 0, message: 'check failed: cannot judge this finding' },
    ]);

    // A retry after the run was stored, with the evidence read again, decides nothing anew.
    const readBefore = yielded;
    const retried = await evaluate(input);
    expect(retried).toEqual(first);
    expect(yielded).toBe(readBefore);
  });

  it('streams a snapshot through a streaming check: it sees each record while the rest is still unread', async () => {
    const records = Array.from({ length: FINDINGS }, (_, index) => finding(index, '2026-11-19T00:00:00.000Z'));
    const ref = await snapshot('control:streamed:1', 'streamed', [scan('2026-11-19T00:00:00.000Z'), ...records]);

    const summary = await evaluate({ runId: 'control:streamed:1', controlId: 'streamed', occurrence: OCCURRENCE, refs: [ref], gaps: [] });

    expect(summary.checks).toEqual([{ checkId: 'stream-probe', status: 'pass', deviations: 0 }]);
    expect(seenByProbe).toBe(FINDINGS);
    expect(yielded).toBeGreaterThanOrEqual(FINDINGS);
    // Never more than one read batch (about 2,000 records, ending at a decompressed chunk's last line) ahead of the check.
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThanOrEqual(2200);
  });

  it('shows a check declaring finding-first-seen the first detection the ledger holds from an earlier run', async () => {
    const earlier = await snapshot('control:first-seen:1', 'first-seen', [scan('2026-10-01T00:00:00.000Z'), finding(1, '2026-10-01T00:00:00.000Z')]);
    await evaluate({ runId: 'control:first-seen:1', controlId: 'first-seen', occurrence: '2026-10-02T00:00:00.000Z', refs: [earlier], gaps: [] });
    // The re-scan states its own scan time as first seen, as scanners without history do.
    const later = await snapshot('control:first-seen:2', 'first-seen', [scan('2026-11-19T00:00:00.000Z'), finding(1, '2026-11-19T00:00:00.000Z')]);

    const summary = await evaluate({ runId: 'control:first-seen:2', controlId: 'first-seen', occurrence: OCCURRENCE, refs: [later], gaps: [] });

    expect(summary.checks).toEqual([{ checkId: 'first-seen-probe', status: 'fail', deviations: 1 }]);
  });

  it('leaves the finding ledger alone when no check of the control keeps first-seen times', async () => {
    const ref = await snapshot('control:undeclared:1', 'undeclared', [scan('2026-11-19T00:00:00.000Z'), finding(1, '2026-11-19T00:00:00.000Z')]);

    await evaluate({ runId: 'control:undeclared:1', controlId: 'undeclared', occurrence: OCCURRENCE, refs: [ref], gaps: [] });

    expect(await new FindingLedger(runtime.store.catalog).list()).toEqual([]);
  });

  it('stores what a check declaring leaver-clock hands over, whatever the check is called', async () => {
    const ref = await snapshot('control:clock:1', 'clock', [scan('2026-11-19T00:00:00.000Z')]);

    await evaluate({ runId: 'control:clock:1', controlId: 'clock', occurrence: OCCURRENCE, refs: [ref], gaps: [] });

    expect(
      (await new LeaverClock(runtime.store.catalog).list()).map(({ employeeId, system, account, lastSeenActiveAt }) => ({
        employeeId,
        system,
        account,
        lastSeenActiveAt,
      })),
    ).toEqual([{ employeeId: 'E-7', system: 'vault', account: 'e7', lastSeenActiveAt: OCCURRENCE }]);
  });

  it('fails a check that reads a kind it did not declare, instead of judging it on records it was never given', async () => {
    const ref = await snapshot('control:reads-undeclared:1', 'reads-undeclared', [scan('2026-11-19T00:00:00.000Z'), finding(1, '2026-11-19T00:00:00.000Z')]);

    const summary = await evaluate({ runId: 'control:reads-undeclared:1', controlId: 'reads-undeclared', occurrence: OCCURRENCE, refs: [ref], gaps: [] });

    expect(summary.checks).toEqual([
      {
        checkId: 'undeclared-reader',
        status: 'error',
        deviations: 0,
        message: 'check failed: undeclared-reader reads scan records but declares only finding in its inputs',
      },
      { checkId: 'scan-staleness', status: 'pass', deviations: 0 },
    ]);
  });
});
