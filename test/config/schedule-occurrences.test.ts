import { describe, expect, it } from 'vitest';
import { durationMs, scheduleTimes } from '../../config/schedule-occurrences.ts';
import type { Schedule } from '../../config/schedule.ts';

const iso = (times: number[]) => times.map((time) => new Date(time).toISOString());
const between = (schedule: Schedule, from: string, to: string, zone = 'UTC') => iso(scheduleTimes(schedule, zone, Date.parse(from), Date.parse(to)));

describe('control schedule expansion (the expected side of coverage)', () => {
  it.each([
    [
      'daily at 06:00 Berlin across spring-forward',
      { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
      '2026-03-28T00:00:00Z',
      '2026-03-31T00:00:00Z',
      ['2026-03-28T05:00:00.000Z', '2026-03-29T04:00:00.000Z', '2026-03-30T04:00:00.000Z'],
    ],
    [
      'quarterly on the 1st',
      { cron: '0 6 1 */3 *' },
      '2026-01-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
      ['2026-01-01T06:00:00.000Z', '2026-04-01T06:00:00.000Z', '2026-07-01T06:00:00.000Z', '2026-10-01T06:00:00.000Z'],
    ],
    [
      'weekdays by name',
      { cron: '30 9 * * MON-FRI' },
      '2026-11-27T00:00:00Z',
      '2026-12-01T00:00:00Z',
      ['2026-11-27T09:30:00.000Z', '2026-11-30T09:30:00.000Z'],
    ],
    [
      'day-of-month OR day-of-week, as cron has it',
      { cron: '0 0 13 * FRI' },
      '2026-11-10T00:00:00Z',
      '2026-11-21T00:00:00Z',
      ['2026-11-13T00:00:00.000Z', '2026-11-20T00:00:00.000Z'],
    ],
    ['@monthly', { cron: '@monthly' }, '2026-01-15T00:00:00Z', '2026-03-15T00:00:00Z', ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']],
    ['Sunday as 7', { cron: '0 12 * * 7' }, '2026-11-22T00:00:00Z', '2026-11-30T00:00:00Z', ['2026-11-22T12:00:00.000Z', '2026-11-29T12:00:00.000Z']],
    [
      'interval with offset',
      { every: '6h', offset: '1h' },
      '2026-01-01T00:00:00Z',
      '2026-01-01T14:00:00Z',
      ['2026-01-01T01:00:00.000Z', '2026-01-01T07:00:00.000Z', '2026-01-01T13:00:00.000Z'],
    ],
    ['@every', { cron: '@every 12h' }, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', ['2026-01-01T00:00:00.000Z', '2026-01-01T12:00:00.000Z']],
    [
      'calendar spec: first Monday-ish, named month',
      { calendar: [{ hour: 6, dayOfMonth: '1-7', dayOfWeek: 'MONDAY', month: ['JANUARY', 7] }] },
      '2026-01-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
      ['2026-01-05T06:00:00.000Z', '2026-07-06T06:00:00.000Z'],
    ],
  ] as [string, Schedule, string, string, string[]][])('%s', (_name, schedule, from, to, expected) => {
    expect(between(schedule, from, to)).toEqual(expected);
  });

  it('refuses what it cannot expand rather than guessing', () => {
    expect(() => between({ cron: '0 6 L * *' }, '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')).toThrow(/"L" is not supported/);
    expect(() => between({ cron: '0 0 6 * * *' }, '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')).toThrow(/only 5-field/);
  });

  it('reads Temporal durations', () => {
    expect([durationMs('90s'), durationMs('10 minutes'), durationMs('1 day'), durationMs('500ms'), durationMs('2w')]).toEqual([
      90_000, 600_000, 86_400_000, 500, 1_209_600_000,
    ]);
  });
});
