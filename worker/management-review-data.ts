import { randomUUID } from 'node:crypto';
import { riskAcceptanceMissing } from '../checks/risk-acceptance-missing.ts';
import { riskReviewOverdue } from '../checks/risk-review-overdue.ts';
import { supplierCertificateExpiry } from '../checks/supplier-certificate-expiry.ts';
import { supplierReviewOverdue } from '../checks/supplier-review-overdue.ts';
import { trainingOverdue } from '../checks/training-overdue.ts';
import { checkEvidence, type AnyCheck } from '../checks/kit/contract.ts';
import type { Deviation } from '../core/check-results.ts';
import { patternMatcher } from '../checks/kit/patterns.ts';
import { formatLocalDate, toZoned } from '../core/calendar-occurrences.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import { FindingLedger } from '../evidence/finding-ledger.ts';
import {
  latestCheckRunBefore,
  ManagementReviewStore,
  snapshotsOfKind,
  type ManagementReview,
  type ReviewDecision,
  type SnapshotOfKind,
} from '../evidence/management-review.ts';
import type { EvidenceRecord, RecordKind, RecordOf, Risk } from '../core/records.ts';
import { activityControlOf, type HistoryEntry, type Nonconformity, type Register } from '../evidence/register.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { EvidenceRow } from '../evidence/evidence-row.ts';
import { BEING_WORKED_ON, type AuditReportData } from './audit-report.ts';
import { gatherAuditReport, median, nearestRank, type ReportRuntime } from './audit-report-data.ts';
import { statusOf } from './calendar-report.ts';
import { calendarOf, calendarView } from './calendar.ts';
import {
  PACK_SCHEMA,
  type Absent,
  type AuditOccurrence,
  type ChangeRow,
  type CheckRunSummary,
  type DecisionRow,
  type ImprovementRow,
  type ManagementReviewPack,
  type NonconformitySummary,
  type RiskSection,
  type SnapshotRef,
  type SupplierSection,
  type TrainingSection,
  type Trends,
} from './management-review.ts';

/*
 * What the management review pack (ISO/IEC 27001 9.3.2) shows, gathered from the config and the catalog. Control
 * status, coverage, nonconformity log, remediation, leaver clock and audit dates come from the audit-readiness
 * report's data; the registers are read from their latest snapshots and judged with the checks their controls run,
 * with those controls' parameters, as of the end of the period.
 */

const DAY_MS = 86_400_000;
const AGE_BUCKETS: readonly { label: string; upTo: number }[] = [
  { label: '30 days or less', upTo: 30 },
  { label: '31 to 90 days', upTo: 90 },
  { label: '91 to 180 days', upTo: 180 },
  { label: 'over 180 days', upTo: Infinity },
];
const TOP = 5;

/** The evidence store's control id for kept packs and minutes; the colon keeps it apart from configured control ids. */
export const MANAGEMENT_REVIEW_CONTROL_ID = 'isms:management-review';
const PACK_JSON = 'pack.json';
const MINUTES_SCHEMA = 'isms-worker/management-review-minutes@1';

