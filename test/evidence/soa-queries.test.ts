import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Register } from '../../evidence/register.ts';
import { evidenceOfRuns, latestControlRuns } from '../../evidence/soa-queries.ts';
import { EvidenceStore } from '../../evidence/store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-soa-queries-'));
let store: EvidenceStore;

async function snapshot(runId: string, controlId: string, sourceName: string, collectedAt: string, asset: string) {
  const staged = await store.stage(runId, sourceName);
  await staged.append({ kind: 'scan', source: sourceName, scanner: 'trivy', asset, scannedAt: collectedAt, origin: 'f', findingCount: 0 });
  return await store.commit(staged, {
    runId,
    controlId,
    sourceName,
    connector: 'scanner-files',
    connectorVersion: '1',
    kinds: ['scan'],
    collectedAt,
    provenance: {},
    warnings: [],
  });
}

beforeAll(async () => {
  store = await EvidenceStore.open(dir);
  const register = new Register(store.catalog);
  await snapshot('run-1', 'vuln', 'scans', '2026-11-22T06:00:00.000Z', 'api');
  await register.saveCheckRun({ runId: 'run-1', controlId: 'vuln', evaluatedAt: '2026-11-22T06:01:00Z', status: 'pass', results: [] }, []);
  await snapshot('run-2', 'vuln', 'scans', '2026-11-23T06:00:00.000Z', 'web');
  await snapshot('run-2', 'vuln', 'images', '2026-11-23T06:00:01.000Z', 'img');
  const failed = await register.saveCheckRun({ runId: 'run-2', controlId: 'vuln', evaluatedAt: '2026-11-23T06:01:00Z', status: 'fail', results: [] }, [
    { checkId: 'vulnerability-sla', subject: 'CVE-1|web', title: 'CVE-1 past SLA', severity: 'high', detail: '', values: {}, evidenceIds: [] },
  ]);
  await register.reconcile({
    checkRunId: failed.id,
    controlId: 'vuln',
    reference: 'A.8.8',
    owner: 'sec',
    at: '2026-11-23T06:01:00Z',
    gaps: [],
    collectedSources: ['scans', 'images'],
  });
  // An access review's own check run is not the control's status.
  await register.saveCheckRun({ runId: 'review:vuln:2026-Q4:close', controlId: 'vuln', evaluatedAt: '2026-11-24T06:00:00Z', status: 'pass', results: [] }, []);
  await snapshot('run-3', 'access', 'hr', '2026-11-23T07:00:00.000Z', 'hr');
  await register.saveCheckRun({ runId: 'run-3', controlId: 'access', evaluatedAt: '2026-11-23T07:01:00Z', status: 'error', results: [] }, []);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SoA queries', () => {
  it("give each control's latest run with its open nonconformities, not an access review's", async () => {
    expect([...(await latestControlRuns(store.catalog)).values()]).toEqual([
      { controlId: 'access', runId: 'run-3', status: 'error', evaluatedAt: '2026-11-23T07:01:00Z', openNonconformities: 0 },
      { controlId: 'vuln', runId: 'run-2', status: 'fail', evaluatedAt: '2026-11-23T06:01:00Z', openNonconformities: 1 },
    ]);
  });

  it('give the evidence of the runs asked for, with ids and hashes, and nothing for none', async () => {
    const rows = await evidenceOfRuns(store.catalog, ['run-2', 'run-3']);
    expect(rows.map((row) => [row.runId, row.sourceName])).toEqual([
      ['run-2', 'scans'],
      ['run-2', 'images'],
      ['run-3', 'hr'],
    ]);
    expect(rows[0]).toEqual({
      id: (await store.list({ controlId: 'vuln' }))[1]!.id,
      runId: 'run-2',
      sourceName: 'scans',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      collectedAt: '2026-11-23T06:00:00.000Z',
    });
    expect(await evidenceOfRuns(store.catalog, [])).toEqual([]);
  });
});
