// @module-tag postgres
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog, type Catalog } from '../../evidence/catalog.ts';
import { migrateCatalog } from '../../evidence/catalog-migrate.ts';
import { fromDb, rowHash, type DbRow } from '../../evidence/evidence-row.ts';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { seed, viewContents, VIEWS } from '../support/catalog-history.ts';
import { runIsms } from '../support/cli.ts';
import { postgresDatabase } from '../support/postgres.ts';

let dir: string;
let config: string;
let dataDir: string;
const drops: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-catalog-migrate-'));
  config = path.join(dir, 'isms.yaml');
  dataDir = path.join(dir, 'data');
  writeFileSync(config, 'dataDir: data\n');
});

afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
  rmSync(dir, { recursive: true, force: true });
});

async function target(): Promise<string> {
  const database = await postgresDatabase();
  drops.push(database.drop);
  return database.url;
}

/** The embedded catalog of the data folder with the shared history in it. */
async function seededSource(): Promise<void> {
  const store = await EvidenceStore.open(dataDir);
  await seed(store);
  await store.close();
}

async function rowsPerTable(catalog: Catalog, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await catalog.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n);
  return counts;
}

async function sourceTables(): Promise<string[]> {
  const source = new SqliteCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const rows = await source.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name");
    return rows.map((row) => row.name);
  } finally {
    await source.close();
  }
}

