import { ActivityFailure, ApplicationFailure, SearchAttributeType, defineSearchAttributeKey, type ActivityOptions, type RetryPolicy } from '@temporalio/common';
import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { CollectionPlan, EvidenceGap, EvidenceRef } from '../core/contracts.ts';

/*
 * The one place for how the workflows call activities: retry policies, the collector proxy and the collect-all-sources
 * step, and the schedule's start time. A workflow picks the policy that fits each call; it does not spell its own.
 */

/** Error types a retry cannot fix: a person has to correct config, credentials or the source. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'ConfigError',
  'AuthError',
  'PermissionError',
  'NotFoundError',
  'RequestRejectedError',
  'MalformedResponseError',
  'InvalidRecordError',
];

/** The error types no workflow retries, plus those a workflow adds for its own calls (a refused review decision). */
export function nonRetryable(...extra: string[]): string[] {
  return [...NON_RETRYABLE_ERROR_TYPES, ...extra];
}

/** Catalog reads and writes of a few rows: a failure is a busy or briefly unavailable catalog, retried for about ten minutes. */
export function catalogRetry(...extraNonRetryable: string[]): RetryPolicy {
  return { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: nonRetryable(...extraNonRetryable) };
}

/** A notice to a person: three tries; a lost notice never undoes the work it reports. */
export const MESSAGE_RETRY: RetryPolicy = { initialInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes: nonRetryable() };

/** A notice to a person: what every workflow's messenger proxy is made of. */
export const MESSAGE_OPTIONS: ActivityOptions = { startToCloseTimeout: '1 minute', retry: MESSAGE_RETRY };

/**
 * Completing a calendar occurrence from a record (one obligation, one record): it may start the occurrence's workflow
 * and wait, heartbeating, for it to record itself before sending the `complete` Update.
 */
export const OBLIGATION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { ...catalogRetry(), maximumAttempts: 5 },
};

/** A control run's bookkeeping: catalog retries, except a full disk, which the run reports at once and then waits out. */
export const BOOKKEEPING_RETRY = catalogRetry('DiskFullError');

/**
 * Evaluating a control reads whole snapshots in batches: minutes for a million findings, more on a slow host, so
 * its start-to-close is an hour, not the few minutes of other bookkeeping, lest a big snapshot be cut off and
 * evaluated again for ever. It heartbeats every few seconds (activities/evaluate.ts), so a worker lost mid-evaluation
 * has it retried elsewhere after the heartbeat timeout, a minute, not the hour; and a heartbeat is how it learns its
 * run was cancelled.
 */
export const EVALUATION_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: BOOKKEEPING_RETRY,
};

/**
 * Catalog writes that must land eventually (a run's outcome after a full disk): every 30 s at first, then every 15
 * minutes, for up to a week, until the catalog takes writes again.
 */
export const PATIENT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '7 days',
  retry: { initialInterval: '30s', backoffCoefficient: 2, maximumInterval: '15 minutes', nonRetryableErrorTypes: nonRetryable() },
};

/** The evaluation retried until the catalog takes writes again: each attempt as long and as watched as any evaluation's. */
export const PATIENT_EVALUATION_OPTIONS: ActivityOptions = {
  ...PATIENT_OPTIONS,
  startToCloseTimeout: EVALUATION_OPTIONS.startToCloseTimeout,
  heartbeatTimeout: EVALUATION_OPTIONS.heartbeatTimeout,
};

/** Temporal sets this on workflows a Schedule starts: the time the schedule meant, not when the workflow got to run. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** The time the schedule meant, or when this workflow started if no schedule started it (an ISO instant). */
export function scheduledStart(): string {
  const info = workflowInfo();
  return (info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime).toISOString();
}

/** Collection as the control's config has it: its timeout, heartbeat and retries (config never enters history, the plan does). */
export function collectorFor(collection: CollectionPlan['collection'], ...extraNonRetryable: string[]) {
  return proxyActivities<Activities>({
    startToCloseTimeout: collection.timeout,
    heartbeatTimeout: collection.heartbeatTimeout,
    retry: {
      initialInterval: collection.initialRetryInterval,
      maximumInterval: collection.maximumRetryInterval,
      maximumAttempts: collection.maximumAttempts,
      nonRetryableErrorTypes: nonRetryable(...extraNonRetryable),
    },
  });
}

export interface CollectAllInput {
  runId: string;
  controlId: string;
  occurrence: string;
  sources: readonly string[];
}

/**
 * Collects every source in parallel. A source that cannot be collected is an evidence gap, never a silent drop: the
 * result names each source once, in `refs` or in `gaps`.
 */
export async function collectAll(
  collector: ReturnType<typeof collectorFor>,
  input: CollectAllInput,
  logContext: Record<string, unknown>,
): Promise<{ refs: EvidenceRef[]; gaps: EvidenceGap[] }> {
  const { runId, controlId, occurrence, sources } = input;
  const collected = await Promise.allSettled(sources.map((sourceName) => collector.collectEvidence({ runId, controlId, sourceName, occurrence })));
  const refs = collected.flatMap((result): EvidenceRef[] => (result.status === 'fulfilled' ? [result.value] : []));
  const gaps = collected.flatMap((result, index): EvidenceGap[] => (result.status === 'rejected' ? [gapOf(sources[index]!, result.reason)] : []));
  for (const gap of gaps) log.warn('evidence gap', { ...logContext, source: gap.sourceName, reason: gap.reason });
  return { refs, gaps };
}

/** The gap a failed activity leaves: its cause's message and type, as the last attempt reported them. */
export function gapOf(sourceName: string, reason: unknown): EvidenceGap {
  const cause = reason instanceof ActivityFailure ? reason.cause : reason;
  if (cause instanceof ApplicationFailure) return { sourceName, reason: cause.message, errorType: cause.type ?? 'ApplicationFailure' };
  if (cause instanceof Error) return { sourceName, reason: cause.message, errorType: cause.name };
  return { sourceName, reason: String(cause), errorType: 'Unknown' };
}
