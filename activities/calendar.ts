import { ApplicationFailure } from '@temporalio/common';
import { resolveCalendar, type ResolvedCalendar } from '../config/calendar.ts';
import { parseSpan } from '../config/calendar-occurrences.ts';
import { occurrencesToOpen } from '../config/calendar-plan.ts';
import { ConfigError } from '../config/errors.ts';
import { resolveSecret } from '../config/secrets.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import {
  INVALID_EVIDENCE,
  type ActivityOccurrence,
  type Completion,
  type CompletionReceipt,
  type OccurrenceNoticeInput,
  type Reassignment,
} from '../workflows/calendar-contracts.ts';
import { toFailure } from './failures.ts';
import type { ActivityDeps } from './index.ts';

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
      guarded(() => {
        const activity = calendarOf().activities.get(input.activityId);
        if (!activity) throw new ConfigError(`calendar activity ${input.activityId} is not in ${deps.config.file}`);
        if (activity.paused) return [];
        const catchup = parseSpan(deps.config.config.temporal.catchupWindow);
        const catchupMs = catchup && ['day', 'hour', 'minute', 'week'].includes(catchup.unit) ? spanMs(catchup) : DAY_MS;
        return occurrencesToOpen(activity, Date.parse(input.firedAt), catchupMs + DAY_MS).filter((occurrence) => !calendar.get(occurrence.occurrenceId));
      }),

    openActivityOccurrence: (input: { occurrence: ActivityOccurrence; at: string }): Promise<{ openedAt: string }> =>
      guarded(() => ({ openedAt: calendar.open(input.occurrence, input.at).openedAt })),

    /** Logs a notice once per occurrence, kind and planned time and sends it to the calendar's targets; a retry resends only what was not delivered. */
    notifyActivityOwner: (input: OccurrenceNoticeInput): Promise<{ sent: string[] }> =>
      guarded(async () => {
        calendar.event({ occurrenceId: input.occurrenceId, at: input.at, kind: input.kind, actor: 'isms-worker', detail: input.text });
        const already = calendar.events(input.occurrenceId).find((event) => event.kind === input.kind && event.at === input.at)?.delivered ?? [];
        const occurrence = calendar.get(input.occurrenceId);
        const record = (sent: string[]) => calendar.delivered(input.occurrenceId, input.kind, input.at, sent);
        const sent = await deliver(deps, calendarOf().notify, already, record, {
          event: `activity-${input.kind}`,
          occurrenceId: input.occurrenceId,
          activityId: occurrence?.activityId,
          title: occurrence?.title,
          reference: occurrence?.reference,
          owner: input.owner,
          due: occurrence?.due,
          text: input.text,
        });
        return { sent };
      }),

    /** Due + grace passed without completion: the register gets its one missed-activity nonconformity. */
    raiseMissedActivity: (input: { occurrence: ActivityOccurrence; owner: string; at: string }): Promise<{ nonconformityId: string; opened: boolean }> =>
      guarded(() => {
        const { occurrence } = input;
        const raised = deps.register.raiseMissedActivity({
          activityId: occurrence.activityId,
          occurrenceId: occurrence.occurrenceId,
          reference: occurrence.reference,
          owner: input.owner,
          title: `Missed activity: ${occurrence.title} due ${occurrence.dueDate}`,
          at: input.at,
          detail: `${occurrence.title} was due ${occurrence.due} and not completed by the end of grace (${occurrence.graceUntil}); owner ${input.owner}`,
        });
        calendar.missed(occurrence.occurrenceId, raised.id, input.at);
        return { nonconformityId: raised.id, opened: raised.opened };
      }),

    /**
     * Records a completion after checking that every file it names is in the evidence store with that hash and was
     * stored for this occurrence. A late completion moves the missed-activity nonconformity to no-longer-observed.
     */
    recordActivityCompletion: (input: CompletionInput): Promise<CompletionReceipt> =>
      guarded(() => {
        const { occurrence, completion } = input;
        const evidenceIds: string[] = [];
        for (const item of completion.evidence) {
          if (!('evidenceId' in item)) continue;
          const row = deps.store.get(item.evidenceId);
          const problem = !row
            ? 'is not in the evidence store'
            : row.sha256 !== item.sha256 || row.uri !== item.uri
              ? `has sha256 ${row.sha256}, not ${item.sha256}`
              : row.runId !== occurrence.occurrenceId
                ? `was stored for ${row.runId}, not this occurrence`
                : undefined;
          if (problem) throw ApplicationFailure.create({ type: INVALID_EVIDENCE, nonRetryable: true, message: `${occurrence.occurrenceId}: evidence "${item.name}" (${item.evidenceId}) ${problem}` });
          evidenceIds.push(item.evidenceId);
        }
        const performedAt = completion.at ?? input.recordedAt;
        const recorded = calendar.complete({
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
          ? deps.register.settleMissedActivity({
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

/** Posts a calendar notice to each named target not yet in `already`; returns every target that has it now. */
async function deliver(
  deps: ActivityDeps,
  names: readonly string[],
  already: readonly string[],
  record: (sent: string[]) => void,
  payload: Record<string, unknown> & { text: string },
): Promise<string[]> {
  const sent = [...already];
  const revealed: string[] = [];
  try {
    for (const name of names) {
      if (sent.includes(name)) continue;
      const target = deps.config.config.notifications.find((candidate) => candidate.name === name);
      if (!target) throw new ConfigError(`calendar.notify: no notification target named "${name}"`);
      const url = typeof target.url === 'string' ? target.url : (await resolveSecret(target.url, deps.env)).reveal();
      if (typeof target.url !== 'string') revealed.push(url);
      const body = target.format === 'json' ? payload : { text: payload.text };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`notification target ${name} answered HTTP ${response.status}`);
      sent.push(name);
      // Recorded target by target, so a retry after a later target failed does not post to this one again.
      record(sent);
    }
    return sent;
  } catch (error) {
    deps.log.warn({ occurrenceId: payload.occurrenceId, err: toFailure(error, revealed).message }, 'calendar notification failed');
    throw toFailure(error, revealed);
  }
}
