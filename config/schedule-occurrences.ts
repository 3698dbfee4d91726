import { addDays, fromZoned, toZoned, weekdayOf, type LocalDate } from '../core/calendar-occurrences.ts';
import type { CalendarEntry, Schedule } from './schedule.ts';

/**
 * When a control's schedule (cron, calendar spec or interval, as config/schema.ts has them) fires within a period:
 * the expected side of expected-vs-actual. Pure. Covers 5-field cron with lists, ranges, steps and names and the
 * @yearly … @hourly and @every shorthands; anything else is refused by name so coverage says "cannot tell"
 * instead of guessing.
 */

export class ScheduleExpansionError extends Error {
  override readonly name = 'ScheduleExpansionError';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const LIMIT = 100_000;

interface Matcher {
  seconds: number[];
  minutes: number[];
  hours: number[];
  days: Set<number> | undefined;
  months: Set<number> | undefined;
  weekdays: Set<number> | undefined;
  /** Cron matches a day when day-of-month or day-of-week does (both restricted); Temporal's calendar spec needs both. */
  eitherDay: boolean;
}

/** Fire times in [from, to), ascending. */
export function scheduleTimes(schedule: Schedule, defaultTimezone: string, from: number, to: number): number[] {
  if ('every' in schedule) return intervalTimes(durationMs(schedule.every), schedule.offset ? durationMs(schedule.offset) : 0, from, to);
  const zone = schedule.timezone ?? defaultTimezone;
  const matchers = 'cron' in schedule ? [schedule.cron].flat().map(cronMatcher) : schedule.calendar.map(calendarMatcher);
  const everyShorthand = matchers.find((matcher): matcher is { every: number } => 'every' in matcher);
  if (everyShorthand) return intervalTimes(everyShorthand.every, 0, from, to);
  const times = new Set<number>();
  for (const matcher of matchers as Matcher[]) for (const time of matchingTimes(matcher, zone, from, to)) times.add(time);
  return [...times].sort((a, b) => a - b);
}

function intervalTimes(every: number, offset: number, from: number, to: number): number[] {
  if (every <= 0) throw new ScheduleExpansionError('an interval must be positive');
  const times: number[] = [];
  let time = Math.ceil((from - offset) / every) * every + offset;
  for (; time < to && times.length < LIMIT; time += every) times.push(time);
  return times;
}

function matchingTimes(matcher: Matcher, zone: string, from: number, to: number): number[] {
  const times: number[] = [];
  // Local days around the period: a zone's day can start up to 14 hours either side of UTC's.
  let day: LocalDate = addDays(toZoned(from, zone), -1);
  const last = addDays(toZoned(to, zone), 1);
  while (compareDate(day, last) <= 0 && times.length < LIMIT) {
    const domOk = !matcher.days || matcher.days.has(day.day);
    const dowOk = !matcher.weekdays || matcher.weekdays.has(weekdayOf(day));
    const dayOk = matcher.eitherDay && matcher.days && matcher.weekdays ? domOk || dowOk : domOk && dowOk;
    if (dayOk && (!matcher.months || matcher.months.has(day.month))) {
      for (const hour of matcher.hours)
        for (const minute of matcher.minutes)
          for (const second of matcher.seconds) {
            const instant = fromZoned({ ...day, hour, minute, second }, zone);
            if (instant >= from && instant < to) times.push(instant);
          }
    }
    day = addDays(day, 1);
  }
  return times;
}

function compareDate(a: LocalDate, b: LocalDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function cronMatcher(expression: string): Matcher | { every: number } {
  const text = expression.trim();
  const every = /^@every\s+(\S+)$/.exec(text);
  if (every) return { every: durationMs(every[1]!) };
  const fields = (SHORTHANDS[text] ?? text).split(/\s+/);
  if (fields.length !== 5) throw new ScheduleExpansionError(`cron "${expression}": only 5-field expressions are expanded`);
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const restricted = (field: string) => field !== '*' && field !== '?';
  return {
    seconds: [0],
    minutes: [...cronField(minute, 0, 59, [], expression)],
    hours: [...cronField(hour, 0, 23, [], expression)],
    days: restricted(dom) ? cronField(dom, 1, 31, [], expression) : undefined,
    months: restricted(month) ? cronField(month, 1, 12, MONTHS, expression, 1) : undefined,
    weekdays: restricted(dow) ? new Set([...cronField(dow, 0, 7, DAYS, expression)].map((day) => day % 7)) : undefined,
    eitherDay: true,
  };
}

function cronField(field: string, min: number, max: number, names: string[], expression: string, nameBase = 0): Set<number> {
  const values = new Set<number>();
  const value = (text: string) => {
    const index = names.indexOf(text.toUpperCase().slice(0, 3));
    const n = index >= 0 && /^[a-z]+$/i.test(text) ? index + nameBase : /^\d+$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(n) || n < min || n > max) throw new ScheduleExpansionError(`cron "${expression}": "${text}" is not supported here`);
    return n;
  };
  for (const part of field.split(',')) {
    const match = /^(\*|\?|[^/-]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part);
    if (!match) throw new ScheduleExpansionError(`cron "${expression}": "${part}" is not supported here`);
    const wildcard = match[1] === '*' || match[1] === '?';
    const start = wildcard ? min : value(match[1]!);
    const end = match[2] !== undefined ? value(match[2]) : wildcard || match[3] !== undefined ? max : start;
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    if (step < 1) throw new ScheduleExpansionError(`cron "${expression}": step must be at least 1`);
    for (let n = start; n <= end; n += step) values.add(n);
  }
  return values;
}

const CALENDAR_DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
const CALENDAR_MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];

