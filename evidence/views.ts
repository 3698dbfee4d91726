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

export async function ensureViews(catalog: Catalog): Promise<void> {
  await catalog.migrateModule('views', VIEWS);
}
