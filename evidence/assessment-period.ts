import type { CheckResult, CheckRun, HistoryEntry, Nonconformity, Register } from './register.ts';
import type { NonconformityStatus } from '../core/nonconformity.ts';
import type { EvidenceStore } from './store.ts';
import type { EvidenceRow } from './evidence-row.ts';

/** A nonconformity as it stood at the end of a period: its status then and its history up to then. */
export interface NonconformityAtEnd extends Nonconformity {
  statusAtEnd: NonconformityStatus;
  historyToEnd: HistoryEntry[];
}

/** What the catalog holds for an assessment period [from, to): the inputs of an OSCAL assessment result. */
export interface AssessmentPeriod {
  /** Snapshots collected in the period, oldest first. */
  evidence: EvidenceRow[];
  /** Check runs evaluated in the period, oldest first. */
  checkRuns: CheckRun[];
  /** Nonconformities first observed before the period's end and not closed at its end, in register order. */
  openAtEnd: NonconformityAtEnd[];
}

/**
 * Reads a period from the catalog. Evidence is selected by collected_at, check runs by evaluated_at, both as ISO
 * instants (every writer stores `toISOString()`, so text order is time order). A nonconformity's status at the end
 * is replayed from its history, so a later change in the register does not alter a past period.
 */
export async function readAssessmentPeriod(store: EvidenceStore, register: Register, range: { from: string; to: string }): Promise<AssessmentPeriod> {
  const inPeriod = (at: string) => at >= range.from && at < range.to;
  const evidence = (await store.chainSpan(range.from, range.to))
    .filter((row) => inPeriod(row.collectedAt))
    .sort((a, b) => (a.collectedAt < b.collectedAt ? -1 : a.collectedAt > b.collectedAt ? 1 : a.seq - b.seq));
  const checkRuns = (
    await store.catalog.all<{ id: string; run_id: string; control_id: string; evaluated_at: string; status: CheckRun['status']; results: string }>(
      'SELECT id, run_id, control_id, evaluated_at, status, results FROM check_runs WHERE evaluated_at >= ? AND evaluated_at < ? ORDER BY evaluated_at, id',
      range.from,
      range.to,
    )
  ).map((row) => ({
    id: row.id,
    runId: row.run_id,
    controlId: row.control_id,
    evaluatedAt: row.evaluated_at,
    status: row.status,
    results: JSON.parse(row.results) as CheckResult[],
  }));
  const openAtEnd = (
    await Promise.all(
      (await register.list())
        .filter((nc) => nc.firstObserved < range.to)
        .map(async (nc) => {
          const historyToEnd = (await register.historyOf(nc.id)).filter((entry) => entry.at < range.to);
          const statusAtEnd = historyToEnd.findLast((entry) => entry.toStatus !== null)?.toStatus as NonconformityStatus | undefined;
          return { ...nc, statusAtEnd: statusAtEnd ?? 'open', historyToEnd };
        }),
    )
  ).filter((nc) => nc.statusAtEnd !== 'closed');
  return { evidence, checkRuns, openAtEnd };
}
