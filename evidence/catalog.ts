import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { asDiskFull } from './disk-full.ts';

/** How long a writer waits for another's lock, from the first statement on: opening a fresh catalog takes locks too. */
const BUSY_TIMEOUT_MS = 10_000;
const SQLITE_BUSY = 5;
/** A synchronous pause: the catalog's API is synchronous, like node:sqlite's. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * The SQLite catalog: evidence rows (a hash chain), check runs, deviations and the nonconformity register.
 * WAL lets the CLI and dashboards read while the worker writes; IMMEDIATE transactions keep two writers
 * from forking the chain.
 */
const MIGRATIONS: readonly string[] = [
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
];

export type Row = Record<string, SQLInputValue>;

export class Catalog {
  readonly db: DatabaseSync;
  readonly file: string;

  constructor(file: string) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    // The busy timeout is set as the connection opens: switching a fresh file to WAL already waits on other openers.
    this.db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    this.switchToWal();
    this.db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
    this.migrate();
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
   * Each step reads the version again under the write lock, so processes opening a fresh catalog together apply each
   * migration once; a catalog already up to date is opened without taking the lock.
   */
  private migrate(): void {
    const version = () => Number(this.get<{ user_version: number }>('PRAGMA user_version')!.user_version);
    while (version() < MIGRATIONS.length) {
      this.transaction(() => {
        const current = version();
        if (current >= MIGRATIONS.length) return;
        this.db.exec(MIGRATIONS[current]!);
        this.db.exec(`PRAGMA user_version = ${current + 1}`);
      });
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  }

  /**
   * Applies a feature's own migrations (e.g. the calendar's tables) in order, once each. Features own their
   * tables, so adding one never renumbers another's migrations. Like the catalog's own, each step reads the
   * version again under the write lock.
   */
  migrateModule(module: string, migrations: readonly string[]): void {
    const version = () => Number(this.get<{ version: number }>('SELECT version FROM schema_migrations WHERE module = ?', module)?.version ?? 0);
    while (version() < migrations.length) {
      this.transaction(() => {
        const current = version();
        if (current >= migrations.length) return;
        this.db.exec(migrations[current]!);
        this.run('INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version', module, current + 1);
      });
    }
  }

  /**
   * Runs `work` in one IMMEDIATE transaction: writers queue on the lock instead of failing mid-way. The error
   * that ended the transaction is the one thrown: after SQLITE_FULL or an I/O error SQLite may already have
   * rolled back, and a second ROLLBACK would replace the cause with "no transaction is active".
   */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
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
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.db.prepare(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number | bigint } {
    try {
      return this.db.prepare(sql).run(...params);
    } catch (error) {
      throw asDiskFull(error, this.file);
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
