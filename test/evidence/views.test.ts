import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';

describe('dashboard views', () => {
  it('show control status, evidence coverage per week and open nonconformities with their age', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-views-'));
    const store = await EvidenceStore.open(dir);
    try {
      const staged = await store.stage('run-1', 'scans');
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: '2026-11-23T00:00:00Z', origin: 'f', findingCount: 0 });
      await store.commit(staged, { runId: 'run-1', controlId: 'vuln', sourceName: 'scans', connector: 'scanner-files', connectorVersion: '1', kinds: ['scan'], collectedAt: '2026-11-23T06:00:00.000Z', provenance: {}, warnings: [] });
      const register = new Register(store.catalog);
      const older = await register.saveCheckRun({ runId: 'run-0', controlId: 'vuln', evaluatedAt: '2026-11-22T06:00:00Z', status: 'pass', results: [] }, []);
      await register.reconcile({ checkRunId: older.id, controlId: 'vuln', reference: 'A.8.8', owner: 'sec', at: '2026-11-22T06:00:00Z', gaps: [], collectedSources: [] });
      const run = await register.saveCheckRun({ runId: 'run-1', controlId: 'vuln', evaluatedAt: '2026-11-23T06:00:00Z', status: 'error', results: [] }, []);
      await register.reconcile({ checkRunId: run.id, controlId: 'vuln', reference: 'A.8.8', owner: 'sec', at: '2026-11-23T06:00:00Z', gaps: [{ sourceName: 'cloud', reason: 'denied', errorType: 'PermissionError' }], collectedSources: [] });

      await register.saveCheckRun({ runId: 'review:vuln:2026-Q4:close', controlId: 'vuln', evaluatedAt: '2026-11-24T06:00:00Z', status: 'pass', results: [] }, []);
      expect(await store.catalog.all('SELECT control_id, status, open_nonconformities FROM v_control_status')).toEqual([{ control_id: 'vuln', status: 'error', open_nonconformities: 1 }]);
      expect(await store.catalog.all('SELECT control_id, source_name, week, snapshots, records FROM v_evidence_coverage')).toEqual([
        { control_id: 'vuln', source_name: 'scans', week: '2026-W47', snapshots: 1, records: 1 },
      ]);
      const open = await store.catalog.all<{ check_id: string; age_days: number }>('SELECT check_id, age_days FROM v_open_nonconformities');
      expect(open).toHaveLength(1);
      expect(open[0]!.check_id).toBe('evidence-gap');
      expect(open[0]!.age_days).toBeGreaterThanOrEqual(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
