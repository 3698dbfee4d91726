import { ActivityFailure, ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  decisionRefusal,
  REVIEW_REFUSAL,
  type CampaignInput,
  type CampaignPhase,
  type CampaignProgress,
  type CampaignSummary,
  type CarriedCampaign,
  type DecideInput,
  type DecideResult,
  type OpenReviewInput,
  type RevocationOutcome,
} from '../core/access-review-contracts.ts';
import { catalogRetry, collectAll, collectorFor, OBLIGATION_OPTIONS, scheduledStart } from './policies.ts';

/** The campaign's messages: this workflow handles them, the CLI sends them through these typed definitions. */
export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
export const progressQuery = defineQuery<CampaignProgress>('progress');

const CATALOG_RETRY = catalogRetry(REVIEW_REFUSAL);

/**
 * Catalog writes of a few rows. Their timeout is what a task lost at a worker's shutdown costs (a server without
 * graceful poll shutdown hands a task to a poll the worker is dropping), so it is kept near their real duration.
 */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: CATALOG_RETRY,
});

/** Building the lists and verifying revocations read whole evidence snapshots: their time grows with the identities. */
const evidenceWork = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: CATALOG_RETRY,
});

const calendar = proxyActivities<Activities>(OBLIGATION_OPTIONS);

/** Campaigns closed before this change completed no calendar occurrence; their histories replay without it. */
const COMPLETES_CALENDAR_OCCURRENCE = 'access-review-completes-calendar-occurrence';

/**
 * What the review schedule starts: works out the period of the scheduled time and starts that period's campaign
 * under its own id, `review:<controlId>:<period>`, so that a campaign opened by hand in the same period is the
 * same campaign. The campaign outlives this workflow.
 */
