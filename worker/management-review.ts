import type { RecordedChange } from '../evidence/calendar-store.ts';
import type { DecisionStatus, ReviewDecision } from '../evidence/management-review.ts';
import type { CheckResult } from '../evidence/register.ts';
import type { CheckStatus } from '../core/contracts.ts';
import { badge, SEVERITY_CLASS, type AuditReportData, type ControlStatusRow } from './audit-report.ts';
import type { OccurrenceStatus } from './calendar-report.ts';
import { barChart, lineChart } from './management-review-charts.ts';
import { all, dateIn, el, htmlPage, markup, table, timeIn, type Content, type Markup } from './html.ts';

/*
 * The management review pack (ISO/IEC 27001:2022 9.3.2): the inputs top management reviews, for one period, as one
 * self-contained HTML page with trends drawn as inline SVG. Pure: management-review-data.ts gathers; this renders.
 * Every value is escaped where it lands and the page carries the audit report's CSP (no script, nothing external).
 */

export const PACK_SCHEMA = 'isms-worker/management-review-pack@1';

/** A section whose source does not exist (yet), and why. */
export interface Absent {
  absent: string;
}
export const isAbsent = (section: object): section is Absent => 'absent' in section;

export interface DecisionRow extends Pick<ReviewDecision, 'id' | 'reviewId' | 'text' | 'owner' | 'dueDate' | 'status'> {
  /** Open past its due date (a day of the config's zone) when the pack was generated. */
  overdue: boolean;
  lastChange: { at: string; actor: string; toStatus: DecisionStatus; note: string | null } | null;
}

export interface ChangeRow extends RecordedChange {
  /** The review the change started; null when no occurrence was recorded for it. */
  review: { due: string; status: OccurrenceStatus; completedBy: string | null } | null;
}

export interface NonconformitySummary {
  /** First observed in the period. */
  opened: number;
  /** Closed in the period. */
  closed: number;
  /** Not closed at the end of the period (or now, if earlier), whatever their status then. */
  notClosedAtEnd: number;
  /** Of those, still open, in root cause or in corrective action. */
  beingWorkedOnAtEnd: number;
  byAge: { label: string; count: number }[];
  /** Days from first observed to closed, for those closed in the period. */
  timeToClose: { closed: number; medianDays: number | null; p90Days: number | null; maxDays: number | null };
  correctiveActions: { recorded: number; overdue: { id: string; title: string; owner: string | null; dueDate: string; status: string }[] };
  /** Fingerprints observed again after they were settled (or reopened by a person), most often first. */
  recurring: {
    id: string;
    fingerprint: string;
    controlId: string;
    checkId: string;
    subject: string;
    title: string;
    status: string;
    reopenings: number;
    reopenedInPeriod: number;
    lastReopenedAt: string;
  }[];
  notClosed: { id: string; controlId: string; title: string; severity: string; status: string; ageDays: number; owner: string | null }[];
}

export interface AuditOccurrence {
  occurrenceId: string;
  activityId: string;
  title: string;
  due: string;
  status: OccurrenceStatus;
  completedBy: string | null;
  performedAt: string | null;
  note: string | null;
  evidence: ({ name: string; evidenceId: string } | { name: string; link: string })[];
}

export interface SnapshotRef {
  evidenceId: string;
  controlId: string;
  sourceName: string;
  collectedAt: string;
  sha256: string;
}

export interface CheckRunSummary {
  runId: string;
  evaluatedAt: string;
  status: CheckStatus;
  results: CheckResult[];
}

export interface RiskSection {
  /** The register as it stood at the end of the period: the latest snapshot of each source. */
  sources: SnapshotRef[];
  /** As it stood when the period began; empty when it was first collected in the period. */
  atStart: SnapshotRef[];
  /** Distinct versions (by content hash) collected in the period. */
  versionsInPeriod: number;
  total: number;
  byTreatment: Record<string, number>;
  added: { id: string; title: string; residualScore: number }[];
  removed: { id: string; title: string }[];
  changed: { id: string; title: string; changes: { field: string; before: string; after: string }[] }[];
  reviewedInPeriod: number;
  overdueReviews: { id: string; title: string; owner: string | null; reviewDue: string | null; daysLate: number | null }[];
  acceptanceMissing: { id: string; title: string; severity: string }[];
  highest: { id: string; title: string; owner: string | null; inherentScore: number; residualScore: number; treatment: string; controls: string[] }[];
  /** The check run of the control that collected the latest snapshot. */
  checkRun: CheckRunSummary | null;
}

