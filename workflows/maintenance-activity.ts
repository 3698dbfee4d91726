import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { allHandlersFinished, condition, defineQuery, defineUpdate, log, proxyActivities, setHandler, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  INVALID_EVIDENCE,
  type ActivityOccurrence,
  type Completion,
  type CompletionReceipt,
  type OccurrenceNotice,
  type OccurrenceOutcome,
  type OccurrenceState,
  type Reassignment,
} from '../core/calendar-contracts.ts';
import { catalogRetry, MESSAGE_OPTIONS, scheduledStart } from './policies.ts';

export const completeUpdate = defineUpdate<CompletionReceipt, [Completion]>('complete');
export const reassignUpdate = defineUpdate<{ owner: string }, [Reassignment]>('reassign');
export const occurrenceStateQuery = defineQuery<OccurrenceState>('state');

/**
 * Catalog writes of a few rows (evidence files are stored before the workflow hears of them). Their timeout is what a
 * task lost at a worker's shutdown costs, so it is kept near their real duration.
 */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: catalogRetry(INVALID_EVIDENCE),
});

const messenger = proxyActivities<Activities>(MESSAGE_OPTIONS);

/**
 * One occurrence of a recurring human activity, from opening to completion or closing. It records the open
 * occurrence, tells the owner, reminds on the ladder, takes a `complete` Update (refused without the required
 * evidence) and a `reassign` Update, and at due + grace raises one missed-activity nonconformity while still
 * taking a late completion until the occurrence closes.
 */
