import type { CheckStatus } from '../core/contracts.ts';
import type { Catalog } from './catalog.ts';

/*
 * What the Statement of Applicability reads from the catalog beyond the store's and calendar's own accessors: the
 * latest run of each control (the v_control_status view) and the evidence those runs collected. Kept together so
 * the queries move as one when the catalog goes behind an async interface.
 */

export interface LatestControlRun {
  controlId: string;
  runId: string;
  status: CheckStatus;
  evaluatedAt: string;
  openNonconformities: number;
}

/** The latest run of every control that ran (access review campaigns excluded, as the view excludes them). */
export async function latestControlRuns(catalog: Catalog): Promise<Map<string, LatestControlRun>> {
  const rows = await catalog.all<{ control_id: string; run_id: string; status: CheckStatus; evaluated_at: string; open_nonconformities: number }>(
    // Two runs evaluated at the same instant both match the view; the later run id is taken, consistently.
    'SELECT control_id, run_id, status, evaluated_at, open_nonconformities FROM v_control_status ORDER BY control_id, run_id DESC',
  );
  const latest = new Map<string, LatestControlRun>();
  for (const row of rows) {
    if (latest.has(row.control_id)) continue;
    latest.set(row.control_id, {
      controlId: row.control_id,
      runId: row.run_id,
      status: row.status,
      evaluatedAt: row.evaluated_at,
      openNonconformities: Number(row.open_nonconformities),
    });
  }
  return latest;
}

export interface RunEvidence {
  id: string;
  runId: string;
  sourceName: string;
  sha256: string;
  collectedAt: string;
}

/** The evidence these runs collected, in the order it was stored. */
export async function evidenceOfRuns(catalog: Catalog, runIds: readonly string[]): Promise<RunEvidence[]> {
  if (runIds.length === 0) return [];
  const rows = await catalog.all<{ id: string; run_id: string; source_name: string; sha256: string; collected_at: string }>(
    `SELECT id, run_id, source_name, sha256, collected_at FROM evidence WHERE run_id IN (${runIds.map(() => '?').join(', ')}) ORDER BY seq`,
    ...runIds,
  );
  return rows.map((row) => ({ id: row.id, runId: row.run_id, sourceName: row.source_name, sha256: row.sha256, collectedAt: row.collected_at }));
}