export interface SupplierSection {
  sources: SnapshotRef[];
  total: number;
  byCriticality: Record<string, number>;
  overdueReviews: { name: string; criticality: string | null; owner: string | null; reviewDue: string | null; daysLate: number | null }[];
  /** Certificates of watched suppliers expired or expiring within the window at the end of the period. */
  certificates: { supplier: string; criticality: string; certificate: string; validUntil: string; daysLeft: number }[];
  watched: { expiringWithinDays: number; criticalities: string[] };
  checkRun: CheckRunSummary | null;
}

export interface TrainingSection {
  controlId: string;
  courses: string[];
  sources: SnapshotRef[];
  /** Active employees in HR. */
  active: number;
  /** Of them, with the required course current. */
  current: number;
  completionPercent: number | null;
  notCurrent: { subject: string; title: string }[];
  /** Learners no HR person joins to. */
  unknownLearners: number;
  /** Completions of the required course in the period. */
  completionsInPeriod: number;
  checkRun: CheckRunSummary | null;
}

export interface ImprovementRow {
  kind: 'control' | 'activity';
  id: string;
  title: string;
  /** Expected occurrences in the period missing or partial. */
  gaps: number;
  /** Nonconformities of it observed again in the period after they were settled. */
  reopenings: number;
  openNonconformities: number;
}

export interface Trends {
  unit: 'week' | 'month';
  columns: { label: string; short: string; group: string; from: string; to: string }[];
  /** Null for periods not begun yet. */
  nonconformitiesOpened: (number | null)[];
  nonconformitiesClosed: (number | null)[];
  nonconformitiesNotClosed: (number | null)[];
  coveragePercent: (number | null)[];
  findingsOpen: (number | null)[];
}

export interface ManagementReviewPack {
  schema: typeof PACK_SCHEMA;
  organisation: string | null;
  period: { from: string; to: string; timeZone: string };
  generatedAt: string;
  /** The end of the period, or the generation time when the period reaches past it: "at the end" means then. */
  asOf: string;
  /** a) The status of actions from previous management reviews. */
  previousActions: {
    review: { id: string; heldAt: string; heldBy: string; period: { from: string; to: string }; minutesEvidenceId: string | null } | null;
    decisions: DecisionRow[];
    earlierOpen: DecisionRow[];
    counts: { open: number; done: number; dropped: number; overdue: number };
  };
  /** b) Changes in external and internal issues, as recorded changes to the ISMS. */
  changes: ChangeRow[];
  /** c 1) Nonconformities and corrective actions. */
  nonconformities: NonconformitySummary;
  /** c 2) Monitoring and measurement results. */
  monitoring: {
    controls: ControlStatusRow[];
    coverage: { expected: number; satisfied: number; withGaps: string[] };
    remediation: AuditReportData['remediation'];
    leavers: AuditReportData['leavers'];
  };
  /** c 3) Audit results. */
  audits: {
    activities: { id: string; title: string }[];
    occurrences: AuditOccurrence[];
    findings: { id: string; controlId: string; title: string; severity: string; status: string }[];
    certification: AuditReportData['certification'];
  };
  /** e) Results of risk assessment and status of risk treatment. */
  risks: RiskSection | Absent;
  suppliers: SupplierSection | Absent;
  training: TrainingSection | Absent;
  /** f) Opportunities for continual improvement: where the most gaps and recurrences were. */
  improvement: ImprovementRow[];
  trends: Trends;
}

// ---------------------------------------------------------------------------------------------------------------

const severity = (value: string) => el('span', { class: `badge ${SEVERITY_CLASS[value] ?? 'neutral'}` }, value);
const muted = (text: string) => el('p', { class: 'muted' }, text);
const br = markup('<br>');
const num = (value: number | null, bad = false) => el('span', { class: bad && value ? 'num bad-text' : 'num' }, value === null ? '–' : value);
const days = (value: number | null) => (value === null ? '–' : value.toFixed(1));

function section(id: string, heading: string, clause: string, ...body: Content[]): Markup {
  return el('section', { id }, el('h2', {}, heading, ' ', el('small', {}, clause)), ...body);
}

