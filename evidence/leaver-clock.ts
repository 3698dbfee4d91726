import type { LeaverClockEntry } from '../core/check-results.ts';
import type { Catalog, CatalogSession, Migration, ModuleSchema } from './catalog.ts';

const TABLE = `CREATE TABLE leaver_clock (
     employee_id TEXT NOT NULL,
     system TEXT NOT NULL,
     tenant TEXT NOT NULL,
     account TEXT NOT NULL,
     termination_date TEXT NOT NULL,
     first_observed_at TEXT NOT NULL,
     last_seen_active_at TEXT,
     revoked_observed_at TEXT,
     PRIMARY KEY (employee_id, system, tenant, account)
   );`;

const MIGRATIONS: readonly Migration[] = [
  {
    sqlite: `${TABLE}
   CREATE VIEW v_leaver_clock AS
     SELECT employee_id, system, tenant, account, termination_date, last_seen_active_at, revoked_observed_at,
            ROUND((julianday(COALESCE(last_seen_active_at, termination_date)) - julianday(termination_date)) * 24, 2) AS revoked_after_hours_at_least,
            ROUND((julianday(revoked_observed_at) - julianday(termination_date)) * 24, 2) AS revoked_after_hours_at_most
     FROM leaver_clock;`,
    // The same hours as julianday differences, from PostgreSQL's interval arithmetic (the session runs in UTC).
    postgres: `${TABLE}
   CREATE VIEW v_leaver_clock AS
     SELECT employee_id, system, tenant, account, termination_date, last_seen_active_at, revoked_observed_at,
            ROUND(extract(epoch FROM COALESCE(last_seen_active_at, termination_date)::timestamptz - termination_date::timestamptz) / 3600, 2) AS revoked_after_hours_at_least,
            ROUND(extract(epoch FROM revoked_observed_at::timestamptz - termination_date::timestamptz) / 3600, 2) AS revoked_after_hours_at_most
     FROM leaver_clock;`,
  },
];

export const LEAVER_CLOCK_SCHEMA: ModuleSchema = { module: 'leaver-clock', migrations: MIGRATIONS };

export interface LeaverClockRow {
  employeeId: string;
  system: string;
  tenant: string;
  account: string;
  terminationDate: string;
  firstObservedAt: string;
  /** The last evaluation after termination that found the account usable; null if none did. */
  lastSeenActiveAt: string | null;
  /** The first evaluation that found the account revoked (disabled, suspended, deleted or gone). */
  revokedObservedAt: string | null;
  /** Time to revoke lies between these bounds, as fine as the collection schedule allows. */
  revokedAfterHours: { atLeast: number; atMost: number | null };
}

type Row = {
  employee_id: string;
  system: string;
  tenant: string;
  account: string;
  termination_date: string;
  first_observed_at: string;
  last_seen_active_at: string | null;
  revoked_observed_at: string | null;
};

const hoursBetween = (from: string, to: string) => Math.round(((Date.parse(to) - Date.parse(from)) / 3_600_000) * 100) / 100;

/**
 * The leaver clock across runs: for every leaver's account, the last run that still found it usable and the first
 * that found it revoked, so time-to-revoke per system is known within the collection interval, for accounts revoked
 * in time as well as late.
 */
export class LeaverClock {
  private readonly catalog: Catalog;
  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(LEAVER_CLOCK_SCHEMA.module, LEAVER_CLOCK_SCHEMA.migrations);
    return this.catalog;
  }

  /**
   * Folds one evaluation's leaver accounts in. `systems` are the `source|tenant` pairs whose identities were
   * collected: a known account missing from a collected system was removed, which is revocation too.
   */
  async observe(entries: readonly LeaverClockEntry[], systems: ReadonlySet<string>, at: string): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      const seen = new Set<string>();
      for (const entry of entries) {
        seen.add(keyOf(entry.employeeId, entry.system, entry.tenant, entry.account));
        const row = await this.row(tx, entry.employeeId, entry.system, entry.tenant, entry.account);
        if (!row) {
          await tx.run(
            `INSERT INTO leaver_clock (employee_id, system, tenant, account, termination_date, first_observed_at, last_seen_active_at, revoked_observed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            entry.employeeId,
            entry.system,
            entry.tenant,
            entry.account,
            entry.terminationDate,
            at,
            entry.active ? at : null,
            entry.active ? null : at,
          );
          continue;
        }
        if (entry.active) {
          // Usable again after a revocation (re-enabled): the clock runs on from here.
          if (row.last_seen_active_at === null || Date.parse(at) > Date.parse(row.last_seen_active_at)) {
            await tx.run(
              'UPDATE leaver_clock SET last_seen_active_at = ?, revoked_observed_at = NULL WHERE employee_id = ? AND system = ? AND tenant = ? AND account = ?',
              at,
              row.employee_id,
              row.system,
              row.tenant,
              row.account,
            );
          }
        } else if (row.revoked_observed_at === null) {
          await this.markRevoked(tx, row, at);
        }
      }
      const open = await tx.all<Row>('SELECT * FROM leaver_clock WHERE revoked_observed_at IS NULL ORDER BY employee_id, system, tenant, account');
      for (const row of open) {
        if (seen.has(keyOf(row.employee_id, row.system, row.tenant, row.account))) continue;
        if (systems.has(`${row.system}|${row.tenant}`)) await this.markRevoked(tx, row, at);
      }
    });
  }

  async list(): Promise<LeaverClockRow[]> {
    const rows = await (await this.migrated()).all<Row>('SELECT * FROM leaver_clock ORDER BY termination_date, employee_id, system, account');
    return rows.map((row) => ({
      employeeId: row.employee_id,
      system: row.system,
      tenant: row.tenant,
      account: row.account,
      terminationDate: row.termination_date,
      firstObservedAt: row.first_observed_at,
      lastSeenActiveAt: row.last_seen_active_at,
      revokedObservedAt: row.revoked_observed_at,
      revokedAfterHours: {
        atLeast: Math.max(0, hoursBetween(row.termination_date, row.last_seen_active_at ?? row.termination_date)),
        atMost: row.revoked_observed_at === null ? null : hoursBetween(row.termination_date, row.revoked_observed_at),
      },
    }));
  }

  private async markRevoked(tx: CatalogSession, row: Row, at: string): Promise<void> {
    await tx.run(
      'UPDATE leaver_clock SET revoked_observed_at = ? WHERE employee_id = ? AND system = ? AND tenant = ? AND account = ?',
      at,
      row.employee_id,
      row.system,
      row.tenant,
      row.account,
    );
  }

  private async row(tx: CatalogSession, employeeId: string, system: string, tenant: string, account: string): Promise<Row | undefined> {
    return tx.get<Row>('SELECT * FROM leaver_clock WHERE employee_id = ? AND system = ? AND tenant = ? AND account = ?', employeeId, system, tenant, account);
  }
}

function keyOf(...parts: string[]): string {
  return parts.join('\u0000');
}
