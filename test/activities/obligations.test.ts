import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { OccurrenceWorkflows } from '../../activities/deps.ts';
import {
  completeObligation,
  describeOutcome,
  namedEvidence,
  occurrenceForRecord,
  periodStartOf,
  reviewPeriodBounds,
  risksUnreviewed,
  type ObligationRecord,
} from '../../activities/obligations.ts';
import { resolveCalendar } from '../../config/calendar.ts';
import { planOccurrences } from '../../config/calendar-plan.ts';
import { CalendarStore, type RecordedOccurrence } from '../../evidence/calendar-store.ts';
import type { ActivityOccurrence } from '../../core/calendar-contracts.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';

const ZONE = 'Europe/Berlin';
const dir = mkdtempSync(path.join(tmpdir(), 'isms-obligations-'));
let runtime: Runtime;
let planned: ActivityOccurrence[];

/** Temporal must not be asked when the catalog already answers: any use of the occurrences' workflows fails the test. */
const untouchable: OccurrenceWorkflows = {
  start: (occurrence) => Promise.reject(new Error(`Temporal asked to start ${occurrence.occurrenceId}`)),
  complete: (occurrenceId) => Promise.reject(new Error(`Temporal asked to complete ${occurrenceId}`)),
};

beforeAll(async () => {
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      timezone: ZONE,
      calendar: {
        owner: 'isms@example.com',
        activities: [
          // The shipped access review: the last day of each quarter.
          {
            id: 'access-review',
            title: 'User access review',
            reference: 'A.5.18',
            rrule: 'FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1',
            anchor: '2026-01-01',
            evidence: [{ name: 'access review record' }],
          },
          {
            id: 'risk-assessment-review',
            title: 'Risk assessment review',
            reference: '8.2',
            every: '1 year',
            anchor: '2026-03-31',
            evidence: [{ name: 'risk register' }, { name: 'risk treatment plan' }],
          },
        ],
      },
    }),
  );
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
  planned = planOccurrences(resolveCalendar(runtime.config.config).activities.get('access-review')!, {
    from: Date.parse('2026-01-01T00:00:00Z'),
    to: Date.parse('2027-06-01T00:00:00Z'),
  });
});
afterAll(async () => {
  await runtime.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const recordedOf = (occurrence: ActivityOccurrence, change: Partial<RecordedOccurrence> = {}): RecordedOccurrence => ({
  occurrenceId: occurrence.occurrenceId,
  activityId: occurrence.activityId,
  origin: occurrence.origin,
  title: occurrence.title,
  reference: occurrence.reference,
  owner: occurrence.owner,
  due: occurrence.due,
  dueDate: occurrence.dueDate,
  graceUntil: occurrence.graceUntil,
  closesAt: occurrence.closesAt,
  openedAt: occurrence.opensAt,
  status: 'open',
  expectedEvidence: occurrence.evidence,
  completedBy: null,
  performedAt: null,
  recordedAt: null,
  late: false,
  note: null,
  evidence: [],
  nonconformityId: null,
  closedAt: null,
  ...change,
});
const id = (dueDate: string) => `activity:access-review:${dueDate}`;
const q4 = () => reviewPeriodBounds('2026-Q4', ZONE)!;

describe('the occurrence a record completes', () => {
  it("takes the occurrence due in the record's period, even when another is due nearer to when it was made", () => {
    // Closed on Oct 15: Sep 30 is nearer, but the Q4 campaign is the Q4 review.
    expect(occurrenceForRecord(planned, [], { period: q4(), performedAt: '2026-10-15T10:00:00.000Z' })?.occurrenceId).toBe(id('2026-12-31'));
    // A Q3 campaign closed late, in October, is still Q3's review: late.
    expect(occurrenceForRecord(planned, [], { period: reviewPeriodBounds('2026-Q3', ZONE), performedAt: '2026-10-02T10:00:00.000Z' })?.occurrenceId).toBe(
      id('2026-09-30'),
    );
  });

  it("returns the period's occurrence as done when a person completed it, so it is not completed twice", () => {
    const done = recordedOf(
      planned.find((occurrence) => occurrence.dueDate === '2026-12-31')!,
      { status: 'done', completedBy: 'it-lead@example.com' },
    );
    const found = occurrenceForRecord(planned, [done], { period: q4(), performedAt: '2026-10-15T10:00:00.000Z' });
    expect(found?.recorded).toMatchObject({ occurrenceId: id('2026-12-31'), status: 'done' });
  });

  it('without a period (or none due in it), takes the occurrence due nearest that still takes a completion, or was completed', () => {
    expect(occurrenceForRecord(planned, [], { performedAt: '2026-10-10T10:00:00.000Z' })?.occurrenceId).toBe(id('2026-09-30'));
    const sep = recordedOf(
      planned.find((occurrence) => occurrence.dueDate === '2026-09-30')!,
      { status: 'done', closedAt: '2026-09-29T10:00:00.000Z' },
    );
    // Ten days after September's was done, the record is September's again (already done), not December's early.
    expect(occurrenceForRecord(planned, [sep], { performedAt: '2026-10-10T10:00:00.000Z' })?.recorded?.status).toBe('done');
    expect(occurrenceForRecord(planned, [sep], { performedAt: '2026-11-20T10:00:00.000Z' })?.occurrenceId).toBe(id('2026-12-31'));
    // A monthly period with no quarter end in it falls back to the nearest.
    expect(occurrenceForRecord(planned, [sep], { period: reviewPeriodBounds('2026-11', ZONE), performedAt: '2026-11-20T10:00:00.000Z' })?.occurrenceId).toBe(
      id('2026-12-31'),
    );
    // One whose workflow closed it (missed) takes nothing, and one past its closing neither.
    const dec = recordedOf(
      planned.find((occurrence) => occurrence.dueDate === '2026-12-31')!,
      { status: 'missed', closedAt: '2027-03-20T00:00:00.000Z' },
    );
    expect(occurrenceForRecord(planned, [sep, dec], { performedAt: '2027-03-20T10:00:00.000Z' })?.occurrenceId).toBe(id('2027-03-31'));
  });

  it('takes an occurrence a person names as it is', () => {
    expect(occurrenceForRecord(planned, [], { occurrenceId: id('2027-03-31'), performedAt: '2026-10-10T10:00:00.000Z' })?.occurrenceId).toBe(id('2027-03-31'));
    expect(occurrenceForRecord(planned, [], { occurrenceId: 'activity:access-review:2026-10-01', performedAt: '2026-10-10T10:00:00.000Z' })).toBeUndefined();
  });
});

describe('review periods', () => {
  it('span the local days of the config zone, as reviewPeriodOf names them', () => {
    expect(reviewPeriodBounds('2026-Q4', ZONE)).toEqual({ from: '2026-09-30T22:00:00.000Z', to: '2026-12-31T23:00:00.000Z' });
    expect(reviewPeriodBounds('2026-H1', ZONE)).toEqual({ from: '2025-12-31T23:00:00.000Z', to: '2026-06-30T22:00:00.000Z' });
    expect(reviewPeriodBounds('2026-02', 'UTC')).toEqual({ from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' });
    expect(reviewPeriodBounds('2026', 'UTC')).toEqual({ from: '2026-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
    expect(reviewPeriodBounds('2026-12-31', 'UTC')).toEqual({ from: '2026-12-31T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
    expect(reviewPeriodBounds('Q4-2026', 'UTC')).toBeUndefined();
  });
});

describe('evidence names', () => {
  it('gives unnamed items the required names not given, in the calendar order, and says which are still missing', () => {
    const expected = [
      { name: 'risk register', required: true },
      { name: 'risk treatment plan', required: true },
      { name: 'notes', required: false },
    ];
    expect(namedEvidence(expected, [{ evidenceId: 'a' }, { name: 'notes', evidenceId: 'b' }])).toEqual({
      named: [
        { name: 'risk register', evidenceId: 'a' },
        { name: 'notes', evidenceId: 'b' },
      ],
      missing: ['risk treatment plan'],
    });
    expect(namedEvidence(expected, [{ name: 'risk treatment plan', evidenceId: 'a' }, { evidenceId: 'b' }]).missing).toEqual([]);
  });
});

describe('completing from the catalog alone', () => {
  const record = (change: Partial<ObligationRecord>): ObligationRecord => ({
    activityId: 'access-review',
    performedAt: '2026-10-15T10:00:00.000Z',
    by: 'isms-worker',
    note: 'n',
    evidence: [],
    ...change,
  });

  it('does nothing for an activity the calendar does not have', async () => {
    expect(
      await completeObligation({ config: runtime.config, store: runtime.store, occurrences: untouchable }, record({ activityId: 'management-review' })),
    ).toEqual({ outcome: 'no-activity', activityId: 'management-review' });
  });

  it('leaves an occurrence a person completed, and one that closed, without asking Temporal', async () => {
    const calendar = new CalendarStore(runtime.store.catalog);
    const dec = planned.find((occurrence) => occurrence.dueDate === '2026-12-31')!;
    await calendar.open(dec, dec.opensAt);
    await calendar.complete({
      occurrenceId: dec.occurrenceId,
      by: 'it-lead@example.com',
      performedAt: '2026-12-20T10:00:00.000Z',
      recordedAt: '2026-12-20T10:00:00.000Z',
      late: false,
      evidence: [{ name: 'access review record', link: 'https://example.com/r' }],
    });
    expect(await completeObligation({ config: runtime.config, store: runtime.store, occurrences: untouchable }, record({ period: q4() }))).toEqual({
      outcome: 'already-done',
      occurrenceId: dec.occurrenceId,
      completedBy: 'it-lead@example.com',
    });

    const sep = planned.find((occurrence) => occurrence.dueDate === '2026-09-30')!;
    await calendar.open(sep, sep.opensAt);
    await calendar.close(sep.occurrenceId, sep.closesAt);
    expect(
      await completeObligation(
        { config: runtime.config, store: runtime.store, occurrences: untouchable },
        record({ period: reviewPeriodBounds('2026-Q3', ZONE) }),
      ),
    ).toEqual({ outcome: 'closed', occurrenceId: sep.occurrenceId });
  });

  it('does not start an occurrence no workflow opened once it has closed', async () => {
    // Q1 2026's review (due Mar 31) closed when Q2's came due, on Jun 30.
    const outcome = await completeObligation(
      { config: runtime.config, store: runtime.store, occurrences: untouchable },
      record({ period: reviewPeriodBounds('2026-Q1', ZONE), performedAt: '2026-07-15T10:00:00.000Z' }),
    );
    expect(outcome).toEqual({ outcome: 'closed', occurrenceId: id('2026-03-31') });
  });

  it('hands an occurrence that expects evidence the record does not bring to a person', async () => {
    const outcome = await completeObligation(
      { config: runtime.config, store: runtime.store, occurrences: untouchable },
      record({ activityId: 'risk-assessment-review', performedAt: '2026-03-20T10:00:00.000Z', evidence: [{ evidenceId: 'ev-1' }] }),
    );
    expect(outcome).toEqual({ outcome: 'needs-person', occurrenceId: 'activity:risk-assessment-review:2026-03-31', missing: ['risk treatment plan'] });
  });

  it('refuses an occurrence a person names that is not one of the activity', async () => {
    await expect(
      completeObligation(
        { config: runtime.config, store: runtime.store, occurrences: untouchable },
        record({ occurrenceId: 'activity:access-review:2026-10-01' }),
      ),
    ).rejects.toThrow('activity:access-review:2026-10-01 is not an occurrence of calendar activity access-review');
  });
});

describe('the period a risk register is judged in', () => {
  it('begins at the due time of the occurrence before; the first planned one takes a period as long as the next', () => {
    const due = (date: string) => ({ due: `${date}T21:59:00.000Z` }) as ActivityOccurrence;
    const list = [due('2025-03-31'), due('2026-03-31'), due('2027-03-31')];
    const at = (date: string) => Date.parse(`${date}T21:59:00.000Z`);
    expect(periodStartOf(list, { due: at('2027-03-31'), closesAt: at('2028-03-31') })).toBe(at('2026-03-31'));
    expect(periodStartOf(list, { due: at('2025-03-31'), closesAt: at('2026-03-31') })).toBe(at('2024-03-31'));
  });

  it('counts a risk as reviewed only when its last review lies within the period and not after the snapshot', () => {
    const since = Date.parse('2026-03-31T00:00:00.000Z');
    const until = Date.parse('2026-11-01T00:00:00.000Z');
    const risks = [
      { id: 'R-1', lastReviewAt: '2026-06-15T00:00:00.000Z' },
      { id: 'R-2', lastReviewAt: null },
      { id: 'R-3', lastReviewAt: '2026-03-30T00:00:00.000Z' },
      { id: 'R-4', lastReviewAt: '2026-03-31T00:00:00.000Z' },
      { id: 'R-5', lastReviewAt: '2026-11-02T00:00:00.000Z' },
    ];
    expect(risksUnreviewed(risks, since, until)).toEqual(['R-2', 'R-3', 'R-5']);
  });
});

describe('describeOutcome of a risk register that does not complete the review', () => {
  it('names the unreviewed risks and the period, or says the register is empty', () => {
    const occurrenceId = 'activity:risk-assessment-review:2027-03-31';
    expect(
      describeOutcome({ outcome: 'risks-unreviewed', occurrenceId, since: '2026-03-31T21:59:00.000Z', unreviewed: ['R-2', 'R-7'], risks: 9 }, 'the register'),
    ).toBe(`${occurrenceId}: 2 of 9 risk(s) not reviewed since 2026-03-31 (R-2, R-7); left open for a person to complete`);
    expect(describeOutcome({ outcome: 'risks-unreviewed', occurrenceId, since: '2026-03-31T21:59:00.000Z', unreviewed: [], risks: 0 }, 'the register')).toBe(
      `${occurrenceId}: the risk register holds no risks; left open for a person to complete`,
    );
  });
});