function snapshotLine(sources: readonly { evidenceId: string; sourceName: string; controlId: string; collectedAt: string }[], zone: string): Markup {
  return el(
    'p',
    { class: 'muted' },
    'From ',
    ...sources.flatMap((source, index) => [
      index > 0 ? '; ' : '',
      `${source.controlId}/${source.sourceName} collected ${timeIn(source.collectedAt, zone)} (evidence `,
      el('code', {}, source.evidenceId),
      ')',
    ]),
    '.',
  );
}

function checkRunLine(run: CheckRunSummary | null, zone: string): Markup {
  if (!run) return muted('No check run of this snapshot is recorded.');
  return el(
    'p',
    { class: 'muted' },
    `Latest check run ${timeIn(run.evaluatedAt, zone)}: `,
    badge(run.status),
    ' ',
    ...run.results.flatMap((result, index) => [index > 0 ? ', ' : '', `${result.checkId} ${result.status} (${result.deviations})`]),
  );
}

function header(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  const lastDay = dateIn(new Date(Date.parse(pack.period.to) - 1).toISOString(), zone);
  const facts: [string, Content][] = [
    ['Organisation', pack.organisation ?? '(not set in the config)'],
    ['Period', `${dateIn(pack.period.from, zone)} to ${lastDay} (${zone})`],
    ['Generated', `${timeIn(pack.generatedAt, zone)} ${zone}`],
    ['Figures at the end', pack.asOf === pack.period.to ? 'of the period' : `as of ${timeIn(pack.asOf, zone)} (the period has not ended)`],
  ];
  return all(
    el('h1', {}, 'Management review', pack.organisation ? `: ${pack.organisation}` : ''),
    el(
      'p',
      { class: 'muted' },
      'The inputs ISO/IEC 27001:2022 clause 9.3.2 asks top management to consider, gathered from the evidence store, the nonconformity register, the registers and the calendar.',
    ),
    el('dl', { class: 'facts' }, ...facts.map(([term, value]) => all(el('dt', {}, term), el('dd', {}, value)))),
  );
}

function glance(pack: ManagementReviewPack): Markup {
  const tile = (value: Content, label: string, bad: boolean) => el('div', { class: `tile ${bad ? 'bad' : 'good'}` }, el('b', {}, value), el('span', {}, label));
  const { coverage } = pack.monitoring;
  const actions = pack.previousActions.counts;
  const risks = isAbsent(pack.risks) ? null : pack.risks;
  const training = isAbsent(pack.training) ? null : pack.training;
  return el(
    'section',
    { class: 'glance' },
    tile(pack.previousActions.review ? `${actions.open}` : '–', `actions from previous reviews open, ${actions.overdue} overdue`, actions.overdue > 0),
    tile(
      `${pack.nonconformities.opened} / ${pack.nonconformities.closed}`,
      `nonconformities opened / closed; ${pack.nonconformities.beingWorkedOnAtEnd} open at the end`,
      pack.nonconformities.beingWorkedOnAtEnd > 0,
    ),
    tile(
      coverage.expected === 0 ? '–' : `${Math.round((100 * coverage.satisfied) / coverage.expected)}%`,
      `expected evidence and activities present (${coverage.satisfied}/${coverage.expected})`,
      coverage.satisfied < coverage.expected,
    ),
    tile(pack.monitoring.remediation.openPastSla, 'open findings past SLA', pack.monitoring.remediation.openPastSla > 0),
    tile(risks ? risks.overdueReviews.length : '–', 'risk reviews overdue', (risks?.overdueReviews.length ?? 0) > 0),
    tile(
      training?.completionPercent === null || training === null ? '–' : `${training.completionPercent}%`,
      'of active staff with training current',
      training !== null && training.current < training.active,
    ),
  );
}

function trends(pack: ManagementReviewPack): Markup {
  const { trends: t } = pack;
  const labels = t.columns.map((column) => (t.unit === 'week' ? column.short : `${column.short} ${column.group.slice(-2)}`));
  return el(
    'section',
    { id: 'trends' },
    el('h2', {}, 'Trends over the period'),
    el(
      'p',
      { class: 'muted' },
      `Per ${t.unit === 'week' ? 'ISO week' : 'month'} of the period; levels are taken at the end of each ${t.unit}. A ${t.unit} not yet begun has no value.`,
    ),
    el(
      'div',
      { class: 'charts' },
      barChart({
        title: 'Nonconformities opened and closed',
        labels,
        series: [
          { name: 'opened', values: t.nonconformitiesOpened },
          { name: 'closed', values: t.nonconformitiesClosed },
        ],
      }),
      lineChart({ title: 'Nonconformities not closed', labels, series: [{ name: 'not closed', values: t.nonconformitiesNotClosed }] }),
      lineChart({ title: 'Evidence coverage', labels, series: [{ name: 'expected present', values: t.coveragePercent }], unit: '%', max: 100 }),
      lineChart({ title: 'Open vulnerability findings', labels, series: [{ name: 'open findings', values: t.findingsOpen }] }),
    ),
  );
}