export async function openAccessReview(input: OpenReviewInput): Promise<{ campaignId: string }> {
  const openedAt = scheduledStart();
  const plan = await bookkeeping.planAccessReview({ controlId: input.controlId, at: openedAt });
  try {
    await startChild(accessReviewCampaign, {
      workflowId: plan.campaignId,
      args: [{ controlId: input.controlId, period: plan.period, openedAt, trigger: 'schedule' }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    log.info('the campaign of this period is already open', { campaignId: plan.campaignId });
  }
  return { campaignId: plan.campaignId };
}

/**
 * One access review campaign: collect the identity sources, build one review list per system and reviewer, take
 * decisions (Update `decide`) until every entry is decided or the due date passes, then verify each `revoke` with a
 * later collection. Undecided entries at the due date raise one nonconformity; a revoked account still active
 * raises one per account, which a later verification settles.
 */
export async function accessReviewCampaign(input: CampaignInput): Promise<CampaignSummary> {
  const campaignId = workflowInfo().workflowId;
  const carried = input.carried;
  // A continued campaign starts from where the last run left off, before its handlers meet the Updates buffered for it.
  const state = {
    phase: (carried ? (carried.closed ? 'verifying' : 'open') : 'collecting') as CampaignPhase,
    entryCount: carried?.summary.entryCount ?? 0,
    undecided: carried?.undecided ?? 0,
    systems: carried?.systems ?? ([] as string[]),
    dueAt: carried?.plan.dueAt,
    closed: carried?.closed ?? false,
    /** Workflow times of `revoke` decisions not yet covered by a verification. */
    revocationsAwaiting: carried?.revocationsAwaiting ?? ([] as number[]),
  };
  const progress = (): CampaignProgress => ({
    campaignId,
    phase: state.phase,
    entryCount: state.entryCount,
    undecided: state.undecided,
    systems: state.systems,
    dueAt: state.dueAt,
    closed: state.closed,
    revocationsAwaitingVerification: state.revocationsAwaiting.length,
  });
  // Registered before the first await, so an early Update or Query meets a handler (the validator turns it away while collecting).
  setHandler(progressQuery, progress);
  setHandler(
    decideUpdate,
    async (decision: DecideInput) => {
      const at = Date.now();
      try {
        const result = await bookkeeping.recordReviewDecisions({ campaignId, ...decision, at: new Date(at).toISOString() });
        state.undecided = result.undecided;
        if (decision.decision === 'revoke' && result.entries.length > 0) state.revocationsAwaiting.push(at);
        return result;
      } catch (error) {
        // The reviewer sees why, not that an activity failed.
        const cause = error instanceof ActivityFailure ? error.cause : error;
        if (cause instanceof ApplicationFailure)
          throw ApplicationFailure.create({ type: cause.type ?? REVIEW_REFUSAL, message: cause.message, nonRetryable: true });
        throw error;
      }
    },
    {
      validator: (decision: DecideInput) => {
        const refusal = decisionRefusal({ campaignId, ...state }, decision);
        if (refusal) throw new Error(refusal);
      },
    },
  );

  const plan = carried?.plan ?? (await bookkeeping.planAccessReview({ controlId: input.controlId, at: input.openedAt }));
  state.dueAt = plan.dueAt;
  const collector = collectorFor(plan.collection, REVIEW_REFUSAL);
  const collect = (runId: string, sources: readonly string[], occurrence: string) =>
    collectAll(collector, { runId, controlId: input.controlId, occurrence, sources }, { campaignId });

  let summary: CampaignSummary;
  /** When revocations found still active are to be looked at again, and how many times they have been. */
  let recheck: { at: number; round: number } | undefined;
  if (carried) {
    summary = carried.summary;
    recheck = carried.recheck;
  } else {
    const opening = await collect(campaignId, plan.sources, input.openedAt);
    const built = await evidenceWork.buildAccessReview({
      campaignId,
      controlId: input.controlId,
      period: input.period,
      openedAt: input.openedAt,
      dueAt: plan.dueAt,
      ...opening,
    });
    Object.assign(state, { phase: 'open', entryCount: built.entryCount, undecided: built.undecided, systems: built.systems });
    summary = {
      campaignId,
      controlId: input.controlId,
      period: input.period,
      status: 'incomplete',
      entryCount: built.entryCount,
      undecidedAtClose: 0,
      verifications: 0,
      revocations: { effective: 0, notEffective: 0, unverifiable: 0 },
      nonconformities: { opened: [], noLongerObserved: [] },
    };
  }
  const note = (outcome: { opened: string[]; reopened: string[]; noLongerObserved: string[] }) => {
    summary.nonconformities.opened.push(...outcome.opened, ...outcome.reopened);
    summary.nonconformities.noLongerObserved.push(...outcome.noLongerObserved);
  };

  const dueAt = Date.parse(plan.dueAt);
  const nextVerificationAt = (): number | undefined => {
    const times = [...state.revocationsAwaiting.map((at) => at + plan.verifyAfterMs), ...(recheck ? [recheck.at] : [])];
    return times.length > 0 ? Math.min(...times) : undefined;
  };

  for (;;) {
    const verifyAt = nextVerificationAt();
    if (state.closed && verifyAt === undefined) break;
    if (workflowInfo().continueAsNewSuggested) {
      // Decisions in flight finish in this run; their Updates hold the state they changed.
      await condition(allHandlersFinished);
      const next: CarriedCampaign = {
        plan,
        undecided: state.undecided,
        systems: state.systems,
        closed: state.closed,
        revocationsAwaiting: state.revocationsAwaiting,
        ...(recheck ? { recheck } : {}),
        summary,
      };
      log.info('continuing the campaign as new', { campaignId, undecided: state.undecided, historyLength: workflowInfo().historyLength });
      return continueAsNew<typeof accessReviewCampaign>({ ...input, carried: next });
    }
    const wakeAt = Math.min(state.closed ? Infinity : dueAt, verifyAt ?? Infinity);
    const waitMs = wakeAt - Date.now();
    if (waitMs > 0) {
      const awaiting = state.revocationsAwaiting.length;
      // A decision that completes the list, a new revocation (it may be due sooner) or a history grown long ends the wait early.
      await condition(
        () => (!state.closed && state.undecided === 0) || state.revocationsAwaiting.length !== awaiting || workflowInfo().continueAsNewSuggested,
        waitMs,
      );
    }
    if (!state.closed && (state.undecided === 0 || Date.now() >= dueAt)) {
      state.closed = true;
      const closed = await bookkeeping.closeAccessReview({ campaignId, controlId: input.controlId, at: new Date().toISOString() });
      summary.status = closed.status;
      summary.undecidedAtClose = closed.undecided;
      note(closed.nonconformities);
      if (patched(COMPLETES_CALENDAR_OCCURRENCE)) await completeCalendarOccurrence();
    }
    const due = nextVerificationAt();
    if (due === undefined || Date.now() < due) continue;

    state.phase = 'verifying';
    summary.verifications++;
    const now = Date.now();
    const cutoff = now - plan.verifyAfterMs;
    const outcome = await verify(`${campaignId}:verify-${summary.verifications}`, new Date(cutoff).toISOString(), new Date(now).toISOString());
    state.revocationsAwaiting = state.revocationsAwaiting.filter((at) => at > cutoff);
    summary.revocations.effective += outcome.effective;
    summary.revocations.notEffective += outcome.notEffective;
    summary.revocations.unverifiable += outcome.unverifiable;
    note(outcome.nonconformities);
    const round = (recheck?.round ?? 0) + 1;
    // Still active (or not collectable): look again later, a bounded number of times; after that the register holds it.
    recheck = outcome.notEffective + outcome.unverifiable > 0 && round < plan.maxVerifications ? { at: now + plan.verifyAfterMs, round } : undefined;
    state.phase = state.closed ? 'verifying' : 'open';
  }

  state.phase = 'done';
  await condition(allHandlersFinished);
  return summary;

  /** One obligation, one record: the closed campaign completes the period's access-review occurrence. */
  async function completeCalendarOccurrence(): Promise<void> {
    try {
      const outcome = await calendar.completeAccessReviewOccurrence({ campaignId });
      log.info('the calendar occurrence of the access review', { campaignId, outcome: outcome.outcome });
    } catch (error) {
      // The campaign and its evidence stand whatever the calendar makes of them; a person can still complete the occurrence.
      log.warn('the access review could not complete its calendar occurrence', { campaignId, error: String(error) });
    }
  }

  async function verify(runId: string, cutoff: string, at: string): Promise<RevocationOutcome> {
    const check = await bookkeeping.planRevocationCheck({ campaignId, cutoff });
    if (check.pending === 0)
      return {
        checked: 0,
        effective: 0,
        notEffective: 0,
        unverifiable: 0,
        nonconformities: { opened: [], stillObserved: [], reopened: [], noLongerObserved: [] },
      };
    const fresh = await collect(runId, check.sources, at);
    return evidenceWork.verifyRevocations({ campaignId, controlId: input.controlId, cutoff, at, runId, ...fresh });
  }
}
