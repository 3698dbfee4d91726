import type { RecordedOccurrence } from '../evidence/calendar-store.ts';
import type { ActivityOccurrence } from '../core/calendar-contracts.ts';

/*
 * What the calendar shows and what the auditor asks: occurrences with their status, and expected versus actual
 * for controls and activities over a period. Pure: the CLI passes in config, catalog rows and the time.
 */

/** planned: not yet open; unrecorded: its time passed but no workflow recorded it (before deployment, or a lost firing). */
export type OccurrenceStatus = 'planned' | 'open' | 'overdue' | 'missed' | 'done' | 'done-late' | 'unrecorded';

export interface CalendarRow {
  occurrenceId: string;
  activityId: string;
  activity: string;
  reference: string;
  owner: string;
  due: string;
  dueDate: string;
  status: OccurrenceStatus;
  completedBy?: string;
  nonconformityId?: string;
}

/** Planned occurrences merged with what the catalog recorded (owner changes, completions, change reviews), due order. */
export function calendarRows(planned: readonly ActivityOccurrence[], recorded: readonly RecordedOccurrence[], now: number): CalendarRow[] {
  const byId = new Map<string, CalendarRow>();
  for (const occurrence of planned) {
    const opensAt = Date.parse(occurrence.opensAt);
    byId.set(occurrence.occurrenceId, {
      occurrenceId: occurrence.occurrenceId,
      activityId: occurrence.activityId,
      activity: occurrence.title,
      reference: occurrence.reference,
      owner: occurrence.owner,
      due: occurrence.due,
      dueDate: occurrence.dueDate,
      status: opensAt > now ? 'planned' : 'unrecorded',
    });
  }
  for (const occurrence of recorded) {
    byId.set(occurrence.occurrenceId, {
      occurrenceId: occurrence.occurrenceId,
      activityId: occurrence.activityId,
      activity: occurrence.title,
      reference: occurrence.reference,
      owner: occurrence.owner,
      due: occurrence.due,
      dueDate: occurrence.dueDate,
      status: statusOf(occurrence, now),
      ...(occurrence.completedBy ? { completedBy: occurrence.completedBy } : {}),
      ...(occurrence.nonconformityId ? { nonconformityId: occurrence.nonconformityId } : {}),
    });
  }
  return [...byId.values()].sort((a, b) => a.due.localeCompare(b.due) || a.occurrenceId.localeCompare(b.occurrenceId));
}

export function statusOf(occurrence: RecordedOccurrence, now: number): OccurrenceStatus {
  if (occurrence.status === 'done') return occurrence.late ? 'done-late' : 'done';
  if (occurrence.status === 'missed') return 'missed';
  return Date.parse(occurrence.due) <= now ? 'overdue' : 'open';
}

// ---------------------------------------------------------------------------------------------------------------
// Expected versus actual

export type ExpectedStatus = 'covered' | 'partial' | 'missing' | 'pending' | 'not-due' | OccurrenceStatus;

export interface ExpectedOccurrence {
  kind: 'control' | 'activity';
  id: string;
  title: string;
  expected: string;
  /** A control's evidence for this occurrence may be collected until the next expected one. */
  windowEnd?: string;
  status: ExpectedStatus;
  evidenceIds: string[];
}

export interface CoverageSummary {
  kind: 'control' | 'activity';
  id: string;
  title: string;
  expected: number;
  satisfied: number;
  /** Expected occurrences whose time has passed without evidence or completion. */
  gaps: string[];
  occurrences: ExpectedOccurrence[];
  /** Set when the schedule could not be expanded: coverage cannot be told. */
  error?: string;
}

export interface ControlExpectation {
  id: string;
  title: string;
  sources: string[];
  /** Expected fire times in the period, ascending, and the first one after it (it closes the last window). */
  expected: number[];
  next?: number;
  error?: string;
}

export interface EvidenceSighting {
  id: string;
  controlId: string;
  sourceName: string;
  collectedAt: string;
}

/**
 * A control's expected occurrences and the evidence each produced: evidence collected in [expected, next expected)
 * belongs to that occurrence; covered when every source has some, partial when some do, missing when none and the
 * window has closed, pending while it is still open.
 */
export function controlCoverage(control: ControlExpectation, evidence: readonly EvidenceSighting[], now: number): CoverageSummary {
  const own = evidence.filter((row) => row.controlId === control.id);
  const occurrences = control.expected.map((time, index): ExpectedOccurrence => {
    const end = control.expected[index + 1] ?? control.next ?? Number.POSITIVE_INFINITY;
    const inWindow = own.filter((row) => Date.parse(row.collectedAt) >= time && Date.parse(row.collectedAt) < end);
    const sources = new Set(inWindow.map((row) => row.sourceName));
    const covered = control.sources.length > 0 ? control.sources.every((source) => sources.has(source)) : inWindow.length > 0;
    const status: ExpectedStatus = time > now ? 'not-due' : covered ? 'covered' : sources.size > 0 ? 'partial' : end <= now ? 'missing' : 'pending';
    return {
      kind: 'control',
      id: control.id,
      title: control.title,
      expected: new Date(time).toISOString(),
      ...(Number.isFinite(end) ? { windowEnd: new Date(end).toISOString() } : {}),
      status,
      evidenceIds: inWindow.map((row) => row.id),
    };
  });
  return summarize('control', control.id, control.title, occurrences, control.error);
}

/** An activity's planned occurrences in the period and what became of each. */
export function activityCoverage(
  activity: { id: string; title: string },
  planned: readonly ActivityOccurrence[],
  recorded: readonly RecordedOccurrence[],
  now: number,
): CoverageSummary {
  const rows = calendarRows(
    planned.filter((occurrence) => occurrence.activityId === activity.id),
    recorded.filter((occurrence) => occurrence.activityId === activity.id),
    now,
  );
  const occurrences = rows.map((row): ExpectedOccurrence => ({
    kind: 'activity',
    id: activity.id,
    title: activity.title,
    expected: row.due,
    status: row.status,
    evidenceIds: (recorded.find((occurrence) => occurrence.occurrenceId === row.occurrenceId)?.evidence ?? []).flatMap((item) =>
      'evidenceId' in item ? [item.evidenceId] : [],
    ),
  }));
  return summarize('activity', activity.id, activity.title, occurrences);
}

const SATISFIED: readonly ExpectedStatus[] = ['covered', 'done', 'done-late'];
const GAP: readonly ExpectedStatus[] = ['missing', 'partial', 'missed', 'unrecorded', 'overdue'];

function summarize(kind: 'control' | 'activity', id: string, title: string, occurrences: ExpectedOccurrence[], error?: string): CoverageSummary {
  return {
    kind,
    id,
    title,
    expected: occurrences.length,
    satisfied: occurrences.filter((occurrence) => SATISFIED.includes(occurrence.status)).length,
    gaps: occurrences.filter((occurrence) => GAP.includes(occurrence.status)).map((occurrence) => occurrence.expected),
    occurrences,
    ...(error ? { error } : {}),
  };
}
