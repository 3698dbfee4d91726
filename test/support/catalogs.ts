import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteCatalog, type Catalog } from '../../evidence/catalog.ts';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore, type StoreOptions } from '../../evidence/store.ts';
import { postgresDatabase } from './postgres.ts';

export type Backend = 'sqlite' | 'postgres';
/**
 * The backends every catalog suite runs on (`describe.each(BACKENDS)`): both, unless ISMS_TEST_BACKENDS=sqlite (the
 * fast tier, `npm run test:unit`, which needs no PostgreSQL).
 */
export const BACKENDS: readonly Backend[] = process.env.ISMS_TEST_BACKENDS === 'sqlite' ? ['sqlite'] : ['sqlite', 'postgres'];

const cleanups: (() => Promise<void>)[] = [];

/** A fresh, empty catalog on the backend: SQLite in memory, or a new PostgreSQL database. Closed by `closeTestCatalogs`. */
export async function testCatalog(backend: Backend): Promise<Catalog> {
  if (backend === 'sqlite') {
    const catalog = new SqliteCatalog(':memory:');
    cleanups.push(() => catalog.close());
    return catalog;
  }
  const database = await postgresDatabase();
  const catalog = await new PostgresCatalog(database.url).open();
  cleanups.push(async () => {
    await catalog.close();
    await database.drop();
  });
  return catalog;
}

/** The catalog option of a store on the backend: undefined for SQLite (the data folder's own file), else a fresh PostgreSQL database. */
export async function storeCatalog(backend: Backend): Promise<Catalog | undefined> {
  return backend === 'sqlite' ? undefined : testCatalog(backend);
}

/** An evidence store in a fresh data folder whose catalog is on the backend (the SQLite file in the folder, as in production). */
export async function testStore(backend: Backend, options: StoreOptions = {}): Promise<{ store: EvidenceStore; dir: string; url: string | undefined }> {
  const dir = mkdtempSync(path.join(tmpdir(), `isms-${backend}-store-`));
  let url: string | undefined;
  let catalog: Catalog | undefined;
  if (backend === 'postgres') {
    const database = await postgresDatabase();
    url = database.url;
    catalog = await new PostgresCatalog(database.url).open();
    cleanups.push(() => database.drop());
  }
  const store = await EvidenceStore.open(path.join(dir, 'data'), { ...options, catalog });
  cleanups.unshift(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir, url };
}

/** Closes every catalog and store made since the last call, then drops their databases (afterEach). */
export async function closeTestCatalogs(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await cleanup();
}
