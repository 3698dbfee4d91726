import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { resolveCalendar } from '../../config/calendar.ts';
import { planOccurrences } from '../../config/calendar-plan.ts';
import { loadConfig } from '../../config/load.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { ManagementReviewStore } from '../../evidence/management-review.ts';
import { HrPerson, Risk, Supplier, TrainingRecord, type EvidenceRecord } from '../../core/records.ts';
import type { EvidenceStore } from '../../evidence/store.ts';
import { defaultRegistries } from '../../worker/runtime.ts';
import type { ReportRuntime } from '../../worker/audit-report-data.ts';
import { HOSTILE, periodRange, seedAuditCatalog } from './audit-report-seed.ts';

/**
 * The audit report's catalog (2026-W37 to W44, Europe/Berlin; see audit-report-seed.ts) with what a management
 * review reads besides: two risk register versions (one before the period, one in it), a supplier register, HR and
 * training records, a risk nonconformity closed in the period and one that recurs twice, an internal audit done
 * and another missed, changes before and in the period, and two held management reviews with their decisions.
 */

const day = (date: string, time = '08:00:00') => `${date}T${time}.000Z`;

const risk = (id: string, change: Partial<Risk> = {}): Risk =>
  Risk.parse({
    kind: 'risk',
    source: 'risks',
    id,
    title: `Risk ${id}`,
    owner: 'risk-owner@example.com',
    asset: null,
    likelihood: 3,
    impact: 3,
    inherentScore: 9,
    residualLikelihood: 2,
    residualImpact: 3,
    residualScore: 6,
    treatment: 'mitigate',
    controls: ['A.8.8'],
    acceptance: null,
    reviewInterval: '1 year',
    lastReviewAt: day('2026-05-01', '00:00:00'),
    reviewDue: '2027-05-01',
    overdueFrom: day('2027-05-01', '22:00:00'),
    ...change,
  });

const supplier = (name: string, change: Partial<Supplier> = {}): Supplier =>
  Supplier.parse({
    kind: 'supplier',
    source: 'suppliers',
    name,
    service: 'hosting',
    data: ['customer PII'],
    criticality: 'critical',
    owner: 'vendor-owner@example.com',
    certificates: [],
    reviewInterval: '1 year',
    lastReviewAt: day('2026-06-01', '00:00:00'),
    reviewDue: '2027-06-01',
    overdueFrom: day('2027-06-01', '22:00:00'),
    ...change,
  });

const person = (employeeId: string, email: string, change: Partial<HrPerson> = {}): HrPerson =>
  HrPerson.parse({
    kind: 'hr-person',
    source: 'hr',
    employeeId,
    email,
    displayName: email.split('@')[0],
    status: 'active',
    terminationDate: null,
    lastWorkingDay: null,
    manager: null,
    hireDate: day('2024-01-08', '00:00:00'),
    ...change,
  });

const course = (email: string, completedOn: string | null): TrainingRecord =>
  TrainingRecord.parse({
    kind: 'training-record',
    source: 'lms',
    person: email,
    employeeId: null,
    displayName: null,
    course: 'Security Awareness 2026',
    assignedAt: null,
    completedAt: completedOn && day(completedOn),
    status: null,
  });

async function snapshot(
  store: EvidenceStore,
  runId: string,
  controlId: string,
  sourceName: string,
  connector: string,
  collectedAt: string,
  records: readonly EvidenceRecord[],
): Promise<string> {
  const staged = await store.stage(runId, sourceName);
  for (const record of records) await staged.append(record);
  const row = await store.commit(staged, {
    runId,
    controlId,
    sourceName,
    connector,
    connectorVersion: '1',
    kinds: [...new Set(records.map((record) => record.kind))],
    collectedAt,
    provenance: {},
    warnings: [],
  });
  return row.id;
}

