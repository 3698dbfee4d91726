import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluateControl } from '../../activities/evaluate.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import type { EvaluateInput } from '../../core/contracts.ts';
import { testRegistries } from '../support/test-connectors.ts';

let dir: string;
let runtime: Runtime;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-evaluate-'));
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      controls: [
        {
          id: 'two-sources',
          title: 'Two sources, one checked',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { every: '1 day' },
          sources: [
            { name: 'scans', connector: 'paged-findings' },
            { name: 'spare', connector: 'paged-findings' },
          ],
          // The check reads only `scans`: a gap in `spare` leaves every check result `pass`, and the run `error`.
          checks: [{ check: 'vulnerability-sla', sources: ['scans'] }],
        },
      ],
    }),
  );
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
});
afterEach(() => {
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evaluateControl', () => {
  it('returns the stored summary of a run already evaluated: a run with an evidence gap stays error on a retry', async () => {
    const { store } = runtime;
    const staged = await store.stage('control:two-sources:1', 'scans');
    await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: '2026-11-20T00:00:00.000Z', origin: 'f', findingCount: 0 });
    const row = await store.commit(staged, {
      runId: 'control:two-sources:1',
      controlId: 'two-sources',
      sourceName: 'scans',
      connector: 'paged-findings',
      connectorVersion: '1',
      kinds: ['finding', 'scan'],
      collectedAt: '2026-11-20T00:00:00.000Z',
      provenance: {},
      warnings: [],
    });
    const input: EvaluateInput = {
      runId: 'control:two-sources:1',
      controlId: 'two-sources',
      occurrence: '2026-11-20T00:00:00.000Z',
      refs: [store.ref(row)],
      gaps: [{ sourceName: 'spare', reason: 'spare: the token was refused (401)', errorType: 'AuthError' }],
    };

    const first = await evaluateControl(runtime, input);
    expect(first.status).toBe('error');
    expect(first.checks).toEqual([{ checkId: 'vulnerability-sla', status: 'pass', deviations: 0 }]);

    const retried = await evaluateControl(runtime, input);
    expect(retried).toEqual(first);
    expect(await runtime.register.checkRunOf(input.runId)).toMatchObject({ id: first.checkRunId, status: 'error' });
  });
});
