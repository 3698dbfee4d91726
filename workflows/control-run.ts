import { ActivityFailure } from '@temporalio/common';
import { log, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ControlRunInput, ControlRunSummary, EvaluateInput, EvaluationSummary, EvidenceRef, ReconcileSummary } from '../core/contracts.ts';
import {
  BOOKKEEPING_RETRY,
  collectAll,
  collectorFor,
  EVALUATION_OPTIONS,
  gapOf,
  MESSAGE_OPTIONS,
  OBLIGATION_OPTIONS,
  PATIENT_EVALUATION_OPTIONS,
  PATIENT_OPTIONS,
  scheduledStart,
} from './policies.ts';

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: BOOKKEEPING_RETRY,
});

/**
 * Planning and reconciling read the worker's config and write the catalog in milliseconds: as local activities they
 * skip two round trips through the server's task queues (~30-60 ms each on a dev server) and leave one marker event
 * each instead of three.
 */
const localBookkeeping = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: BOOKKEEPING_RETRY,
});

const evaluator = proxyActivities<Activities>(EVALUATION_OPTIONS);

/** Once the owner has been told that the run's outcome could not be written, the bookkeeping waits for the catalog to take writes again. */
const patientBookkeeping = proxyActivities<Activities>(PATIENT_OPTIONS);
const patientEvaluator = proxyActivities<Activities>(PATIENT_EVALUATION_OPTIONS);

/** Runs started before the local activities replay with the task-queue activities they recorded. */
const LOCAL_BOOKKEEPING_PATCH = 'control-run-local-bookkeeping';
/** Runs that failed at their bookkeeping before it was caught replay as the failures they were. */
const UNWRITTEN_OUTCOME_PATCH = 'control-run-unwritten-outcome';
/** Runs from before a risk register snapshot completed the risk assessment review replay without that step. */
const RISK_REVIEW_PATCH = 'control-run-completes-risk-assessment-review';

const calendar = proxyActivities<Activities>(OBLIGATION_OPTIONS);

const messenger = proxyActivities<Activities>(MESSAGE_OPTIONS);

/**
 * One occurrence of a control: collect every source in parallel, evaluate the checks, reconcile the
 * nonconformity register, tell the owner. A source that cannot be collected becomes an evidence gap and
 * the run ends `error`, never `pass`.
 */
export async function controlRun(input: ControlRunInput): Promise<ControlRunSummary> {
  const runId = workflowInfo().workflowId;
  const occurrence = input.occurrence ?? scheduledStart();

  const quick = patched(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : bookkeeping;
  const plan = await quick.planControlRun(input.controlId);
  const { refs: evidence, gaps } = await collectAll(
    collectorFor(plan.collection),
    { runId, controlId: input.controlId, occurrence, sources: plan.sources },
    { controlId: input.controlId },
  );

  const evaluate = { runId, controlId: input.controlId, occurrence, refs: evidence, gaps };
  let verdict: EvaluationSummary;
  let nonconformities: ReconcileSummary;
  try {
    verdict = await evaluator.evaluateControl(evaluate);
    nonconformities = await quick.reconcileNonconformities({ runId, controlId: input.controlId, checkRunId: verdict.checkRunId, occurrence, gaps });
  } catch (error) {
    if (!patched(UNWRITTEN_OUTCOME_PATCH)) throw error;
    ({ verdict, nonconformities } = await recordWhenWritable(evaluate, error));
  }

  const registers = evidence.filter((ref) => plan.riskRegisters?.includes(ref.sourceName));
  if (registers.length > 0 && patched(RISK_REVIEW_PATCH)) await completeRiskAssessmentReview(input.controlId, registers);

  try {
    await messenger.notify({ runId, controlId: input.controlId, status: verdict.status, reconcile: nonconformities, gaps });
  } catch (error) {
    // A lost notification must not undo the evidence and the register: the run's outcome stands.
    log.warn('notification failed', { controlId: input.controlId, error: String(error) });
  }

  return { runId, controlId: input.controlId, occurrence, status: verdict.status, evidence, gaps, checks: verdict.checks, nonconformities };
}

/**
 * One obligation, one record: a risk register snapshot in which every risk was reviewed in the period completes the
 * period's risk-assessment-review occurrence. The run's outcome stands whatever the calendar makes of it.
 */
async function completeRiskAssessmentReview(controlId: string, registers: readonly EvidenceRef[]): Promise<void> {
  for (const ref of registers) {
    try {
      const outcome = await calendar.completeRiskAssessmentReview({ evidenceId: ref.id });
      log.info('the risk register and the risk assessment review', { controlId, source: ref.sourceName, outcome: outcome.outcome });
    } catch (error) {
      log.warn('the risk register could not complete the risk assessment review', { controlId, source: ref.sourceName, error: String(error) });
    }
  }
}

/**
 * The check run or the register could not be written (a full disk, a catalog gone): the run must still end with an
 * outcome someone sees. The owner is told now, with the cause; then the same idempotent bookkeeping is retried until
 * it can be written, so the check run and the evidence-gap nonconformities appear once space returns.
 */
async function recordWhenWritable(evaluate: EvaluateInput, error: unknown): Promise<{ verdict: EvaluationSummary; nonconformities: ReconcileSummary }> {
  const failed = gapOf(error instanceof ActivityFailure && error.activityType ? error.activityType : 'bookkeeping', error);
  log.error('the run could not write its outcome; telling the owner, then retrying until the catalog takes writes', {
    controlId: evaluate.controlId,
    step: failed.sourceName,
    errorType: failed.errorType,
    error: failed.reason,
  });
  const nothingReconciled: ReconcileSummary = { opened: [], stillObserved: [], reopened: [], noLongerObserved: [] };
  try {
    await messenger.notify({
      runId: evaluate.runId,
      controlId: evaluate.controlId,
      status: 'error',
      reconcile: nothingReconciled,
      gaps: evaluate.gaps,
      unrecorded: { step: failed.sourceName, reason: failed.reason, errorType: failed.errorType },
    });
  } catch (notifyError) {
    log.warn('notification of the unwritten outcome failed', { controlId: evaluate.controlId, error: String(notifyError) });
  }
  const verdict = await patientEvaluator.evaluateControl(evaluate);
  const nonconformities = await patientBookkeeping.reconcileNonconformities({
    runId: evaluate.runId,
    controlId: evaluate.controlId,
    checkRunId: verdict.checkRunId,
    occurrence: evaluate.occurrence,
    gaps: evaluate.gaps,
  });
  return { verdict, nonconformities };
}
