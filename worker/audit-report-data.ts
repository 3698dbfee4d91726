import type { z } from 'zod';
import { leaverStillActive } from '../checks/leaver-still-active.ts';
import { vulnerabilitySla } from '../checks/vulnerability-sla.ts';
import { addDays, addMonthsClamped, fromZoned, toZoned, weekdayOf, type LocalDate } from '../core/calendar-occurrences.ts';
import { planOccurrences } from '../config/calendar-plan.ts';
import { catalogOf, ISO_27001, type Framework } from '../config/frameworks/catalog.ts';
import { referencesIn } from '../config/frameworks/crosswalk.ts';
import type { LoadedConfig } from '../config/load.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import type { EvidenceRow } from '../evidence/evidence-row.ts';
import { FindingLedger } from '../evidence/finding-ledger.ts';
import { LeaverClock } from '../evidence/leaver-clock.ts';
import { Severity } from '../core/records.ts';
import type { NonconformityStatus } from '../core/nonconformity.ts';
import {
  BEING_WORKED_ON,
  type AuditDate,
  type AuditReportData,
  type CellState,
  type ControlStatusRow,
  type FrameworkGroup,
  type HeatmapCell,
  type HeatmapColumn,
  type HeatmapRow,
  type LeaverSystemRow,
  type NonconformityLogEntry,
  type RemediationStats,
} from './audit-report.ts';
import {
  calendarRows,
  type CalendarRow,
  type CoverageSummary,
  type ExpectedOccurrence,
  type ExpectedStatus,
  type OccurrenceStatus,
} from './calendar-report.ts';
import { calendarOf, calendarView, coverageOf } from './calendar.ts';
import type { Runtime } from './runtime.ts';

/*
 * What the audit-readiness report shows, gathered from the config and the catalog. Expected-versus-present comes
 * from the same coverage the `isms calendar coverage` command prints, bucketed into ISO weeks or months of the
 * config's time zone (not v_evidence_coverage, whose %W weeks are not ISO weeks and which knows no schedule).
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Longer periods get a column per month: 53 week columns stop being readable on a page. */
const MAX_WEEK_COLUMNS_PERIOD = 26 * 7 * DAY_MS;
const UPCOMING_MS = 90 * DAY_MS;

const AWAITING_VERIFICATION: readonly NonconformityStatus[] = ['no-longer-observed', 'verified'];

const SATISFIED: readonly ExpectedStatus[] = ['covered', 'done', 'done-late'];
const PARTIAL: readonly ExpectedStatus[] = ['partial'];
const MISSING: readonly ExpectedStatus[] = ['missing', 'missed', 'overdue', 'unrecorded'];

const AUDITS = ['surveillance-audit-1', 'surveillance-audit-2', 'recertification-audit'] as const;

export type ReportRuntime = Pick<Runtime, 'config' | 'store' | 'register'>;