/** Seeds the audit report's catalog and the management review's own records; returns a runtime over the extended config. */
export async function seedManagementReviewCatalog(dir: string): Promise<ReportRuntime> {
  const seeded = await seedAuditCatalog(dir);
  const file = path.join(dir, 'isms.yaml');
  const config = parse(readFileSync(file, 'utf8')) as { controls: unknown[]; calendar: { activities: unknown[] } };
  config.controls.push(
    {
      id: 'risk-management',
      title: 'Risks are reviewed and accepted',
      reference: ['6.1.2', '8.2'],
      owner: 'isms@example.com',
      schedule: { cron: '0 7 * * 4' },
      sources: [{ name: 'risks', connector: 'risk-register', config: { path: 'risks.yaml' } }],
      checks: [{ check: 'risk-review-overdue' }, { check: 'risk-acceptance-missing' }],
    },
    {
      id: 'supplier-management',
      title: 'Suppliers are reviewed',
      reference: ['A.5.19'],
      owner: 'isms@example.com',
      schedule: { cron: '0 7 * * 1' },
      sources: [{ name: 'suppliers', connector: 'supplier-register', config: { path: 'suppliers.csv' } }],
      checks: [{ check: 'supplier-review-overdue' }, { check: 'supplier-certificate-expiry', params: { expiringWithinDays: 30, criticalities: ['critical'] } }],
    },
    {
      id: 'awareness-training',
      title: 'Everyone completes awareness training',
      reference: ['A.6.3'],
      owner: 'isms@example.com',
      schedule: { cron: '0 7 * * 1' },
      sources: [
        { name: 'hr', connector: 'hr-csv', config: { path: 'people.csv', columns: { employeeId: 'id', email: 'email', status: 'status' } } },
        { name: 'lms', connector: 'training-csv', config: { path: 'lms.csv', columns: { email: 'email', course: 'course', completed: 'completed' } } },
      ],
      checks: [{ check: 'training-overdue', params: { courses: ['Security Awareness *'], withinDaysOfHire: 30, validForMonths: 12 } }],
    },
  );
  config.calendar.activities.push(
    { id: 'internal-audit', title: 'Internal audit', reference: '9.2', every: '1 year', anchor: '2026-10-15', evidence: [{ name: 'internal audit report' }] },
    {
      id: 'internal-audit-it',
      title: 'Internal audit of IT operations',
      reference: '9.2',
      every: '1 year',
      anchor: '2026-09-18',
      evidence: [{ name: 'internal audit report' }],
    },
  );
  writeFileSync(file, stringify(config));
  const loaded = await loadConfig(file, defaultRegistries);
  const { store, register } = seeded;

  // The risk register before the period (R-1 to R-3) and in it: R-1's residual lowered, R-3 removed, R-4 added and
  // accepted by nobody, R-2 due for review on Oct 1 and not reviewed.
  const before = [
    risk('R-1'),
    risk('R-2', { lastReviewAt: day('2025-09-30', '22:00:00'), reviewDue: '2026-10-01', overdueFrom: day('2026-10-01', '22:00:00') }),
    risk('R-3'),
  ];
  const during = [
    risk('R-1', {
      residualLikelihood: 1,
      residualScore: 3,
      lastReviewAt: day('2026-09-29', '22:00:00'),
      reviewDue: '2027-09-30',
      overdueFrom: day('2027-09-30', '22:00:00'),
    }),
    before[1]!,
    risk('R-4', {
      title: `Risk R-4 ${HOSTILE}`,
      treatment: 'accept',
      controls: [],
      likelihood: 4,
      impact: 4,
      inherentScore: 16,
      residualLikelihood: 4,
      residualImpact: 4,
      residualScore: 16,
    }),
  ];
  await snapshot(store, 'rm-aug-20', 'risk-management', 'risks', 'risk-register', day('2026-08-20', '05:00:00'), before);
  await snapshot(store, 'rm-oct-01', 'risk-management', 'risks', 'risk-register', day('2026-10-01', '05:00:00'), during);

  // Risk runs: R-2's review lapse (opened before the period) settles on Oct 1 and is closed on Oct 5; R-4's missing
  // acceptance opens on Oct 1, is not observed on Oct 8 and Oct 22, and comes back on Oct 15 and Oct 29.
  const riskRun = async (runId: string, evaluatedAt: string, found: { checkId: string; subject: string }[]) => {
    const checks = ['risk-review-overdue', 'risk-acceptance-missing'];
    const deviations = found.map((entry) => ({
      ...entry,
      title: `${entry.checkId} ${entry.subject}`,
      severity: 'high' as const,
      detail: 'seeded',
      values: {},
      evidenceIds: [],
    }));
    const results = checks.map((checkId) => ({
      checkId,
      status: deviations.some((deviation) => deviation.checkId === checkId) ? ('fail' as const) : ('pass' as const),
      deviations: deviations.filter((deviation) => deviation.checkId === checkId).length,
    }));
    const run = await register.saveCheckRun(
      { runId, controlId: 'risk-management', evaluatedAt, status: deviations.length > 0 ? 'fail' : 'pass', results },
      deviations,
    );
    return await register.reconcile({
      checkRunId: run.id,
      controlId: 'risk-management',
      reference: '6.1.2, 8.2',
      owner: 'isms@example.com',
      at: evaluatedAt,
      gaps: [],
      collectedSources: ['risks'],
    });
  };
  const lapse = { checkId: 'risk-review-overdue', subject: 'risk:R-2' };
  const acceptance = { checkId: 'risk-acceptance-missing', subject: 'risk:R-4' };
  const opened = (await riskRun('rm-aug-20', day('2026-08-20', '05:00:00'), [lapse])).opened[0]!;
  const recurring = (await riskRun('rm-oct-01', day('2026-10-01', '05:00:00'), [acceptance])).opened[0]!;
  await register.transition(opened, 'verified', { actor: 'isms@example.com', at: day('2026-10-03', '10:00:00') });
  await register.transition(opened, 'closed', { actor: 'isms@example.com', at: day('2026-10-05', '10:00:00'), note: 'reviewed' });
  await riskRun('rm-oct-08', day('2026-10-08', '05:00:00'), []);
  await riskRun('rm-oct-15', day('2026-10-15', '05:00:00'), [acceptance]);
  await riskRun('rm-oct-22', day('2026-10-22', '05:00:00'), []);
  await riskRun('rm-oct-29', day('2026-10-29', '05:00:00'), [acceptance]);
  await register.transition(recurring, 'corrective-action', {
    actor: 'isms@example.com',
    at: day('2026-10-29', '09:00:00'),
    correctiveAction: 'CEO to accept R-4 in writing',
    dueDate: '2026-10-31',
  });

  // Suppliers: Acme's SOC 2 report expired on Oct 15; Beta's ISO certificate runs to Nov 20, within 30 days of the
  // period's end; Gamma (high) was due for review on Sep 30.
  const suppliers = [
    supplier('Acme Hosting', { certificates: [{ name: 'SOC 2 Type II report', validUntil: '2026-10-15', expiresAt: day('2026-10-15', '22:00:00') }] }),
    supplier('Beta Payments', { certificates: [{ name: 'ISO/IEC 27001', validUntil: '2026-11-20', expiresAt: day('2026-11-20', '23:00:00') }] }),
    supplier('Gamma Mail', {
      criticality: 'high',
      lastReviewAt: day('2025-09-29', '22:00:00'),
      reviewDue: '2026-09-30',
      overdueFrom: day('2026-09-30', '22:00:00'),
    }),
  ];
  await snapshot(store, 'sm-oct-05', 'supplier-management', 'suppliers', 'supplier-register', day('2026-10-05', '05:00:00'), suppliers);
  await register.saveCheckRun(
    {
      runId: 'sm-oct-05',
      controlId: 'supplier-management',
      evaluatedAt: day('2026-10-05', '05:00:00'),
      status: 'fail',
      results: [{ checkId: 'supplier-review-overdue', status: 'fail', deviations: 1 }],
    },
    [],
  );

  // Training on Oct 26: five active people and a leaver. Ann is current, Bob's course (Sep 2025) lapsed in Sep 2026,
  // Cem joined Oct 20 (his 30 days run to Nov 19), Dee joined in January and never trained, Eve completed on Oct 12;
  // a contractor HR does not know trained too.
  const people = [
    person('1', 'ann@example.com'),
    person('2', 'bob@example.com'),
    person('3', 'cem@example.com', { hireDate: day('2026-10-19', '22:00:00') }),
    person('4', 'dee@example.com', { hireDate: day('2026-01-04', '23:00:00') }),
    person('5', 'eve@example.com'),
    person('6', 'fay@example.com', { status: 'leaver', terminationDate: day('2026-09-01', '00:00:00') }),
  ];
  const records = [
    course('ann@example.com', '2026-03-01'),
    course('bob@example.com', '2025-09-01'),
    course('eve@example.com', '2026-10-12'),
    course('eve@example.com', '2025-10-01'),
    course('contractor@vendor.example', '2026-10-02'),
  ];
  await snapshot(store, 'at-oct-26', 'awareness-training', 'hr', 'hr-csv', day('2026-10-26', '05:00:00'), people);
  await snapshot(store, 'at-oct-26', 'awareness-training', 'lms', 'training-csv', day('2026-10-26', '05:00:01'), records);
  await register.saveCheckRun(
    {
      runId: 'at-oct-26',
      controlId: 'awareness-training',
      evaluatedAt: day('2026-10-26', '05:01:00'),
      status: 'fail',
      results: [{ checkId: 'training-overdue', status: 'fail', deviations: 3 }],
    },
    [],
  );

  // Internal audits: the yearly one done on Oct 14 with its report; the IT audit due Sep 18 missed.
  const calendar = resolveCalendar(loaded.config);
  const calendarStore = new CalendarStore(store.catalog);
  const [audit] = planOccurrences(calendar.activities.get('internal-audit')!, periodRange());
  await calendarStore.open(audit!, audit!.opensAt);
  await calendarStore.complete({
    occurrenceId: audit!.occurrenceId,
    by: 'auditor@example.com',
    performedAt: day('2026-10-14', '12:00:00'),
    recordedAt: day('2026-10-14', '12:00:00'),
    late: false,
    note: `Two minor findings ${HOSTILE}`,
    evidence: [{ name: 'internal audit report', link: 'https://example.com/audit-2026.pdf' }],
  });
  const [missedAudit] = planOccurrences(calendar.activities.get('internal-audit-it')!, periodRange());
  await calendarStore.open(missedAudit!, missedAudit!.opensAt);
  const missed = await register.raiseMissedActivity({
    activityId: 'internal-audit-it',
    occurrenceId: missedAudit!.occurrenceId,
    reference: '9.2',
    owner: 'it@example.com',
    title: 'Missed: internal audit of IT operations due 2026-09-18',
    at: missedAudit!.graceUntil,
    detail: 'not completed by the end of grace',
  });
  await calendarStore.missed(missedAudit!.occurrenceId, missed.id, missedAudit!.graceUntil);

  // Changes: one before the period, one in it naming R-2.
  await calendarStore.recordChange(
    { title: 'Office move', affects: ['scope'], recordedAt: day('2026-08-01'), recordedBy: 'isms@example.com' },
    (id) => `activity:change-review:${id}`,
  );
  await calendarStore.recordChange(
    { title: `VPN moved to SSO ${HOSTILE}`, affects: ['risk'], risks: ['R-2'], recordedAt: day('2026-10-20'), recordedBy: 'isms@example.com' },
    (id) => `activity:change-review:${id}`,
  );

  // Management reviews: MR-0001 held in January left D-0001 open; MR-0002 held in July took D-0002 (done since),
  // D-0003 (open, due Sep 30) and D-0004 (dropped).
  const reviews = new ManagementReviewStore(store.catalog);
  const first = await reviews.open({
    packEvidenceId: 'ev-pack-2025',
    period: { from: day('2025-01-01'), to: day('2026-01-01') },
    at: day('2026-01-15'),
    by: 'ceo@example.com',
  });
  await reviews.decide({
    reviewId: first.id,
    text: 'Adopt a backup policy',
    owner: 'ops@example.com',
    dueDate: '2026-03-31',
    at: day('2026-01-20'),
    by: 'ceo@example.com',
  });
  await reviews.hold(first.id, { at: day('2026-01-20', '15:00:00'), by: 'ceo@example.com', minutesEvidenceId: 'ev-minutes-1' });
  const second = await reviews.open({
    packEvidenceId: 'ev-pack-2026-h1',
    period: { from: day('2026-01-01'), to: day('2026-07-01') },
    at: day('2026-07-10'),
    by: 'ceo@example.com',
  });
  const done = await reviews.decide({
    reviewId: second.id,
    text: 'Hire a security engineer',
    owner: 'cto@example.com',
    dueDate: '2026-10-31',
    at: day('2026-07-15'),
    by: 'ceo@example.com',
  });
  await reviews.decide({
    reviewId: second.id,
    text: `Rebuild base images weekly ${HOSTILE}`,
    owner: 'ops@example.com',
    dueDate: '2026-09-30',
    at: day('2026-07-15'),
    by: 'ceo@example.com',
  });
  const dropped = await reviews.decide({
    reviewId: second.id,
    text: 'Move the archive to the cloud',
    owner: 'ops@example.com',
    dueDate: '2026-12-31',
    at: day('2026-07-15'),
    by: 'ceo@example.com',
  });
  await reviews.hold(second.id, { at: day('2026-07-15', '16:00:00'), by: 'ceo@example.com', minutesEvidenceId: 'ev-minutes-2' });
  await reviews.setStatus(done.id, 'done', { at: day('2026-09-10'), by: 'cto@example.com', note: 'Started on Sep 1' });
  await reviews.setStatus(dropped.id, 'dropped', { at: day('2026-08-01'), by: 'ceo@example.com', note: 'R-3 was removed' });

  return { config: loaded, store, register };
}
