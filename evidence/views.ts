import type { Catalog, Migration } from './catalog.ts';

/**
 * The dashboard interface: stable, documented SQL views over the catalog. Dashboards and auditors query these,
 * never the tables, so the tables can change underneath. Each migration replaces a view whole.
 */
const VIEWS: readonly Migration[] = [
  {
    // SQLite's strftime('%W') week (Monday-based, days before the first Monday are week 00) and julianday differences, in PostgreSQL's date functions; the session runs in UTC.
    sqlite: `CREATE VIEW IF NOT EXISTS v_control_status AS
     SELECT cr.control_id AS control_id,
            cr.status AS status,
            cr.evaluated_at AS evaluated_at,
            cr.run_id AS run_id,
            (SELECT COUNT(*) FROM nonconformities nc WHERE nc.control_id = cr.control_id AND nc.status IN ('open', 'root-cause', 'corrective-action')) AS open_nonconformities
     FROM check_runs cr
     WHERE cr.evaluated_at = (SELECT MAX(latest.evaluated_at) FROM check_runs latest WHERE latest.control_id = cr.control_id);
   CREATE VIEW IF NOT EXISTS v_evidence_coverage AS
     SELECT control_id,
            source_name,
            strftime('%Y-W%W', collected_at) AS week,
            COUNT(*) AS snapshots,
            SUM(record_count) AS records,
            MIN(collected_at) AS first_collected_at,
            MAX(collected_at) AS last_collected_at
     FROM evidence
     GROUP BY control_id, source_name, week;
   CREATE VIEW IF NOT EXISTS v_open_nonconformities AS
     SELECT id, control_id, check_id, reference, severity, status, title, owner, due_date, first_observed, last_observed, occurrences,
            CAST(julianday('now') - julianday(first_observed) AS INTEGER) AS age_days
     FROM nonconformities
     WHERE status IN ('open', 'root-cause', 'corrective-action', 'no-longer-observed', 'verified');`,
    postgres: `CREATE OR REPLACE VIEW v_control_status AS
     SELECT cr.control_id AS control_id,
            cr.status AS status,
            cr.evaluated_at AS evaluated_at,
            cr.run_id AS run_id,
            (SELECT COUNT(*) FROM nonconformities nc WHERE nc.control_id = cr.control_id AND nc.status IN ('open', 'root-cause', 'corrective-action')) AS open_nonconformities
     FROM check_runs cr
     WHERE cr.evaluated_at = (SELECT MAX(latest.evaluated_at) FROM check_runs latest WHERE latest.control_id = cr.control_id);
   CREATE OR REPLACE VIEW v_evidence_coverage AS
     SELECT control_id,
            source_name,
            to_char(collected_at::timestamptz, 'YYYY') || '-W' || lpad(((extract(doy FROM collected_at::timestamptz) + 7 - extract(isodow FROM collected_at::timestamptz))::int / 7)::text, 2, '0') AS week,
            COUNT(*) AS snapshots,
            SUM(record_count) AS records,
            MIN(collected_at) AS first_collected_at,
            MAX(collected_at) AS last_collected_at
     FROM evidence
     GROUP BY control_id, source_name, week;
   CREATE OR REPLACE VIEW v_open_nonconformities AS
     SELECT id, control_id, check_id, reference, severity, status, title, owner, due_date, first_observed, last_observed, occurrences,
            CAST(trunc(extract(epoch FROM now() - first_observed::timestamptz) / 86400) AS INTEGER) AS age_days
     FROM nonconformities
     WHERE status IN ('open', 'root-cause', 'corrective-action', 'no-longer-observed', 'verified');`,
  },
  // Access review campaigns record their results as check runs of the control; they are not the control's run status.
  `DROP VIEW IF EXISTS v_control_status;
   CREATE VIEW v_control_status AS
     SELECT cr.control_id AS control_id,
            cr.status AS status,
            cr.evaluated_at AS evaluated_at,
            cr.run_id AS run_id,
            (SELECT COUNT(*) FROM nonconformities nc WHERE nc.control_id = cr.control_id AND nc.status IN ('open', 'root-cause', 'corrective-action')) AS open_nonconformities
     FROM check_runs cr
     WHERE cr.run_id NOT LIKE 'review:%'
       AND cr.evaluated_at = (SELECT MAX(latest.evaluated_at) FROM check_runs latest WHERE latest.control_id = cr.control_id AND latest.run_id NOT LIKE 'review:%');`,
];

/** The views the dashboards read (v_leaver_clock is the leaver clock module's): all a dashboard role may select. */
export const DASHBOARD_VIEWS: readonly string[] = ['v_control_status', 'v_evidence_coverage', 'v_open_nonconformities', 'v_leaver_clock'];

/**
 * The PostgreSQL group role that may read the dashboard views and nothing else. A fixed name rather than a config
 * key: the grant is made wherever a catalog opens (worker or CLI) with no config at hand, no role name from outside
 * reaches DDL, and who reads dashboards is chosen in PostgreSQL itself by membership (`GRANT isms_dashboard TO
 * isms_reader`). A view runs with its owner's rights, so the role needs nothing on the tables beneath.
 */
export const DASHBOARD_ROLE = 'isms_dashboard';

export async function ensureViews(catalog: Catalog): Promise<void> {
  await catalog.migrateModule('views', VIEWS);
  if (catalog.dialect === 'postgres') await grantDashboardViews(catalog);
}

/**
 * Grants SELECT on the dashboard views the dashboard role cannot read yet, when that role exists: at every open, since
 * the role may be created after the views, and a migration that drops and recreates a view drops its grants. Only the
 * views this login owns (through membership) are granted: another login opening the catalog leaves them to the owner.
 * Under the catalog's write lock, because PostgreSQL refuses two GRANTs on one view at once (tuple concurrently updated).
 */
async function grantDashboardViews(catalog: Catalog): Promise<void> {
  if (!(await catalog.get('SELECT 1 FROM pg_roles WHERE rolname = ?', DASHBOARD_ROLE))) return;
  const ungranted = `SELECT c.relname AS name
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind = 'v' AND c.relname IN (${DASHBOARD_VIEWS.map(() => '?').join(', ')})
       AND pg_has_role(c.relowner, 'MEMBER') AND NOT has_table_privilege(?, c.oid, 'SELECT')`;
  if ((await catalog.all(ungranted, ...DASHBOARD_VIEWS, DASHBOARD_ROLE)).length === 0) return;
  await catalog.transaction(async (tx) => {
    const views = (await tx.all<{ name: string }>(ungranted, ...DASHBOARD_VIEWS, DASHBOARD_ROLE)).map(({ name }) => `"${name}"`);
    if (views.length > 0) await tx.run(`GRANT SELECT ON ${views.join(', ')} TO ${DASHBOARD_ROLE}`);
  });
}
