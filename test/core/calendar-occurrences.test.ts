import { describe, expect, it } from 'vitest';
import {
  addMonthsClamped,
  formatLocalDate,
  fromZoned,
  occurrencesOf,
  parseLocalDate,
  parseRecurrenceRule,
  parseSpan,
  shiftInstant,
  toZoned,
  type LocalTime,
  type Recurrence,
} from '../../core/calendar-occurrences.ts';

const NINE: LocalTime = { hour: 9, minute: 0, second: 0 };
const date = (text: string) => parseLocalDate(text)!;

/** The first `count` occurrences as local dates (or as UTC instants with `instants`). */
function first(recurrence: Recurrence, count: number, zone = 'UTC', time = NINE, instants = false): string[] {
  const out: string[] = [];
  for (const occurrence of occurrencesOf(recurrence, time, zone)) {
    out.push(instants ? new Date(occurrence.instant).toISOString() : formatLocalDate(occurrence.date));
    if (out.length === count) break;
  }
  return out;
}

function rule(text: string, start?: string): Recurrence {
  const parsed = parseRecurrenceRule(text);
  const from = parsed.start?.local ?? date(start!);
  return { kind: 'rule', rule: parsed, start: { year: from.year, month: from.month, day: from.day } };
}

describe('month ends and leap years', () => {
  it.each([
    ['2026-01-31', 1, '2026-02-28'],
    ['2028-01-31', 1, '2028-02-29'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2026-03-31', -1, '2026-02-28'],
    ['2026-12-31', 2, '2027-02-28'],
    ['2026-08-31', 1, '2026-09-30'],
    ['2026-01-15', -13, '2024-12-15'],
    ['2100-01-31', 1, '2100-02-28'],
    ['2000-01-31', 1, '2000-02-29'],
  ])('%s + %i months = %s', (from, months, expected) => {
    expect(formatLocalDate(addMonthsClamped(date(from), months))).toBe(expected);
  });

  it.each([
    [
      'every month from Jan 31 never drifts to the 28th',
      { amount: 1, unit: 'month' },
      '2026-01-31',
      ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31'],
    ],
    [
      'every year from Feb 29 falls on Feb 28 outside leap years',
      { amount: 1, unit: 'year' },
      '2028-02-29',
      ['2028-02-29', '2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29'],
    ],
    ['every 3 months from Nov 30', { amount: 3, unit: 'month' }, '2025-11-30', ['2025-11-30', '2026-02-28', '2026-05-30', '2026-08-30', '2026-11-30']],
    ['every 2 weeks', { amount: 2, unit: 'week' }, '2026-12-21', ['2026-12-21', '2027-01-04', '2027-01-18', '2027-02-01', '2027-02-15']],
    ['every 10 days across a year end', { amount: 10, unit: 'day' }, '2026-12-25', ['2026-12-25', '2027-01-04', '2027-01-14', '2027-01-24', '2027-02-03']],
  ] as const)('%s', (_name, span, anchor, expected) => {
    expect(first({ kind: 'every', span: { ...span }, anchor: date(anchor) }, 5)).toEqual(expected);
  });

  it('refuses dates that do not exist', () => {
    expect(parseLocalDate('2026-02-29')).toBeUndefined();
    expect(parseLocalDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseLocalDate('2026-13-01')).toBeUndefined();
  });
});

describe('RRULE subset', () => {
  it.each([
    ['last day of the month', 'FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4', '2026-01-15', ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']],
    ['last day of February in a leap year', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;COUNT=3', '2027-01-01', ['2027-02-28', '2028-02-29', '2029-02-28']],
    ['the 31st skips short months (RFC 5545: invalid dates are ignored)', 'FREQ=MONTHLY;COUNT=3', '2026-01-31', ['2026-01-31', '2026-03-31', '2026-05-31']],
    ['Feb 29 yearly only in leap years', 'FREQ=YEARLY;COUNT=3', '2024-02-29', ['2024-02-29', '2028-02-29', '2032-02-29']],
    ['first Monday', 'FREQ=MONTHLY;BYDAY=1MO;COUNT=3', '2026-01-01', ['2026-01-05', '2026-02-02', '2026-03-02']],
    ['last Friday', 'FREQ=MONTHLY;BYDAY=-1FR;COUNT=3', '2026-01-01', ['2026-01-30', '2026-02-27', '2026-03-27']],
    ['second-to-last weekday pair', 'FREQ=MONTHLY;BYDAY=-2MO,-2TU;COUNT=2', '2026-06-01', ['2026-06-22', '2026-06-23']],
    [
      'every other week on Monday and Thursday',
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=4',
      '2026-01-01',
      ['2026-01-01', '2026-01-12', '2026-01-15', '2026-01-26'],
    ],
    ['weekly without BYDAY keeps the start weekday', 'FREQ=WEEKLY;COUNT=3', '2026-12-30', ['2026-12-30', '2027-01-06', '2027-01-13']],
    ['every 10 days until a date (inclusive)', 'FREQ=DAILY;INTERVAL=10;UNTIL=20260131', '2026-01-01', ['2026-01-01', '2026-01-11', '2026-01-21', '2026-01-31']],
    ['daily on weekdays only', 'FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=4', '2026-11-27', ['2026-11-27', '2026-11-30', '2026-12-01', '2026-12-02']],
    ['quarter ends', 'FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1;COUNT=4', '2026-01-01', ['2026-03-31', '2026-06-30', '2026-09-30', '2026-12-31']],
    ['fourth Thursday of November', 'FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2', '2026-01-01', ['2026-11-26', '2027-11-25']],
    ['20th Monday of the year', 'FREQ=YEARLY;BYDAY=20MO;COUNT=2', '2026-01-01', ['2026-05-18', '2027-05-17']],
    ['Friday the 13th (BYMONTHDAY and BYDAY both)', 'FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR;COUNT=3', '2026-01-01', ['2026-02-13', '2026-03-13', '2026-11-13']],
    [
      'quarterly on the 31st skips quarters without one',
      'FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=31;COUNT=3',
      '2026-01-31',
      ['2026-01-31', '2026-07-31', '2026-10-31'],
    ],
    [
      'a DTSTART the rule does not produce is not an occurrence',
      'DTSTART:20260102\nRRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=2',
      undefined,
      ['2026-02-01', '2026-03-01'],
    ],
    ['RRULE: prefix and DTSTART on one line', 'DTSTART:20260101 RRULE:FREQ=YEARLY;BYMONTH=1,7;COUNT=3', undefined, ['2026-01-01', '2026-07-01', '2027-01-01']],
    ['a rule that never matches ends', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', '2026-01-01', []],
  ])('%s: %s', (_name, text, start, expected) => {
    expect(first(rule(text, start), 10)).toEqual(expected);
  });

  it('takes time and zone from DTSTART and ends at a UTC UNTIL, inclusive', () => {
    const weekly = rule('DTSTART;TZID=Europe/Berlin:20260315T093000\nRRULE:FREQ=WEEKLY;UNTIL=20260405T073000Z');
    // Berlin changes to summer time on 2026-03-29: 09:30 local is 08:30Z before and 07:30Z after.
    expect(first(weekly, 10, 'America/New_York', NINE, true)).toEqual([
      '2026-03-15T08:30:00.000Z',
      '2026-03-22T08:30:00.000Z',
      '2026-03-29T07:30:00.000Z',
      '2026-04-05T07:30:00.000Z',
    ]);
  });

  it('reads a UTC DTSTART in UTC', () => {
    expect(first(rule('DTSTART:20260101T120000Z\nRRULE:FREQ=MONTHLY;COUNT=2'), 5, 'Europe/Berlin', NINE, true)).toEqual([
      '2026-01-01T12:00:00.000Z',
      '2026-02-01T12:00:00.000Z',
    ]);
  });

  it.each([
    ['FREQ=HOURLY', /FREQ=HOURLY is not supported/],
    ['FREQ=DAILY;BYHOUR=9', /BYHOUR is not supported/],
    ['FREQ=WEEKLY;BYDAY=1MO', /ordinal .* needs FREQ=MONTHLY or YEARLY/],
    ['FREQ=MONTHLY;COUNT=2;UNTIL=20270101', /COUNT and UNTIL cannot both be given/],
    ['FREQ=MONTHLY;BYMONTHDAY=32', /BYMONTHDAY: 32 is out of range/],
    ['FREQ=MONTHLY;INTERVAL=0', /INTERVAL: 0 is out of range/],
    ['FREQ=MONTHLY;BYDAY=6MO', /between -5 and 5/],
    ['FREQ=WEEKLY;BYMONTHDAY=1', /BYMONTHDAY cannot be used with FREQ=WEEKLY/],
    ['BYMONTH=1', /FREQ is required/],
    ['DTSTART;TZID=Mars/Olympus:20260101T090000\nRRULE:FREQ=DAILY', /unknown time zone "Mars\/Olympus"/],
    ['DTSTART:20260230\nRRULE:FREQ=DAILY', /DTSTART: "20260230" does not exist/],
    ['FREQ=MONTHLY;BYDAY=XX', /BYDAY: "XX" is not a weekday/],
  ])('refuses %s', (text, message) => {
    expect(() => parseRecurrenceRule(text)).toThrow(message);
  });
});

describe('time zones and DST', () => {
  it.each([
    ['winter in Berlin', 'Europe/Berlin', '2026-01-15', 9, 0, '2026-01-15T08:00:00.000Z'],
    ['summer in Berlin', 'Europe/Berlin', '2026-07-15', 9, 0, '2026-07-15T07:00:00.000Z'],
    [
      'Berlin spring-forward gap: 02:30 does not exist, read with the offset before (03:30 CEST)',
      'Europe/Berlin',
      '2026-03-29',
      2,
      30,
      '2026-03-29T01:30:00.000Z',
    ],
    ['Berlin fall-back overlap: 02:30 happens twice, the first (CEST) counts', 'Europe/Berlin', '2026-10-25', 2, 30, '2026-10-25T00:30:00.000Z'],
    ['New York spring-forward gap (RFC 5545 example: 03:30 EDT)', 'America/New_York', '2007-03-11', 2, 30, '2007-03-11T07:30:00.000Z'],
    ['New York fall-back overlap (RFC 5545 example: 01:30 EDT)', 'America/New_York', '2007-11-04', 1, 30, '2007-11-04T05:30:00.000Z'],
    ['New York 2026 fall-back', 'America/New_York', '2026-11-01', 1, 30, '2026-11-01T05:30:00.000Z'],
    ['half-hour zone', 'Asia/Kolkata', '2026-01-01', 9, 0, '2026-01-01T03:30:00.000Z'],
    ['quarter-hour zone across the date line', 'Pacific/Chatham', '2026-01-01', 0, 0, '2025-12-31T10:15:00.000Z'],
    ['UTC', 'UTC', '2026-06-30', 23, 59, '2026-06-30T23:59:00.000Z'],
  ])('%s', (_name, zone, day, hour, minute, expected) => {
    const instant = fromZoned({ ...date(day), hour, minute, second: 0 }, zone);
    expect(new Date(instant).toISOString()).toBe(expected);
  });

  it('round-trips every hour of a DST year in Berlin and New York except the skipped ones', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York']) {
      for (let instant = Date.UTC(2026, 0, 1); instant < Date.UTC(2027, 0, 1); instant += 3_600_000) {
        const local = toZoned(instant, zone);
        const back = fromZoned(local, zone);
        // In the fall-back hour the same wall time is an hour earlier too; RFC 5545 takes the first.
        expect([instant, instant - 3_600_000]).toContain(back);
      }
    }
  });

  it.each([
    ['7 days before 09:00 keeps 09:00 across spring-forward (Berlin)', '2026-04-02T07:00:00.000Z', '7d', -1, 'Europe/Berlin', '2026-03-26T08:00:00.000Z'],
    ['14 days after keeps 09:00 across fall-back (New York)', '2026-10-25T13:00:00.000Z', '14d', 1, 'America/New_York', '2026-11-08T14:00:00.000Z'],
    ['hours are elapsed time across a DST change', '2026-03-28T23:00:00.000Z', '24h', 1, 'Europe/Berlin', '2026-03-29T23:00:00.000Z'],
    ['a month after Jan 31 09:00 Berlin', '2026-01-31T08:00:00.000Z', '1 month', 1, 'Europe/Berlin', '2026-02-28T08:00:00.000Z'],
    ['a year after Feb 29', '2028-02-29T08:00:00.000Z', '1 year', 1, 'Europe/Berlin', '2029-02-28T08:00:00.000Z'],
  ] as const)('%s', (_name, from, span, sign, zone, expected) => {
    expect(new Date(shiftInstant(Date.parse(from), parseSpan(span)!, sign, zone)).toISOString()).toBe(expected);
  });

  it('keeps a monthly 09:00 Berlin occurrence at 09:00 local through both DST changes', () => {
    const times = first(rule('FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12', '2026-01-01'), 12, 'Europe/Berlin', NINE, true);
    expect(times.map((at) => toZoned(Date.parse(at), 'Europe/Berlin').hour)).toEqual(Array(12).fill(9));
    expect(times.slice(1, 4)).toEqual(['2026-02-28T08:00:00.000Z', '2026-03-31T07:00:00.000Z', '2026-04-30T07:00:00.000Z']);
    expect(times[9]).toBe('2026-10-31T08:00:00.000Z');
  });
});

describe('spans', () => {
  it.each([
    ['14d', { amount: 14, unit: 'day' }],
    ['0d', { amount: 0, unit: 'day' }],
    ['3 months', { amount: 3, unit: 'month' }],
    ['1 year', { amount: 1, unit: 'year' }],
    ['2 h', { amount: 2, unit: 'hour' }],
    ['6w', { amount: 6, unit: 'week' }],
    ['30 min', { amount: 30, unit: 'minute' }],
  ])('%s', (text, expected) => {
    expect(parseSpan(text)).toEqual(expected);
  });

  it.each(['3m', 'soon', '-1d', '1.5d', ''])('refuses "%s"', (text) => {
    expect(parseSpan(text)).toBeUndefined();
  });
});
