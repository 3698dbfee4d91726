import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../evidence/catalog.ts';
import { DiskFullError } from '../../evidence/disk-full.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-catalog-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const storeModule = new URL('../../evidence/store.ts', import.meta.url).href;
const ledgerModule = new URL('../../evidence/finding-ledger.ts', import.meta.url).href;

/**
 * One process opening the store on `dataDir` as a worker does at start (catalog, views, a feature's own migrations),
 * after busy-waiting until `at`, so that every process of a round opens within the same millisecond or so.
 */
function openAt(dataDir: string, at: number): Promise<{ code: number | null; stderr: string }> {
  const script = `
    const { EvidenceStore } = await import(${JSON.stringify(storeModule)});
    const { FindingLedger } = await import(${JSON.stringify(ledgerModule)});
    while (Date.now() < ${at});
    const store = await EvidenceStore.open(${JSON.stringify(dataDir)});
    new FindingLedger(store.catalog);
    await store.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

async function migratedModules(dataDir: string, open: boolean): Promise<string> {
  if (open) {
    const result = await openAt(dataDir, 0);
    if (result.code !== 0) throw new Error(result.stderr);
  }
  const catalog = new SqliteCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const version = (await catalog.get<{ user_version: number }>('PRAGMA user_version'))!.user_version;
    const modules = await catalog.all<{ module: string; version: number }>('SELECT module, version FROM schema_migrations ORDER BY module');
    return [`catalog ${version}`, ...modules.map((row) => `${row.module} ${row.version}`)].join(', ');
  } finally {
    await catalog.close();
  }
}

describe('catalog', () => {
  it('opens and migrates a fresh catalog from several processes starting together', async () => {
    const rounds = 15;
    const failures: string[] = [];
    // What one process alone migrates is what the racing ones must have migrated between them.
    const expected = await migratedModules(path.join(dir, 'alone'), true);
    for (let round = 0; round < rounds; round++) {
      const dataDir = path.join(dir, `round-${round}`);
      // Far enough ahead for both processes to have loaded their modules.
      const at = Date.now() + 1_200;
      const results = await Promise.all([openAt(dataDir, at), openAt(dataDir, at)]);
      for (const result of results) if (result.code !== 0) failures.push(result.stderr.split('\n').find((line) => line.includes('Error')) ?? result.stderr);
      const modules = await migratedModules(dataDir, false);
      if (modules !== expected) failures.push(`round ${round}: migrated ${modules || 'nothing'}, not ${expected}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('keeps the error that ended a transaction when SQLite has already rolled it back', async () => {
    const catalog = new SqliteCatalog(path.join(dir, 'catalog.sqlite'));
    try {
      // A page budget already spent: SQLite answers SQLITE_FULL, as on a full disk, and for a row this large
      // (overflow pages) it rolls the whole transaction back itself, as it did on a full tmpfs.
      const pages = (await catalog.get<{ page_count: number }>('PRAGMA page_count'))!.page_count;
      await catalog.exec(`PRAGMA max_page_count = ${pages}`);
      const write = () =>
        catalog.transaction(async (tx) => {
          await tx.run(
            "INSERT INTO check_runs (id, run_id, control_id, evaluated_at, status, results) VALUES ('cr-1', 'run-1', 'c', 'now', 'pass', ?)",
            'x'.repeat(200_000),
          );
        });
      await expect(write()).rejects.toThrow(DiskFullError);
      await expect(write()).rejects.toThrow(/database or disk is full.*catalog\.sqlite.*bytes free/);
      expect(catalog.isTransaction).toBe(false);
      expect(await catalog.get('SELECT id FROM check_runs')).toBeUndefined();
    } finally {
      await catalog.close();
    }
  });
});
