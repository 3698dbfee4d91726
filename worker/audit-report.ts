import type { Framework } from '../config/frameworks/catalog.ts';
import type { HistoryEntry } from '../evidence/register.ts';
import type { CalendarRow, OccurrenceStatus } from './calendar-report.ts';
import { all, dateIn, el, htmlPage, markup, PAGE_CSP, table, timeIn, type Content, type Markup } from './html.ts';

/*
 * The audit-readiness report: one HTML file an auditor can open offline, print, or keep beside the evidence bundle.
 * Pure: `gatherAuditReport` (audit-report-data.ts) reads the catalog and config; this file only renders. Titles,
 * owners, notes and root causes are typed by people or come from directories, so every value is escaped where it
 * lands, and the page carries a CSP that allows neither script nor any external resource.
 */

/** Nonconformities still being worked on, as v_control_status counts them open. */
export const BEING_WORKED_ON: readonly string[] = ['open', 'root-cause', 'corrective-action'];

/** How a heatmap cell compares expected occurrences with the evidence or completions present. */
export type CellState = 'all' | 'some' | 'none' | 'nothing' | 'pending' | 'unknown';

export interface HeatmapColumn {
  /** `2026-W05` or `2026-01`. */
  label: string;
  /** The month (weeks) or year (months) the column falls in, for the header's upper row. */
  group: string;
  /** `W05` or `Jan`. */
  short: string;
  /** The column's span, clipped to the period; `to` exclusive. */
  from: string;
  to: string;
}

export interface HeatmapCell {
  state: CellState;
  expected: number;
  /** Covered (every source has evidence) or done, on time or late. */
  satisfied: number;
  /** Of the satisfied activities, those completed after their due date. */
  late: number;
  /** Some of a control's sources had evidence, not all. */
  partial: number;
  /** Past and neither covered nor done: missing evidence, missed or overdue activities. */
  missing: number;
  /** Not due yet, or its collection window is still open. */
  pending: number;
  /** Evidence snapshots collected in the column (controls) or completions recorded in it (activities). */
  present: number;
}

export interface HeatmapRow {
  kind: 'control' | 'activity';
  id: string;
  title: string;
  paused?: boolean;
  /** The schedule could not be expanded: coverage cannot be told. */
  error?: string;
  cells: HeatmapCell[];
}

export interface ControlStatusRow {
  id: string;
  title: string;
  /** The control's ids in the report's framework, directly or through the crosswalk. */
  reference: string;
  owner: string;
  paused: boolean;
  /** The latest control run's status, as v_control_status has it; null when the control never ran. */
  status: string | null;
  evaluatedAt: string | null;
  openNonconformities: number;
  awaitingVerification: number;
  lastEvidenceAt: string | null;
  snapshotsInPeriod: number;
  expectedInPeriod: number;
  satisfiedInPeriod: number;
}

export interface NonconformityLogEntry {
  id: string;
  controlId: string;
  reference: string;
  title: string;
  severity: string;
  status: string;
  firstObserved: string;
  lastObserved: string;
  occurrences: number;
  owner: string | null;
  rootCause: string | null;
  correctiveAction: string | null;
  dueDate: string | null;
  closedAt: string | null;
  history: HistoryEntry[];
}

export interface RemediationStats {
  severity: string;
  /** The SLAs (days; null: none) that applied to this severity's findings, fewest first: controls may differ. */
  slaDays: (number | null)[];
  /** Fixed in the period. */
  fixed: number;
  fixedWithinSla: number;
  medianDays: number | null;
  p90Days: number | null;
  maxDays: number | null;
  /** Open at the end of the period (or now, if earlier). */
  open: number;
  openPastSla: number;
}

export interface LeaverSystemRow {
  system: string;
  tenant: string;
  leavers: number;
  accounts: number;
  /** First observed revoked within the SLA: revoked in time for certain. */
  revokedWithinSla: number;
  /** First observed revoked after the SLA: late, or revoked in time but not looked at until later. */
  revokedLater: number;
  /** Of the later ones, found still usable after the SLA: late for certain. */
  seenUsableAfterSla: number;
  stillUsable: number;
  /** Upper bound of the longest time to revoke among revoked accounts. */
  maxHoursToRevoke: number | null;
  /** How long the oldest still-usable account has been usable since termination. */
  longestStillUsableHours: number | null;
}