export async function maintenanceActivity(occurrence: ActivityOccurrence): Promise<OccurrenceOutcome> {
  const due = Date.parse(occurrence.due);
  let owner = occurrence.owner;
  let receipt: CompletionReceipt | undefined;
  let completing = false;
  let raising = false;
  let nonconformityId: string | undefined;

  setHandler(
    completeUpdate,
    async (completion) => {
      completing = true;
      try {
        // A missed-activity nonconformity being raised right now must exist before a late completion settles it.
        await condition(() => !raising);
        receipt = await bookkeeping.recordActivityCompletion({
          occurrence: { occurrenceId: occurrence.occurrenceId, activityId: occurrence.activityId, title: occurrence.title },
          completion,
          recordedAt: nowIso(),
          late: Date.now() > due,
          nonconformityId,
        });
        return receipt;
      } finally {
        completing = false;
      }
    },
    { validator: (completion) => refuseCompletion(occurrence, completion, completing || receipt !== undefined) },
  );

  setHandler(
    reassignUpdate,
    async (reassignment) => {
      const at = nowIso();
      owner = reassignment.owner;
      await bookkeeping.recordActivityReassignment({ occurrenceId: occurrence.occurrenceId, reassignment, at });
      await tell('reassigned', at, `${occurrence.title} (${occurrence.reference}) due ${occurrence.dueDate} is now yours (assigned by ${reassignment.by})`);
      return { owner };
    },
    {
      validator: (reassignment) => {
        if (typeof reassignment?.owner !== 'string' || reassignment.owner.trim() === '') throw new Error('reassign: owner is required');
        if (typeof reassignment.by !== 'string' || reassignment.by.trim() === '') throw new Error('reassign: by is required');
        if (receipt || completing) throw new Error(`${occurrence.occurrenceId} is already completed`);
      },
    },
  );

  setHandler(occurrenceStateQuery, () => ({ occurrenceId: occurrence.occurrenceId, owner, completed: receipt !== undefined, nonconformityId }));

  async function tell(kind: OccurrenceNotice, at: string, text: string): Promise<void> {
    try {
      await messenger.notifyActivityOwner({ occurrenceId: occurrence.occurrenceId, kind, at, owner, text });
    } catch (error) {
      // A lost notice must not stop the occurrence: the calendar and the register still hold the truth.
      log.warn('activity notice failed', { occurrenceId: occurrence.occurrenceId, kind, error: String(error) });
    }
  }

  const openedAt = nowIso();
  await bookkeeping.openActivityOccurrence({ occurrence, at: openedAt });
  await tell(
    'opened',
    openedAt,
    `${occurrence.title} (${occurrence.reference}) is due ${occurrence.due} (${occurrence.dueDate}, ${occurrence.timeZone}); owner ${owner}`,
  );

  const done = () => receipt !== undefined;
  /** Waits until `at` or completion; true when completed. */
  const until = async (at: string) => {
    const wait = Date.parse(at) - Date.now();
    return wait > 0 ? condition(done, wait) : done();
  };

  const steps = [
    ...occurrence.reminders.filter((reminder) => Date.parse(reminder.at) > Date.parse(openedAt)).map((reminder) => ({ ...reminder, missed: false })),
    { at: occurrence.graceUntil, kind: 'overdue' as const, label: 'missed', missed: true },
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  for (const step of steps) {
    if (await until(step.at)) break;
    if (!step.missed) {
      if (!completing) await tell(step.kind, step.at, `${occurrence.title} (${occurrence.reference}): ${step.label} (due ${occurrence.due})`);
      continue;
    }
    await condition(() => !completing);
    if (done()) break;
    raising = true;
    try {
      const raised = await bookkeeping.raiseMissedActivity({ occurrence, owner, at: step.at });
      nonconformityId = raised.nonconformityId;
    } finally {
      raising = false;
    }
    await tell(
      'missed',
      step.at,
      `${occurrence.title} was not completed by ${occurrence.graceUntil}: nonconformity ${nonconformityId} raised; a late completion is still accepted until ${occurrence.closesAt}`,
    );
  }

  await until(occurrence.closesAt);
  await condition(() => !completing && allHandlersFinished());

  if (receipt) return { occurrenceId: occurrence.occurrenceId, status: 'done', late: receipt.late, owner, nonconformityId };
  await bookkeeping.closeActivityOccurrence({ occurrenceId: occurrence.occurrenceId, at: nowIso() });
  return { occurrenceId: occurrence.occurrenceId, status: 'missed', late: false, owner, nonconformityId };
}

/**
 * Started by the activity's schedule: opens the occurrences that are due for opening as child workflows with the
 * occurrence's own id, so each occurrence runs once however often the schedule fires or catches up.
 */
export async function openActivityOccurrences(input: { activityId: string }): Promise<{ started: string[] }> {
  const firedAt = scheduledStart();
  const occurrences = await bookkeeping.planActivityOccurrences({ activityId: input.activityId, firedAt });
  const started: string[] = [];
  for (const occurrence of occurrences) {
    try {
      await startChild(maintenanceActivity, {
        workflowId: occurrence.occurrenceId,
        args: [occurrence],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      started.push(occurrence.occurrenceId);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
  return { started };
}

/** The Update validator: no completion twice, a person who completed it, and every required piece of evidence. */
function refuseCompletion(occurrence: ActivityOccurrence, completion: Completion, alreadyCompleted: boolean): void {
  if (alreadyCompleted) throw new Error(`${occurrence.occurrenceId} is already completed`);
  if (typeof completion?.by !== 'string' || completion.by.trim() === '') throw new Error('complete: by (who completed it) is required');
  if (completion.at !== undefined && Number.isNaN(Date.parse(completion.at))) throw new Error(`complete: at "${completion.at}" is not a date`);
  if (!Array.isArray(completion.evidence)) throw new Error('complete: evidence must be a list');
  completion.evidence.forEach((item, index) => {
    if (typeof item?.name !== 'string' || item.name === '') throw new Error(`complete: evidence[${index}].name is required`);
    if ('link' in item) {
      if (!/^https?:\/\/\S+$/.test(item.link)) throw new Error(`complete: evidence[${index}].link must be an http(s) URL`);
    } else if (!('evidenceId' in item) || !/^[0-9a-f]{64}$/.test(item.sha256) || typeof item.uri !== 'string') {
      throw new Error(`complete: evidence[${index}] is neither a stored file (evidenceId, sha256, uri) nor a link`);
    }
  });
  const given = new Set(completion.evidence.map((item) => item.name));
  const missing = occurrence.evidence.filter((expected) => expected.required && !given.has(expected.name)).map((expected) => expected.name);
  if (missing.length > 0) throw new Error(`${occurrence.occurrenceId}: required evidence missing: ${missing.join(', ')}`);
}

function nowIso(): string {
  return new Date(Date.now()).toISOString();
}