function decisionRows(decisions: readonly DecisionRow[], zone: string): (readonly Content[])[] {
  return decisions.map((decision) => [
    el('b', {}, decision.id),
    decision.text,
    decision.owner,
    all(decision.dueDate, decision.overdue ? all(' ', badge('overdue')) : ''),
    badge(decision.status),
    decision.lastChange
      ? all(
          `${timeIn(decision.lastChange.at, zone)} by ${decision.lastChange.actor}`,
          decision.lastChange.note ? all(br, el('q', {}, decision.lastChange.note)) : '',
        )
      : el('span', { class: 'muted' }, 'not updated since the review'),
  ]);
}

function previousActions(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  const { review, decisions, earlierOpen } = pack.previousActions;
  const headers = ['Decision', 'Text', 'Owner', 'Due', 'Status', 'Last change'];
  if (!review)
    return section(
      'actions',
      'Actions from previous management reviews',
      '9.3.2 a',
      muted(
        'No management review has been held before: there are no previous decisions to follow up. Decisions recorded at this review (isms management-review decide) appear in the next pack.',
      ),
    );
  return section(
    'actions',
    'Actions from previous management reviews',
    '9.3.2 a',
    el(
      'p',
      {},
      `The last review, ${review.id}, was held ${timeIn(review.heldAt, zone)} by ${review.heldBy} on the period ${dateIn(review.period.from, zone)} to ${dateIn(new Date(Date.parse(review.period.to) - 1).toISOString(), zone)}.`,
    ),
    table(headers, decisionRows(decisions, zone), { class: 'decisions' }, `${review.id} recorded no decisions.`),
    earlierOpen.length > 0
      ? all(el('h3', {}, 'Still open from earlier reviews'), table(headers, decisionRows(earlierOpen, zone), { class: 'decisions' }, ''))
      : '',
  );
}

function changes(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  return section(
    'changes',
    'Changes in issues relevant to the ISMS',
    '9.3.2 b',
    table(
      ['Change', 'Title', 'Affects', 'Recorded', 'Review'],
      pack.changes.map((change) => [
        el('b', {}, change.id),
        all(change.title, change.description ? all(br, el('small', {}, change.description)) : ''),
        all(change.affects.join(', '), change.risks.length > 0 ? all(br, el('small', {}, `risks ${change.risks.join(', ')}`)) : ''),
        `${timeIn(change.recordedAt, zone)} by ${change.recordedBy}`,
        change.review
          ? all(
              badge(change.review.status),
              br,
              el('small', {}, `due ${dateIn(change.review.due, zone)}${change.review.completedBy ? `, by ${change.review.completedBy}` : ''}`),
            )
          : el('span', { class: 'muted' }, 'no review recorded'),
      ]),
      { class: 'changes' },
      'No change to the ISMS was recorded in the period (isms change record).',
    ),
  );
}

