import { ApplicationFailure } from '@temporalio/common';
import { resolveCalendar, type ResolvedCalendar } from '../config/calendar.ts';
import { parseSpan } from '../core/calendar-occurrences.ts';
import { occurrencesToOpen } from '../config/calendar-plan.ts';
import { ConfigError } from '../core/errors.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import { NotificationLedger } from '../evidence/notification-ledger.ts';
import {
  INVALID_EVIDENCE,
  type ActivityOccurrence,
  type Completion,
  type CompletionReceipt,
  type OccurrenceNoticeInput,
  type Reassignment,
} from '../core/calendar-contracts.ts';
import { toFailure } from './failures.ts';
import type { ActivityDeps } from './deps.ts';
import { deliver } from './notify.ts';

const DAY_MS = 86_400_000;

export interface CompletionInput {
  occurrence: Pick<ActivityOccurrence, 'occurrenceId' | 'activityId' | 'title'>;
  completion: Completion;
  recordedAt: string;
  late: boolean;
  nonconformityId?: string;
}

/** Activities of the maintenance calendar: thin I/O over the calendar tables, the register and the notification targets. */
export function calendarActivities(deps: ActivityDeps) {
  const calendar = new CalendarStore(deps.store.catalog);
  const ledger = new NotificationLedger(deps.store.catalog);
  let resolved: ResolvedCalendar | undefined;
  const calendarOf = () => (resolved ??= resolveCalendar(deps.config.config));

  async function guarded<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toFailure(error);
    }
  }

  return {
    /** The occurrences a firing of the activity's schedule opens: due by its ladder, not yet recorded. */
    planActivityOccurrences: (input: { activityId: string; firedAt: string }): Promise<ActivityOccurrence[]> =>
      guarded(async () => {
        const activity = calendarOf().activities.get(input.activityId);
        if (!activity) throw new ConfigError(`calendar activity ${input.activityId} is not in ${deps.config.file}`);
        if (activity.paused) return [];
        const catchup = parseSpan(deps.config.config.temporal.catchupWindow);
        const catchupMs = catchup && ['day', 'hour', 'minute', 'week'].includes(catchup.unit) ? spanMs(catchup) : DAY_MS;
        const candidates = occurrencesToOpen(activity, Date.parse(input.firedAt), catchupMs + DAY_MS);
        const recorded = await Promise.all(candidates.map((occurrence) => calendar.get(occurrence.occurrenceId)));
        return candidates.filter((_occurrence, index) => !recorded[index]);
      }),

    openActivityOccurrence: (input: { occurrence: ActivityOccurrence; at: string }): Promise<{ openedAt: string }> =>
      guarded(async () => ({ openedAt: (await calendar.open(input.occurrence, input.at)).openedAt })),

    /**
     * Logs a notice and sends it to each of the calendar's targets at most once: the opening once per occurrence
     * (a re-executed occurrence reads another clock), every other notice once per planned time. A retry sends only
     * to the targets that do not have it yet.
     */
    notifyActivityOwner: (input: OccurrenceNoticeInput): Promise<{ sent: string[] }> =>
      guarded(async () => {
        await calendar.event({ occurrenceId: input.occurrenceId, at: input.at, kind: input.kind, actor: 'isms-worker', detail: input.text });
        const occurrence = await calendar.get(input.occurrenceId);
        const event = input.kind === 'opened' ? 'activity-opened' : `activity-${input.kind}@${input.at}`;
        const targets = calendarOf().notify;
        const notice = {
          runId: input.occurrenceId,
          subject: `${occurrence?.title ?? input.occurrenceId}: ${input.kind}`,
          text: input.text,
          json: {
            event: `activity-${input.kind}`,
            occurrenceId: input.occurrenceId,
            activityId: occurrence?.activityId,
            title: occurrence?.title,
            reference: occurrence?.reference,
            owner: input.owner,
            due: occurrence?.due,
            text: input.text,
          },
        };
        try {
          return {
            sent: await deliver(
              { ...deps, ledger },
              notice,
              targets.map((target) => ({ target, events: [event] })),
            ),
          };
        } finally {
          const delivered = new Set(
            (await ledger.deliveries(input.occurrenceId)).filter((delivery) => delivery.event === event).map((delivery) => delivery.target),
          );
          await calendar.delivered(
            input.occurrenceId,
            input.kind,
            input.at,
            targets.filter((target) => delivered.has(target)),
          );
        }
      }),

    /** Due + grace passed without completion: the register gets its one missed-activity nonconformity. */
    raiseMissedActivity: (input: { occurrence: ActivityOccurrence; owner: string; at: string }): Promise<{ nonconformityId: string; opened: boolean }> =>
      guarded(async () => {
        const { occurrence } = input;
        const raised = await deps.register.raiseMissedActivity({
          activityId: occurrence.activityId,
          occurrenceId: occurrence.occurrenceId,
          reference: occurrence.reference,
          owner: input.owner,
          title: `Missed activity: ${occurrence.title} due ${occurrence.dueDate}`,
          at: input.at,
          detail: `${occurrence.title} was due ${occurrence.due} and not completed by the end of grace (${occurrence.graceUntil}); owner ${input.owner}`,
        });
        await calendar.missed(occurrence.occurrenceId, raised.id, input.at);
        return { nonconformityId: raised.id, opened: raised.opened };
      }),

    /**
     * Records a completion after checking that every file it names is in the evidence store with that hash and was
     * stored for this occurrence. A late completion moves the missed-activity nonconformity to no-longer-observed.
     */
    recordActivityCompletion: (input: CompletionInput): Promise<CompletionReceipt> =>
      guarded(async () => {
        const { occurrence, completion } = input;
        const evidenceIds: string[] = [];
        for (const item of completion.evidence) {
          if (!('evidenceId' in item)) continue;
          const row = await deps.store.get(item.evidenceId);
          const problem = !row
            ? 'is not in the evidence store'
            : row.sha256 !== item.sha256 || row.uri !== item.uri
              ? `has sha256 ${row.sha256}, not ${item.sha256}`
              : row.runId !== occurrence.occurrenceId
                ? `was stored for ${row.runId}, not this occurrence`
                : undefined;
          if (problem)
            throw ApplicationFailure.create({
              type: INVALID_EVIDENCE,
              nonRetryable: true,
              message: `${occurrence.occurrenceId}: evidence "${item.name}" (${item.evidenceId}) ${problem}`,
            });
          evidenceIds.push(item.evidenceId);
        }
        const performedAt = completion.at ?? input.recordedAt;
        const recorded = await calendar.complete({
          occurrenceId: occurrence.occurrenceId,
          by: completion.by,
          performedAt,
          recordedAt: input.recordedAt,
          late: input.late,
          note: completion.note,
          evidence: completion.evidence,
          nonconformityId: input.nonconformityId,
        });
        const settled = input.late
          ? await deps.register.settleMissedActivity({
              activityId: occurrence.activityId,
              occurrenceId: occurrence.occurrenceId,
              at: input.recordedAt,
              note: `completed late by ${completion.by} (performed ${performedAt}, recorded ${input.recordedAt}); verify and close`,
              evidenceIds,
            })
          : undefined;
        return {
          occurrenceId: occurrence.occurrenceId,
          completedBy: recorded.completedBy ?? completion.by,
          performedAt: recorded.performedAt ?? performedAt,
          recordedAt: recorded.recordedAt ?? input.recordedAt,
          late: recorded.late,
          ...(settled ? { settledNonconformity: settled } : {}),
        };
      }),

    recordActivityReassignment: (input: { occurrenceId: string; reassignment: Reassignment; at: string }): Promise<void> =>
      guarded(() => calendar.reassign(input.occurrenceId, input.reassignment.owner, input.reassignment.by, input.at)),

    closeActivityOccurrence: (input: { occurrenceId: string; at: string }): Promise<void> => guarded(() => calendar.close(input.occurrenceId, input.at)),
  };
}

function spanMs(span: { amount: number; unit: string }): number {
  const unit = { minute: 60_000, hour: 3_600_000, day: DAY_MS, week: 7 * DAY_MS }[span.unit] ?? DAY_MS;
  return span.amount * unit;
}