export async function gatherManagementReview(runtime: ReportRuntime, range: { from: number; to: number }, now: number): Promise<ManagementReviewPack> {
  const loaded = runtime.config;
  const zone = loaded.config.timezone;
  const audit = await gatherAuditReport(runtime, range, now);
  const asOf = Math.min(range.to, now);
  const period = { from: iso(range.from), to: iso(range.to) };
  const nonconformities = await Promise.all((await runtime.register.list()).map(async (nc) => ({ nc, history: await runtime.register.historyOf(nc.id) })));
  return {
    schema: PACK_SCHEMA,
    organisation: loaded.config.organisation ?? null,
    period: { ...period, timeZone: zone },
    generatedAt: iso(now),
    asOf: iso(asOf),
    previousActions: await previousActions(runtime.store, now, zone),
    changes: await changesOf(runtime, range, now),
    nonconformities: nonconformitySummary(nonconformities, range, asOf, zone),
    monitoring: {
      controls: audit.controls,
      coverage: coverageOf(audit),
      remediation: audit.remediation,
      leavers: audit.leavers,
    },
    audits: await auditsOf(runtime, audit, range, now),
    risks: await risksOf(runtime, range, asOf),
    suppliers: await suppliersOf(runtime, asOf),
    training: await trainingOf(runtime, range, asOf),
    improvement: improvementOf(audit, nonconformities, range, asOf),
    trends: trendsOf(audit, nonconformities, await new FindingLedger(runtime.store.catalog).list(), now),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// a) Actions from previous reviews, b) changes

async function previousActions(store: EvidenceStore, now: number, zone: string): Promise<ManagementReviewPack['previousActions']> {
  const reviews = new ManagementReviewStore(store.catalog);
  const last = await reviews.lastHeld(iso(now));
  const today = formatLocalDate(toZoned(now, zone));
  const row = (decision: ReviewDecision): DecisionRow => {
    const change = decision.history.at(-1);
    return {
      id: decision.id,
      reviewId: decision.reviewId,
      text: decision.text,
      owner: decision.owner,
      dueDate: decision.dueDate,
      status: decision.status,
      overdue: decision.status === 'open' && decision.dueDate < today,
      lastChange: change && change.fromStatus !== null ? { at: change.at, actor: change.actor, toStatus: change.toStatus, note: change.note } : null,
    };
  };
  const decisions = last ? (await reviews.decisions(last.id)).map(row) : [];
  const earlierOpen = last ? (await reviews.openDecisionsBefore(last.heldAt!)).map(row) : [];
  const all = [...decisions, ...earlierOpen];
  return {
    review: last ? { id: last.id, heldAt: last.heldAt!, heldBy: last.heldBy!, period: last.period, minutesEvidenceId: last.minutesEvidenceId } : null,
    decisions,
    earlierOpen,
    counts: {
      open: all.filter((decision) => decision.status === 'open').length,
      done: all.filter((decision) => decision.status === 'done').length,
      dropped: all.filter((decision) => decision.status === 'dropped').length,
      overdue: all.filter((decision) => decision.overdue).length,
    },
  };
}

async function changesOf(runtime: ReportRuntime, range: { from: number; to: number }, now: number): Promise<ChangeRow[]> {
  const calendar = new CalendarStore(runtime.store.catalog);
  const rows: ChangeRow[] = [];
  for (const change of (await calendar.changes()).filter((candidate) => within(candidate.recordedAt, range))) {
    const review = await calendar.get(change.occurrenceId);
    rows.push({ ...change, review: review ? { due: review.due, status: statusOf(review, now), completedBy: review.completedBy } : null });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// c 1) Nonconformities and corrective actions

interface WithHistory {
  nc: Nonconformity;
  history: HistoryEntry[];
}

/** The status a nonconformity had at an instant, replayed from its history (a later change never alters a past period). */
function statusAt(entry: WithHistory, at: number): string | null {
  if (Date.parse(entry.nc.firstObserved) >= at) return null;
  return entry.history.findLast((change) => change.toStatus !== null && Date.parse(change.at) < at)?.toStatus ?? 'open';
}

/** Observed again after it was no longer observed, verified or closed, or reopened by a person: the same fingerprint recurring. */
const reopeningsOf = (history: readonly HistoryEntry[]) =>
  history.filter((entry) => entry.change === 'status' && entry.toStatus === 'open' && entry.fromStatus !== null);

function nonconformitySummary(all: readonly WithHistory[], range: { from: number; to: number }, asOf: number, zone: string): NonconformitySummary {
  const end = asOf;
  const opened = all.filter((entry) => within(entry.nc.firstObserved, range));
  const closedInPeriod = all.flatMap((entry) => {
    const closing = entry.history.findLast((change) => change.toStatus === 'closed' && within(change.at, range));
    return closing ? [{ entry, closedAt: closing.at }] : [];
  });
  const notClosed = all.filter((entry) => {
    const status = statusAt(entry, end);
    return status !== null && status !== 'closed';
  });
  const ageDays = (entry: WithHistory) => round1((end - Date.parse(entry.nc.firstObserved)) / DAY_MS);
  const daysToClose = closedInPeriod.map(({ entry, closedAt }) => (Date.parse(closedAt) - Date.parse(entry.nc.firstObserved)) / DAY_MS).sort((a, b) => a - b);
  // A due date is a day of the config's zone: past due from the day after it.
  const endDate = formatLocalDate(toZoned(end, zone));
  /** Age in whole days, as the buckets count it. */
  const wholeDays = (entry: WithHistory) => Math.floor((end - Date.parse(entry.nc.firstObserved)) / DAY_MS);
  // Alive in the period: observed before its end, and not closed when it began or reopened in it.
  const alive = all.filter(
    (entry) =>
      Date.parse(entry.nc.firstObserved) < range.to && (statusAt(entry, range.from) !== 'closed' || entry.history.some((change) => within(change.at, range))),
  );
  return {
    opened: opened.length,
    closed: closedInPeriod.length,
    notClosedAtEnd: notClosed.length,
    beingWorkedOnAtEnd: notClosed.filter((entry) => BEING_WORKED_ON.includes(statusAt(entry, end)!)).length,
    byAge: AGE_BUCKETS.map((bucket, index) => ({
      label: bucket.label,
      count: notClosed.filter((entry) => wholeDays(entry) <= bucket.upTo && (index === 0 || wholeDays(entry) > AGE_BUCKETS[index - 1]!.upTo)).length,
    })),
    timeToClose: {
      closed: daysToClose.length,
      medianDays: round1OrNull(median(daysToClose)),
      p90Days: round1OrNull(nearestRank(daysToClose, 0.9)),
      maxDays: round1OrNull(daysToClose.at(-1) ?? null),
    },
    correctiveActions: {
      recorded: alive.filter((entry) => entry.nc.correctiveAction !== null).length,
      overdue: notClosed
        .filter((entry) => entry.nc.dueDate !== null && entry.nc.dueDate < endDate)
        .map((entry) => ({ id: entry.nc.id, title: entry.nc.title, owner: entry.nc.owner, dueDate: entry.nc.dueDate!, status: statusAt(entry, end)! })),
    },
    recurring: all
      .map((entry) => ({ entry, reopenings: reopeningsOf(entry.history).filter((change) => Date.parse(change.at) < range.to) }))
      .filter(({ reopenings }) => reopenings.length > 0)
      .sort((a, b) => b.reopenings.length - a.reopenings.length || a.entry.nc.id.localeCompare(b.entry.nc.id))
      .map(({ entry, reopenings }) => ({
        id: entry.nc.id,
        fingerprint: entry.nc.fingerprint,
        controlId: entry.nc.controlId,
        checkId: entry.nc.checkId,
        subject: entry.nc.subject,
        title: entry.nc.title,
        status: statusAt(entry, end) ?? entry.nc.status,
        reopenings: reopenings.length,
        reopenedInPeriod: reopenings.filter((change) => within(change.at, range)).length,
        lastReopenedAt: reopenings.at(-1)!.at,
      })),
    notClosed: notClosed
      .sort((a, b) => Date.parse(a.nc.firstObserved) - Date.parse(b.nc.firstObserved))
      .map((entry) => ({
        id: entry.nc.id,
        controlId: entry.nc.controlId,
        title: entry.nc.title,
        severity: entry.nc.severity,
        status: statusAt(entry, end)!,
        ageDays: ageDays(entry),
        owner: entry.nc.owner,
      })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// c 2) Monitoring and measurement, c 3) audit results

function coverageOf(audit: AuditReportData): ManagementReviewPack['monitoring']['coverage'] {
  const cells = audit.heatmap.rows.flatMap((row) => row.cells);
  return {
    expected: cells.reduce((sum, cell) => sum + cell.expected - cell.pending, 0),
    satisfied: cells.reduce((sum, cell) => sum + cell.satisfied, 0),
    withGaps: audit.heatmap.rows
      .filter((row) => row.cells.some((cell) => cell.state === 'none' || cell.state === 'some'))
      .map((row) => `${row.kind}:${row.id}`),
  };
}

/** Internal audits are the calendar activities that reference clause 9.2; their findings, the nonconformities against them or clause 9.2. */
async function auditsOf(
  runtime: ReportRuntime,
  audit: AuditReportData,
  range: { from: number; to: number },
  now: number,
): Promise<ManagementReviewPack['audits']> {
  const activities = [...calendarOf(runtime).activities.values()].filter((activity) => activity.references.includes('9.2'));
  const ids = new Set(activities.map((activity) => activity.id));
  const store = new CalendarStore(runtime.store.catalog);
  const rows = (await calendarView(runtime, range, now)).filter((row) => ids.has(row.activityId));
  const recordedOccurrences = await Promise.all(rows.map((row) => store.get(row.occurrenceId)));
  const occurrences = rows.map((row, index): AuditOccurrence => {
    const recorded = recordedOccurrences[index];
    return {
      occurrenceId: row.occurrenceId,
      activityId: row.activityId,
      title: row.activity,
      due: row.due,
      status: row.status,
      completedBy: recorded?.completedBy ?? null,
      performedAt: recorded?.performedAt ?? null,
      note: recorded?.note ?? null,
      evidence: (recorded?.evidence ?? []).map((item) =>
        'evidenceId' in item ? { name: item.name, evidenceId: item.evidenceId } : { name: item.name, link: item.link },
      ),
    };
  });
  const auditControls = new Set([...ids].map(activityControlOf));
  return {
    activities: activities.map((activity) => ({ id: activity.id, title: activity.title })),
    occurrences,
    findings: audit.nonconformities
      .filter((nc) => auditControls.has(nc.controlId) || nc.reference.split(/,\s*/).includes('9.2'))
      .map((nc) => ({ id: nc.id, controlId: nc.controlId, title: nc.title, severity: nc.severity, status: nc.status })),
    certification: audit.certification,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// e) Risks, suppliers, training: the registers' latest snapshots, judged as of the end of the period

/** The latest snapshot of each source holding `kind`, collected before `before`, optionally of one control. */
function latestPerSource(snapshots: readonly SnapshotOfKind[], controlId?: string): SnapshotOfKind[] {
  const seen = new Set<string>();
  return snapshots.filter((snapshot) => {
    if (controlId !== undefined && snapshot.controlId !== controlId) return false;
    const key = `${snapshot.controlId}\u0000${snapshot.sourceName}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function recordsOf<K extends RecordKind>(
  store: EvidenceStore,
  snapshots: readonly SnapshotOfKind[],
  kind: K,
): Promise<{ evidenceId: string; records: RecordOf<K>[] }[]> {
  const out: { evidenceId: string; records: RecordOf<K>[] }[] = [];
  for (const snapshot of snapshots) {
    const records: RecordOf<K>[] = [];
    for await (const record of store.records(snapshot.id)) if (record.kind === kind) records.push(record as RecordOf<K>);
    out.push({ evidenceId: snapshot.id, records });
  }
  return out;
}

const refOf = (snapshot: SnapshotOfKind): SnapshotRef => ({
  evidenceId: snapshot.id,
  controlId: snapshot.controlId,
  sourceName: snapshot.sourceName,
  collectedAt: snapshot.collectedAt,
  sha256: snapshot.sha256,
});

/** The check as the control that collected the evidence runs it: its parameters, else the check's defaults. */
function judge(
  runtime: ReportRuntime,
  controlId: string,
  check: AnyCheck,
  snapshots: readonly { evidenceId: string; records: readonly EvidenceRecord[] }[],
  at: number,
): Deviation[] {
  const configured = runtime.config.controls.get(controlId)?.checks.find((entry) => entry.check.id === check.id);
  return check.evaluate(checkEvidence(snapshots), configured ? configured.params : check.params.parse({}), new Date(at));
}

async function checkRunOf(register: Register, runId: string): Promise<CheckRunSummary | null> {
  const run = await register.checkRunOf(runId);
  return run ? { runId: run.runId, evaluatedAt: run.evaluatedAt, status: run.status, results: run.results } : null;
}

const RISK_FIELDS: readonly (keyof Risk)[] = [
  'title',
  'owner',
  'asset',
  'inherentScore',
  'residualScore',
  'treatment',
  'controls',
  'acceptance',
  'reviewInterval',
  'lastReviewAt',
];

async function risksOf(runtime: ReportRuntime, range: { from: number; to: number }, asOf: number): Promise<RiskSection | Absent> {
  const catalog = runtime.store.catalog;
  const snapshots = await snapshotsOfKind(catalog, 'risk', iso(asOf));
  const latest = latestPerSource(snapshots);
  if (latest.length === 0)
    return { absent: `no risk register snapshot was collected before ${iso(asOf)}: no control has a risk-register source, or it has not run yet` };
  const atStart = latestPerSource(snapshots.filter((snapshot) => Date.parse(snapshot.collectedAt) < range.from));
  const perSnapshot = await recordsOf(runtime.store, latest, 'risk');
  const current = perSnapshot.flatMap((snapshot) => snapshot.records);
  const before = new Map((await recordsOf(runtime.store, atStart, 'risk')).flatMap((snapshot) => snapshot.records).map((risk) => [risk.id, risk]));
  const now = new Map(current.map((risk) => [risk.id, risk]));
  const show = (value: unknown) => (value === null || value === undefined ? '–' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  const deviations = (check: AnyCheck) => latest.flatMap((snapshot, index) => judge(runtime, snapshot.controlId, check, [perSnapshot[index]!], asOf));
  const byId = (subject: string) => now.get(subject.replace(/^risk:/, ''));
  return {
    sources: latest.map(refOf),
    atStart: atStart.map(refOf),
    versionsInPeriod: new Set(snapshots.filter((snapshot) => within(snapshot.collectedAt, range)).map((snapshot) => snapshot.sha256)).size,
    total: current.length,
    byTreatment: countBy(current.map((risk) => risk.treatment)),
    added:
      atStart.length === 0
        ? []
        : current.filter((risk) => !before.has(risk.id)).map((risk) => ({ id: risk.id, title: risk.title, residualScore: risk.residualScore })),
    removed: [...before.values()].filter((risk) => !now.has(risk.id)).map((risk) => ({ id: risk.id, title: risk.title })),
    changed: current.flatMap((risk) => {
      const old = before.get(risk.id);
      if (!old) return [];
      const changes = RISK_FIELDS.filter((field) => JSON.stringify(old[field]) !== JSON.stringify(risk[field])).map((field) => ({
        field,
        before: show(old[field]),
        after: show(risk[field]),
      }));
      return changes.length > 0 ? [{ id: risk.id, title: risk.title, changes }] : [];
    }),
    reviewedInPeriod: current.filter((risk) => risk.lastReviewAt !== null && within(risk.lastReviewAt, range)).length,
    overdueReviews: deviations(riskReviewOverdue).map((deviation) => {
      const risk = byId(deviation.subject);
      return {
        id: risk?.id ?? deviation.subject,
        title: risk?.title ?? deviation.title,
        owner: risk?.owner ?? null,
        reviewDue: risk?.reviewDue ?? null,
        daysLate: (deviation.values['daysLate'] as number | null | undefined) ?? null,
      };
    }),
    acceptanceMissing: deviations(riskAcceptanceMissing).map((deviation) => ({
      id: byId(deviation.subject)?.id ?? deviation.subject,
      title: deviation.title,
      severity: deviation.severity,
    })),
    highest: [...current]
      .sort((a, b) => b.residualScore - a.residualScore || a.id.localeCompare(b.id))
      .slice(0, TOP)
      .map((risk) => ({
        id: risk.id,
        title: risk.title,
        owner: risk.owner,
        inherentScore: risk.inherentScore,
        residualScore: risk.residualScore,
        treatment: risk.treatment,
        controls: risk.controls,
      })),
    checkRun: await checkRunOf(runtime.register, latest[0]!.runId),
  };
}

async function suppliersOf(runtime: ReportRuntime, asOf: number): Promise<SupplierSection | Absent> {
  const latest = latestPerSource(await snapshotsOfKind(runtime.store.catalog, 'supplier', iso(asOf)));
  if (latest.length === 0)
    return { absent: `no supplier register snapshot was collected before ${iso(asOf)}: no control has a supplier-register source, or it has not run yet` };
  const snapshots = await recordsOf(runtime.store, latest, 'supplier');
  const suppliers = snapshots.flatMap((snapshot) => snapshot.records);
  const judged = (check: AnyCheck) => latest.flatMap((snapshot, index) => judge(runtime, snapshot.controlId, check, [snapshots[index]!], asOf));
  const byName = new Map(suppliers.map((supplier) => [supplier.name, supplier]));
  const certificateCheck = runtime.config.controls.get(latest[0]!.controlId)?.checks.find((entry) => entry.check.id === supplierCertificateExpiry.id);
  const certificateParams = (certificateCheck?.params ?? supplierCertificateExpiry.params.parse({})) as { expiringWithinDays: number; criticalities: string[] };
  return {
    sources: latest.map(refOf),
    total: suppliers.length,
    byCriticality: countBy(suppliers.map((supplier) => supplier.criticality)),
    overdueReviews: judged(supplierReviewOverdue).map((deviation) => {
      const supplier = byName.get(String(deviation.values['supplier'] ?? deviation.subject.replace(/^supplier:/, '')));
      return {
        name: supplier?.name ?? deviation.subject,
        criticality: supplier?.criticality ?? null,
        owner: supplier?.owner ?? null,
        reviewDue: supplier?.reviewDue ?? null,
        daysLate: (deviation.values['daysLate'] as number | null | undefined) ?? null,
      };
    }),
    certificates: judged(supplierCertificateExpiry).map((deviation) => ({
      supplier: String(deviation.values['supplier']),
      criticality: String(deviation.values['criticality']),
      certificate: String(deviation.values['certificate']),
      validUntil: String(deviation.values['validUntil']),
      daysLeft: Number(deviation.values['daysLeft']),
    })),
    watched: { expiringWithinDays: certificateParams.expiringWithinDays, criticalities: certificateParams.criticalities },
    checkRun: await checkRunOf(runtime.register, latest[0]!.runId),
  };
}

async function trainingOf(runtime: ReportRuntime, range: { from: number; to: number }, asOf: number): Promise<TrainingSection | Absent> {
  const control = [...runtime.config.controls.values()].find((candidate) => candidate.checks.some((entry) => entry.check.id === trainingOverdue.id));
  if (!control) return { absent: 'no control runs the training-overdue check: training completion is not measured' };
  const controlId = control.control.id;
  const catalog = runtime.store.catalog;
  const training = latestPerSource(await snapshotsOfKind(catalog, 'training-record', iso(asOf)), controlId);
  const people = latestPerSource(await snapshotsOfKind(catalog, 'hr-person', iso(asOf)), controlId);
  if (training.length === 0 || people.length === 0)
    return { absent: `control ${controlId} has not collected ${training.length === 0 ? 'training records' : 'HR records'} before ${iso(asOf)}` };
  const params = control.checks.find((entry) => entry.check.id === trainingOverdue.id)!.params as { courses: string[] };
  const hr = await recordsOf(runtime.store, people, 'hr-person');
  const learning = await recordsOf(runtime.store, training, 'training-record');
  const deviations = judge(runtime, controlId, trainingOverdue, [...hr, ...learning], asOf);
  const active = hr.flatMap((snapshot) => snapshot.records).filter((person) => person.status === 'active').length;
  const notCurrent = deviations.filter((deviation) => deviation.subject.startsWith('person:'));
  const required = patternMatcher(params.courses);
  const completions = learning
    .flatMap((snapshot) => snapshot.records)
    .filter((record) => required(record.course) && record.completedAt !== null && within(record.completedAt, range)).length;
  return {
    controlId,
    courses: params.courses,
    sources: [...people, ...training].map(refOf),
    active,
    current: active - notCurrent.length,
    completionPercent: active === 0 ? null : round1((100 * (active - notCurrent.length)) / active),
    notCurrent: notCurrent.map((deviation) => ({ subject: deviation.subject, title: deviation.title })),
    unknownLearners: deviations.filter((deviation) => deviation.subject.startsWith('learner:')).length,
    completionsInPeriod: completions,
    checkRun: await (async (run) => (run ? checkRunOf(runtime.register, run.runId) : null))(await latestCheckRunBefore(catalog, controlId, iso(asOf))),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// f) Opportunities for improvement, and trends

function improvementOf(audit: AuditReportData, all: readonly WithHistory[], range: { from: number; to: number }, asOf: number): ImprovementRow[] {
  const rows = audit.heatmap.rows.map((row) => {
    const controlId = row.kind === 'control' ? row.id : activityControlOf(row.id);
    const own = all.filter((entry) => entry.nc.controlId === controlId);
    return {
      kind: row.kind,
      id: row.id,
      title: row.title,
      gaps: row.cells.reduce((sum, cell) => sum + cell.missing + cell.partial, 0),
      reopenings: own.reduce((sum, entry) => sum + reopeningsOf(entry.history).filter((change) => within(change.at, range)).length, 0),
      openNonconformities: own.filter((entry) => BEING_WORKED_ON.includes(statusAt(entry, asOf) ?? 'closed')).length,
    };
  });
  return rows
    .filter((row) => row.gaps + row.reopenings > 0)
    .sort((a, b) => b.gaps + b.reopenings - (a.gaps + a.reopenings) || b.openNonconformities - a.openNonconformities || a.id.localeCompare(b.id))
    .slice(0, TOP);
}

function trendsOf(
  audit: AuditReportData,
  all: readonly WithHistory[],
  findings: readonly { firstSeenAt: string; fixedAt: string | null }[],
  now: number,
): Trends {
  const columns = audit.heatmap.columns;
  const past = (column: { from: string }) => Date.parse(column.from) <= now;
  const endOf = (column: { to: string }) => Math.min(Date.parse(column.to), now);
  return {
    unit: audit.heatmap.unit,
    columns: columns.map((column) => ({ label: column.label, short: column.short, group: column.group, from: column.from, to: column.to })),
    nonconformitiesOpened: columns.map((column) => (past(column) ? all.filter((entry) => within(entry.nc.firstObserved, span(column))).length : null)),
    nonconformitiesClosed: columns.map((column) =>
      past(column)
        ? all.reduce((sum, entry) => sum + entry.history.filter((change) => change.toStatus === 'closed' && within(change.at, span(column))).length, 0)
        : null,
    ),
    nonconformitiesNotClosed: columns.map((column) => {
      if (!past(column)) return null;
      return all.filter((entry) => {
        const status = statusAt(entry, endOf(column));
        return status !== null && status !== 'closed';
      }).length;
    }),
    coveragePercent: columns.map((_, index) => {
      const cells = audit.heatmap.rows.map((row) => row.cells[index]!);
      const due = cells.reduce((sum, cell) => sum + cell.expected - cell.pending, 0);
      return due === 0 ? null : round1((100 * cells.reduce((sum, cell) => sum + cell.satisfied, 0)) / due);
    }),
    findingsOpen: columns.map((column) => {
      if (!past(column)) return null;
      const end = endOf(column);
      return findings.filter((finding) => Date.parse(finding.firstSeenAt) < end && (finding.fixedAt === null || Date.parse(finding.fixedAt) > end)).length;
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Keeping packs as evidence

/** Keeps the pack's JSON and its HTML as evidence; the JSON's row is the pack a review discusses. */
export async function keepManagementReviewPack(
  store: EvidenceStore,
  pack: ManagementReviewPack,
  html: string,
): Promise<{ json: EvidenceRow; html: EvidenceRow }> {
  const runId = `management-review-pack:${pack.generatedAt}:${randomUUID()}`;
  const stem = `management-review-pack-${pack.generatedAt.slice(0, 10)}`;
  const meta = {
    runId,
    controlId: MANAGEMENT_REVIEW_CONTROL_ID,
    connector: 'isms-management-review',
    connectorVersion: '1',
    collectedAt: pack.generatedAt,
    periodStart: pack.period.from,
    periodEnd: pack.period.to,
    provenance: { schema: pack.schema, period: { from: pack.period.from, to: pack.period.to } },
    warnings: [],
  };
  return {
    json: await store.storeFile(
      { ...meta, sourceName: PACK_JSON },
      { name: `${stem}.json`, mediaType: 'application/json' },
      `${JSON.stringify(pack, null, 2)}\n`,
    ),
    html: await store.storeFile({ ...meta, sourceName: 'pack.html' }, { name: `${stem}.html`, mediaType: 'text/html' }, html),
  };
}

/**
 * Keeps the minutes of a held review: who held it and when, the pack it discussed (by evidence id and hash) and
 * its decisions. They are the evidence of the management-review occurrence, beside the pack itself.
 */
export async function keepManagementReviewMinutes(
  store: EvidenceStore,
  review: ManagementReview,
  decisions: readonly ReviewDecision[],
  pack: { json: EvidenceRow; html: EvidenceRow },
): Promise<EvidenceRow> {
  const minutes = {
    schema: MINUTES_SCHEMA,
    review: {
      id: review.id,
      period: review.period,
      openedAt: review.openedAt,
      openedBy: review.openedBy,
      heldAt: review.heldAt,
      heldBy: review.heldBy,
      note: review.note,
    },
    pack: { evidenceId: pack.json.id, sha256: pack.json.sha256, html: { evidenceId: pack.html.id, sha256: pack.html.sha256 } },
    decisions: decisions.map((decision) => ({
      id: decision.id,
      text: decision.text,
      owner: decision.owner,
      dueDate: decision.dueDate,
      status: decision.status,
      recordedAt: decision.recordedAt,
      recordedBy: decision.recordedBy,
    })),
  };
  return await store.storeFile(
    {
      runId: `management-review:${review.id}`,
      controlId: MANAGEMENT_REVIEW_CONTROL_ID,
      sourceName: 'minutes.json',
      connector: 'isms-management-review',
      connectorVersion: '1',
      collectedAt: review.heldAt ?? new Date().toISOString(),
      provenance: { schema: MINUTES_SCHEMA, review: review.id, pack: pack.json.id, decisions: decisions.length },
      warnings: [],
    },
    { name: `management-review-minutes-${review.id}.json`, mediaType: 'application/json' },
    `${JSON.stringify(minutes, null, 2)}\n`,
  );
}

/** The packs kept so far (their JSON rows), newest first. */
export async function storedPacks(store: EvidenceStore): Promise<EvidenceRow[]> {
  return (await store.list({ controlId: MANAGEMENT_REVIEW_CONTROL_ID })).filter((row) => row.sourceName === PACK_JSON);
}

/** The HTML kept beside a pack's JSON. */
export async function packHtmlOf(store: EvidenceStore, packJson: EvidenceRow): Promise<EvidenceRow | undefined> {
  return store.findCommitted(packJson.runId, 'pack.html');
}

// ---------------------------------------------------------------------------------------------------------------

function within(at: string, range: { from: number; to: number }): boolean {
  const instant = Date.parse(at);
  return instant >= range.from && instant < range.to;
}

function span(column: { from: string; to: string }): { from: number; to: number } {
  return { from: Date.parse(column.from), to: Date.parse(column.to) };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round1OrNull = (value: number | null) => (value === null ? null : round1(value));

function iso(instant: number): string {
  return new Date(instant).toISOString();
}
