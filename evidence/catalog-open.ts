import path from 'node:path';
import { SqliteCatalog, type Catalog } from './catalog.ts';
import { PostgresCatalog } from './catalog-postgres.ts';

/** The embedded catalog's file in a data folder. */
export const SQLITE_CATALOG_FILE = 'catalog.sqlite';

/**
 * The catalog a data folder's store keeps its rows in: PostgreSQL when a URL is given (connected and migrated
 * here, so an unreachable server is reported at start, naming host and database), else the embedded SQLite file.
 */
export async function openCatalog(dataDir: string, url?: string): Promise<Catalog> {
  if (url === undefined) return new SqliteCatalog(path.join(dataDir, SQLITE_CATALOG_FILE));
  const catalog = new PostgresCatalog(url);
  try {
    return await catalog.open();
  } catch (error) {
    await catalog.close();
    throw error;
  }
}
