import type { ActivityOccurrence, PlannedReminder } from '../core/calendar-contracts.ts';
import type { CalendarActivity, ResolvedCalendar, Rung } from './calendar.ts';
import {
  addDays,
  formatLocalDate,
  formatSpan,
  fromZoned,
  occurrencesOf,
  shiftInstant,
  toZoned,
  zoneOf,
  type LocalDate,
  type Span,
} from '../core/calendar-occurrences.ts';

/*
 * From activities to dated occurrences: due instants, opening time, reminders, grace and closing. Pure.
 */

/** How long a one-off occurrence (an audit, a change review) takes a late completion after its grace ends. */
const ONE_OFF_LATE_WINDOW: Span = { amount: 90, unit: 'day' };

export function occurrenceIdOf(activityId: string, dueDate: string): string {
  return `activity:${activityId}:${dueDate}`;
}

/** Splits an occurrence id back into activity and due date; undefined for anything else. */
export function parseOccurrenceId(occurrenceId: string): { activityId: string; dueDate: string } | undefined {
  const match = /^activity:([a-z0-9][a-z0-9-]*):(\d{4}-\d{2}-\d{2})$/.exec(occurrenceId);
  return match ? { activityId: match[1]!, dueDate: match[2]! } : undefined;
}

/** The occurrences of an activity due in [from, to). */
export function planOccurrences(activity: CalendarActivity, range: { from: number; to: number }): ActivityOccurrence[] {
  const planned: ActivityOccurrence[] = [];
  walk(activity, (current, next) => {
    if (current.instant >= range.to) return false;
    if (current.instant >= range.from) planned.push(occurrenceOf(activity, current, next));
    return true;
  });
  return planned;
}

/** The occurrence due on a local date, if the activity has one then. */
export function occurrenceOn(activity: CalendarActivity, dueDate: string): ActivityOccurrence | undefined {
  let found: ActivityOccurrence | undefined;
  walk(activity, (current, next) => {
    const date = formatLocalDate(current.date);
    if (date === dueDate) found = occurrenceOf(activity, current, next);
    return date < dueDate;
  });
  return found;
}

/** The first occurrence due at or after an instant. */
export function nextOccurrence(activity: CalendarActivity, after: number): ActivityOccurrence | undefined {
  let found: ActivityOccurrence | undefined;
  walk(activity, (current, next) => {
    if (current.instant < after) return true;
    found = occurrenceOf(activity, current, next);
    return false;
  });
  return found;
}

/**
 * The occurrences a schedule firing at `firedAt` should open: those already open by then and either not yet due
 * or opened within `lookback` (a worker that was down catches up). Older past-due ones are left alone, so a first
 * deployment does not flood the register with missed activities from before it existed.
 */
export function occurrencesToOpen(activity: CalendarActivity, firedAt: number, lookback: number): ActivityOccurrence[] {
  const open: ActivityOccurrence[] = [];
  walk(activity, (current, next) => {
    const occurrence = occurrenceOf(activity, current, next);
    const opensAt = Date.parse(occurrence.opensAt);
    if (opensAt > firedAt) return false;
    if (current.instant > firedAt || opensAt > firedAt - lookback) open.push(occurrence);
    return true;
  });
  return open;
}

/** The review a recorded change starts: due `dueInDays` after the change at the calendar's due time. */
export function planChangeReview(
  calendar: ResolvedCalendar,
  change: { id: string; title: string },
  recordedAt: number,
  dueInDays?: number,
): ActivityOccurrence {
  const review = calendar.changeReview;
  if (!review) throw new Error('calendar.changeReview is not configured (owner, dueInDays)');
  const recorded = toZoned(recordedAt, review.timeZone);
  const date = addDays(recorded, dueInDays ?? review.dueInDays);
  const activity: CalendarActivity = {
    id: `change-review-${change.id.toLowerCase()}`,
    title: `Change review ${change.id}: ${change.title}`,
    references: ['6.3'],
    owner: review.owner,
    origin: 'calendar',
    recurrence: { kind: 'dates', dates: [date] },
    time: review.time,
    timeZone: review.timeZone,
    grace: review.grace,
    ladder: review.ladder,
    evidence: review.evidence,
    paused: false,
  };
  return { ...occurrenceOf(activity, { date, instant: fromZoned({ ...date, ...review.time }, review.timeZone) }, undefined), origin: 'change' };
}

