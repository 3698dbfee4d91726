import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { parse } from 'yaml';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { Register } from '../../evidence/register.ts';
import { DASHBOARD_ROLE, DASHBOARD_VIEWS, ensureViews } from '../../evidence/views.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { rowHash } from '../../evidence/evidence-row.ts';
import { BACKENDS, closeTestCatalogs, testStore } from '../support/catalogs.ts';
import { seed, viewContents, VIEWS } from '../support/catalog-history.ts';
import { dashboardPanelQueries } from '../support/grafana-dashboard.ts';
import { postgresBinaries } from '../support/postgres-cluster.ts';

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

describe('the dashboard role on PostgreSQL', { tags: ['postgres'] }, () => {
  afterEach(closeTestCatalogs);

  /** Runs `work` on a client of the run's cluster as `user`, on `database` (the cluster trusts every login). */
  async function as<T>(user: string, database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const url = new URL(inject('postgresUrl')!);
    url.username = user;
    url.pathname = `/${database}`;
    const client = new pg.Client(url.toString());
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
  const superuser = new URL(inject('postgresUrl') ?? 'postgres://isms@localhost/postgres').username;

  it("answers every Grafana panel as a member of the dashboard role, which can read no table, also after a view's grant is lost", async () => {
    // As the compose init does: the group role, and a read-only login role for Grafana that is its member.
    const reader = `reader_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await as(superuser, 'postgres', async (admin) => {
      await admin.query(`DO $$ BEGIN CREATE ROLE ${DASHBOARD_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
      await admin.query(`CREATE ROLE ${reader} LOGIN IN ROLE ${DASHBOARD_ROLE}`);
      await admin.query(`ALTER ROLE ${reader} SET default_transaction_read_only = on`);
    });
    try {
      const { store, url } = await testStore('postgres');
      await seed(store);
      const database = new URL(url!).pathname.slice(1);
      const panels = dashboardPanelQueries();
      const refused = async (client: pg.Client, sql: string) =>
        await client.query(sql).then(
          () => 'allowed',
          (error: { code?: string }) => error.code,
        );
      const answered = async () =>
        as(reader, database, async (client) => {
          const answers: Record<string, number | string> = {};
          for (const { title, sql } of panels)
            answers[title] = await client.query(sql).then(
              ({ rowCount }) => rowCount ?? 0,
              (error: { code?: string }) => `refused ${error.code}`,
            );
          return answers;
        });
      const everyPanel = Object.fromEntries(panels.map(({ title }) => [title, expect.any(Number)]));
      const answers = await answered();
      expect(answers).toEqual(everyPanel);
      for (const [title, rows] of Object.entries(answers)) expect(rows, title).toBeGreaterThan(0);

      const tables = (
        await store.catalog.all<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        )
      ).map(({ name }) => name);
      expect(tables).toEqual(expect.arrayContaining(['evidence', 'nonconformities', 'check_runs']));
      const denied = await as(reader, database, async (client) => {
        const codes: Record<string, string | undefined> = {};
        for (const table of tables) codes[table] = await refused(client, `SELECT * FROM "${table}" LIMIT 1`);
        codes['overdue_activities'] = await refused(client, 'SELECT * FROM overdue_activities LIMIT 1');
        return codes;
      });
      // 42501: insufficient_privilege.
      expect(denied).toEqual(Object.fromEntries([...tables, 'overdue_activities'].map((name) => [name, '42501'])));

      // A migration that drops and recreates a view drops its grant; the next open of the catalog grants it again.
      await store.catalog.run(`REVOKE SELECT ON v_control_status FROM ${DASHBOARD_ROLE}`);
      expect(await answered()).toMatchObject({ 'Control status': 'refused 42501' });
      const reopened = await EvidenceStore.open(mkdtempSync(path.join(tmpdir(), 'isms-views-reopen-')), { catalog: await new PostgresCatalog(url!).open() });
      await reopened.close();
      expect(await answered()).toEqual(everyPanel);
    } finally {
      await closeTestCatalogs();
      await as(superuser, 'postgres', (admin) => admin.query(`DROP ROLE ${reader}`));
    }
  });

  it('grants the views once when several workers open the catalog at the same moment', async () => {
    await as(superuser, 'postgres', (admin) =>
      admin.query(`DO $$ BEGIN CREATE ROLE ${DASHBOARD_ROLE} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`),
    );
    const { store, url } = await testStore('postgres');
    const workers = await Promise.all(Array.from({ length: 8 }, () => new PostgresCatalog(url!).open()));
    try {
      for (let round = 0; round < 20; round++) {
        await store.catalog.run(`REVOKE SELECT ON ${DASHBOARD_VIEWS.join(', ')} FROM ${DASHBOARD_ROLE}`);
        await Promise.all(workers.map((worker) => ensureViews(worker)));
        const granted = await store.catalog.all<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.role_table_grants WHERE grantee = ? AND privilege_type = 'SELECT' ORDER BY table_name",
          DASHBOARD_ROLE,
        );
        expect(granted.map(({ name }) => name)).toEqual([...DASHBOARD_VIEWS].sort());
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
  });

  it("leaves Grafana's isms_reader, as docker-compose.yml's catalog-db job makes it, reading the dashboard views and no table, also after an upgrade", async () => {
    // The job's psql script as written, with the secret files it reads in a folder of the test's.
    const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, { command: string[] }> };
    const job = compose.services['catalog-db']!.command.join('\n');
    const secrets = mkdtempSync(path.join(tmpdir(), 'isms-compose-secrets-'));
    const script = /<<'SQL'\n([\s\S]*?)\n\s*SQL\n/.exec(job)![1]!.replaceAll('/run/secrets/', `${secrets}/`);
    for (const name of ['isms_catalog_password', 'grafana_reader_password']) writeFileSync(path.join(secrets, name), randomUUID());
    const cluster = new URL(inject('postgresUrl')!);
    const psql = (input: string) =>
      new Promise<void>((resolve, reject) => {
        const child = execFile(
          path.join(postgresBinaries()!, 'psql'),
          ['-v', 'ON_ERROR_STOP=1', '-q'],
          { env: { ...process.env, PGHOST: cluster.hostname, PGPORT: cluster.port, PGUSER: superuser, PGDATABASE: 'postgres' } },
          (error, _stdout, stderr) => (error ? reject(new Error(`psql: ${stderr}`)) : resolve()),
        );
        child.stdin!.end(input);
      });
    const catalogUrl = new URL(cluster);
    catalogUrl.pathname = '/isms';
    try {
      await psql(script);
      const store = await EvidenceStore.open(mkdtempSync(path.join(tmpdir(), 'isms-compose-worker-')), {
        catalog: await new PostgresCatalog(catalogUrl.toString()).open(),
      });
      try {
        await seed(store);
      } finally {
        await store.close();
      }
      const readable = async () =>
        as('isms_reader', 'isms', async (client) => {
          const outcome = async (sql: string) =>
            client.query(sql).then(
              () => 'read',
              (error: { code?: string }) => `refused ${error.code}`,
            );
          const panels: Record<string, string> = {};
          for (const { title, sql } of dashboardPanelQueries()) panels[title] = await outcome(sql);
          return { panels, evidence: await outcome('SELECT * FROM evidence'), reviews: await outcome('SELECT * FROM access_review_decisions') };
        });
      const leastPrivilege = {
        panels: Object.fromEntries(dashboardPanelQueries().map(({ title }) => [title, 'read'])),
        evidence: 'refused 42501',
        reviews: 'refused 42501',
      };
      expect(await readable()).toEqual(leastPrivilege);

      // A deployment set up by an earlier version granted every table; the job, run again at the next start, takes that back.
      await as(superuser, 'isms', (admin) => admin.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO isms_reader'));
      expect((await readable()).evidence).toBe('read');
      await psql(script);
      expect(await readable()).toEqual(leastPrivilege);
    } finally {
      await as(superuser, 'postgres', async (admin) => {
        await admin.query('DROP DATABASE IF EXISTS isms WITH (FORCE)');
        await admin.query('DROP ROLE IF EXISTS isms_reader');
      });
      rmSync(secrets, { recursive: true, force: true });
    }
  });
});