function nonconformities(pack: ManagementReviewPack): Markup {
  const n = pack.nonconformities;
  return section(
    'nonconformities',
    'Nonconformities and corrective actions',
    '9.3.2 c 1',
    el(
      'dl',
      { class: 'facts' },
      ...(
        [
          ['Opened in the period', n.opened],
          ['Closed in the period', n.closed],
          ['Not closed at the end', `${n.notClosedAtEnd} (${n.beingWorkedOnAtEnd} open, in root cause or corrective action)`],
          [
            'Time to close (days)',
            n.timeToClose.closed === 0
              ? 'none closed in the period'
              : `median ${days(n.timeToClose.medianDays)}, p90 ${days(n.timeToClose.p90Days)}, max ${days(n.timeToClose.maxDays)} (${n.timeToClose.closed} closed)`,
          ],
          ['Corrective actions recorded', n.correctiveActions.recorded],
          ['Corrective actions past due', n.correctiveActions.overdue.length],
        ] as [string, Content][]
      ).map(([term, value]) => all(el('dt', {}, term), el('dd', {}, value))),
    ),
    el('h3', {}, 'Not closed at the end, by age'),
    table(
      ['Age', 'Count'],
      n.byAge.map((bucket) => [bucket.label, bucket.count]),
      { class: 'numbers ages' },
      '',
    ),
    table(
      ['NC', 'Control', 'Title', 'Severity', 'Status', 'Age (days)', 'Owner'],
      n.notClosed.map((nc) => [el('b', {}, nc.id), nc.controlId, nc.title, severity(nc.severity), badge(nc.status), days(nc.ageDays), nc.owner ?? '']),
      { class: 'ncs' },
      'Every nonconformity was closed by the end of the period.',
    ),
    n.correctiveActions.overdue.length > 0
      ? all(
          el('h3', {}, 'Corrective actions past their due date'),
          table(
            ['NC', 'Title', 'Owner', 'Due', 'Status'],
            n.correctiveActions.overdue.map((nc) => [el('b', {}, nc.id), nc.title, nc.owner ?? '', nc.dueDate, badge(nc.status)]),
            { class: 'overdue' },
            '',
          ),
        )
      : '',
    el('h3', {}, 'Recurring: the same finding observed again after it was settled'),
    table(
      ['NC', 'Control / check', 'Subject', 'Title', 'Reopened', 'In the period', 'Last', 'Status'],
      n.recurring.map((nc) => [
        el('b', {}, nc.id),
        all(nc.controlId, br, el('small', {}, nc.checkId)),
        nc.subject,
        nc.title,
        nc.reopenings,
        nc.reopenedInPeriod,
        dateIn(nc.lastReopenedAt, pack.period.timeZone),
        badge(nc.status),
      ]),
      { class: 'recurring' },
      'No nonconformity recurred: none was observed again after it was settled.',
    ),
  );
}

function monitoring(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  const { controls, coverage, remediation, leavers } = pack.monitoring;
  return section(
    'monitoring',
    'Monitoring and measurement results',
    '9.3.2 c 2',
    el('h3', {}, 'Control status'),
    table(
      ['Control', 'Reference', 'Owner', 'Latest status', 'Open NCs', 'Occurrences covered'],
      controls.map((control) => [
        all(el('b', {}, control.title), br, el('small', {}, control.id)),
        control.reference,
        control.owner,
        control.status
          ? all(badge(control.status), control.evaluatedAt ? all(br, el('small', {}, timeIn(control.evaluatedAt, zone))) : '')
          : el('span', { class: 'muted' }, 'never ran'),
        num(control.openNonconformities, true),
        control.expectedInPeriod === 0 ? '–' : `${control.satisfiedInPeriod}/${control.expectedInPeriod}`,
      ]),
      { class: 'controls' },
      'No controls are configured.',
    ),
    el('h3', {}, 'Evidence coverage'),
    coverage.expected === 0
      ? muted('Nothing was due in the period: no control schedule or calendar activity expected evidence.')
      : el(
          'p',
          {},
          `${coverage.satisfied} of ${coverage.expected} expected control runs and calendar occurrences were present (${Math.round((100 * coverage.satisfied) / coverage.expected)}%). `,
          coverage.withGaps.length > 0 ? `With gaps: ${coverage.withGaps.join(', ')}.` : 'No gaps.',
        ),
    el('h3', {}, 'Vulnerability remediation'),
    table(
      ['Severity', 'SLA (days)', 'Fixed', 'Within SLA', 'Median', 'p90', 'Open', 'Open past SLA'],
      remediation.bySeverity.map((row) => [
        severity(row.severity),
        row.slaDays.map((value) => value ?? 'none').join(' / '),
        row.fixed,
        row.fixed === 0 ? '–' : `${row.fixedWithinSla}/${row.fixed}`,
        days(row.medianDays),
        days(row.p90Days),
        row.open,
        num(row.openPastSla, true),
      ]),
      { class: 'numbers' },
      'No vulnerability findings are in the ledger: no scanner source has been collected.',
    ),
    el('h3', {}, 'Leaver clock'),
    table(
      ['System', 'Leavers', 'Accounts', `Revoked within ${leavers.slaHours} h`, 'Revoked later', 'Still usable', 'Max hours to revoke'],
      leavers.systems.map((row) => [
        all(el('b', {}, row.system), br, el('small', {}, row.tenant)),
        row.leavers,
        row.accounts,
        row.revokedWithinSla,
        num(row.revokedLater, true),
        num(row.stillUsable, true),
        days(row.maxHoursToRevoke),
      ]),
      { class: 'numbers' },
      'No leaver was terminated in the period (or no HR and identity sources are joined by leaver-still-active).',
    ),
  );
}