async function postgresTablesWithRows(url: string): Promise<string[]> {
  const catalog = new PostgresCatalog(url);
  try {
    const tables = await catalog.all<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
    );
    const holding: string[] = [];
    for (const { name } of tables) if (await catalog.get(`SELECT 1 FROM ${name} LIMIT 1`)) holding.push(name);
    return holding;
  } finally {
    await catalog.close();
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('isms catalog migrate', () => {
  it('copies every table row for row: verify passes on the copy, every view answers the same rows, and the chain goes on there', async () => {
    await seededSource();
    const tables = await sourceTables();
    const source = await EvidenceStore.open(dataDir);
    const expectedViews = await viewContents(source);
    const expectedCounts = await rowsPerTable(source.catalog, tables);
    const expectedEvidence = await source.catalog.all('SELECT * FROM evidence ORDER BY seq');
    await source.close();
    for (const view of VIEWS) expect(expectedViews[view]!.rows.length, view).toBeGreaterThan(0);
    expect(tables).toEqual(expect.arrayContaining(['evidence', 'check_runs', 'nonconformities', 'nonconformity_history', 'journal_waiting', 'leaver_clock']));

    const url = await target();
    const migrated = await runIsms(['catalog', 'migrate', '--to-env', 'ISMS_TARGET_URL', '--config', config], { env: { ISMS_TARGET_URL: url } });
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^evidence\s+4$/m);
    expect(migrated.stdout).toMatch(/^nonconformity_history\s+1$/m);

    const verified = await runIsms(['evidence', 'verify', '--config', config], { env: { ISMS_CATALOG_URL: url } });
    expect(verified.code).toBe(0);

    const copy = await EvidenceStore.open(dataDir, { catalog: await new PostgresCatalog(url).open() });
    try {
      expect(await rowsPerTable(copy.catalog, tables)).toEqual(expectedCounts);
      expect(await copy.catalog.all('SELECT * FROM evidence ORDER BY seq')).toEqual(expectedEvidence);
      expect(await viewContents(copy)).toEqual(expectedViews);
      const staged = await copy.stage('run-after', 'scans');
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: '2027-01-02T00:00:00Z', origin: 'f', findingCount: 0 });
      const next = await copy.commit(staged, {
        runId: 'run-after',
        controlId: 'vuln',
        sourceName: 'scans',
        connector: 'scanner-files',
        connectorVersion: '1',
        kinds: ['scan'],
        collectedAt: '2027-01-02T06:00:00.000Z',
        provenance: {},
        warnings: [],
      });
      expect(next.seq).toBe(5);
      expect((await copy.verify()).problems).toEqual([]);
    } finally {
      await copy.close();
    }
  });

  it('refuses a target that holds rows, naming host and database, and writes nothing to it (exit 2)', async () => {
    await seededSource();
    const url = await target();
    const existing = new PostgresCatalog(url);
    await existing.run('CREATE TABLE leftovers (note TEXT)');
    await existing.run("INSERT INTO leftovers VALUES ('kept')");
    await existing.close();

    const result = await runIsms(['catalog', 'migrate', '--to', url, '--config', config]);
    expect(result.code).toBe(2);
    const { hostname, port, pathname, password } = new URL(url);
    expect(result.stderr).toContain(`PostgreSQL database "${pathname.slice(1)}" on ${hostname}:${port}`);
    expect(result.stderr).toContain('not empty (rows in leftovers)');
    if (password) expect(result.stderr).not.toContain(password);

    const after = new PostgresCatalog(url);
    try {
      const tables = await after.all<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
      expect(tables.map((table) => table.name)).toEqual(['leftovers']);
    } finally {
      await after.close();
    }
  });

  it('reports an unreachable target with exit 3, naming host and database but never the password', async () => {
    await seededSource();
    const port = await closedPort();
    const result = await runIsms(['catalog', 'migrate', '--to-env', 'ISMS_TARGET_URL', '--config', config], {
      env: { ISMS_TARGET_URL: `postgres://isms:hunter2-secret@127.0.0.1:${port}/isms_catalog` },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`PostgreSQL database "isms_catalog" on 127.0.0.1:${port}`);
    expect(result.stderr).toContain('unreachable');
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
  });

  it('leaves the target without rows when it refuses a row midway, naming the table but not the value', async () => {
    await seededSource();
    // SQLite keeps a NUL in text; PostgreSQL refuses it. leaver_clock is copied after the catalog's own tables.
    const source = new SqliteCatalog(path.join(dataDir, 'catalog.sqlite'));
    await source.run("UPDATE leaver_clock SET tenant = 'acme' || char(0) || 'private-detail' WHERE account = 'bob'");
    await source.close();
    const url = await target();

    const result = await runIsms(['catalog', 'migrate', '--to-env', 'ISMS_TARGET_URL', '--config', config], { env: { ISMS_TARGET_URL: url } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('refused a row of table leaver_clock');
    expect(result.stderr).not.toContain('private-detail');
    expect(await postgresTablesWithRows(url)).toEqual([]);
  });

  it('refuses bad input with exit 2: a URL that does not parse, both or neither target option, a password on the command line, a source already on PostgreSQL', async () => {
    await seededSource();
    const unparsable = await runIsms(['catalog', 'migrate', '--to', 'postgres://isms:hunter2-secret@[bad/x', '--config', config]);
    expect(unparsable.code).toBe(2);
    expect(unparsable.stderr).toContain('does not parse');
    expect(unparsable.stderr).not.toContain('hunter2-secret');
    expect((await runIsms(['catalog', 'migrate', '--config', config])).code).toBe(2);
    const url = await target();
    const withPassword = new URL(url);
    withPassword.password = 'hunter2-secret';
    const exposed = await runIsms(['catalog', 'migrate', '--to', withPassword.href, '--config', config]);
    expect(exposed.code).toBe(2);
    expect(exposed.stderr).toContain('--to: the URL holds a password');
    expect(exposed.stderr).not.toContain('hunter2-secret');
    const already = await runIsms(['catalog', 'migrate', '--to', url, '--config', config], { env: { ISMS_CATALOG_URL: url } });
    expect(already.code).toBe(2);
    expect(already.stderr).toContain('already PostgreSQL');
    expect(await postgresTablesWithRows(url)).toEqual([]);
  });

  it('reads the source in one snapshot without blocking its writers: a worker commits during the copy, the copy is the state before, its chain whole', async () => {
    await seededSource();
    const tables = await sourceTables();
    const before = await EvidenceStore.open(dataDir);
    const expectedCounts = await rowsPerTable(before.catalog, tables);
    const expectedEvidence = await before.catalog.all('SELECT * FROM evidence ORDER BY seq');
    await before.close();
    const url = await target();
    // The target's schema first, so that a session of the test can hold the copy at its first insert into evidence.
    await (await EvidenceStore.open(mkdtempSync(path.join(dir, 'schema-')), { catalog: await new PostgresCatalog(url).open() })).close();
    const blocker = new pg.Client(url);
    await blocker.connect();
    const source = new SqliteCatalog(path.join(dataDir, 'catalog.sqlite'));
    const targetCatalog = new PostgresCatalog(url);
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE evidence IN SHARE MODE');
      let copied = false;
      const migration = migrateCatalog(dataDir, source, targetCatalog).finally(() => (copied = true));
      for (let waiting = false; !waiting;) {
        waiting = (await blocker.query("SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'evidence'::regclass")).rowCount! > 0;
        if (!waiting && copied) {
          await migration;
          throw new Error('the copy ended without waiting for the lock on evidence');
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      // A worker still running on the source commits a snapshot while the copy is under way.
      const worker = await EvidenceStore.open(dataDir);
      const started = Date.now();
      try {
        const staged = await worker.stage('run-during-copy', 'scans');
        await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: '2027-01-02T00:00:00Z', origin: 'f', findingCount: 0 });
        const row = await worker.commit(staged, {
          runId: 'run-during-copy',
          controlId: 'vuln',
          sourceName: 'scans',
          connector: 'scanner-files',
          connectorVersion: '1',
          kinds: ['scan'],
          collectedAt: '2027-01-02T06:00:00.000Z',
          provenance: {},
          warnings: [],
        });
        expect(row.seq).toBe(expectedEvidence.length + 1);
      } finally {
        await worker.close();
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(copied).toBe(false);

      await blocker.query('COMMIT');
      await migration;
      const copy = await rowsPerTable(targetCatalog, tables);
      expect(copy).toEqual(expectedCounts);
      const evidence = await targetCatalog.all<Record<string, unknown>>('SELECT * FROM evidence ORDER BY seq');
      expect(evidence).toEqual(expectedEvidence);
      const rows = (await targetCatalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq')).map(fromDb);
      rows.forEach((row, index) => {
        const { rowHash: stored, ...fields } = row;
        expect(rowHash(fields), `row ${row.seq}`).toBe(stored);
        expect(row.prevHash, `row ${row.seq}`).toBe(index === 0 ? '0'.repeat(64) : rows[index - 1]!.rowHash);
      });
    } finally {
      await blocker.end();
      await source.close();
      await targetCatalog.close();
    }
  });
});
