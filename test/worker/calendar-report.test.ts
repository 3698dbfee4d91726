import { describe, expect, it } from 'vitest';
import { CalendarConfig, resolveCalendar } from '../../config/calendar.ts';
import { planOccurrences } from '../../config/calendar-plan.ts';
import { scheduleTimes } from '../../config/schedule-occurrences.ts';
import type { RecordedOccurrence } from '../../evidence/calendar-store.ts';
import { activityCoverage, calendarRows, controlCoverage } from '../../worker/calendar-report.ts';

const YEAR = { from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2027-01-01T00:00:00Z') };
const NOW = Date.parse('2026-12-20T00:00:00Z');

const quarterly = resolveCalendar({
  timezone: 'UTC',
  calendar: CalendarConfig.parse({
    owner: 'it@example.com',
    activities: [
      {
        id: 'access-review',
        title: 'User access review',
        reference: 'A.5.18',
        rrule: 'FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1',
        anchor: '2026-01-01',
        evidence: [{ name: 'record' }],
      },
    ],
  }),
}).activities.get('access-review')!;

function recorded(occurrenceId: string, due: string, status: RecordedOccurrence['status'], extra: Partial<RecordedOccurrence> = {}): RecordedOccurrence {
  return {
    occurrenceId,
    activityId: occurrenceId.split(':')[1]!,
    origin: 'calendar',
    title: 'User access review',
    reference: 'A.5.18',
    owner: 'it@example.com',
    due,
    dueDate: due.slice(0, 10),
    graceUntil: due,
    closesAt: due,
    openedAt: due,
    status,
    expectedEvidence: [],
    completedBy: status === 'done' ? 'it@example.com' : null,
    performedAt: null,
    recordedAt: null,
    late: false,
    note: null,
    evidence: status === 'done' ? [{ name: 'record', evidenceId: `ev-${due.slice(0, 10)}`, sha256: 'a'.repeat(64), uri: 'x' }] : [],
    nonconformityId: status === 'missed' ? 'NC-0001' : null,
    closedAt: null,
    ...extra,
  };
}

describe('expected vs actual', () => {
  it('shows a control quarter without evidence as missing, the others covered, a half-collected one partial', () => {
    const expected = scheduleTimes({ cron: '0 6 1 */3 *' }, 'UTC', YEAR.from, YEAR.to);
    const next = scheduleTimes({ cron: '0 6 1 */3 *' }, 'UTC', YEAR.to, YEAR.to + 400 * 86_400_000)[0];
    const evidence = [
      { id: 'ev-q1-a', controlId: 'backups', sourceName: 'aws', collectedAt: '2026-01-01T06:02:00Z' },
      { id: 'ev-q1-b', controlId: 'backups', sourceName: 'azure', collectedAt: '2026-01-01T06:03:00Z' },
      { id: 'ev-q2-a', controlId: 'backups', sourceName: 'aws', collectedAt: '2026-04-01T06:02:00Z' },
      { id: 'ev-q2-b', controlId: 'backups', sourceName: 'azure', collectedAt: '2026-05-20T10:00:00Z' },
      // Q3: nothing. Q4: only one of the two sources, and the window is closed only after Jan 1.
      { id: 'ev-q4-a', controlId: 'backups', sourceName: 'aws', collectedAt: '2026-10-01T06:02:00Z' },
      { id: 'ev-other', controlId: 'other', sourceName: 'aws', collectedAt: '2026-07-01T06:02:00Z' },
    ];
    const summary = controlCoverage({ id: 'backups', title: 'Backups', sources: ['aws', 'azure'], expected, next }, evidence, NOW);
    expect(summary.occurrences.map((occurrence) => [occurrence.expected.slice(0, 10), occurrence.status, occurrence.evidenceIds])).toEqual([
      ['2026-01-01', 'covered', ['ev-q1-a', 'ev-q1-b']],
      ['2026-04-01', 'covered', ['ev-q2-a', 'ev-q2-b']],
      ['2026-07-01', 'missing', []],
      ['2026-10-01', 'partial', ['ev-q4-a']],
    ]);
    expect(summary).toMatchObject({ expected: 4, satisfied: 2, gaps: ['2026-07-01T06:00:00.000Z', '2026-10-01T06:00:00.000Z'] });
    // Still collecting: an occurrence whose window is open and has nothing yet is pending, not missing.
    const early = controlCoverage(
      { id: 'backups', title: 'Backups', sources: ['aws'], expected: [Date.parse('2026-12-19T06:00:00Z')], next: Date.parse('2026-12-26T06:00:00Z') },
      [],
      NOW,
    );
    expect(early.occurrences[0]!.status).toBe('pending');
    expect(early.gaps).toEqual([]);
  });

  it('shows an activity quarter that was missed, one done late, one not recorded at all', () => {
    const planned = planOccurrences(quarterly, YEAR);
    const rows = [
      recorded('activity:access-review:2026-03-31', '2026-03-31T09:00:00.000Z', 'done'),
      recorded('activity:access-review:2026-06-30', '2026-06-30T09:00:00.000Z', 'missed'),
      recorded('activity:access-review:2026-09-30', '2026-09-30T09:00:00.000Z', 'done', { late: true }),
    ];
    const summary = activityCoverage(quarterly, planned, rows, NOW);
    expect(summary.occurrences.map((occurrence) => [occurrence.expected.slice(0, 10), occurrence.status, occurrence.evidenceIds])).toEqual([
      ['2026-03-31', 'done', ['ev-2026-03-31']],
      ['2026-06-30', 'missed', []],
      ['2026-09-30', 'done-late', ['ev-2026-09-30']],
      ['2026-12-31', 'unrecorded', []],
    ]);
    expect(summary).toMatchObject({ expected: 4, satisfied: 2, gaps: ['2026-06-30T09:00:00.000Z', '2026-12-31T09:00:00.000Z'] });
  });

  it('merges the calendar: recorded owner and status win over the plan; future occurrences are planned', () => {
    const planned = planOccurrences(quarterly, { from: YEAR.from, to: Date.parse('2027-07-01T00:00:00Z') });
    const rows = calendarRows(planned, [recorded('activity:access-review:2026-12-31', '2026-12-31T09:00:00.000Z', 'open', { owner: 'dba@example.com' })], NOW);
    expect(rows.slice(3).map((row) => [row.occurrenceId, row.owner, row.status])).toEqual([
      ['activity:access-review:2026-12-31', 'dba@example.com', 'open'],
      ['activity:access-review:2027-03-31', 'it@example.com', 'planned'],
      ['activity:access-review:2027-06-30', 'it@example.com', 'planned'],
    ]);
    const overdue = calendarRows([], [recorded('activity:access-review:2026-12-31', '2026-12-31T09:00:00.000Z', 'open')], Date.parse('2027-01-02T00:00:00Z'));
    expect(overdue[0]!.status).toBe('overdue');
  });
});