function audits(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  const { activities, occurrences, findings, certification } = pack.audits;
  const internal =
    activities.length === 0
      ? muted('No calendar activity references clause 9.2: internal audits are not in the calendar (calendar.defaults adds one).')
      : table(
          ['Due', 'Audit', 'Status', 'Completed', 'Note', 'Evidence'],
          occurrences.map((occurrence) => [
            dateIn(occurrence.due, zone),
            all(el('b', {}, occurrence.title), br, el('small', {}, occurrence.occurrenceId)),
            badge(occurrence.status),
            occurrence.completedBy ? `${occurrence.completedBy}${occurrence.performedAt ? `, ${dateIn(occurrence.performedAt, zone)}` : ''}` : '',
            occurrence.note ?? '',
            all(
              ...occurrence.evidence.flatMap((item, index) => [
                index > 0 ? br : '',
                'evidenceId' in item ? all(item.name, ' ', el('code', {}, item.evidenceId)) : all(item.name, ': ', item.link),
              ]),
            ),
          ]),
          { class: 'audits' },
          `No internal audit (${activities.map((activity) => activity.id).join(', ')}) was due in the period.`,
        );
  return section(
    'audits',
    'Audit results',
    '9.3.2 c 3',
    el('h3', {}, 'Internal audits'),
    internal,
    el('h3', {}, 'Findings'),
    table(
      ['NC', 'Control', 'Title', 'Severity', 'Status'],
      findings.map((finding) => [el('b', {}, finding.id), finding.controlId, finding.title, severity(finding.severity), badge(finding.status)]),
      { class: 'findings' },
      'No nonconformity against clause 9.2 or an internal audit activity existed in the period.',
    ),
    el('h3', {}, 'Certification audits'),
    certification
      ? table(
          ['Audit', 'Due', 'Status', 'Readiness check'],
          certification.audits.map((audit) => [
            audit.title,
            dateIn(audit.due, zone),
            badge(audit.status),
            audit.readinessDue ? all(dateIn(audit.readinessDue, zone), ' ', audit.readinessStatus ? badge(audit.readinessStatus) : '') : '–',
          ]),
          { class: 'certification' },
          'No audit dates.',
        )
      : muted('No certification in the calendar config (calendar.certification): no surveillance audit dates.'),
    certification ? el('p', { class: 'muted' }, `Certificate by ${certification.body}, issued ${certification.issued}, expires ${certification.expires}.`) : '',
  );
}

function risks(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  if (isAbsent(pack.risks)) return section('risks', 'Risk assessment and risk treatment', '9.3.2 e', muted(`No risk register: ${pack.risks.absent}.`));
  const r = pack.risks;
  return section(
    'risks',
    'Risk assessment and risk treatment',
    '9.3.2 e',
    snapshotLine(r.sources, zone),
    el(
      'p',
      {},
      `${r.total} risks (${Object.entries(r.byTreatment)
        .map(([treatment, count]) => `${count} ${treatment}`)
        .join(', ')}); ${r.reviewedInPeriod} reviewed in the period; ${r.versionsInPeriod} version(s) of the register collected in the period.`,
    ),
    el('h3', {}, 'Changes to the register in the period'),
    r.atStart.length === 0
      ? muted('The register was first collected in this period: there is no earlier version to compare with.')
      : r.added.length + r.removed.length + r.changed.length === 0
        ? muted('No risk was added, removed or changed since the period began.')
        : table(
            ['Risk', 'Title', 'Change'],
            [
              ...r.added.map((risk) => [el('b', {}, risk.id), risk.title, `added (residual ${risk.residualScore})`]),
              ...r.removed.map((risk) => [el('b', {}, risk.id), risk.title, 'removed']),
              ...r.changed.map((risk) => [
                el('b', {}, risk.id),
                risk.title,
                all(...risk.changes.flatMap((change, index) => [index > 0 ? br : '', `${change.field}: ${change.before} → ${change.after}`])),
              ]),
            ],
            { class: 'risk-changes' },
            '',
          ),
    el('h3', {}, 'Reviews overdue at the end'),
    table(
      ['Risk', 'Title', 'Owner', 'Review due', 'Days late'],
      r.overdueReviews.map((risk) => [el('b', {}, risk.id), risk.title, risk.owner ?? '', risk.reviewDue ?? 'never reviewed', risk.daysLate ?? '–']),
      { class: 'risk-overdue' },
      'Every risk was reviewed on schedule.',
    ),
    r.acceptanceMissing.length > 0
      ? all(
          el('h3', {}, 'Acceptance not recorded'),
          table(
            ['Risk', 'Finding', 'Severity'],
            r.acceptanceMissing.map((risk) => [el('b', {}, risk.id), risk.title, severity(risk.severity)]),
            { class: 'risk-acceptance' },
            '',
          ),
        )
      : '',
    el('h3', {}, 'Highest residual risks'),
    table(
      ['Risk', 'Title', 'Owner', 'Inherent', 'Residual', 'Treatment', 'Controls'],
      r.highest.map((risk) => [
        el('b', {}, risk.id),
        risk.title,
        risk.owner ?? '',
        risk.inherentScore,
        risk.residualScore,
        risk.treatment,
        risk.controls.join(', '),
      ]),
      { class: 'risk-top' },
      'The register holds no risks.',
    ),
    checkRunLine(r.checkRun, zone),
  );
}

