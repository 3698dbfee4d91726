import { ActivityFailure, ApplicationFailure, SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { log, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { NON_RETRYABLE_ERROR_TYPES as NON_RETRYABLE, type ControlRunInput, type ControlRunSummary, type EvidenceGap, type ReconcileSummary } from './contracts.ts';

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Planning and reconciling read the worker's config and write the catalog in milliseconds: as local activities they
 * skip two round trips through the server's task queues (~30-60 ms each on a dev server) and leave one marker event
 * each instead of three.
 */
const localBookkeeping = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Runs started before the local activities replay with the task-queue activities they recorded. */
const LOCAL_BOOKKEEPING_PATCH = 'control-run-local-bookkeeping';

const messenger = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * One occurrence of a control: collect every source in parallel, evaluate the checks, reconcile the
 * nonconformity register, tell the owner. A source that cannot be collected becomes an evidence gap and
 * the run ends `error`, never `pass`.
 */
export async function controlRun(input: ControlRunInput): Promise<ControlRunSummary> {
  const info = workflowInfo();
  const runId = info.workflowId;
  const occurrence = input.occurrence ?? (info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime).toISOString();

  const quick = patched(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : bookkeeping;
  const plan = await quick.planControlRun(input.controlId);
  const collector = proxyActivities<Activities>({
    startToCloseTimeout: plan.collection.timeout,
    heartbeatTimeout: plan.collection.heartbeatTimeout,
    retry: {
      initialInterval: plan.collection.initialRetryInterval,
      maximumInterval: plan.collection.maximumRetryInterval,
      maximumAttempts: plan.collection.maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  const collected = await Promise.allSettled(
    plan.sources.map((sourceName) => collector.collectEvidence({ runId, controlId: input.controlId, sourceName, occurrence })),
  );
  const evidence = collected.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const gaps = collected.flatMap((result, index): EvidenceGap[] => (result.status === 'rejected' ? [gapOf(plan.sources[index]!, result.reason)] : []));
  for (const gap of gaps) log.warn('evidence gap', { controlId: input.controlId, source: gap.sourceName, reason: gap.reason });

  const verdict = await bookkeeping.evaluateControl({ runId, controlId: input.controlId, occurrence, refs: evidence, gaps });
  const nonconformities: ReconcileSummary = await quick.reconcileNonconformities({
    runId,
    controlId: input.controlId,
    checkRunId: verdict.checkRunId,
    occurrence,
    gaps,
  });

  try {
    await messenger.notify({ runId, controlId: input.controlId, status: verdict.status, reconcile: nonconformities, gaps });
  } catch (error) {
    // A lost notification must not undo the evidence and the register: the run's outcome stands.
    log.warn('notification failed', { controlId: input.controlId, error: String(error) });
  }

  return { runId, controlId: input.controlId, occurrence, status: verdict.status, evidence, gaps, checks: verdict.checks, nonconformities };
}

export function gapOf(sourceName: string, reason: unknown): EvidenceGap {
  const cause = reason instanceof ActivityFailure ? reason.cause : reason;
  if (cause instanceof ApplicationFailure) return { sourceName, reason: cause.message, errorType: cause.type ?? 'ApplicationFailure' };
  if (cause instanceof Error) return { sourceName, reason: cause.message, errorType: cause.name };
  return { sourceName, reason: String(cause), errorType: 'Unknown' };
}
