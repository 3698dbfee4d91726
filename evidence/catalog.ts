import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { asDiskFull } from './disk-full.ts';

/**
 * The catalog: evidence rows (a hash chain), check runs, deviations, the nonconformity register and every feature's
 * tables. Two backends behind one async interface: SQLite (`node:sqlite`, the embedded default) and PostgreSQL
 * (evidence/catalog-postgres.ts). SQL is written once with `?` placeholders in the subset both understand; a
 * migration step names one text per dialect only where they must differ.
 */

export type Dialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | bigint | null | Uint8Array;
/** One migration step: the same SQL on both backends, or one text per dialect where they must differ. */
export type Migration = string | Readonly<Record<Dialect, string>>;

/** A module's tables: its name in schema_migrations and its migration history. */
export interface ModuleSchema {
  module: string;
  migrations: readonly Migration[];
}

/** Statements against the catalog: outside a transaction through the catalog, inside one through its `tx`. */
export interface CatalogSession {
  readonly dialect: Dialect;
  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]>;
  run(sql: string, ...params: SqlValue[]): Promise<{ changes: number }>;
}

export interface Catalog extends CatalogSession {
  /** Where the catalog lives, safe to print: a file, or host and database (never a password). */
  readonly location: string;
  /**
   * Runs `work` as one transaction that writers take one at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
   * transaction-scoped advisory lock), so read-then-write steps such as the hash chain's append never interleave.
   * Every statement of the transaction goes through `tx`; a statement through the catalog itself is refused.
   */
  transaction<T>(work: (tx: CatalogSession) => Promise<T>): Promise<T>;
  /**
   * Applies a module's own migrations in order, once each (once per catalog object and module: later calls return
   * the first call's promise). Modules own their tables, so adding one never renumbers another's migrations.
   */
  migrateModule(module: string, migrations: readonly Migration[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The catalog cannot be reached (server gone, connection cut, refused): the statement may succeed when it is tried
 * again. Only a catalog on a server raises it; callers wait or retry on it whatever the backend.
 */
export class CatalogUnavailableError extends Error {
  override readonly name = 'CatalogUnavailableError';
}

/** How long a writer waits for another's lock, from the first statement on: opening a fresh catalog takes locks too. */
const BUSY_TIMEOUT_MS = 10_000;
/** Prepared statements kept per connection: far more than the distinct statements the stores send. */
const STATEMENT_CACHE_SIZE = 500;
const SQLITE_BUSY = 5;
/** A synchronous pause for the open below: node:sqlite opens a file synchronously. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** The catalog's own tables: evidence, check runs, deviations and the register. */
export const CATALOG_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE evidence (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     run_id TEXT NOT NULL,
     control_id TEXT NOT NULL,
     source_name TEXT NOT NULL,
     connector TEXT NOT NULL,
     connector_version TEXT NOT NULL,
     kinds TEXT NOT NULL,
     collected_at TEXT NOT NULL,
     period_start TEXT NOT NULL,
     period_end TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     size INTEGER NOT NULL,
     stored_size INTEGER NOT NULL,
     record_count INTEGER NOT NULL,
     uri TEXT NOT NULL,
     provenance TEXT NOT NULL,
     warnings TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     row_hash TEXT NOT NULL,
     UNIQUE (run_id, source_name)
   );
   CREATE INDEX evidence_control ON evidence (control_id, collected_at);
   CREATE TABLE check_runs (
     id TEXT PRIMARY KEY,
     run_id TEXT NOT NULL UNIQUE,
     control_id TEXT NOT NULL,
     evaluated_at TEXT NOT NULL,
     status TEXT NOT NULL,
     results TEXT NOT NULL,
     reconciled_at TEXT,
     reconcile_summary TEXT
   );
   CREATE TABLE deviations (
     check_run_id TEXT NOT NULL REFERENCES check_runs (id),
     fingerprint TEXT NOT NULL,
     check_id TEXT NOT NULL,
     subject TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     detail TEXT NOT NULL,
     observed_values TEXT NOT NULL,
     evidence_ids TEXT NOT NULL,
     PRIMARY KEY (check_run_id, fingerprint)
   );
   CREATE TABLE nonconformities (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     fingerprint TEXT NOT NULL UNIQUE,
     control_id TEXT NOT NULL,
     check_id TEXT NOT NULL,
     subject TEXT NOT NULL,
     reference TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     status TEXT NOT NULL,
     detail TEXT NOT NULL,
     observed_values TEXT NOT NULL,
     first_observed TEXT NOT NULL,
     last_observed TEXT NOT NULL,
     occurrences INTEGER NOT NULL,
     evidence_ids TEXT NOT NULL,
     root_cause TEXT,
     corrective_action TEXT,
     owner TEXT,
     due_date TEXT
   );
   CREATE INDEX nonconformities_status ON nonconformities (status, control_id);
   CREATE TABLE nonconformity_history (
     nonconformity_id TEXT NOT NULL REFERENCES nonconformities (id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     change TEXT NOT NULL,
     from_status TEXT,
     to_status TEXT,
     note TEXT
   );
   CREATE INDEX nonconformity_history_id ON nonconformity_history (nonconformity_id, at);`,
  // Insertion order is read back through SQLite's implicit rowid; PostgreSQL has none, so it gets a real column of that name.
  insertionOrder('deviations', 'nonconformity_history'),
];

/** A migration step giving PostgreSQL tables the `rowid` insertion order SQLite tables have built in. */
export function insertionOrder(...tables: string[]): Migration {
  return { sqlite: '', postgres: tables.map((table) => `ALTER TABLE ${table} ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY;`).join('\n') };
}

/**
 * One migration run per module and history length on a catalog object: every store of a module asks before each
 * call, and all but the first get the same promise. A failed run is forgotten so that the next caller tries again.
 */
export function memoizedMigration(
  done: Map<string, Promise<void>>,
  module: string,
  migrations: readonly Migration[],
  apply: () => Promise<void>,
): Promise<void> {
  const key = `${module}@${migrations.length}`;
  let running = done.get(key);
  if (!running) {
    running = apply();
    done.set(key, running);
    running.catch(() => done.delete(key));
  }
  return running;
}

export function migrationText(migration: Migration, dialect: Dialect): string {
  return typeof migration === 'string' ? migration : migration[dialect];
}

/**
 * Runs `work` over an embedded catalog file read on a connection of its own, read-only, in one deferred transaction:
 * on a WAL file it sees the state of its first read until it ends and holds no lock a writer waits on, and nothing is
 * written, migrated or created (the catalog's own open does all three). For readers beside a running worker: a copy
 * of the catalog, an auditor's check of a bundle against it.
 */
export async function readSqliteSnapshot<T>(file: string, work: (session: CatalogSession) => Promise<T>): Promise<T> {
  const db = new DatabaseSync(file, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
  const values = (params: readonly SqlValue[]) => params as SQLInputValue[];
  const snapshot: CatalogSession = {
    dialect: 'sqlite',
    get: async <R>(sql: string, ...params: SqlValue[]) => db.prepare(sql).get(...values(params)) as R | undefined,
    all: async <R>(sql: string, ...params: SqlValue[]) => db.prepare(sql).all(...values(params)) as R[],
    run: () => Promise.reject(new Error(`${file} is read here, never written`)),
  };
  try {
    db.exec('BEGIN');
    return await work(snapshot);
  } finally {
    if (db.isTransaction) db.exec('ROLLBACK');
    db.close();
  }
}

/**
 * The embedded catalog: one `node:sqlite` connection. Its calls are synchronous, but a transaction spans awaits, so
 * every statement and transaction takes the connection's async lock in turn: another caller's statement never lands
 * inside an open transaction. WAL lets the CLI and dashboards read while the worker writes; IMMEDIATE transactions
 * keep two processes from forking the chain.
 */
export class SqliteCatalog implements Catalog {
  readonly dialect = 'sqlite' as const;
  readonly file: string;
  readonly location: string;
  private readonly db: DatabaseSync;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inTransaction = new AsyncLocalStorage<SqliteCatalog>();
  private readonly migrations = new Map<string, Promise<void>>();
  private readonly tx: CatalogSession;
  private readonly statements = new Map<string, StatementSync>();

  constructor(file: string) {
    this.file = file;
    this.location = file;
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    // The busy timeout is set as the connection opens: switching a fresh file to WAL already waits on other openers.
    this.db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    this.switchToWal();
    this.db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
    this.migrateCatalog();
    this.tx = {
      dialect: 'sqlite',
      get: async <T>(sql: string, ...params: SqlValue[]) => this.getNow<T>(sql, params),
      all: async <T>(sql: string, ...params: SqlValue[]) => this.allNow<T>(sql, params),
      run: async (sql: string, ...params: SqlValue[]) => this.runNow(sql, params),
    };
  }

  /**
   * Two connections switching a fresh file to WAL at once can each hold the shared lock the other must upgrade
   * past; SQLite then answers SQLITE_BUSY at once instead of calling the busy handler, so the switch is retried here.
   */
  private switchToWal(): void {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (;;) {
      try {
        this.db.exec('PRAGMA journal_mode = WAL');
        return;
      } catch (error) {
        if ((error as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() >= deadline) throw error;
        Atomics.wait(PAUSE, 0, 0, 5 + Math.random() * 20);
      }
    }
  }

  /**
   * The catalog's own tables, versioned by `user_version` as they always were. Each step reads the version again
   * under the write lock, so processes opening a fresh catalog together apply each migration once; a catalog already
   * up to date is opened without taking the lock.
   */
  private migrateCatalog(): void {
    const version = () => Number(this.getNow<{ user_version: number }>('PRAGMA user_version', [])!.user_version);
    while (version() < CATALOG_MIGRATIONS.length) {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const current = version();
        if (current < CATALOG_MIGRATIONS.length) {
          this.db.exec(migrationText(CATALOG_MIGRATIONS[current]!, 'sqlite'));
          this.db.exec(`PRAGMA user_version = ${current + 1}`);
        }
        this.db.exec('COMMIT');
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw asDiskFull(error, this.file);
      }
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  }

  migrateModule(module: string, migrations: readonly Migration[]): Promise<void> {
    return memoizedMigration(this.migrations, module, migrations, () => this.applyModule(module, migrations));
  }

  private async applyModule(module: string, migrations: readonly Migration[]): Promise<void> {
    const version = async (db: CatalogSession) =>
      Number((await db.get<{ version: number }>('SELECT version FROM schema_migrations WHERE module = ?', module))?.version ?? 0);
    while ((await version(this)) < migrations.length) {
      await this.transaction(async (tx) => {
        const current = await version(tx);
        if (current >= migrations.length) return;
        const text = migrationText(migrations[current]!, 'sqlite');
        if (text.trim() !== '') this.db.exec(text);
        await tx.run(
          'INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version',
          module,
          current + 1,
        );
      });
    }
  }

  /**
   * Runs `work` in one IMMEDIATE transaction: writers queue on the lock instead of failing mid-way. The error
   * that ended the transaction is the one thrown: after SQLITE_FULL or an I/O error SQLite may already have
   * rolled back, and a second ROLLBACK would replace the cause with "no transaction is active".
   */
  transaction<T>(work: (tx: CatalogSession) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.inTransaction.run(this, () => work(this.tx));
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.isTransaction) {
          try {
            this.db.exec('ROLLBACK');
          } catch {
            // The cause below is what the caller needs; SQLite discards the transaction when the connection closes.
          }
        }
        throw asDiskFull(error, this.file);
      }
    });
  }

  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return this.exclusive(() => this.getNow<T>(sql, params));
  }

  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return this.exclusive(() => this.allNow<T>(sql, params));
  }

  run(sql: string, ...params: SqlValue[]): Promise<{ changes: number }> {
    return this.exclusive(() => this.runNow(sql, params));
  }

  /** Runs raw SQL outside any transaction (PRAGMAs a test or a checkpoint needs). */
  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.db.exec(sql));
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    if (this.db.isOpen) this.db.close();
  }

  /** How many prepared statements the connection keeps (a test checks that batch sizes do not each add their own). */
  get preparedStatements(): number {
    return this.statements.size;
  }

  /** Whether a transaction is open on the connection (a test checks that a failed one was rolled back). */
  get isTransaction(): boolean {
    return this.db.isTransaction;
  }

  private exclusive<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.inTransaction.getStore() === this) {
      return Promise.reject(
        new Error('a catalog statement was issued through the catalog inside its own transaction: inside catalog.transaction(...) run it through tx'),
      );
    }
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * The prepared statement for `sql`, kept for the connection's life: the stores send the same few statements again
   * and again, and preparing one each time was a measurable part of folding a large scan into the finding ledger.
   */
  private statement(sql: string): StatementSync {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private getNow<T>(sql: string, params: readonly SqlValue[]): T | undefined {
    return this.statement(sql).get(...(params as SQLInputValue[])) as T | undefined;
  }

  private allNow<T>(sql: string, params: readonly SqlValue[]): T[] {
    return this.statement(sql).all(...(params as SQLInputValue[])) as T[];
  }

  private runNow(sql: string, params: readonly SqlValue[]): { changes: number } {
    try {
      return { changes: Number(this.statement(sql).run(...(params as SQLInputValue[])).changes) };
    } catch (error) {
      throw asDiskFull(error, this.file);
    }
  }
}