function suppliers(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  if (isAbsent(pack.suppliers)) return section('suppliers', 'Suppliers', 'A.5.19-A.5.22', muted(`No supplier register: ${pack.suppliers.absent}.`));
  const s = pack.suppliers;
  return section(
    'suppliers',
    'Suppliers',
    'A.5.19-A.5.22',
    snapshotLine(s.sources, zone),
    el(
      'p',
      {},
      `${s.total} suppliers (${Object.entries(s.byCriticality)
        .map(([criticality, count]) => `${count} ${criticality}`)
        .join(', ')}).`,
    ),
    el('h3', {}, 'Reviews overdue at the end'),
    table(
      ['Supplier', 'Criticality', 'Owner', 'Review due', 'Days late'],
      s.overdueReviews.map((supplier) => [
        el('b', {}, supplier.name),
        supplier.criticality ?? '',
        supplier.owner ?? '',
        supplier.reviewDue ?? 'never reviewed',
        supplier.daysLate ?? '–',
      ]),
      { class: 'supplier-overdue' },
      'Every supplier was reviewed on schedule.',
    ),
    el('h3', {}, `Certificates expired or expiring within ${s.watched.expiringWithinDays} days (${s.watched.criticalities.join(', ')} suppliers)`),
    table(
      ['Supplier', 'Criticality', 'Certificate', 'Valid until', 'State'],
      s.certificates.map((certificate) => [
        el('b', {}, certificate.supplier),
        certificate.criticality,
        certificate.certificate,
        certificate.validUntil,
        certificate.daysLeft <= 0 ? el('span', { class: 'badge bad' }, 'expired') : el('span', { class: 'badge warn' }, `${certificate.daysLeft} days left`),
      ]),
      { class: 'certificates' },
      'Every watched certificate is valid beyond the window.',
    ),
    checkRunLine(s.checkRun, zone),
  );
}

function training(pack: ManagementReviewPack): Markup {
  const zone = pack.period.timeZone;
  if (isAbsent(pack.training))
    return section('training', 'Awareness training', '7.2, 7.3, A.6.3', muted(`Training completion is not measured: ${pack.training.absent}.`));
  const t = pack.training;
  return section(
    'training',
    'Awareness training',
    '7.2, 7.3, A.6.3',
    snapshotLine(t.sources, zone),
    el(
      'p',
      {},
      `${t.current} of ${t.active} active employees have the required course (${t.courses.join(' or ')}) current`,
      t.completionPercent === null ? '' : ` (${t.completionPercent}%)`,
      `; ${t.completionsInPeriod} completion(s) in the period; ${t.unknownLearners} learner(s) HR does not know.`,
    ),
    table(
      ['Person', 'Finding'],
      t.notCurrent.map((person) => [person.subject.replace(/^person:/, ''), person.title]),
      { class: 'training-overdue' },
      'Everyone active has the required training current.',
    ),
    checkRunLine(t.checkRun, zone),
  );
}

