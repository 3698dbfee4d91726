// @module-tag postgres
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { postgresDatabase } from '../support/postgres.ts';

const appender = fileURLToPath(new URL('../support/append-evidence.ts', import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('the hash chain on PostgreSQL under concurrent appenders', () => {
  it('stays one unbroken chain when processes append at once, each over several connections', async () => {
    const database = await postgresDatabase();
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-chain-'));
    cleanups.push(async () => {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    const dataDir = path.join(dir, 'data');
    const processes = 4;
    const perProcess = 6;
    await Promise.all(
      Array.from({ length: processes }, (_, index) =>
        promisify(execFile)(process.execPath, [appender, dataDir, database.url, `writer-${index}`, String(perProcess)], { timeout: 120_000 }),
      ),
    );

    const store = await EvidenceStore.open(dataDir, { catalog: await new PostgresCatalog(database.url).open() });
    try {
      const rows = (await store.list()).reverse();
      expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: processes * perProcess }, (_, index) => index + 1));
      expect(new Set(rows.map((row) => row.runId)).size).toBe(processes * perProcess);
      rows.forEach((row, index) => expect(row.prevHash).toBe(index === 0 ? '0'.repeat(64) : rows[index - 1]!.rowHash));
      expect(await store.verify()).toEqual({ ok: true, checked: processes * perProcess, problems: [] });
    } finally {
      await store.close();
    }
  }, 180_000);
});
