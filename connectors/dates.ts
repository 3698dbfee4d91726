import { z } from 'zod';
import { fromZoned } from '../core/calendar-occurrences.ts';

/**
 * HR systems speak in calendar days ("terminated 2026-09-30"), checks speak in instants. This module turns
 * one into the other in a named IANA zone, with nothing but Intl, so it behaves the same on every worker
 * whatever the host's TZ.
 *
 * A bare termination date becomes the START of that day in the organisation's zone. The date is the day
 * access must be gone on, and a bare date says nothing about the hour; the start of the day is the earliest
 * instant it can mean, so the leaver SLA clock never starts later than HR intended and a check can only err
 * towards flagging an account, never towards calling a late revocation compliant (fail-closed). Zones matter
 * because the start of "2026-09-30" in Sydney is 14 hours before it in UTC.
 */

export { Timezone } from '../core/calendar-occurrences.ts';

export const DateFormat = z.enum(['iso', 'dd/mm/yyyy', 'mm/dd/yyyy', 'dd.mm.yyyy']);
export type DateFormat = z.infer<typeof DateFormat>;

export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

interface WallTime extends CalendarDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/**
 * The instant a wall-clock time names in a zone. An ambiguous time (clocks turned back) takes the earlier
 * instant; a time that never happened (clocks jumped forward) moves forward by the gap, which for midnight
 * gives the first instant the day really has (America/Santiago starts some days at 01:00). The calendar's
 * zone arithmetic does exactly this (RFC 5545 3.3.5), so it is shared.
 */
function instantOf(wall: WallTime, zone: string): number {
  const { millisecond, ...local } = wall;
  return fromZoned(local, zone) + millisecond;
}

/**
 * Whether the date is on the calendar, in the years 1000-9999: Date.UTC reads years 0-99 as 1900-1999, and an instant
 * past 9999 has no text the record schemas take, so a date outside them (a typo such as 0024 or 20260) is no date.
 */
export function isCalendarDate(date: CalendarDate): boolean {
  if (date.year < 1000 || date.year > 9999 || date.month < 1 || date.month > 12 || date.day < 1) return false;
  return date.day <= new Date(Date.UTC(date.year, date.month, 0)).getUTCDate();
}

const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An instant as an ISO timestamp in UTC; undefined past the year 9999, where toISOString writes a six-digit year. */
function isoText(ms: number): string | undefined {
  return ms <= LAST_INSTANT ? new Date(ms).toISOString() : undefined;
}

/** The first instant of `date` in `zone`, as an ISO timestamp in UTC. */
export function startOfDay(date: CalendarDate, zone: string): string {
  return new Date(instantOf({ ...date, hour: 0, minute: 0, second: 0, millisecond: 0 }, zone)).toISOString();
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const DAY_FIRST_SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const DAY_FIRST_DOT = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

/** A `YYYY-MM-DD` date that exists on the calendar, or undefined. */
export function parseIsoDate(text: string): CalendarDate | undefined {
  const match = ISO_DATE.exec(text);
  if (match === null) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isCalendarDate(date) ? date : undefined;
}

function parseIsoTimestamp(text: string, zone: string): string | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const wall: WallTime = {
    year: Number(match[1]),
    month: Number(match[2]),
    day: Number(match[3]),
    hour: Number(match[4]),
    minute: Number(match[5]),
    second: Number(match[6] ?? 0),
    millisecond: Math.floor(Number(`0.${match[7] ?? '0'}`) * 1000),
  };
  if (!isCalendarDate(wall) || wall.hour > 23 || wall.minute > 59 || wall.second > 59) return undefined;
  const designator = match[8];
  // Without an offset the exporter meant its own wall clock, which is the configured zone.
  if (designator === undefined) return isoText(instantOf(wall, zone));
  const wallMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);
  if (designator.toUpperCase() === 'Z') return isoText(wallMs);
  const digits = designator.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = Number(digits.slice(2) || '0');
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = designator.startsWith('-') ? -1 : 1;
  return isoText(wallMs - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

function parseCalendarDate(text: string, format: Exclude<DateFormat, 'iso'>): CalendarDate | undefined {
  const match = (format === 'dd.mm.yyyy' ? DAY_FIRST_DOT : DAY_FIRST_SLASH).exec(text);
  if (match === null) return undefined;
  const [first, second, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = format === 'mm/dd/yyyy' ? { year, month: first, day: second } : { year, month: second, day: first };
  return isCalendarDate(date) ? date : undefined;
}

/**
 * An HR date cell as an ISO timestamp: a bare date becomes the start of that day in `zone`; with the 'iso'
 * format a full timestamp is kept as the instant it names. Undefined when the text is not such a date.
 */
export function parseHrDate(text: string, format: DateFormat, zone: string): string | undefined {
  if (format !== 'iso') {
    const date = parseCalendarDate(text, format);
    return date === undefined ? undefined : startOfDay(date, zone);
  }
  const date = parseIsoDate(text);
  return date === undefined ? parseIsoTimestamp(text, zone) : startOfDay(date, zone);
}