export interface AuditDate {
  id: string;
  title: string;
  due: string;
  status: OccurrenceStatus;
  readinessDue: string | null;
  readinessStatus: OccurrenceStatus | null;
}

/** One id of the report's framework and the controls that address it. */
export interface FrameworkGroup {
  id: string;
  title: string;
  controls: string[];
}

export interface AuditReportData {
  organisation: string | null;
  /** The framework whose ids label the controls (ISO/IEC 27001:2022 unless another was asked for). */
  framework: { id: Framework; name: string };
  period: { from: string; to: string; timeZone: string };
  generatedAt: string;
  certification: { body: string; issued: string; expires: string; audits: AuditDate[] } | null;
  heatmap: { unit: 'week' | 'month'; columns: HeatmapColumn[]; rows: HeatmapRow[]; activitiesWithoutOccurrences: string[] };
  controls: ControlStatusRow[];
  /** The framework's ids that the configured controls address, in the framework's order. */
  byFramework: FrameworkGroup[];
  nonconformities: NonconformityLogEntry[];
  remediation: { bySeverity: RemediationStats[]; openPastSla: number };
  leavers: { slaHours: number; systems: LeaverSystemRow[] };
  calendar: { inPeriod: CalendarRow[]; counts: Partial<Record<OccurrenceStatus, number>>; next90Days: CalendarRow[] };
}

const days = (value: number | null) => (value === null ? '–' : value.toFixed(1));
const hours = (value: number | null) => (value === null ? '–' : value.toFixed(1));

const STATUS_CLASS: Record<string, string> = {
  pass: 'good',
  done: 'good',
  verified: 'good',
  closed: 'good',
  'done-late': 'warn',
  open: 'neutral',
  planned: 'neutral',
  'no-longer-observed': 'warn',
  'root-cause': 'warn',
  'corrective-action': 'warn',
  fail: 'bad',
  error: 'bad',
  missed: 'bad',
  overdue: 'bad',
  unrecorded: 'bad',
};

/** A status as a coloured label; the management review pack uses the same. */
export const badge = (status: string, label = status) => el('span', { class: `badge ${STATUS_CLASS[status] ?? 'neutral'}` }, label);

export const SEVERITY_CLASS: Record<string, string> = { critical: 'bad', high: 'bad', medium: 'warn', low: 'neutral', info: 'neutral' };

// ---------------------------------------------------------------------------------------------------------------
// Sections

function header(data: AuditReportData): Markup {
  const zone = data.period.timeZone;
  const lastDay = dateIn(new Date(Date.parse(data.period.to) - 1).toISOString(), zone);
  const facts: [string, Content][] = [
    ['Organisation', data.organisation ?? '(not set in the config)'],
    ['Period', `${dateIn(data.period.from, zone)} to ${lastDay} (${zone})`],
    ['Generated', `${timeIn(data.generatedAt, zone)} ${zone}`],
  ];
  const certification = data.certification;
  if (certification) {
    facts.push(['Certification body', certification.body], ['Certificate', `issued ${certification.issued}, expires ${certification.expires}`]);
    for (const audit of certification.audits) {
      facts.push([
        audit.title.replace(/\s*\(.*\)$/, ''),
        all(
          dateIn(audit.due, zone),
          ' ',
          badge(audit.status),
          audit.readinessDue
            ? all(
                markup('<br>'),
                el('span', { class: 'muted' }, `readiness check ${dateIn(audit.readinessDue, zone)}`),
                ' ',
                audit.readinessStatus ? badge(audit.readinessStatus) : '',
              )
            : '',
        ),
      ]);
    }
  } else {
    facts.push(['Certification', el('span', { class: 'muted' }, 'no certification in the calendar config')]);
  }
  return all(
    el('h1', {}, 'Audit readiness', data.organisation ? `: ${data.organisation}` : ''),
    el('dl', { class: 'facts' }, ...facts.map(([term, value]) => all(el('dt', {}, term), el('dd', {}, value)))),
  );
}