type Dated = { date: LocalDate; instant: number };

/** Calls `visit` with each occurrence and the one after it until `visit` says stop. */
function walk(activity: CalendarActivity, visit: (current: Dated, next: Dated | undefined) => boolean): void {
  const iterator = occurrencesOf(activity.recurrence, activity.time, activity.timeZone);
  let current = iterator.next();
  while (!current.done) {
    const next = iterator.next();
    if (!visit(current.value, next.done ? undefined : next.value)) return;
    current = next;
  }
}

function occurrenceOf(activity: CalendarActivity, current: Dated, next: Dated | undefined): ActivityOccurrence {
  const zone = zoneOf(activity.recurrence, activity.timeZone);
  const due = current.instant;
  const dueDate = formatLocalDate(toZoned(due, zone));
  const graceUntil = shiftInstant(due, activity.grace, 1, zone);
  const lateUntil = next ? next.instant : shiftInstant(graceUntil, ONE_OFF_LATE_WINDOW, 1, zone);
  // However short the period, an occurrence takes a late completion for at least a day after its grace.
  const closesAt = Math.max(lateUntil, graceUntil + 86_400_000);
  const { opensAt, reminders } = ladderOf(activity.ladder, due, graceUntil, closesAt, zone);
  return {
    occurrenceId: occurrenceIdOf(activity.id, dueDate),
    activityId: activity.id,
    origin: activity.origin,
    title: activity.title,
    reference: activity.references.join(', '),
    owner: activity.owner,
    due: iso(due),
    dueDate,
    timeZone: zone,
    opensAt: iso(opensAt),
    graceUntil: iso(graceUntil),
    closesAt: iso(closesAt),
    reminders,
    evidence: activity.evidence,
  };
}

/**
 * The notices of one occurrence. The earliest before-due rung opens the occurrence (its notice is the opening
 * one); the others remind; `0d` says it is due; overdue rungs repeat until the occurrence closes, except at the
 * end of grace, where the missed-activity notice speaks instead.
 */
export function ladderOf(
  ladder: readonly Rung[],
  due: number,
  graceUntil: number,
  closesAt: number,
  zone: string,
): { opensAt: number; reminders: PlannedReminder[] } {
  const before = ladder.filter((rung) => rung.when === 'before').map((rung) => ({ rung, at: shiftInstant(due, rung.span, -1, zone) }));
  const opensAt = Math.min(due, ...before.map((entry) => entry.at));
  const reminders: PlannedReminder[] = [];
  for (const { rung, at } of before) {
    if (at <= opensAt && at < due) continue;
    reminders.push(
      rung.span.amount === 0 ? { at: iso(at), kind: 'due', label: 'due today' } : { at: iso(at), kind: 'reminder', label: `due in ${formatSpan(rung.span)}` },
    );
  }
  for (const rung of ladder) {
    if (rung.when === 'before') continue;
    const repeats = rung.when === 'overdue-every';
    for (let k = 1; ; k++) {
      const span = { amount: rung.span.amount * k, unit: rung.span.unit };
      const at = shiftInstant(due, span, 1, zone);
      if (at >= closesAt) break;
      if (at !== graceUntil) reminders.push({ at: iso(at), kind: 'overdue', label: `overdue by ${formatSpan(span)}` });
      if (!repeats) break;
    }
  }
  const unique = new Map<string, PlannedReminder>();
  for (const reminder of reminders.sort((a, b) => a.at.localeCompare(b.at))) if (!unique.has(reminder.at)) unique.set(reminder.at, reminder);
  return { opensAt, reminders: [...unique.values()] };
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}