/** Everything the report shows for the period [from, to), as of `now`, its controls labelled with the ids of `framework`. */
export async function gatherAuditReport(
  runtime: ReportRuntime,
  range: { from: number; to: number },
  now: number,
  framework: Framework = ISO_27001,
): Promise<AuditReportData> {
  const loaded = runtime.config;
  const zone = loaded.config.timezone;
  const columns = columnsOf(range, zone);
  const coverage = await coverageOf(runtime, range, now);
  const evidenceByControl = new Map<string, EvidenceRow[]>();
  for (const id of loaded.controls.keys()) evidenceByControl.set(id, await runtime.store.list({ controlId: id }));
  const calendarStore = new CalendarStore(runtime.store.catalog);

  const rows: HeatmapRow[] = [];
  const activitiesWithoutOccurrences: string[] = [];
  for (const summary of coverage) {
    if (summary.kind === 'activity' && summary.occurrences.length === 0) {
      activitiesWithoutOccurrences.push(summary.id);
      continue;
    }
    const present =
      summary.kind === 'control'
        ? (evidenceByControl.get(summary.id) ?? []).map((row) => row.collectedAt)
        : (await calendarStore.list({ activityId: summary.id })).flatMap((occurrence) =>
            occurrence.status === 'done' && occurrence.performedAt ? [occurrence.performedAt] : [],
          );
    rows.push({
      kind: summary.kind,
      id: summary.id,
      title: summary.title,
      ...(summary.kind === 'control' && loaded.controls.get(summary.id)?.control.paused ? { paused: true } : {}),
      ...(summary.error ? { error: summary.error } : {}),
      cells: columns.map((column) => cellOf(summary, column, present, now)),
    });
  }

  const inPeriod = await calendarView(runtime, range, now);
  const counts: Partial<Record<OccurrenceStatus, number>> = {};
  for (const row of inPeriod) counts[row.status] = (counts[row.status] ?? 0) + 1;

  const controls = await controlStatus(runtime, coverage, evidenceByControl, range, framework);
  return {
    organisation: loaded.config.organisation ?? null,
    framework: { id: framework, name: catalogOf(framework).name },
    period: { from: iso(range.from), to: iso(range.to), timeZone: zone },
    generatedAt: iso(now),
    certification: await certificationOf(runtime, calendarStore, now),
    heatmap: { unit: byMonth(range) ? 'month' : 'week', columns, rows, activitiesWithoutOccurrences },
    controls,
    byFramework: frameworkGroups(runtime, framework),
    nonconformities: await nonconformityLog(runtime, range),
    remediation: await remediationOf(runtime, range, now),
    leavers: await leaverClockOf(runtime, range, now),
    calendar: { inPeriod, counts, next90Days: await calendarView(runtime, { from: now, to: now + UPCOMING_MS }, now) },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Heatmap

/** ISO weeks (Monday to Sunday) or calendar months of the zone that meet the period, each clipped to it. */
export function columnsOf(range: { from: number; to: number }, zone: string): HeatmapColumn[] {
  const monthly = byMonth(range);
  const first = toZoned(range.from, zone);
  let start: LocalDate = monthly ? { year: first.year, month: first.month, day: 1 } : addDays(first, -((weekdayOf(first) + 6) % 7));
  const columns: HeatmapColumn[] = [];
  for (;;) {
    const startAt = midnight(start, zone);
    if (startAt >= range.to) return columns;
    const next = monthly ? addMonthsClamped(start, 1) : addDays(start, 7);
    const endAt = midnight(next, zone);
    if (endAt > range.from) {
      const label = monthly ? `${start.year}-${String(start.month).padStart(2, '0')}` : isoWeekLabel(start);
      const thursday = addDays(start, 3);
      columns.push({
        label,
        group: monthly ? String(start.year) : `${MONTHS[thursday.month - 1]} ${thursday.year}`,
        short: monthly ? MONTHS[start.month - 1]! : label.slice(-3),
        from: iso(Math.max(startAt, range.from)),
        to: iso(Math.min(endAt, range.to)),
      });
    }
    start = next;
  }
}

function byMonth(range: { from: number; to: number }): boolean {
  return range.to - range.from > MAX_WEEK_COLUMNS_PERIOD;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function midnight(date: LocalDate, zone: string): number {
  return fromZoned({ ...date, hour: 0, minute: 0, second: 0 }, zone);
}

/** ISO 8601: a week belongs to the year of its Thursday and is counted from the week holding that year's first Thursday. */
export function isoWeekLabel(monday: LocalDate): string {
  const thursday = addDays(monday, 3);
  const ordinal = (Date.UTC(thursday.year, thursday.month - 1, thursday.day) - Date.UTC(thursday.year, 0, 1)) / DAY_MS;
  return `${thursday.year}-W${String(Math.floor(ordinal / 7) + 1).padStart(2, '0')}`;
}

function cellOf(summary: CoverageSummary, column: HeatmapColumn, presentAt: readonly string[], now: number): HeatmapCell {
  const from = Date.parse(column.from);
  const to = Date.parse(column.to);
  const within = (at: string) => Date.parse(at) >= from && Date.parse(at) < to;
  const occurrences = summary.occurrences.filter((occurrence) => within(occurrence.expected));
  // An occurrence whose reminders began but that no workflow recorded is not missing before it is due.
  const notDueYet = (occurrence: ExpectedOccurrence) => occurrence.status === 'unrecorded' && Date.parse(occurrence.expected) > now;
  const count = (statuses: readonly ExpectedStatus[]) =>
    occurrences.filter((occurrence) => statuses.includes(occurrence.status) && !notDueYet(occurrence)).length;
  const satisfied = count(SATISFIED);
  const partial = count(PARTIAL);
  const missing = count(MISSING);
  const pending = occurrences.length - satisfied - partial - missing;
  return {
    state: stateOf(summary.error !== undefined, occurrences.length, satisfied, partial, pending),
    expected: occurrences.length,
    satisfied,
    late: count(['done-late']),
    partial,
    missing,
    pending,
    present: presentAt.filter(within).length,
  };
}

function stateOf(unknown: boolean, expected: number, satisfied: number, partial: number, pending: number): CellState {
  if (unknown) return 'unknown';
  if (expected === 0) return 'nothing';
  const due = expected - pending;
  if (due === 0) return 'pending';
  if (satisfied === due) return 'all';
  return satisfied + partial > 0 ? 'some' : 'none';
}

// ---------------------------------------------------------------------------------------------------------------
// Controls and nonconformities

async function controlStatus(
  runtime: ReportRuntime,
  coverage: readonly CoverageSummary[],
  evidenceByControl: ReadonlyMap<string, readonly { collectedAt: string }[]>,
  range: { from: number; to: number },
  framework: Framework,
): Promise<ControlStatusRow[]> {
  const latest = new Map<string, { status: string; evaluated_at: string }>();
  for (const row of await runtime.store.catalog.all<{ control_id: string; status: string; evaluated_at: string }>(
    'SELECT control_id, status, evaluated_at FROM v_control_status ORDER BY control_id',
  )) {
    if (!latest.has(row.control_id)) latest.set(row.control_id, row);
  }
  const nonconformities = await runtime.register.list();
  return [...runtime.config.controls.values()].map(({ control, references }) => {
    const ids = referencesIn(framework, { references });
    const own = nonconformities.filter((nc) => nc.controlId === control.id);
    const evidence = evidenceByControl.get(control.id) ?? [];
    const summary = coverage.find((entry) => entry.kind === 'control' && entry.id === control.id);
    const due = summary?.occurrences.filter((occurrence) => occurrence.status !== 'not-due' && occurrence.status !== 'pending') ?? [];
    const run = latest.get(control.id);
    return {
      id: control.id,
      title: control.title,
      reference: ids.join(', '),
      owner: control.owner,
      paused: control.paused,
      status: run?.status ?? null,
      evaluatedAt: run?.evaluated_at ?? null,
      openNonconformities: own.filter((nc) => BEING_WORKED_ON.includes(nc.status)).length,
      awaitingVerification: own.filter((nc) => AWAITING_VERIFICATION.includes(nc.status)).length,
      lastEvidenceAt: evidence.reduce<string | null>(
        (last, row) => (last === null || Date.parse(row.collectedAt) > Date.parse(last) ? row.collectedAt : last),
        null,
      ),
      snapshotsInPeriod: evidence.filter((row) => Date.parse(row.collectedAt) >= range.from && Date.parse(row.collectedAt) < range.to).length,
      expectedInPeriod: due.length,
      satisfiedInPeriod: due.filter((occurrence) => SATISFIED.includes(occurrence.status)).length,
    } satisfies ControlStatusRow;
  });
}

/** The framework's ids the configured controls address, each with those controls, in the framework's order. */
function frameworkGroups(runtime: ReportRuntime, framework: Framework): FrameworkGroup[] {
  const addressed = [...runtime.config.controls.values()].map((control) => ({ id: control.control.id, ids: referencesIn(framework, control) }));
  return catalogOf(framework).entries.flatMap((entry) => {
    const controls = addressed.filter((control) => control.ids.includes(entry.id)).map((control) => control.id);
    return controls.length > 0 ? [{ id: entry.id, title: entry.title, controls }] : [];
  });
}

/** Every nonconformity that existed during the period: opened before its end and not closed before its start. */
async function nonconformityLog(runtime: ReportRuntime, range: { from: number; to: number }): Promise<NonconformityLogEntry[]> {
  const nonconformities = await runtime.register.list();
  const histories = new Map(await Promise.all(nonconformities.map(async (nc) => [nc.id, await runtime.register.historyOf(nc.id)] as const)));
  return nonconformities.flatMap((nc) => {
    if (Date.parse(nc.firstObserved) >= range.to) return [];
    const history = histories.get(nc.id)!;
    const closedAt = nc.status === 'closed' ? (history.findLast((entry) => entry.toStatus === 'closed')?.at ?? null) : null;
    if (closedAt !== null && Date.parse(closedAt) < range.from) return [];
    return [
      {
        id: nc.id,
        controlId: nc.controlId,
        reference: nc.reference,
        title: nc.title,
        severity: nc.severity,
        status: nc.status,
        firstObserved: nc.firstObserved,
        lastObserved: nc.lastObserved,
        occurrences: nc.occurrences,
        owner: nc.owner,
        rootCause: nc.rootCause,
        correctiveAction: nc.correctiveAction,
        dueDate: nc.dueDate,
        closedAt,
        history,
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Vulnerability remediation and the leaver clock

type SlaDays = z.output<typeof vulnerabilitySla.params>['days'];
type SlaDay = SlaDays[keyof SlaDays];

/**
 * The remediation SLA that applies to a finding: the strictest of the controls that observed it and run
 * vulnerability-sla (controls may set different SLAs, e.g. for internet-facing assets). A finding none of them
 * observed (recorded before the ledger kept controls, or by a control without the check) gets the strictest SLA
 * configured anywhere, and the check's defaults when no control configures one.
 */
function slaResolver(loaded: LoadedConfig): (controls: readonly string[], severity: string) => SlaDay {
  const byControl = new Map<string, SlaDays>();
  for (const control of loaded.controls.values()) {
    for (const entry of control.checks) {
      if (entry.check.id !== vulnerabilitySla.id) continue;
      const days = (entry.params as z.output<typeof vulnerabilitySla.params>).days;
      const known = byControl.get(control.control.id);
      byControl.set(control.control.id, known ? strictest([known, days]) : days);
    }
  }
  const everywhere = byControl.size > 0 ? strictest([...byControl.values()]) : vulnerabilitySla.params.parse({}).days;
  return (controls, severity) => {
    const own = controls.flatMap((id) => byControl.get(id) ?? []);
    return (own.length > 0 ? strictest(own) : everywhere)[severity as keyof SlaDays];
  };
}

/** Per severity, the fewest days any of these SLAs allows; null (no SLA) only where none of them sets one. */
function strictest(slas: readonly SlaDays[]): SlaDays {
  const result = { ...slas[0]! };
  for (const sla of slas.slice(1)) {
    for (const severity of Object.keys(result) as (keyof SlaDays)[]) {
      const a = result[severity];
      const b = sla[severity];
      result[severity] = a === null ? b : b === null ? a : Math.min(a, b);
    }
  }
  return result;
}

async function remediationOf(runtime: ReportRuntime, range: { from: number; to: number }, now: number): Promise<AuditReportData['remediation']> {
  const ledger = new FindingLedger(runtime.store.catalog);
  const slaOf = slaResolver(runtime.config);
  const fixed = (await ledger.remediations()).filter((entry) => Date.parse(entry.fixedAt) >= range.from && Date.parse(entry.fixedAt) < range.to);
  // Open as the period ended: detected before then and not fixed by then.
  const asOf = Math.min(range.to, now);
  const open = (await ledger.list()).filter((entry) => Date.parse(entry.firstSeenAt) < asOf && (entry.fixedAt === null || Date.parse(entry.fixedAt) > asOf));
  const bySeverity = Severity.options.flatMap((severity): RemediationStats[] => {
    const fixedOfSeverity = fixed.filter((entry) => entry.severity === severity);
    const openOfSeverity = open.filter((entry) => entry.severity === severity);
    if (fixedOfSeverity.length === 0 && openOfSeverity.length === 0) return [];
    const withinSla = (days: number, controls: readonly string[]) => {
      const sla = slaOf(controls, severity);
      return sla === null || days <= sla;
    };
    const slas = new Set([...fixedOfSeverity, ...openOfSeverity].map((entry) => slaOf(entry.controls, severity)));
    const sorted = fixedOfSeverity.map((entry) => entry.daysToFix).sort((a, b) => a - b);
    return [
      {
        severity,
        slaDays: [...slas].sort((a, b) => (a ?? Infinity) - (b ?? Infinity)),
        fixed: fixedOfSeverity.length,
        fixedWithinSla: fixedOfSeverity.filter((entry) => withinSla(entry.daysToFix, entry.controls)).length,
        medianDays: median(sorted),
        p90Days: nearestRank(sorted, 0.9),
        maxDays: sorted.at(-1) ?? null,
        open: openOfSeverity.length,
        openPastSla: openOfSeverity.filter((entry) => !withinSla((asOf - Date.parse(entry.firstSeenAt)) / DAY_MS, entry.controls)).length,
      },
    ];
  });
  return { bySeverity, openPastSla: bySeverity.reduce((sum, row) => sum + row.openPastSla, 0) };
}

export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The nearest-rank percentile: a value that occurred, which is what an auditor can look up. */
export function nearestRank(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

async function leaverClockOf(runtime: ReportRuntime, range: { from: number; to: number }, now: number): Promise<AuditReportData['leavers']> {
  const configured = [...runtime.config.controls.values()].flatMap((control) => control.checks).find((entry) => entry.check.id === leaverStillActive.id);
  const slaHours = configured ? (configured.params as z.output<typeof leaverStillActive.params>).slaHours : leaverStillActive.params.parse({}).slaHours;
  const rows = (await new LeaverClock(runtime.store.catalog).list()).filter(
    (row) => Date.parse(row.terminationDate) >= range.from && Date.parse(row.terminationDate) < range.to,
  );
  const systems = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${row.system}\u0000${row.tenant}`;
    systems.set(key, [...(systems.get(key) ?? []), row]);
  }
  const result: LeaverSystemRow[] = [...systems.values()].map((accounts) => {
    const revoked = accounts.filter((row) => row.revokedAfterHours.atMost !== null);
    const later = revoked.filter((row) => row.revokedAfterHours.atMost! > slaHours);
    const usable = accounts.filter((row) => row.revokedAfterHours.atMost === null);
    const max = (values: number[]) => (values.length === 0 ? null : Math.max(...values));
    return {
      system: accounts[0]!.system,
      tenant: accounts[0]!.tenant,
      leavers: new Set(accounts.map((row) => row.employeeId)).size,
      accounts: accounts.length,
      revokedWithinSla: revoked.length - later.length,
      revokedLater: later.length,
      seenUsableAfterSla: later.filter((row) => row.revokedAfterHours.atLeast > slaHours).length,
      stillUsable: usable.length,
      maxHoursToRevoke: max(revoked.map((row) => row.revokedAfterHours.atMost!)),
      longestStillUsableHours: max(usable.map((row) => Math.round(((now - Date.parse(row.terminationDate)) / HOUR_MS) * 10) / 10)),
    };
  });
  return { slaHours, systems: result.sort((a, b) => a.system.localeCompare(b.system) || a.tenant.localeCompare(b.tenant)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Audit cycle

async function certificationOf(runtime: ReportRuntime, store: CalendarStore, now: number): Promise<AuditReportData['certification']> {
  const calendar = calendarOf(runtime);
  const certification = calendar.certification;
  if (!certification) return null;
  const always = { from: -8.64e15, to: 8.64e15 };
  const rowOf = async (activityId: string): Promise<CalendarRow | undefined> => {
    const activity = calendar.activities.get(activityId);
    const planned = activity ? planOccurrences(activity, always) : [];
    const recorded = (await Promise.all(planned.map((occurrence) => store.get(occurrence.occurrenceId)))).filter((occurrence) => occurrence !== undefined);
    return calendarRows(planned, recorded, now)[0];
  };
  const audits: AuditDate[] = [];
  for (const id of AUDITS) {
    const audit = await rowOf(id);
    if (!audit) continue;
    const readiness = await rowOf(`${id}-readiness`);
    audits.push({
      id,
      title: audit.activity,
      due: audit.due,
      status: audit.status,
      readinessDue: readiness?.due ?? null,
      readinessStatus: readiness?.status ?? null,
    });
  }
  return { body: certification.body, issued: certification.issued, expires: certification.expires, audits };
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}
