import pg from 'pg';
import { ConfigError } from '../core/errors.ts';
import {
  CATALOG_MIGRATIONS,
  CatalogUnavailableError,
  memoizedMigration,
  migrationText,
  type Catalog,
  type CatalogSession,
  type Migration,
  type SqlValue,
} from './catalog.ts';

/**
 * The catalog on PostgreSQL, through `pg` (node-postgres: the most used driver, pure JavaScript, pooled; its
 * query-per-call API maps one to one onto get/all/run, so a query builder such as Kysely would add a layer without
 * removing SQL: the dialect differences left are DDL types and a few date functions, kept in the migrations).
 */

/** Every writer's transaction takes this transaction-scoped advisory lock, as every SQLite writer takes the write lock. */
const CATALOG_WRITE_LOCK = 0x69736d73; // "isms"
const INT8 = 20;
const NUMERIC = 1700;
/** How long a new connection may take before the catalog counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * BIGINT (counts, sums, sequence numbers) and NUMERIC (ROUND of an interval) come back as numbers, as they do from
 * SQLite: rows, and the evidence row hash computed from them, are the same on both backends.
 */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** The parts of a catalog URL that are safe to print: never the password. */
export function describePostgresUrl(url: string): string {
  const parsed = parsePostgresUrl(url);
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  return `PostgreSQL database "${decodeURIComponent(parsed.pathname.slice(1)) || '(default)'}" on ${host}${parsed.port ? `:${parsed.port}` : ''}`;
}

export function parsePostgresUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('the catalog URL does not parse: expected postgres://user:password@host:port/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`the catalog URL has scheme "${parsed.protocol.replace(/:$/, '')}": expected postgres://user:password@host:port/database`);
  }
  return parsed;
}

/** `?` placeholders (outside quoted text) as PostgreSQL's `$1, $2, ...`. */
export function numberedPlaceholders(sql: string): string {
  let out = '';
  let index = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      out += `$${++index}`;
      continue;
    }
    out += char;
  }
  return out;
}

/**
 * SQLite's INTEGER holds 64 bits and its REAL is a double; PostgreSQL's INTEGER holds 32 and its REAL is single
 * precision, so the shared DDL gets the types that hold the same values.
 */
export function postgresTypes(ddl: string): string {
  return ddl.replace(/\bINTEGER\b/g, 'BIGINT').replace(/\bREAL\b/g, 'DOUBLE PRECISION');
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** PostgreSQL's classes 08 (connection exception) and 57P (operator intervention: shutdown, crash). */
function isConnectionFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

export class PostgresCatalog implements Catalog {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly migrations = new Map<string, Promise<void>>();

  constructor(url: string, options: { maxConnections?: number } = {}) {
    this.location = describePostgresUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      types: TYPES,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // The views' date arithmetic reads ISO instants; dates without a zone are UTC, as SQLite's julianday reads them.
      options: '-c TimeZone=UTC',
    });
    // An idle pooled connection that the server drops emits here; the next query opens a new one.
    this.pool.on('error', () => undefined);
  }

  /** Connects and brings the catalog's own tables up to date: the first thing a worker or the CLI does with it. */
  async open(): Promise<this> {
    await this.migrateModule('catalog', CATALOG_MIGRATIONS);
    return this;
  }

  migrateModule(module: string, migrations: readonly Migration[]): Promise<void> {
    const catalogFirst = module === 'catalog' ? Promise.resolve() : this.migrateModule('catalog', CATALOG_MIGRATIONS);
    return memoizedMigration(this.migrations, module, migrations, async () => {
      await catalogFirst;
      await this.transaction(async (tx) => {
        // Under the write lock: processes opening a fresh catalog together create it once.
        await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version BIGINT NOT NULL)');
        const version = Number((await tx.get<{ version: number }>('SELECT version FROM schema_migrations WHERE module = ?', module))?.version ?? 0);
        for (let step = version; step < migrations.length; step++) {
          const text = migrationText(migrations[step]!, 'postgres');
          if (text.trim() !== '') await tx.run(postgresTypes(text));
        }
        if (version < migrations.length) {
          await tx.run(
            'INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version',
            module,
            migrations.length,
          );
        }
      });
    });
  }

  async transaction<T>(work: (tx: CatalogSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CATALOG_WRITE_LOCK]);
      const result = await work(sessionOf(client, this.location));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is gone: the server rolls the transaction back itself, and this client is not reused.
        broken = rollbackError as Error;
      }
      throw this.classified(error);
    } finally {
      client.release(broken);
    }
  }

  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return this.query(sql, params).then((result) => result.rows[0] as T | undefined);
  }

  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]> {
    return this.query(sql, params).then((result) => result.rows as T[]);
  }

  run(sql: string, ...params: SqlValue[]): Promise<{ changes: number }> {
    return this.query(sql, params).then((result) => ({ changes: result.rowCount ?? 0 }));
  }

  async close(): Promise<void> {
    if (this.pool.ended) return;
    await this.pool.end();
  }

  private async query(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(numberedPlaceholders(sql), params as unknown[]);
    } catch (error) {
      throw this.classified(error);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      // A checked-out client whose connection dies emits 'error' with no pool listener on it: unhandled, that would end
      // the process. The statement in flight rejects with the same fault, which is what the caller handles.
      if (client.listenerCount('error') === 0) client.on('error', () => undefined);
      return client;
    } catch (error) {
      throw this.classified(error);
    }
  }

  private classified(error: unknown): Error {
    if (error instanceof CatalogUnavailableError || !isConnectionFault(error)) return error as Error;
    const cause = error instanceof Error ? error.message : String(error);
    return new CatalogUnavailableError(`catalog ${this.location} is unreachable: ${cause}`, { cause: error });
  }
}

function sessionOf(client: pg.PoolClient, location: string): CatalogSession {
  const query = async (sql: string, params: readonly SqlValue[]) => {
    try {
      return await client.query(numberedPlaceholders(sql), params as unknown[]);
    } catch (error) {
      if (!isConnectionFault(error)) throw error;
      throw new CatalogUnavailableError(`catalog ${location} is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  return {
    dialect: 'postgres',
    get: async <T>(sql: string, ...params: SqlValue[]) => (await query(sql, params)).rows[0] as T | undefined,
    all: async <T>(sql: string, ...params: SqlValue[]) => (await query(sql, params)).rows as T[],
    run: async (sql: string, ...params: SqlValue[]) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
  };
}
