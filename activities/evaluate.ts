import type { Logger } from 'pino';
import { checkEvidence, Deviation, type CheckEvidence } from '../checks/kit/contract.ts';
import { findingSubject } from '../checks/vulnerability-sla.ts';
import { leaverClock } from '../checks/leaver-still-active.ts';
import type { AccountJoin } from '../checks/kit/join.ts';
import { LeaverClock } from '../evidence/leaver-clock.ts';
import { FindingLedger } from '../evidence/finding-ledger.ts';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { EvidenceRecord } from '../evidence/records.ts';
import type { CheckResult, CheckRun, Register } from '../evidence/register.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { CheckStatus, EvaluateInput, EvaluationSummary } from '../workflows/contracts.ts';
import { checkContext } from './check-context.ts';
import { toFailure } from './failures.ts';

export interface EvaluateDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  register: Register;
  log: Logger;
}

/**
 * Runs the control's checks over the referenced snapshots and stores the check run with its deviations.
 * A check whose sources had an evidence gap is not run: its status is `error`, never `pass`.
 * Returns only a summary; the deviations stay in the catalog for reconciliation.
 */
export async function evaluateControl(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluationSummary> {
  try {
    const existing = deps.register.checkRunOf(input.runId);
    if (existing) return summaryOf(existing);

    const control = deps.config.controls.get(input.controlId);
    if (!control) throw new ConfigError(`control ${input.controlId} is not in ${deps.config.file}`);
    const at = new Date(input.occurrence);

    const snapshots = new Map<string, { evidenceId: string; records: EvidenceRecord[]; join?: AccountJoin }>();
    for (const ref of input.refs) {
      const records: EvidenceRecord[] = [];
      for await (const record of deps.store.records(ref.id)) records.push(record);
      const join = control.sources.find((source) => source.name === ref.sourceName)?.join;
      snapshots.set(ref.sourceName, { evidenceId: ref.id, records, join });
    }
    const gapSources = new Set(input.gaps.map((gap) => gap.sourceName));
    startClocksAtFirstDetection(deps, control.control.id, [...snapshots.values()]);
    runLeaverClock(deps, [...snapshots.values()], at);
    const context = checkContext(deps, control);

    // Checks over the same sources share one CheckEvidence, and with it the indexes checks memoize on its arrays.
    const shared = new Map<string, CheckEvidence>();
    const evidenceFor = (sources: readonly string[]): CheckEvidence => {
      const key = [...sources].sort().join('\n');
      let evidence = shared.get(key);
      if (!evidence) {
        evidence = checkEvidence(sources.map((name) => snapshots.get(name)!), context);
        shared.set(key, evidence);
      }
      return evidence;
    };
    const results: CheckResult[] = [];
    const deviations: Deviation[] = [];
    for (const { check, params, sources } of control.checks) {
      const missing = sources.filter((name) => gapSources.has(name) || !snapshots.has(name));
      if (missing.length > 0) {
        results.push({ checkId: check.id, status: 'error', deviations: 0, message: `not evaluated: no evidence from ${missing.join(', ')}` });
        continue;
      }
      try {
        const evidence = evidenceFor(sources);
        const found = check.evaluate(evidence, params, at).map((deviation) => Deviation.parse(deviation));
        deviations.push(...found);
        results.push({ checkId: check.id, status: found.length > 0 ? 'fail' : 'pass', deviations: found.length });
      } catch (error) {
        deps.log.error({ controlId: input.controlId, checkId: check.id, err: error }, 'check failed to evaluate');
        results.push({ checkId: check.id, status: 'error', deviations: 0, message: `check failed: ${(error as Error).message}` });
      }
    }

    const run = deps.register.saveCheckRun(
      { runId: input.runId, controlId: input.controlId, evaluatedAt: new Date().toISOString(), status: overallStatus(results, input.gaps.length > 0), results },
      deviations,
    );
    return summaryOf(run);
  } catch (error) {
    throw toFailure(error);
  }
}

/**
 * Folds the snapshots' findings into the finding ledger and gives each finding the first-detection time the
 * ledger holds, so an SLA clock started by last month's scan keeps running through this month's.
 */
function startClocksAtFirstDetection(deps: EvaluateDeps, controlId: string, snapshots: { records: EvidenceRecord[] }[]): void {
  const all = snapshots.flatMap((snapshot) => snapshot.records);
  if (!all.some((record) => record.kind === 'finding' || record.kind === 'scan')) return;
  const firstSeen = new FindingLedger(deps.store.catalog).observe(all, controlId);
  for (const snapshot of snapshots) {
    snapshot.records = snapshot.records.map((record) => {
      if (record.kind !== 'finding') return record;
      const since = firstSeen.get(findingSubject(record));
      return since === undefined || since === record.firstSeenAt ? record : { ...record, firstSeenAt: since };
    });
  }
}

/** Records, for every leaver's account in these snapshots, whether it is still usable: time-to-revoke across runs. */
function runLeaverClock(deps: EvaluateDeps, snapshots: { evidenceId: string; records: EvidenceRecord[]; join?: AccountJoin }[], at: Date): void {
  const all = snapshots.flatMap((snapshot) => snapshot.records);
  if (!all.some((record) => record.kind === 'hr-person') || !all.some((record) => record.kind === 'identity')) return;
  const entries = leaverClock(checkEvidence(snapshots), at);
  const systems = new Set(all.flatMap((record) => (record.kind === 'identity' ? [`${record.source}|${record.tenant}`] : [])));
  new LeaverClock(deps.store.catalog).observe(entries, systems, at.toISOString());
}

function overallStatus(results: readonly CheckResult[], hasGaps: boolean): CheckStatus {
  if (hasGaps || results.some((result) => result.status === 'error')) return 'error';
  return results.some((result) => result.status === 'fail') ? 'fail' : 'pass';
}

/** A run's summary is the stored run's, so a retry or a re-executed occurrence reports exactly what was first decided. */
function summaryOf(run: CheckRun): EvaluationSummary {
  return { checkRunId: run.id, status: run.status, checks: run.results };
}
