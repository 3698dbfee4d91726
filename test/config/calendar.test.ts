import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CalendarConfig, DEFAULT_ACTIVITIES, parseRung, resolveCalendar } from '../../config/calendar.ts';
import { ladderOf, occurrenceOn, occurrencesToOpen, parseOccurrenceId, planChangeReview, planOccurrences } from '../../config/calendar-plan.ts';
import { ConfigError } from '../../core/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

const DAY = 86_400_000;
const calendarOf = (calendar: unknown, timezone = 'Europe/Berlin') => resolveCalendar({ timezone, calendar: CalendarConfig.parse(calendar) });

function issuesOf(yaml: string): string[] {
  try {
    parseConfig(yaml, 'isms.yaml', testRegistries);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

describe('calendar config', () => {
  it('ships the ten default activities named by the standard, each with a reference and required evidence', () => {
    const calendar = calendarOf({ defaults: true, owner: 'isms@example.com' });
    expect([...calendar.activities.keys()].sort()).toEqual(
      [
        'access-review',
        'backup-restore-test',
        'internal-audit',
        'management-review',
        'policy-review',
        'risk-assessment-review',
        'security-awareness-training',
        'soa-review',
        'supplier-review',
        'vulnerability-scan-review',
      ].sort(),
    );
    expect(calendar.activities.get('internal-audit')!.references).toEqual(['9.2']);
    expect(calendar.activities.get('management-review')!.references).toEqual(['9.3']);
    expect(calendar.activities.get('risk-assessment-review')!.references).toEqual(['6.1.2', '8.2']);
    for (const activity of calendar.activities.values()) {
      expect(activity.owner).toBe('isms@example.com');
      expect(activity.evidence.some((expected) => expected.required)).toBe(true);
    }
    const year = { from: Date.parse('2027-01-01T00:00:00Z'), to: Date.parse('2028-01-01T00:00:00Z') };
    const perYear = Object.fromEntries([...calendar.activities.values()].map((activity) => [activity.id, planOccurrences(activity, year).length]));
    expect(perYear).toEqual({
      'access-review': 4,
      'vulnerability-scan-review': 12,
      'backup-restore-test': 4,
      'supplier-review': 1,
      'security-awareness-training': 1,
      'internal-audit': 1,
      'management-review': 1,
      'risk-assessment-review': 1,
      'soa-review': 1,
      'policy-review': 1,
    });
    expect(DEFAULT_ACTIVITIES).toHaveLength(10);
  });

  it('lets an entry adjust a default by id and replace its frequency without mixing two', () => {
    const calendar = calendarOf({
      defaults: true,
      owner: 'isms@example.com',
      activities: [
        { id: 'access-review', owner: 'it@example.com' },
        { id: 'policy-review', every: '2 years', anchor: '2026-05-15' },
      ],
    });
    expect(calendar.activities.get('access-review')).toMatchObject({ owner: 'it@example.com', title: 'User access review' });
    expect(calendar.activities.get('access-review')!.recurrence.kind).toBe('rule');
    expect(calendar.activities.get('policy-review')!.recurrence).toEqual({
      kind: 'every',
      span: { amount: 2, unit: 'year' },
      anchor: { year: 2026, month: 5, day: 15 },
    });
  });

  it('derives the audit cycle: surveillance at 12 and 24 months, recertification before 36, readiness checks weeks before each', () => {
    const calendar = calendarOf({ owner: 'isms@example.com', certification: { issued: '2025-12-01', body: 'Example Cert GmbH', readinessWeeks: 6 } });
    const dates = [...calendar.activities.values()].map((activity) => [
      activity.id,
      planOccurrences(activity, { from: 0, to: Date.parse('2030-01-01') })[0]!.dueDate,
    ]);
    expect(dates).toEqual([
      ['surveillance-audit-1-readiness', '2026-10-20'],
      ['surveillance-audit-1', '2026-12-01'],
      ['surveillance-audit-2-readiness', '2027-10-20'],
      ['surveillance-audit-2', '2027-12-01'],
      ['recertification-audit-readiness', '2028-07-28'],
      ['recertification-audit', '2028-09-08'],
    ]);
    expect(calendar.certification!.expires).toBe('2028-12-01');
    expect(calendar.activities.get('surveillance-audit-1')).toMatchObject({
      origin: 'audit-cycle',
      title: 'Surveillance audit 1 (Example Cert GmbH)',
      owner: 'isms@example.com',
    });
    // A certificate issued on Feb 29 has its anniversaries on Feb 28.
    const leap = calendarOf({ owner: 'o', certification: { issued: '2024-02-29', body: 'B', readinessWeeks: 0, recertificationLeadWeeks: 0 } });
    expect(planOccurrences(leap.activities.get('surveillance-audit-1')!, { from: 0, to: Date.parse('2030-01-01') })[0]!.dueDate).toBe('2025-02-28');
    expect(leap.certification!.expires).toBe('2027-02-28');
  });

  it('reports every calendar error with its YAML path and line', () => {
    const shapes = issuesOf(
      [
        'calendar:',
        '  reminders: [14d, soon]',
        '  activities:',
        '    - id: review',
        '      title: Review',
        '      reference: A.99',
        '      every: 3m',
        '      anchor: 2026-02-30',
        '',
      ].join('\n'),
    );
    expect(shapes).toEqual([
      expect.stringMatching(/^calendar\.reminders\[1\]: a reminder such as .* \(line 2, column 20\)$/),
      expect.stringMatching(/^calendar\.activities\[0\]\.reference: no ISO\/IEC 27001:2022 id "A\.99" \(Annex A: .*\) \(line 6, column 18\)$/),
      expect.stringMatching(/^calendar\.activities\[0\]\.every: a span such as .*\(line 7, column 14\)$/),
      expect.stringMatching(/^calendar\.activities\[0\]\.anchor: a date such as 2026-01-31 \(line 8, column 15\)$/),
    ]);
    // Shape errors stop the cross-checks; with the shapes right, the rest shows.
    const crossChecks = issuesOf(
      [
        'calendar:',
        '  activities:',
        '    - id: restore-test',
        '      title: Restore test',
        '      reference: A.8.13',
        '      owner: ops@example.com',
        '      rrule: FREQ=MONTHLY;BYHOUR=9',
        '      anchor: 2026-01-01',
        '    - { id: review, title: Review, reference: A.5.18, every: 3 months }',
        '    - { id: review, title: R, reference: A.5.18, owner: o, every: 1 year, anchor: 2026-01-01 }',
        '  certification: { issued: 2025-12-01, body: Cert }',
        '',
      ].join('\n'),
    );
    expect(crossChecks).toEqual([
      expect.stringMatching(/^calendar\.activities\[2\]\.id: duplicate activity id "review" \(line 10/),
      expect.stringMatching(/^calendar\.activities\[0\]\.rrule: activity restore-test: BYHOUR is not supported .*\(line 7, column 14\)$/),
      expect.stringMatching(/^calendar\.activities\[1\]\.owner: activity review: owner is required \(or set calendar\.owner\) \(line 9/),
      expect.stringMatching(/^calendar\.activities\[1\]\.anchor: activity review: every needs an anchor date to count from \(line 9/),
      expect.stringMatching(/^calendar\.certification\.owner: the audit cycle needs an owner: set certification\.owner or calendar\.owner \(line 11/),
    ]);
  });

  it('accepts the shipped example, whose calendar runs 36 months ahead', () => {
    const file = fileURLToPath(new URL('../../config/isms.example.yaml', import.meta.url));
    const loaded = parseConfig(readFileSync(file, 'utf8'), file, testRegistries);
    const calendar = resolveCalendar(loaded.config);
    expect(calendar.certification).toMatchObject({ issued: '2025-12-01', body: 'Example Cert GmbH', readinessWeeks: 6 });
    expect(calendar.activities.size).toBe(10 + 1 + 6);
    const occurrences = [...calendar.activities.values()].flatMap((activity) =>
      planOccurrences(activity, { from: Date.parse('2026-11-25'), to: Date.parse('2029-11-25') }),
    );
    expect(occurrences.length).toBe(92);
    expect(new Set(occurrences.map((occurrence) => occurrence.occurrenceId)).size).toBe(occurrences.length);
    expect(occurrences.filter((occurrence) => occurrence.activityId === 'firewall-rule-review').map((occurrence) => occurrence.dueDate)).toEqual([
      '2027-01-31',
      '2027-07-31',
      '2028-01-31',
      '2028-07-31',
      '2029-01-31',
      '2029-07-31',
    ]);
    expect(calendar.changeReview).toMatchObject({ dueInDays: 14, owner: 'isms@example.com' });
  });
});

describe('occurrence planning', () => {
  const monthly = calendarOf({
    owner: 'ops@example.com',
    grace: '14d',
    reminders: ['14d', '7d', '1d', '0d', 'overdue every 7d'],
    activities: [
      {
        id: 'restore-test',
        title: 'Restore test',
        reference: 'A.8.13',
        rrule: 'FREQ=MONTHLY;BYMONTHDAY=-1',
        anchor: '2026-01-01',
        evidence: [{ name: 'report' }],
      },
    ],
  }).activities.get('restore-test')!;

  it('dates one occurrence: id, due in the zone, opening, grace, closing at the next due date, reminders', () => {
    const occurrence = occurrenceOn(monthly, '2026-03-31')!;
    expect(occurrence).toMatchObject({
      occurrenceId: 'activity:restore-test:2026-03-31',
      due: '2026-03-31T07:00:00.000Z',
      dueDate: '2026-03-31',
      timeZone: 'Europe/Berlin',
      // 14 days before 09:00 CEST is 09:00 CET: the opening crosses the DST change at local time.
      opensAt: '2026-03-17T08:00:00.000Z',
      graceUntil: '2026-04-14T07:00:00.000Z',
      closesAt: '2026-04-30T07:00:00.000Z',
      evidence: [{ name: 'report', required: true }],
    });
    expect(occurrence.reminders).toEqual([
      { at: '2026-03-24T08:00:00.000Z', kind: 'reminder', label: 'due in 7 days' },
      { at: '2026-03-30T07:00:00.000Z', kind: 'reminder', label: 'due in 1 day' },
      { at: '2026-03-31T07:00:00.000Z', kind: 'due', label: 'due today' },
      { at: '2026-04-07T07:00:00.000Z', kind: 'overdue', label: 'overdue by 7 days' },
      // Day 14 is the end of grace, where the missed notice speaks; day 35 would be after April's due date.
      { at: '2026-04-21T07:00:00.000Z', kind: 'overdue', label: 'overdue by 21 days' },
      { at: '2026-04-28T07:00:00.000Z', kind: 'overdue', label: 'overdue by 28 days' },
    ]);
    expect(occurrenceOn(monthly, '2026-03-30')).toBeUndefined();
    expect(parseOccurrenceId(occurrence.occurrenceId)).toEqual({ activityId: 'restore-test', dueDate: '2026-03-31' });
    expect(parseOccurrenceId('control:x:2026-01-01')).toBeUndefined();
  });

  it('reads ladders: before, on the day, once overdue, repeatedly overdue', () => {
    expect(['14d', '0d', 'overdue 3d', 'overdue every 7d', 'overdue 0d', 'later'].map(parseRung)).toEqual([
      { when: 'before', span: { amount: 14, unit: 'day' } },
      { when: 'before', span: { amount: 0, unit: 'day' } },
      { when: 'overdue', span: { amount: 3, unit: 'day' } },
      { when: 'overdue-every', span: { amount: 7, unit: 'day' } },
      undefined,
      undefined,
    ]);
    const due = Date.parse('2026-06-01T07:00:00Z');
    const { opensAt, reminders } = ladderOf([parseRung('2h')!, parseRung('overdue 1d')!], due, due + 3 * DAY, due + 30 * DAY, 'Europe/Berlin');
    expect(new Date(opensAt).toISOString()).toBe('2026-06-01T05:00:00.000Z');
    expect(reminders).toEqual([{ at: '2026-06-02T07:00:00.000Z', kind: 'overdue', label: 'overdue by 1 day' }]);
  });

  it('opens what is open by the firing: not-yet-due occurrences, or past-due ones opened within the lookback', () => {
    const ids = (firedAt: string, lookbackDays: number) =>
      occurrencesToOpen(monthly, Date.parse(firedAt), lookbackDays * DAY).map((occurrence) => occurrence.occurrenceId);
    expect(ids('2026-03-17T08:00:00Z', 2)).toEqual(['activity:restore-test:2026-03-31']);
    expect(ids('2026-03-16T08:00:00Z', 2)).toEqual([]);
    // A first deployment on Apr 5 leaves March's past-due occurrence alone (it opened long before) and April's is not open yet.
    expect(ids('2026-04-05T08:00:00Z', 2)).toEqual([]);
    // A worker that was down two days catches up on the one that opened meanwhile.
    expect(ids('2026-04-17T08:00:00Z', 2)).toEqual(['activity:restore-test:2026-04-30']);
    expect(ids('2026-04-18T08:00:00Z', 2)).toEqual(['activity:restore-test:2026-04-30']);
  });

  it('plans a change review due N days after the change, at the due time in the zone', () => {
    const calendar = calendarOf({ changeReview: { dueInDays: 14, owner: 'isms@example.com' } });
    const review = planChangeReview(calendar, { id: 'CHG-0007', title: 'New payment provider' }, Date.parse('2026-11-25T16:30:00Z'));
    expect(review).toMatchObject({
      occurrenceId: 'activity:change-review-chg-0007:2026-12-09',
      activityId: 'change-review-chg-0007',
      origin: 'change',
      title: 'Change review CHG-0007: New payment provider',
      reference: '6.3',
      owner: 'isms@example.com',
      due: '2026-12-09T08:00:00.000Z',
      evidence: [{ name: 'change impact assessment', required: true }],
    });
    expect(planChangeReview(calendar, { id: 'CHG-0008', title: 'x' }, Date.parse('2026-11-25T16:30:00Z'), 3).dueDate).toBe('2026-11-28');
    expect(() => planChangeReview(calendarOf({}), { id: 'CHG-1', title: 'x' }, 0)).toThrow(/changeReview is not configured/);
  });
});