/** A Temporal calendar spec entry: absent second/minute/hour mean 0, absent day fields mean every. */
function calendarMatcher(entry: CalendarEntry): Matcher {
  const field = (value: CalendarEntry['hour'], min: number, max: number, names: string[], nameBase: number, absent: 'zero' | 'all') => {
    if (value === undefined) return absent === 'zero' ? new Set([0]) : undefined;
    const values = new Set<number>();
    for (const item of [value].flat()) {
      if (typeof item === 'number') {
        values.add(item);
        continue;
      }
      const named = names.indexOf(item.toUpperCase());
      if (named >= 0) {
        values.add(named + nameBase);
        continue;
      }
      if (item === '*') {
        for (let n = min; n <= max; n++) values.add(n);
        continue;
      }
      const match = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(item);
      if (!match) throw new ScheduleExpansionError(`calendar value "${item}" is not supported here`);
      const start = Number(match[1]);
      const end = match[2] === undefined ? start : Number(match[2]);
      const step = match[3] === undefined ? 1 : Number(match[3]);
      for (let n = start; n <= end; n += Math.max(1, step)) values.add(n);
    }
    return values;
  };
  return {
    seconds: [...field(entry.second, 0, 59, [], 0, 'zero')!],
    minutes: [...field(entry.minute, 0, 59, [], 0, 'zero')!],
    hours: [...field(entry.hour, 0, 23, [], 0, 'zero')!],
    days: field(entry.dayOfMonth, 1, 31, [], 0, 'all'),
    months: field(entry.month, 1, 12, CALENDAR_MONTHS, 1, 'all'),
    weekdays: field(entry.dayOfWeek, 0, 6, CALENDAR_DAYS, 0, 'all'),
    eitherDay: false,
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A Temporal duration string ("90s", "10 minutes", "1 day") in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i.exec(text.trim());
  if (!match) throw new ScheduleExpansionError(`"${text}" is not a duration`);
  const unit = match[2]!.toLowerCase();
  const key = unit.startsWith('ms') || unit.startsWith('milli') ? 'ms' : unit[0]!;
  return Number(match[1]) * DURATION_UNITS[key]!;
}