function glance(data: AuditReportData): Markup {
  const due = (cell: HeatmapCell) => cell.expected - cell.pending;
  const cells = data.heatmap.rows.flatMap((row) => row.cells);
  const expected = cells.reduce((sum, cell) => sum + due(cell), 0);
  const satisfied = cells.reduce((sum, cell) => sum + cell.satisfied, 0);
  const rowsWithGaps = data.heatmap.rows.filter((row) => row.cells.some((cell) => cell.state === 'none' || cell.state === 'some')).length;
  const openNcs = data.nonconformities.filter((nc) => BEING_WORKED_ON.includes(nc.status)).length;
  const generatedAt = Date.parse(data.generatedAt);
  const missed = data.calendar.inPeriod.filter(
    (row) => row.status === 'missed' || row.status === 'overdue' || (row.status === 'unrecorded' && Date.parse(row.due) <= generatedAt),
  ).length;
  const leaversLate = data.leavers.systems.reduce((sum, row) => sum + row.revokedLater + row.stillUsable, 0);
  const tile = (value: number | string, label: string, bad: boolean) =>
    el('div', { class: `tile ${bad ? 'bad' : 'good'}` }, el('b', {}, value), el('span', {}, label));
  return el(
    'section',
    { class: 'glance' },
    tile(expected === 0 ? '–' : `${satisfied}/${expected}`, 'expected occurrences satisfied', satisfied < expected),
    tile(rowsWithGaps, 'controls and activities with gaps', rowsWithGaps > 0),
    tile(data.nonconformities.length, `nonconformities in the period, ${openNcs} open`, openNcs > 0),
    tile(data.remediation.openPastSla, 'open findings past SLA', data.remediation.openPastSla > 0),
    tile(leaversLate, `leaver accounts revoked after ${data.leavers.slaHours} h or still usable`, leaversLate > 0),
    tile(missed, 'activities missed or overdue', missed > 0),
  );
}

const CELL_MARK: Record<CellState, string> = { all: '✓', some: '◐', none: '✗', nothing: '', pending: '·', unknown: '?' };
const CELL_LABEL: Record<CellState, string> = {
  all: 'all expected present',
  some: 'some present',
  none: 'expected but missing',
  nothing: 'nothing expected',
  pending: 'not due yet',
  unknown: 'cannot tell',
};

const unitOf = (column: HeatmapColumn) => (column.label.includes('-W') ? 'week' : 'month');

function cellTitle(row: HeatmapRow, column: HeatmapColumn, cell: HeatmapCell, zone: string): string {
  const span = `${column.label} (${dateIn(column.from, zone)} to ${dateIn(new Date(Date.parse(column.to) - 1).toISOString(), zone)})`;
  if (cell.state === 'unknown') return `${row.id} ${span}: cannot tell: ${row.error ?? 'schedule not expanded'}`;
  const present =
    row.kind === 'control' ? `${cell.present} snapshots collected in the ${unitOf(column)}` : `${cell.present} completions recorded in the ${unitOf(column)}`;
  const parts = [
    `expected ${cell.expected}`,
    `${row.kind === 'control' ? 'covered' : 'done'} ${cell.satisfied}${cell.late ? ` (${cell.late} late)` : ''}`,
    ...(cell.partial ? [`partial ${cell.partial}`] : []),
    `missing ${cell.missing}`,
    ...(cell.pending ? [`not due yet ${cell.pending}`] : []),
  ];
  return `${row.id} ${span}: ${parts.join(', ')}; ${present}`;
}

