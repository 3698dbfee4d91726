import { describe, expect, it } from 'vitest';
import { parseHrDate, parseIsoDate, startOfDay, Timezone, type DateFormat } from '../../connectors/dates.ts';

describe('parseHrDate', () => {
  it.each<[string, DateFormat, string, string | undefined]>([
    ['2026-09-30', 'iso', 'UTC', '2026-09-30T00:00:00.000Z'],
    ['2026-09-30', 'iso', 'Europe/Berlin', '2026-09-29T22:00:00.000Z'],
    ['2026-12-01', 'iso', 'Europe/Berlin', '2026-11-30T23:00:00.000Z'],
    ['2026-09-30', 'iso', 'America/New_York', '2026-09-30T04:00:00.000Z'],
    ['2026-09-30', 'iso', 'Australia/Sydney', '2026-09-29T14:00:00.000Z'],
    ['2026-09-30', 'iso', 'Asia/Kolkata', '2026-09-29T18:30:00.000Z'],
    ['2026-09-30T17:30:00Z', 'iso', 'Europe/Berlin', '2026-09-30T17:30:00.000Z'],
    ['2026-09-30T17:30:00.250+02:00', 'iso', 'UTC', '2026-09-30T15:30:00.250Z'],
    ['2026-09-30T17:30:00-0530', 'iso', 'UTC', '2026-09-30T23:00:00.000Z'],
    ['2026-09-30 17:30', 'iso', 'Europe/Berlin', '2026-09-30T15:30:00.000Z'],
    ['30/09/2026', 'dd/mm/yyyy', 'UTC', '2026-09-30T00:00:00.000Z'],
    ['1/9/2026', 'dd/mm/yyyy', 'UTC', '2026-09-01T00:00:00.000Z'],
    ['09/30/2026', 'mm/dd/yyyy', 'UTC', '2026-09-30T00:00:00.000Z'],
    ['30.09.2026', 'dd.mm.yyyy', 'Europe/Berlin', '2026-09-29T22:00:00.000Z'],
    ['29/02/2028', 'dd/mm/yyyy', 'UTC', '2028-02-29T00:00:00.000Z'],
    ['29/02/2026', 'dd/mm/yyyy', 'UTC', undefined],
    ['31/04/2026', 'dd/mm/yyyy', 'UTC', undefined],
    ['30/09/2026', 'mm/dd/yyyy', 'UTC', undefined],
    ['30/09/2026', 'iso', 'UTC', undefined],
    ['2026-09-30', 'dd/mm/yyyy', 'UTC', undefined],
    ['30/09/2026', 'dd.mm.yyyy', 'UTC', undefined],
    ['2026-13-01', 'iso', 'UTC', undefined],
    ['2026-09-30T24:00:00Z', 'iso', 'UTC', undefined],
    ['2026-09-30T12:00:00+25:00', 'iso', 'UTC', undefined],
    ['next Tuesday', 'iso', 'UTC', undefined],
    // Date.UTC would read these years as 1924 and 1900.
    ['0024-03-01', 'iso', 'UTC', undefined],
    ['0000-01-01T00:00:00+01:00', 'iso', 'UTC', undefined],
    ['01/03/0024', 'dd/mm/yyyy', 'UTC', undefined],
    // Past the year 9999 once the offset is applied: toISOString would write +010000.
    ['9999-12-31T23:59:59-14:00', 'iso', 'UTC', undefined],
    ['9999-12-31T23:00:00', 'iso', 'America/New_York', undefined],
    ['9999-12-31T23:59:59Z', 'iso', 'UTC', '9999-12-31T23:59:59.000Z'],
    ['1000-01-01', 'iso', 'UTC', '1000-01-01T00:00:00.000Z'],
  ])('%s as %s in %s', (text, format, zone, expected) => {
    expect(parseHrDate(text, format, zone)).toBe(expected);
  });
});

describe('startOfDay', () => {
  it('starts a day that begins at 01:00 (clocks jump forward at midnight) at its first real instant', () => {
    // America/Santiago skips 2026-09-06T00:00 to 01:00 (-04 to -03).
    expect(startOfDay({ year: 2026, month: 9, day: 6 }, 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z');
  });

  it('starts the day after clocks turn back at midnight at its only midnight', () => {
    // America/Santiago turns 2026-04-05T00:00 back to 2026-04-04T23:00 (-03 to -04).
    expect(startOfDay({ year: 2026, month: 4, day: 5 }, 'America/Santiago')).toBe('2026-04-05T04:00:00.000Z');
  });

  it('is unaffected by a transition later in the day', () => {
    expect(startOfDay({ year: 2026, month: 3, day: 29 }, 'Europe/Berlin')).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfDay({ year: 2026, month: 10, day: 25 }, 'Europe/Berlin')).toBe('2026-10-24T22:00:00.000Z');
  });
});

describe('parseIsoDate and Timezone', () => {
  it('accepts only dates on the calendar', () => {
    expect(parseIsoDate('2026-09-30')).toEqual({ year: 2026, month: 9, day: 30 });
    expect(parseIsoDate('2026-09-31')).toBeUndefined();
    expect(parseIsoDate('0000-00-00')).toBeUndefined();
  });

  it('accepts IANA zones only', () => {
    expect(Timezone.safeParse('Europe/Berlin').success).toBe(true);
    expect(Timezone.safeParse('Mars/Olympus_Mons').success).toBe(false);
  });
});
