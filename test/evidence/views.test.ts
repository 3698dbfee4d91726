import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { rowHash } from '../../evidence/evidence-row.ts';
import { BACKENDS, closeTestCatalogs, testStore } from '../support/catalogs.ts';
import { seed, viewContents, VIEWS } from '../support/catalog-history.ts';
import { dashboardPanelQueries } from '../support/grafana-dashboard.ts';

describe('dashboard views', () => {
  it('show control status, evidence coverage per week and open nonconformities with their age', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-views-'));
    const store = await EvidenceStore.open(dir);
    try {
      const staged = await store.stage('run-1', 'scans');
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: '2026-11-23T00:00:00Z', origin: 'f', findingCount: 0 });
      await store.commit(staged, {
        runId: 'run-1',
        controlId: 'vuln',
        sourceName: 'scans',
        connector: 'scanner-files',
        connectorVersion: '1',
        kinds: ['scan'],
        collectedAt: '2026-11-23T06:00:00.000Z',
        provenance: {},
        warnings: [],
      });
      const register = new Register(store.catalog);
      const older = await register.saveCheckRun({ runId: 'run-0', controlId: 'vuln', evaluatedAt: '2026-11-22T06:00:00Z', status: 'pass', results: [] }, []);
      await register.reconcile({
        checkRunId: older.id,
        controlId: 'vuln',
        reference: 'A.8.8',
        owner: 'sec',
        at: '2026-11-22T06:00:00Z',
        gaps: [],
        collectedSources: [],
      });
      const run = await register.saveCheckRun({ runId: 'run-1', controlId: 'vuln', evaluatedAt: '2026-11-23T06:00:00Z', status: 'error', results: [] }, []);
      await register.reconcile({
        checkRunId: run.id,
        controlId: 'vuln',
        reference: 'A.8.8',
        owner: 'sec',
        at: '2026-11-23T06:00:00Z',
        gaps: [{ sourceName: 'cloud', reason: 'denied', errorType: 'PermissionError' }],
        collectedSources: [],
      });

      await register.saveCheckRun(
        { runId: 'review:vuln:2026-Q4:close', controlId: 'vuln', evaluatedAt: '2026-11-24T06:00:00Z', status: 'pass', results: [] },
        [],
      );
      expect(await store.catalog.all('SELECT control_id, status, open_nonconformities FROM v_control_status')).toEqual([
        { control_id: 'vuln', status: 'error', open_nonconformities: 1 },
      ]);
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

describe('dashboard views on both backends', { tags: ['postgres'] }, () => {
  afterEach(closeTestCatalogs);

  it('have the same columns and rows on SQLite and PostgreSQL for the same history', async () => {
    const sqlite = await testStore('sqlite');
    const postgres = await testStore('postgres');
    await seed(sqlite.store);
    await seed(postgres.store);
    const expected = await viewContents(sqlite.store);
    for (const view of VIEWS) expect(expected[view]!.rows.length, view).toBeGreaterThan(0);
    expect(expected['v_evidence_coverage']!.rows.map((row) => (row as { week: string }).week).sort()).toEqual(['2026-W47', '2026-W52', '2027-W00', '2027-W00']);
    expect(await viewContents(postgres.store)).toEqual(expected);
  });

  it('give the evidence row hash the same inputs on both backends, BIGINT sizes included', async () => {
    const hashes: string[] = [];
    for (const backend of BACKENDS) {
      const { store } = await testStore(backend);
      await store.catalog.run(
        `INSERT INTO evidence (seq, id, run_id, control_id, source_name, connector, connector_version, kinds, collected_at, period_start, period_end, sha256,
           size, stored_size, record_count, uri, provenance, warnings, prev_hash, row_hash)
         VALUES (1, 'ev-1', 'run-1', 'vuln', 'scans', 'scanner-files', '1', '["finding"]', '2026-11-25T00:00:00.000Z', '2026-11-25T00:00:00.000Z',
           '2026-11-25T00:00:00.000Z', ?, 6000000000, 5000000000, 1460000, 'sha256/ab/x', '{}', '[]', ?, 'stored')`,
        'ab'.repeat(32),
        '0'.repeat(64),
      );
      const { rowHash: _stored, ...fields } = (await store.get('ev-1'))!;
      expect(fields.size).toBe(6_000_000_000);
      hashes.push(rowHash(fields));
    }
    expect(hashes[1]).toBe(hashes[0]);
  });

  it('answer every panel of the provisioned Grafana dashboard on PostgreSQL, as on SQLite, for the same history', async () => {
    const panels = dashboardPanelQueries();
    expect(panels.length).toBeGreaterThanOrEqual(4);
    const answers: Record<string, unknown[]>[] = [];
    for (const backend of BACKENDS) {
      const { store } = await testStore(backend);
      await seed(store);
      const answer: Record<string, unknown[]> = {};
      for (const { title, sql } of panels) {
        const rows = await store.catalog.all<Record<string, unknown>>(sql);
        expect(rows.length, `${backend}: ${title}`).toBeGreaterThan(0);
        // Ages count days to now: the same on both backends within one run, compared without them.
        answer[title] = rows.map(({ 'Age (days)': _age, ...rest }) => rest);
      }
      answers.push(answer);
    }
    expect(answers[1]).toEqual(answers[0]);
  });
});
