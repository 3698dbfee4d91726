import { z } from 'zod';

/**
 * Occurrence arithmetic of the maintenance calendar: local dates and times in IANA time zones, spans such as
 * `14d` or `3 months`, and the RRULE subset the calendar accepts (RFC 5545 FREQ=DAILY|WEEKLY|MONTHLY|YEARLY with
 * INTERVAL, BYMONTH, BYMONTHDAY, BYDAY with ordinals, COUNT, UNTIL, WKST and a DTSTART line).
 *
 * Pure: no I/O, no clock. Time zones come from the platform's Intl data, so no library is needed; `rrule` (npm)
 * was not used because it models local times as fake-UTC Dates and needs luxon for TZID, and `rrule-temporal`
 * needs a Temporal implementation that Node 24 does not ship.
 */

/** A zone name the Intl API knows: every local date and time of the config is read in one. */
export const Timezone = z
  .string()
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'an IANA time zone such as "Europe/Berlin" or "UTC"' },
  )
  .describe('An IANA time zone such as "Europe/Berlin" or "UTC".');

export interface LocalDate {
  year: number;
  /** 1 = January. */
  month: number;
  day: number;
}

export interface LocalTime {
  hour: number;
  minute: number;
  second: number;
}

export type LocalDateTime = LocalDate & LocalTime;

const DAY_MS = 86_400_000;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of a local date; the calendar's day arithmetic happens on this number. */
function epochDay(date: LocalDate): number {
  return Math.floor(Date.UTC(date.year, date.month - 1, date.day) / DAY_MS);
}

function fromEpochDay(day: number): LocalDate {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return fromEpochDay(epochDay(date) + days);
}