function heatmap(data: AuditReportData): Markup {
  const { columns, rows, unit } = data.heatmap;
  const zone = data.period.timeZone;
  const groups: { label: string; span: number }[] = [];
  for (const column of columns) {
    const last = groups.at(-1);
    if (last && last.label === column.group) last.span++;
    else groups.push({ label: column.group, span: 1 });
  }
  const body = (kind: HeatmapRow['kind'], heading: string) => {
    const own = rows.filter((row) => row.kind === kind);
    if (own.length === 0) return markup('');
    return all(
      el('tr', { class: 'group' }, el('th', { colspan: String(columns.length + 1), scope: 'colgroup' }, heading)),
      ...own.map((row) =>
        el(
          'tr',
          { 'data-row': `${row.kind}:${row.id}` },
          el(
            'th',
            { scope: 'row', title: `${row.title} (${row.id})` },
            row.title,
            row.paused ? el('span', { class: 'muted' }, ' (paused)') : '',
            el('small', {}, row.id),
          ),
          ...row.cells.map((cell, index) => el('td', { class: `c-${cell.state}`, title: cellTitle(row, columns[index]!, cell, zone) }, CELL_MARK[cell.state])),
        ),
      ),
    );
  };
  const legend = el(
    'p',
    { class: 'legend' },
    ...(['all', 'some', 'none', 'nothing', 'pending', 'unknown'] as const).map((state) =>
      el('span', {}, el('i', { class: `c-${state}` }, CELL_MARK[state]), CELL_LABEL[state]),
    ),
  );
  const skipped = data.heatmap.activitiesWithoutOccurrences;
  return el(
    'section',
    { id: 'coverage' },
    el('h2', {}, 'Coverage: expected versus present'),
    el(
      'p',
      { class: 'muted' },
      `Per ${unit === 'week' ? 'ISO week' : 'month'}: occurrences expected from each control's schedule (evidence from every source collected before the next one is due) and from each activity's recurrence (completed, on time or late). Hover a cell for the numbers.`,
    ),
    legend,
    el(
      'table',
      { class: `heatmap ${unit}s` },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { rowspan: '2', class: 'corner' }, 'Control / activity'),
          ...groups.map((group) => el('th', { colspan: String(group.span), class: 'span' }, group.label)),
        ),
        el('tr', {}, ...columns.map((column) => el('th', { class: 'col', title: column.label }, column.short))),
      ),
      el('tbody', {}, body('control', 'Controls'), body('activity', 'Calendar activities')),
    ),
    skipped.length > 0 ? el('p', { class: 'muted' }, `No occurrence in the period: ${skipped.join(', ')}.`) : '',
  );
}

function controlTable(data: AuditReportData): Markup {
  const zone = data.period.timeZone;
  return el(
    'section',
    { id: 'controls' },
    el('h2', {}, 'Control status'),
    el('p', { class: 'muted' }, 'Latest run status as of the report; open counts nonconformities being worked on (open, root cause, corrective action).'),
    table(
      [
        'Control',
        data.framework.name,
        'Owner',
        'Latest status',
        'Open NCs',
        'Awaiting verification',
        'Last evidence',
        'Snapshots in period',
        'Occurrences covered',
      ],
      data.controls.map((control) => [
        all(el('b', {}, control.title), markup('<br>'), el('small', {}, control.id), control.paused ? el('span', { class: 'muted' }, ' (paused)') : ''),
        control.reference,
        control.owner,
        control.status
          ? all(badge(control.status), control.evaluatedAt ? all(markup('<br>'), el('small', {}, timeIn(control.evaluatedAt, zone))) : '')
          : el('span', { class: 'muted' }, 'never ran'),
        el('span', { class: control.openNonconformities > 0 ? 'num bad-text' : 'num' }, control.openNonconformities),
        control.awaitingVerification,
        control.lastEvidenceAt ? timeIn(control.lastEvidenceAt, zone) : el('span', { class: 'muted' }, 'none'),
        control.snapshotsInPeriod,
        control.expectedInPeriod === 0 ? '–' : `${control.satisfiedInPeriod}/${control.expectedInPeriod}`,
      ]),
      { class: 'controls' },
      'No controls configured.',
    ),
  );
}

function frameworkTable(data: AuditReportData): Markup {
  const byId = new Map(data.controls.map((control) => [control.id, control]));
  return el(
    'section',
    { id: 'framework' },
    el('h2', {}, `Controls by ${data.framework.name}`),
    el(
      'p',
      { class: 'muted' },
      `Each ${data.framework.name} id the controls address, directly or through the indicative crosswalk of their ISO/IEC 27001 references, with the controls' latest status.`,
    ),
    table(
      ['Id', 'Title', 'Controls'],
      data.byFramework.map((group) => [
        el('b', {}, group.id),
        group.title,
        all(
          ...group.controls.map((id, index) => {
            const control = byId.get(id)!;
            return all(
              index > 0 ? markup('<br>') : '',
              control.title,
              ' ',
              el('small', {}, id),
              ' ',
              control.status ? badge(control.status) : el('span', { class: 'muted' }, 'never ran'),
            );
          }),
        ),
      ]),
      { class: 'framework' },
      `No control addresses an id of ${data.framework.name}.`,
    ),
  );
}

