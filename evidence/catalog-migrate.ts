import { ConfigError } from '../core/errors.ts';
import { CatalogUnavailableError, readSqliteSnapshot, type CatalogSession, type SqliteCatalog, type SqlValue } from './catalog.ts';
import type { PostgresCatalog } from './catalog-postgres.ts';
import { EvidenceStore } from './store.ts';

/** How many rows one copied table held. */
export interface TableCopy {
  table: string;
  rows: number;
}

/** The target refused a row (a type or constraint SQLite did not enforce): nothing was written, the copy stopped. */
export class CatalogMigrationError extends Error {
  override readonly name = 'CatalogMigrationError';
}

/** PostgreSQL takes at most 65,535 parameters per statement; batches stay well below it. */
const MAX_PARAMETERS = 30_000;
const MAX_BATCH_ROWS = 500;

/**
 * Copies the embedded catalog of a data folder into an empty PostgreSQL database: every table of the catalog and of
 * every module (schema_migrations excepted: the target's own migrations write it), referenced tables first, each
 * table's rows in insertion order, in one transaction so that a failure leaves the target without rows. The source is
 * read in one snapshot (one consistent state, its chain whole) without blocking its writers: a worker still running on
 * it goes on, and what it adds after the snapshot is not in the copy, as it would not be after any copy ends; hence
 * "stop the workers first". The target is first brought to the source's schema by opening a store on it; the journal
 * and blobs stay where they are, so the chain on the copy is the source's row for row.
 */
export async function migrateCatalog(dataDir: string, source: SqliteCatalog, target: PostgresCatalog): Promise<TableCopy[]> {
  await refuseNonEmpty(target, target);
  await EvidenceStore.open(dataDir, { catalog: target });
  return readSqliteSnapshot(source.file, async (from) => {
    const tables = await tablesInCopyOrder(from);
    return target.transaction(async (to) => {
      await refuseNonEmpty(to, target);
      const copied: TableCopy[] = [];
      for (const table of tables) copied.push({ table, rows: await copyTable(from, to, table, target.location) });
      return copied;
    });
  });
}

async function refuseNonEmpty(session: CatalogSession, target: PostgresCatalog): Promise<void> {
  const tables = await session.all<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const holding: string[] = [];
  for (const { name } of tables) {
    if (name === 'schema_migrations') continue;
    if (await session.get(`SELECT 1 FROM ${quoted(name)} LIMIT 1`)) holding.push(name);
  }
  if (holding.length > 0) {
    throw new ConfigError(
      `the target catalog ${target.location} is not empty (rows in ${holding.join(', ')}): catalog migrate copies into an empty database only`,
    );
  }
}

/** The source's tables in creation order, moved so that every table comes after the tables it references. */
async function tablesInCopyOrder(source: CatalogSession): Promise<string[]> {
  const created = (
    await source.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' ORDER BY rowid",
    )
  ).map((row) => row.name);
  const references = new Map<string, string[]>();
  for (const table of created) {
    const keys = await source.all<{ table: string }>(`SELECT "table" FROM pragma_foreign_key_list(?)`, table);
    references.set(
      table,
      keys.map((key) => key.table).filter((referenced) => referenced !== table),
    );
  }
  const ordered: string[] = [];
  const placing = new Set<string>();
  const place = (table: string) => {
    if (ordered.includes(table) || placing.has(table)) return;
    placing.add(table);
    for (const referenced of references.get(table) ?? []) place(referenced);
    ordered.push(table);
  };
  for (const table of created) place(table);
  return ordered;
}

async function copyTable(from: CatalogSession, to: CatalogSession, table: string, location: string): Promise<number> {
  const columns = (await from.all<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', table)).map((column) => column.name);
  const targetColumns = new Set(
    (
      await to.all<{ name: string }>(
        'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?',
        table,
      )
    ).map((column) => column.name),
  );
  const missing = columns.filter((column) => !targetColumns.has(column));
  if (targetColumns.size === 0 || missing.length > 0) {
    throw new CatalogMigrationError(
      `table ${table} of the source catalog ${targetColumns.size === 0 ? 'is missing' : `has columns (${missing.join(', ')}) missing`} in ${location} after its migrations: was the source written by a newer isms?`,
    );
  }
  const batchRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length)));
  const select = `SELECT _rowid_ AS "_rowid_", ${columns.map(quoted).join(', ')} FROM ${quoted(table)} WHERE _rowid_ > ? ORDER BY _rowid_ LIMIT ${batchRows}`;
  const rowPlaceholders = `(${columns.map(() => '?').join(', ')})`;
  let after = Number.MIN_SAFE_INTEGER;
  let copied = 0;
  for (;;) {
    const rows = await from.all<Record<string, SqlValue>>(select, after);
    if (rows.length === 0) break;
    const first = rows[0]!._rowid_;
    const last = rows.at(-1)!._rowid_;
    try {
      await to.run(
        `INSERT INTO ${quoted(table)} (${columns.map(quoted).join(', ')}) VALUES ${rows.map(() => rowPlaceholders).join(', ')}`,
        ...rows.flatMap((row) => columns.map((column) => row[column] ?? null)),
      );
    } catch (error) {
      if (error instanceof CatalogUnavailableError) throw error;
      throw new CatalogMigrationError(
        `${location} refused a row of table ${table} (rowid ${String(first)} to ${String(last)}): ${refusal(error)}; nothing was written`,
      );
    }
    copied += rows.length;
    after = Number(last);
  }
  return copied;
}

/**
 * What PostgreSQL objected to, by name only: its message can quote the refused value (invalid input syntax does),
 * so quoted text is left out, and the error is not kept as the cause, whose detail quotes the row.
 */
function refusal(error: unknown): string {
  const { code, constraint, column, message } = error as { code?: string; constraint?: string; column?: string; message?: string };
  const what = (message ?? 'refused').replace(/"[^"]*"/g, '"…"');
  return [what, code && `SQLSTATE ${code}`, constraint && `constraint ${constraint}`, column && `column ${column}`].filter(Boolean).join(', ');
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