function improvement(pack: ManagementReviewPack): Markup {
  return section(
    'improvement',
    'Opportunities for improvement',
    '9.3.2 f, 10.1',
    el(
      'p',
      { class: 'muted' },
      'The controls and activities with the most coverage gaps (expected evidence or completions missing or partial) and recurring nonconformities in the period.',
    ),
    table(
      ['Control / activity', 'Gaps', 'Reopened NCs', 'Open NCs'],
      pack.improvement.map((row) => [
        all(el('b', {}, row.title), br, el('small', {}, `${row.kind} ${row.id}`)),
        num(row.gaps, true),
        num(row.reopenings, true),
        row.openNonconformities,
      ]),
      { class: 'numbers improvement' },
      'No control or activity had a coverage gap or a recurring nonconformity in the period.',
    ),
  );
}

const STYLE = `
*{box-sizing:border-box}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px 28px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 6px;padding-bottom:3px;border-bottom:2px solid #1d1d1f}h2 small{font-weight:400;color:#666}h3{font-size:14px;margin:16px 0 6px}
small{color:#555;font-size:11px}.muted{color:#666}p{margin:4px 0 8px}code{font-size:11px}
dl.facts{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:3px 14px;margin:8px 0 14px}
dl.facts dt{font-weight:600;color:#444}dl.facts dd{margin:0}
.glance{display:grid;grid-template-columns:repeat(6,1fr);gap:8px;margin:12px 0 4px}
.tile{border:1px solid #d0d0d0;border-left:5px solid #2e7d32;border-radius:4px;padding:6px 8px}.tile.bad{border-left-color:#c62828}
.tile b{display:block;font-size:20px}.tile span{font-size:11px;color:#444}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid #d0d0d0;padding:3px 6px;text-align:left;vertical-align:top}
thead th{background:#f2f2f2;font-weight:600}
table.numbers td:not(:first-child){text-align:right}table.ages{width:auto}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600;white-space:nowrap}
.badge.good{background:#c8e6c9;color:#1b5e20}.badge.warn{background:#ffe0b2;color:#8a4b00}.badge.bad{background:#ffcdd2;color:#8e0000}.badge.neutral{background:#e8e8e8;color:#333}
.bad-text{color:#b71c1c;font-weight:700}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:10px 18px}
figure.chart{margin:0}figure.chart svg{display:block;max-width:100%;height:auto}
figure.chart figcaption{font-size:12px}figure.chart figcaption b{margin-right:10px}
.key{margin-right:10px;white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
svg .grid{stroke:#e3e3e3;stroke-width:1}svg .axis{stroke:#777;stroke-width:1}
svg .tick{font-size:10px;fill:#555}svg .none{font-size:12px;fill:#888}
svg .line{fill:none;stroke-width:2}
svg .s0{fill:#1565c0}svg .l0{stroke:#1565c0}.k0{background:#1565c0}
svg .s1{fill:#ef6c00}svg .l1{stroke:#ef6c00}.k1{background:#ef6c00}
svg .s2{fill:#2e7d32}svg .l2{stroke:#2e7d32}.k2{background:#2e7d32}
svg .s3{fill:#6a1b9a}svg .l3{stroke:#6a1b9a}.k3{background:#6a1b9a}
@media print{
  @page{size:A4 portrait;margin:12mm}
  body{margin:0;font-size:10px}
  h2{break-after:avoid;margin-top:16px}
  tr,.tile,figure.chart{break-inside:avoid}
  thead{display:table-header-group}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}`;

/** The pack as one page that needs nothing but itself. */
export function renderManagementReview(pack: ManagementReviewPack): string {
  const zone = pack.period.timeZone;
  const title = `Management review${pack.organisation ? `: ${pack.organisation}` : ''}, ${dateIn(pack.period.from, zone)} to ${dateIn(new Date(Date.parse(pack.period.to) - 1).toISOString(), zone)}`;
  const footer = el(
    'footer',
    {},
    el(
      'p',
      { class: 'muted' },
      'isms-worker management review pack, kept as evidence when generated. Decisions: ',
      el('code', {}, 'isms management-review decide --text ... --owner ... --due YYYY-MM-DD --by ...'),
      '; the review is held with ',
      el('code', {}, 'isms management-review close --by ...'),
      ', which keeps the minutes and completes the management-review occurrence of the calendar.',
    ),
  );
  return htmlPage(title, STYLE, [
    header(pack),
    glance(pack),
    trends(pack),
    previousActions(pack),
    changes(pack),
    nonconformities(pack),
    monitoring(pack),
    audits(pack),
    risks(pack),
    suppliers(pack),
    training(pack),
    improvement(pack),
    footer,
  ]);
}