function nonconformityLog(data: AuditReportData): Markup {
  const zone = data.period.timeZone;
  const headers = ['NC', 'Control', 'Title', 'Severity', 'Status', 'First observed', 'Last observed', 'Owner', 'Root cause', 'Corrective action'];
  const entries = data.nonconformities.map((nc) =>
    all(
      el(
        'tr',
        { class: 'nc', 'data-nc': nc.id },
        el('td', {}, el('b', {}, nc.id)),
        el('td', {}, nc.controlId, markup('<br>'), el('small', {}, nc.reference)),
        el('td', {}, nc.title),
        el('td', {}, el('span', { class: `badge ${SEVERITY_CLASS[nc.severity] ?? 'neutral'}` }, nc.severity)),
        el(
          'td',
          {},
          badge(nc.status),
          nc.closedAt ? all(markup('<br>'), el('small', {}, `closed ${dateIn(nc.closedAt, zone)}`)) : '',
          nc.dueDate ? all(markup('<br>'), el('small', {}, `due ${nc.dueDate}`)) : '',
        ),
        el('td', {}, timeIn(nc.firstObserved, zone)),
        el('td', {}, timeIn(nc.lastObserved, zone), markup('<br>'), el('small', {}, `${nc.occurrences}×`)),
        el('td', {}, nc.owner ?? ''),
        el('td', {}, nc.rootCause ?? ''),
        el('td', {}, nc.correctiveAction ?? ''),
      ),
      el(
        'tr',
        { class: 'history' },
        el(
          'td',
          { colspan: String(headers.length) },
          el(
            'ol',
            {},
            ...nc.history.map((entry) =>
              el(
                'li',
                {},
                el('time', {}, timeIn(entry.at, zone)),
                ' ',
                entry.actor,
                ': ',
                entry.change === 'status' ? `${entry.fromStatus ?? '?'} → ${entry.toStatus ?? '?'}` : entry.change,
                entry.note ? all(' — ', el('q', {}, entry.note)) : '',
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return el(
    'section',
    { id: 'nonconformities' },
    el('h2', {}, 'Nonconformity log'),
    el('p', { class: 'muted' }, 'Every nonconformity opened before the end of the period and not closed before its start, with its history.'),
    entries.length === 0
      ? el('p', { class: 'muted' }, 'None in the period.')
      : el('table', { class: 'ncs' }, el('thead', {}, el('tr', {}, ...headers.map((header) => el('th', {}, header)))), el('tbody', {}, ...entries)),
  );
}

function remediation(data: AuditReportData): Markup {
  return el(
    'section',
    { id: 'remediation' },
    el('h2', {}, 'Vulnerability remediation'),
    el(
      'p',
      { class: 'muted' },
      'Days from first detection to the scan that no longer reported the finding, for findings fixed in the period; open findings as of the end of the period.',
    ),
    table(
      ['Severity', 'SLA (days)', 'Fixed', 'Within SLA', 'Median', 'p90', 'Max', 'Open', 'Open past SLA'],
      data.remediation.bySeverity.map((row) => [
        el('span', { class: `badge ${SEVERITY_CLASS[row.severity] ?? 'neutral'}` }, row.severity),
        row.slaDays.map((days) => days ?? 'none').join(' / '),
        row.fixed,
        row.fixed === 0 ? '–' : `${row.fixedWithinSla}/${row.fixed}`,
        days(row.medianDays),
        days(row.p90Days),
        days(row.maxDays),
        row.open,
        el('span', { class: row.openPastSla > 0 ? 'num bad-text' : 'num' }, row.openPastSla),
      ]),
      { class: 'numbers' },
      'No findings in the ledger.',
    ),
  );
}

function leavers(data: AuditReportData): Markup {
  const sla = data.leavers.slaHours;
  return el(
    'section',
    { id: 'leavers' },
    el('h2', {}, 'Leaver clock'),
    el(
      'p',
      { class: 'muted' },
      `Accounts of people whose termination date falls in the period, per system. Time to revoke is known within the collection interval: "within ${sla} h" means the first run that found the account revoked came within ${sla} hours; "later" means it came after, and "usable after ${sla} h" that a run found it still usable past the SLA.`,
    ),
    table(
      [
        'System',
        'Leavers',
        'Accounts',
        `Revoked within ${sla} h`,
        'Revoked later',
        `Usable after ${sla} h`,
        'Still usable',
        'Max hours to revoke',
        'Oldest still usable (h)',
      ],
      data.leavers.systems.map((row) => [
        all(el('b', {}, row.system), markup('<br>'), el('small', {}, row.tenant)),
        row.leavers,
        row.accounts,
        row.revokedWithinSla,
        el('span', { class: row.revokedLater > 0 ? 'num warn-text' : 'num' }, row.revokedLater),
        el('span', { class: row.seenUsableAfterSla > 0 ? 'num bad-text' : 'num' }, row.seenUsableAfterSla),
        el('span', { class: row.stillUsable > 0 ? 'num bad-text' : 'num' }, row.stillUsable),
        hours(row.maxHoursToRevoke),
        hours(row.longestStillUsableHours),
      ]),
      { class: 'numbers' },
      'No leavers in the period.',
    ),
  );
}

const CALENDAR_ORDER: readonly OccurrenceStatus[] = ['done', 'done-late', 'missed', 'overdue', 'unrecorded', 'open', 'planned'];

function calendar(data: AuditReportData): Markup {
  const zone = data.period.timeZone;
  const rows = (entries: readonly CalendarRow[]) =>
    entries.map((row) => [
      dateIn(row.due, zone),
      all(el('b', {}, row.activity), markup('<br>'), el('small', {}, row.activityId)),
      row.reference,
      row.owner,
      badge(row.status),
      all(
        row.completedBy ? `by ${row.completedBy}` : '',
        row.nonconformityId ? all(row.completedBy ? markup('<br>') : '', el('small', {}, row.nonconformityId)) : '',
      ),
    ]);
  const counts = CALENDAR_ORDER.filter((status) => data.calendar.counts[status]).map((status) => all(badge(status), ' ', data.calendar.counts[status] ?? 0));
  return el(
    'section',
    { id: 'calendar' },
    el('h2', {}, 'Calendar'),
    el('h3', {}, 'Occurrences due in the period'),
    counts.length > 0 ? el('p', { class: 'counts' }, ...counts.flatMap((count, index) => (index === 0 ? [count] : [markup(' · '), count]))) : '',
    table(['Due', 'Activity', 'Reference', 'Owner', 'Status', 'Completed / NC'], rows(data.calendar.inPeriod), { class: 'occurrences' }, 'None in the period.'),
    el('h3', {}, 'Next 90 days'),
    table(
      ['Due', 'Activity', 'Reference', 'Owner', 'Status', 'Completed / NC'],
      rows(data.calendar.next90Days),
      { class: 'upcoming' },
      'Nothing due in the next 90 days.',
    ),
  );
}

const STYLE = `
*{box-sizing:border-box}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px 28px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 10px}h2{font-size:17px;margin:28px 0 6px;padding-bottom:3px;border-bottom:2px solid #1d1d1f}h3{font-size:14px;margin:16px 0 6px}
small{color:#555;font-size:11px}.muted{color:#666}p{margin:4px 0 8px}
dl.facts{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:3px 14px;margin:0 0 14px}
dl.facts dt{font-weight:600;color:#444}dl.facts dd{margin:0}
.glance{display:grid;grid-template-columns:repeat(6,1fr);gap:8px;margin:12px 0 4px}
.tile{border:1px solid #d0d0d0;border-left:5px solid #2e7d32;border-radius:4px;padding:6px 8px}.tile.bad{border-left-color:#c62828}
.tile b{display:block;font-size:20px}.tile span{font-size:11px;color:#444}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid #d0d0d0;padding:3px 6px;text-align:left;vertical-align:top}
thead th{background:#f2f2f2;font-weight:600}
table.numbers td:not(:first-child),table.controls td:nth-child(n+5){text-align:right}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600;white-space:nowrap}
.badge.good{background:#c8e6c9;color:#1b5e20}.badge.warn{background:#ffe0b2;color:#8a4b00}.badge.bad{background:#ffcdd2;color:#8e0000}.badge.neutral{background:#e8e8e8;color:#333}
.bad-text{color:#b71c1c;font-weight:700}.warn-text{color:#8a4b00;font-weight:700}
table.heatmap{table-layout:fixed;font-size:10px}
table.heatmap th.corner{width:230px;vertical-align:bottom}
table.heatmap th.span{text-align:left;font-weight:600;padding:2px 3px;white-space:nowrap;overflow:hidden}
table.heatmap th.col{text-align:center;padding:2px 0;font-weight:400;color:#444}
table.heatmap tbody th{font-weight:600;font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table.heatmap tbody th small{display:block;font-weight:400;font-size:10px}
table.heatmap tr.group th{background:#fafafa;text-transform:uppercase;letter-spacing:.04em;font-size:10px;color:#555}
table.heatmap td{padding:0;height:26px;text-align:center;vertical-align:middle;font-size:11px;border:1px solid #fff}
.c-all{background:#43a047;color:#fff}.c-some{background:#ffb300;color:#3e2700}.c-none{background:#e53935;color:#fff}
.c-nothing{background:#ececec;color:#999}.c-pending{background:#fff;color:#777;outline:1px dashed #9e9e9e;outline-offset:-3px}
.c-unknown{background:repeating-linear-gradient(45deg,#ddd 0 3px,#fff 3px 6px);color:#333}
.legend span{display:inline-block;margin-right:14px;font-size:11px}
.legend i{display:inline-block;width:18px;height:14px;margin-right:4px;text-align:center;font-style:normal;font-size:10px;line-height:14px;vertical-align:-2px;border:1px solid #ccc}
tr.nc td{border-bottom:none}tr.history td{border-top:none;padding-top:0;font-size:11px;color:#444;background:#fcfcfc}
tr.history ol{margin:0;padding-left:18px}tr.history time{font-variant-numeric:tabular-nums}
.counts .badge{margin-right:2px}
@media print{
  @page{size:A4 landscape;margin:10mm}
  body{margin:0;font-size:10px}
  h2{break-after:avoid;margin-top:16px}
  section{break-inside:auto}
  tr,.tile{break-inside:avoid}
  thead{display:table-header-group}
  .glance{grid-template-columns:repeat(6,1fr)}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  table.heatmap td{height:16px;font-size:9px}
  table.heatmap th.corner{width:170px}
}`;

/** The Content-Security-Policy of the page: inline style only; no script, no fetch, no image, no form, no base. */
export const AUDIT_REPORT_CSP = PAGE_CSP;

/** The report as one page that needs nothing but itself. */
export function renderAuditReport(data: AuditReportData): string {
  const zone = data.period.timeZone;
  const title = `Audit readiness${data.organisation ? `: ${data.organisation}` : ''}, ${dateIn(data.period.from, zone)} to ${dateIn(new Date(Date.parse(data.period.to) - 1).toISOString(), zone)}`;
  const footer = el(
    'footer',
    {},
    el(
      'p',
      { class: 'muted' },
      'isms-worker audit-readiness report. Evidence, hashes and the manifest for this period: ',
      el('code', {}, `isms evidence export --from ${dateIn(data.period.from, zone)} --to ${dateIn(data.period.to, zone)} --out DIR`),
      ', checked with ',
      el('code', {}, 'isms evidence verify --bundle DIR'),
      '.',
    ),
  );
  return htmlPage(title, STYLE, [
    header(data),
    glance(data),
    heatmap(data),
    controlTable(data),
    frameworkTable(data),
    nonconformityLog(data),
    remediation(data),
    leavers(data),
    calendar(data),
    footer,
  ]);
}