/** Adds months keeping the day, clamped to the month's end: Jan 31 + 1 month is Feb 28 (29 in leap years). */
export function addMonthsClamped(date: LocalDate, months: number): LocalDate {
  const index = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(date: LocalDate): number {
  return (((epochDay(date) + 4) % 7) + 7) % 7;
}

export function compareLocal(a: LocalDate & Partial<LocalTime>, b: LocalDate & Partial<LocalTime>): number {
  return (
    a.year - b.year ||
    a.month - b.month ||
    a.day - b.day ||
    (a.hour ?? 0) - (b.hour ?? 0) ||
    (a.minute ?? 0) - (b.minute ?? 0) ||
    (a.second ?? 0) - (b.second ?? 0)
  );
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

export function formatLocalDate(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** Parses `YYYY-MM-DD`, refusing dates that do not exist (2026-02-29). */
export function parseLocalDate(text: string): LocalDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isValidDate(date) ? date : undefined;
}

/** Parses `HH:MM` or `HH:MM:SS` (24-hour). */
export function parseLocalTime(text: string): LocalTime | undefined {
  const match = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!match) return undefined;
  const time = { hour: Number(match[1]), minute: Number(match[2]), second: Number(match[3] ?? 0) };
  return time.hour < 24 && time.minute < 60 && time.second < 60 ? time : undefined;
}

function isValidDate(date: LocalDate): boolean {
  return date.month >= 1 && date.month <= 12 && date.day >= 1 && date.day <= daysInMonth(date.year, date.month);
}

// ---------------------------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The local wall-clock time of an instant in a time zone. */
export function toZoned(instant: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  return { year, month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/** Minutes the zone is ahead of UTC at an instant (Berlin in summer: 120). */
export function offsetMinutes(instant: number, timeZone: string): number {
  const local = toZoned(instant, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/**
 * The instant of a local wall-clock time, as RFC 5545 (3.3.5) reads a DATE-TIME with TZID: a time that occurs twice
 * (clocks go back) is the first of the two; a time that does not occur (clocks go forward) is read with the offset
 * before the gap, so 02:30 on the spring-forward day in Berlin is 03:30 CEST. An obligation never vanishes because
 * its hour fell into a gap.
 */
export function fromZoned(local: LocalDateTime, timeZone: string): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  // The two offsets around the wall time: the one a day before and the one a day after cover any transition.
  const before = offsetMinutes(wall - DAY_MS, timeZone);
  const after = offsetMinutes(wall + DAY_MS, timeZone);
  const candidates = [...new Set([before, after])]
    .map((offset) => wall - offset * 60_000)
    .filter((instant) => sameWallTime(toZoned(instant, timeZone), local))
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  return wall - before * 60_000;
}

function sameWallTime(a: LocalDateTime, b: LocalDateTime): boolean {
  return compareLocal(a, b) === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Spans: `14d`, `2h`, `3 months`, `1 year`

export type SpanUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
export interface Span {
  amount: number;
  unit: SpanUnit;
}

const SPAN_UNITS: Record<string, SpanUnit> = {
  min: 'minute',
  mins: 'minute',
  minute: 'minute',
  minutes: 'minute',
  h: 'hour',
  hour: 'hour',
  hours: 'hour',
  d: 'day',
  day: 'day',
  days: 'day',
  w: 'week',
  week: 'week',
  weeks: 'week',
  mo: 'month',
  month: 'month',
  months: 'month',
  y: 'year',
  year: 'year',
  years: 'year',
};

/** Parses `14d`, `0d`, `2 h`, `3 months`, `1 year`. A bare `m` is refused: minutes or months is not ours to guess. */
export function parseSpan(text: string): Span | undefined {
  const match = /^(\d+)\s*([a-z]+)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = SPAN_UNITS[match[2]!.toLowerCase()];
  return unit ? { amount: Number(match[1]), unit } : undefined;
}

export function formatSpan(span: Span): string {
  return `${span.amount} ${span.unit}${span.amount === 1 ? '' : 's'}`;
}

/**
 * Moves an instant by a span. Days, weeks, months and years move the local calendar date and keep the wall-clock
 * time (7 days before 09:00 is 09:00 even across a DST change; months clamp to the month's end); minutes and hours
 * are elapsed time.
 */
export function shiftInstant(instant: number, span: Span, sign: 1 | -1, timeZone: string): number {
  if (span.unit === 'minute') return instant + sign * span.amount * 60_000;
  if (span.unit === 'hour') return instant + sign * span.amount * 3_600_000;
  const local = toZoned(instant, timeZone);
  const date =
    span.unit === 'day' || span.unit === 'week'
      ? addDays(local, sign * span.amount * (span.unit === 'week' ? 7 : 1))
      : addMonthsClamped(local, sign * span.amount * (span.unit === 'year' ? 12 : 1));
  return fromZoned({ ...local, ...date }, timeZone);
}

// ---------------------------------------------------------------------------------------------------------------
// RRULE (the subset above)

export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

export interface WeekdayRule {
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** 1MO = first Monday, -1FR = last Friday; absent: every such weekday in the period. */
  ordinal?: number;
}

export type Until = { kind: 'instant'; instant: number } | { kind: 'local'; local: LocalDateTime } | { kind: 'date'; date: LocalDate };

export interface RecurrenceRule {
  freq: Frequency;
  interval: number;
  byMonth: number[];
  byMonthDay: number[];
  byDay: WeekdayRule[];
  count?: number;
  until?: Until;
  /** Week start for WEEKLY periods with INTERVAL > 1; Monday by default, as RFC 5545 says. */
  weekStart: number;
  start?: { local: LocalDateTime; hasTime: boolean; timeZone?: string; utc: boolean };
}

export class RecurrenceError extends Error {
  override readonly name = 'RecurrenceError';
}

/**
 * Parses an RRULE, optionally preceded by a DTSTART line, as RFC 5545 writes them:
 * `DTSTART;TZID=Europe/Berlin:20260131T090000\nRRULE:FREQ=MONTHLY;BYMONTHDAY=-1`, or just `FREQ=MONTHLY;BYDAY=1MO`.
 * Parts outside the subset are refused by name rather than ignored.
 */
export function parseRecurrenceRule(text: string): RecurrenceRule {
  let start: RecurrenceRule['start'];
  let ruleText: string | undefined;
  for (const raw of text
    .split(/\r?\n|\s+(?=RRULE:)/i)
    .map((line) => line.trim())
    .filter(Boolean)) {
    if (/^DTSTART[:;]/i.test(raw)) {
      if (start) throw new RecurrenceError('DTSTART given twice');
      start = parseDtstart(raw);
    } else {
      if (ruleText !== undefined) throw new RecurrenceError(`unexpected line "${raw}"`);
      ruleText = raw.replace(/^RRULE:/i, '');
    }
  }
  if (ruleText === undefined) throw new RecurrenceError('no RRULE (e.g. FREQ=MONTHLY;BYMONTHDAY=-1)');

  const parts = new Map<string, string>();
  for (const part of ruleText.split(';').filter(Boolean)) {
    const [name, value] = part.split('=') as [string, string | undefined];
    const key = name.trim().toUpperCase();
    if (value === undefined || value.trim() === '') throw new RecurrenceError(`${key}: no value`);
    if (parts.has(key)) throw new RecurrenceError(`${key} given twice`);
    parts.set(key, value.trim().toUpperCase());
  }
  const known = new Set(['FREQ', 'INTERVAL', 'BYMONTH', 'BYMONTHDAY', 'BYDAY', 'COUNT', 'UNTIL', 'WKST', 'DTSTART']);
  for (const key of parts.keys()) {
    if (!known.has(key)) throw new RecurrenceError(`${key} is not supported (supported: FREQ, INTERVAL, BYMONTH, BYMONTHDAY, BYDAY, COUNT, UNTIL, WKST)`);
  }
  if (parts.has('DTSTART')) {
    if (start) throw new RecurrenceError('DTSTART given twice');
    start = parseDtstart(`DTSTART:${parts.get('DTSTART')}`);
  }

  const freq = parts.get('FREQ');
  if (!freq) throw new RecurrenceError('FREQ is required');
  if (!['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(freq)) throw new RecurrenceError(`FREQ=${freq} is not supported (DAILY, WEEKLY, MONTHLY or YEARLY)`);
  const integer = (key: string, value: string, min: number, max: number) => {
    if (!/^[+-]?\d+$/.test(value)) throw new RecurrenceError(`${key}: "${value}" is not an integer`);
    const n = Number(value);
    if (n < min || n > max || n === 0) throw new RecurrenceError(`${key}: ${value} is out of range`);
    return n;
  };
  const list = (key: string) => (parts.get(key) ?? '').split(',').filter(Boolean);

  const rule: RecurrenceRule = {
    freq: freq as Frequency,
    interval: parts.has('INTERVAL') ? integer('INTERVAL', parts.get('INTERVAL')!, 1, 1000) : 1,
    byMonth: list('BYMONTH').map((value) => integer('BYMONTH', value, 1, 12)),
    byMonthDay: list('BYMONTHDAY').map((value) => integer('BYMONTHDAY', value, -31, 31)),
    byDay: list('BYDAY').map((value) => {
      const match = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(value);
      if (!match) throw new RecurrenceError(`BYDAY: "${value}" is not a weekday such as MO, 1MO or -1FR`);
      const weekday = WEEKDAYS.indexOf(match[2] as (typeof WEEKDAYS)[number]);
      return match[1] === undefined ? { weekday } : { weekday, ordinal: integer('BYDAY', match[1], -53, 53) };
    }),
    weekStart: parts.has('WKST') ? weekdayIndex(parts.get('WKST')!) : 1,
    start,
  };
  if (parts.has('COUNT')) rule.count = integer('COUNT', parts.get('COUNT')!, 1, 100_000);
  if (parts.has('UNTIL')) rule.until = parseUntil(parts.get('UNTIL')!);
  if (rule.count !== undefined && rule.until) throw new RecurrenceError('COUNT and UNTIL cannot both be given');
  if (rule.byDay.some((day) => day.ordinal !== undefined) && (rule.freq === 'DAILY' || rule.freq === 'WEEKLY')) {
    throw new RecurrenceError(`BYDAY with an ordinal (1MO, -1FR) needs FREQ=MONTHLY or YEARLY`);
  }
  if (rule.byDay.some((day) => day.ordinal !== undefined && Math.abs(day.ordinal) > 5) && (rule.freq === 'MONTHLY' || rule.byMonth.length > 0)) {
    throw new RecurrenceError('BYDAY: an ordinal within a month is between -5 and 5');
  }
  if (rule.freq === 'WEEKLY' && rule.byMonthDay.length > 0) throw new RecurrenceError('BYMONTHDAY cannot be used with FREQ=WEEKLY');
  return rule;
}

function weekdayIndex(value: string): number {
  const index = WEEKDAYS.indexOf(value as (typeof WEEKDAYS)[number]);
  if (index < 0) throw new RecurrenceError(`WKST: "${value}" is not a weekday`);
  return index;
}

function parseBasicDateTime(value: string, what: string): { local: LocalDateTime; hasTime: boolean; utc: boolean } {
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value);
  if (!match) throw new RecurrenceError(`${what}: "${value}" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])`);
  const local = {
    year: Number(match[1]),
    month: Number(match[2]),
    day: Number(match[3]),
    hour: Number(match[4] ?? 0),
    minute: Number(match[5] ?? 0),
    second: Number(match[6] ?? 0),
  };
  if (!isValidDate(local) || local.hour > 23 || local.minute > 59 || local.second > 59) throw new RecurrenceError(`${what}: "${value}" does not exist`);
  return { local, hasTime: match[4] !== undefined, utc: match[7] === 'Z' };
}

function parseDtstart(line: string): NonNullable<RecurrenceRule['start']> {
  const match = /^DTSTART((?:;[^:]*)?):(.+)$/i.exec(line);
  if (!match) throw new RecurrenceError(`DTSTART: cannot read "${line}"`);
  const params = match[1]!;
  const tzid = /;TZID=([^;:]+)/i.exec(params)?.[1];
  const parsed = parseBasicDateTime(match[2]!.trim().toUpperCase(), 'DTSTART');
  if (tzid && parsed.utc) throw new RecurrenceError('DTSTART: a UTC time (Z) cannot also have a TZID');
  if (tzid) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tzid });
    } catch {
      throw new RecurrenceError(`DTSTART: unknown time zone "${tzid}"`);
    }
  }
  return { ...parsed, timeZone: tzid };
}

function parseUntil(value: string): Until {
  const parsed = parseBasicDateTime(value, 'UNTIL');
  if (!parsed.hasTime) return { kind: 'date', date: parsed.local };
  if (parsed.utc) {
    const l = parsed.local;
    return { kind: 'instant', instant: Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) };
  }
  return { kind: 'local', local: parsed.local };
}

/**
 * The local dates of a rule's occurrences in order, from `start` (the DTSTART date; its time of day is the caller's)
 * on. As in RFC 5545 and most implementations, dates that do not exist (Feb 30, the 31st of a 30-day month) are
 * skipped, not moved, and a DTSTART that the rule does not produce is not an occurrence. `until` is applied by the
 * caller, who knows the time of day and zone; `count` is applied here.
 */
export function* ruleDates(rule: RecurrenceRule, from: LocalDate): Generator<LocalDate> {
  const start = { year: from.year, month: from.month, day: from.day };
  let emitted = 0;
  // A rule that produces nothing (BYMONTH=2;BYMONTHDAY=30) must still end: give up after this many empty periods.
  const maxEmptyPeriods = rule.freq === 'DAILY' ? 4000 : rule.freq === 'WEEKLY' ? 600 : rule.freq === 'MONTHLY' ? 1200 : 400;
  let empty = 0;
  for (let period = 0; ; period++) {
    const candidates = candidatesOf(rule, start, period).filter((date) => compareLocal(date, start) >= 0);
    if (candidates.length === 0) {
      if (++empty > maxEmptyPeriods) return;
      continue;
    }
    empty = 0;
    for (const date of candidates) {
      yield date;
      if (rule.count !== undefined && ++emitted >= rule.count) return;
    }
  }
}

function candidatesOf(rule: RecurrenceRule, start: LocalDate, period: number): LocalDate[] {
  const step = period * rule.interval;
  const inMonths = (date: LocalDate) => rule.byMonth.length === 0 || rule.byMonth.includes(date.month);
  const byWeekday = (date: LocalDate) => rule.byDay.length === 0 || rule.byDay.some((day) => day.weekday === weekdayOf(date));
  const byMonthDay = (date: LocalDate) =>
    rule.byMonthDay.length === 0 || rule.byMonthDay.some((day) => (day > 0 ? day : daysInMonth(date.year, date.month) + day + 1) === date.day);

  switch (rule.freq) {
    case 'DAILY': {
      const date = addDays(start, step);
      return inMonths(date) && byMonthDay(date) && byWeekday(date) ? [date] : [];
    }
    case 'WEEKLY': {
      const offset = (weekdayOf(start) - rule.weekStart + 7) % 7;
      const weekStart = addDays(start, step * 7 - offset);
      const days = Array.from({ length: 7 }, (_, i) => addDays(weekStart, i));
      const wanted = rule.byDay.length > 0 ? days.filter(byWeekday) : days.filter((date) => weekdayOf(date) === weekdayOf(start));
      return wanted.filter(inMonths);
    }
    case 'MONTHLY': {
      const first = addMonthsClamped({ year: start.year, month: start.month, day: 1 }, step);
      if (!inMonths(first)) return [];
      return daysOfMonth(rule, first.year, first.month, start);
    }
    case 'YEARLY': {
      const year = start.year + step;
      if (rule.byDay.length > 0 && rule.byMonth.length === 0 && rule.byMonthDay.length === 0) return weekdaysOfYear(rule, year);
      const months = rule.byMonth.length > 0 ? rule.byMonth : [start.month];
      return [...months].sort((a, b) => a - b).flatMap((month) => daysOfMonth(rule, year, month, start));
    }
  }
}

/** The days of one month that BYMONTHDAY and BYDAY select (both: the days both select), else DTSTART's day. */
function daysOfMonth(rule: RecurrenceRule, year: number, month: number, start: LocalDate): LocalDate[] {
  const length = daysInMonth(year, month);
  const all = Array.from({ length }, (_, i) => ({ year, month, day: i + 1 }));
  if (rule.byMonthDay.length === 0 && rule.byDay.length === 0) return start.day <= length ? [{ year, month, day: start.day }] : [];
  const byMonthDay = new Set(rule.byMonthDay.map((day) => (day > 0 ? day : length + day + 1)).filter((day) => day >= 1 && day <= length));
  const byDay = new Set(selectWeekdays(rule.byDay, all).map((date) => date.day));
  return all.filter((date) => (rule.byMonthDay.length === 0 || byMonthDay.has(date.day)) && (rule.byDay.length === 0 || byDay.has(date.day)));
}

function weekdaysOfYear(rule: RecurrenceRule, year: number): LocalDate[] {
  const first = epochDay({ year, month: 1, day: 1 });
  const length = isLeapYear(year) ? 366 : 365;
  const all = Array.from({ length }, (_, i) => fromEpochDay(first + i));
  return selectWeekdays(rule.byDay, all);
}

/** Applies BYDAY to the days of one period: MO is every Monday, 1MO the first, -1FR the last Friday. */
function selectWeekdays(byDay: readonly WeekdayRule[], days: readonly LocalDate[]): LocalDate[] {
  const selected = new Set<number>();
  for (const rule of byDay) {
    const matching = days.map((date, index) => ({ date, index })).filter(({ date }) => weekdayOf(date) === rule.weekday);
    if (rule.ordinal === undefined) for (const { index } of matching) selected.add(index);
    else {
      const pick = rule.ordinal > 0 ? matching[rule.ordinal - 1] : matching[matching.length + rule.ordinal];
      if (pick) selected.add(pick.index);
    }
  }
  return [...selected].sort((a, b) => a - b).map((index) => days[index]!);
}

// ---------------------------------------------------------------------------------------------------------------
// Recurrences as the calendar uses them

export type Recurrence =
  { kind: 'rule'; rule: RecurrenceRule; start: LocalDate } | { kind: 'every'; span: Span; anchor: LocalDate } | { kind: 'dates'; dates: LocalDate[] };

/**
 * The occurrences of a recurrence as instants, in order, each at `time` local time in `timeZone` (a DTSTART with a
 * time of day overrides `time`), from the first one on. An `every` recurrence counts from its anchor each time
 * (anchor + k spans) so month-end clamping never drifts: Jan 31, Feb 28, Mar 31, Apr 30.
 */
export function* occurrencesOf(recurrence: Recurrence, time: LocalTime, timeZone: string): Generator<{ date: LocalDate; instant: number }> {
  if (recurrence.kind === 'dates') {
    for (const date of [...recurrence.dates].sort(compareLocal)) yield { date, instant: fromZoned({ ...date, ...time }, timeZone) };
    return;
  }
  if (recurrence.kind === 'every') {
    const { amount, unit } = recurrence.span;
    if (amount <= 0) return;
    for (let k = 0; ; k++) {
      const date =
        unit === 'day' || unit === 'week'
          ? addDays(recurrence.anchor, k * amount * (unit === 'week' ? 7 : 1))
          : unit === 'month' || unit === 'year'
            ? addMonthsClamped(recurrence.anchor, k * amount * (unit === 'year' ? 12 : 1))
            : undefined;
      if (!date) return;
      yield { date, instant: fromZoned({ ...date, ...time }, timeZone) };
    }
  }
  const { rule } = recurrence;
  const zone = rule.start?.utc ? 'UTC' : (rule.start?.timeZone ?? timeZone);
  const at = rule.start?.hasTime ? rule.start.local : time;
  for (const date of ruleDates(rule, recurrence.start)) {
    const local = { ...date, hour: at.hour, minute: at.minute, second: at.second };
    const instant = fromZoned(local, zone);
    if (rule.until) {
      const past =
        rule.until.kind === 'instant'
          ? instant > rule.until.instant
          : rule.until.kind === 'local'
            ? compareLocal(local, rule.until.local) > 0
            : compareLocal(date, rule.until.date) > 0;
      if (past) return;
    }
    yield { date, instant };
  }
}

/** The zone a recurrence's times are in: its DTSTART's TZID (or UTC for a `Z` DTSTART), else the given one. */
export function zoneOf(recurrence: Recurrence, fallback: string): string {
  if (recurrence.kind !== 'rule' || !recurrence.rule.start) return fallback;
  return recurrence.rule.start.utc ? 'UTC' : (recurrence.rule.start.timeZone ?? fallback);
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
