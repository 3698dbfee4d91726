import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../worker/html.ts';
import {
  isAbsent,
  renderManagementReview,
  type ManagementReviewPack,
  type RiskSection,
  type SupplierSection,
  type TrainingSection,
} from '../../worker/management-review.ts';
import { gatherManagementReview } from '../../worker/management-review-data.ts';
import type { ReportRuntime } from '../../worker/audit-report-data.ts';
import { HOSTILE, periodRange, REPORT_NOW } from '../support/audit-report-seed.ts';
import { headlessChromium } from '../support/chromium.ts';
import { seedManagementReviewCatalog } from '../support/management-review-seed.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-management-review-'));
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=alert(2) x=&quot;';
let runtime: ReportRuntime;
let pack: ManagementReviewPack;

beforeAll(async () => {
  runtime = await seedManagementReviewCatalog(path.join(dir, 'catalog'));
  pack = await gatherManagementReview(runtime, periodRange(), REPORT_NOW);
});
afterAll(async () => {
  await runtime.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const present = <T extends object>(section: T | { absent: string }): T => {
  if (isAbsent(section)) throw new Error(`section absent: ${section.absent}`);
  return section;
};

describe('management review pack: the figures', () => {
  it('takes the figures at the end of the period when the period has ended', () => {
    expect(pack.period).toEqual({ from: '2026-09-06T22:00:00.000Z', to: '2026-11-01T23:00:00.000Z', timeZone: 'Europe/Berlin' });
    expect(pack.asOf).toBe(pack.period.to);
    expect(pack.generatedAt).toBe(new Date(REPORT_NOW).toISOString());
  });

  it("follows up the last held review's decisions with their current status, and older ones still open", () => {
    const { review, decisions, earlierOpen, counts } = pack.previousActions;
    expect(review).toEqual({
      id: 'MR-0002',
      heldAt: '2026-07-15T16:00:00.000Z',
      heldBy: 'ceo@example.com',
      period: { from: '2026-01-01T08:00:00.000Z', to: '2026-07-01T08:00:00.000Z' },
      minutesEvidenceId: 'ev-minutes-2',
    });
    expect(decisions.map((decision) => [decision.id, decision.status, decision.overdue, decision.lastChange?.note ?? null])).toEqual([
      ['D-0002', 'done', false, 'Started on Sep 1'],
      // Due Sep 30 and still open on Nov 12.
      ['D-0003', 'open', true, null],
      ['D-0004', 'dropped', false, 'R-3 was removed'],
    ]);
    expect(decisions[0]!.lastChange).toEqual({ at: '2026-09-10T08:00:00.000Z', actor: 'cto@example.com', toStatus: 'done', note: 'Started on Sep 1' });
    expect(earlierOpen.map((decision) => [decision.id, decision.reviewId, decision.overdue])).toEqual([['D-0001', 'MR-0001', true]]);
    expect(counts).toEqual({ open: 2, done: 1, dropped: 1, overdue: 2 });
  });

  it('lists the changes recorded in the period with their review', () => {
    expect(pack.changes.map((change) => [change.id, change.affects, change.risks, change.review])).toEqual([['CHG-0002', ['risk'], ['R-2'], null]]);
  });

  it('counts nonconformities opened and closed, open by age, time to close, overdue corrective actions and recurring fingerprints', () => {
    const n = pack.nonconformities;
    // Opened: the seed's CVE-D (Sep 21), evidence gap (Sep 14) and missed review (Oct 19); R-4's acceptance (Oct 1); the missed IT audit (Oct 2).
    expect(n.opened).toBe(5);
    // Closed: the evidence gap (Sep 14 05:00 to Sep 24 09:00 UTC) and R-2's review lapse (Aug 20 05:00 to Oct 5 10:00).
    expect(n.closed).toBe(2);
    const gapDays = (Date.parse('2026-09-24T09:00:00Z') - Date.parse('2026-09-14T05:00:00Z')) / 86_400_000;
    const lapseDays = (Date.parse('2026-10-05T10:00:00Z') - Date.parse('2026-08-20T05:00:00Z')) / 86_400_000;
    const tenth = (value: number) => Math.round(value * 10) / 10;
    expect(n.timeToClose).toEqual({ closed: 2, medianDays: tenth((gapDays + lapseDays) / 2), p90Days: tenth(lapseDays), maxDays: tenth(lapseDays) });
    expect(n.timeToClose.medianDays).toBe(28.2);
    expect([n.notClosedAtEnd, n.beingWorkedOnAtEnd]).toEqual([4, 4]);
    expect(n.notClosed.map((nc) => [nc.id, nc.status, nc.ageDays])).toEqual([
      ['NC-0002', 'corrective-action', 41.8],
      ['NC-0007', 'corrective-action', 31.8],
      ['NC-0008', 'open', 30.7],
      ['NC-0005', 'open', 13.7],
    ]);
    // Whole days: 30.7 days is 30.
    expect(n.byAge).toEqual([
      { label: '30 days or less', count: 2 },
      { label: '31 to 90 days', count: 2 },
      { label: '91 to 180 days', count: 0 },
      { label: 'over 180 days', count: 0 },
    ]);
    // Due Oct 31; the period ends at midnight of Nov 2, Berlin time.
    expect(n.correctiveActions).toEqual({
      recorded: 2,
      overdue: [{ id: 'NC-0007', title: 'risk-acceptance-missing risk:R-4', owner: 'isms@example.com', dueDate: '2026-10-31', status: 'corrective-action' }],
    });
    expect(n.recurring).toEqual([
      {
        id: 'NC-0007',
        fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
        controlId: 'risk-management',
        checkId: 'risk-acceptance-missing',
        subject: 'risk:R-4',
        title: 'risk-acceptance-missing risk:R-4',
        status: 'corrective-action',
        reopenings: 2,
        reopenedInPeriod: 2,
        lastReopenedAt: '2026-10-29T05:00:00.000Z',
      },
    ]);
  });

  it('gives the status of the nonconformity at the end of a past period, not as it is now', async () => {
    // Up to Oct 10: R-2's lapse is closed, R-4's is open (it came back on Oct 15 only later); nothing recurred yet.
    const early = await gatherManagementReview(runtime, { from: periodRange().from, to: Date.parse('2026-10-10T00:00:00Z') }, REPORT_NOW);
    expect(early.nonconformities.notClosed.map((nc) => [nc.id, nc.status])).toEqual([
      ['NC-0002', 'corrective-action'],
      ['NC-0007', 'no-longer-observed'],
      ['NC-0008', 'open'],
    ]);
    expect(early.nonconformities.recurring).toEqual([]);
    expect(early.nonconformities.correctiveActions.overdue).toEqual([]);
  });

  it('reports monitoring results from the audit report: control status, coverage, remediation, leavers', () => {
    const { monitoring } = pack;
    expect(monitoring.controls.map((control) => [control.id, control.status])).toEqual([
      ['daily-scans', 'fail'],
      ['weekly-scans', 'fail'],
      ['risk-management', 'fail'],
      ['supplier-management', 'fail'],
      ['awareness-training', 'fail'],
    ]);
    // The audit report's 57 of 69, plus the three register controls (8 weekly runs each, 1 covered) and the two internal audits (1 done, 1 missed).
    expect(monitoring.coverage).toEqual({
      expected: 69 + 24 + 2,
      satisfied: 57 + 3 + 1,
      withGaps: [
        'control:daily-scans',
        'control:risk-management',
        'control:supplier-management',
        'control:awareness-training',
        'activity:access-review',
        'activity:internal-audit-it',
      ],
    });
    expect(monitoring.remediation.openPastSla).toBe(1);
    expect(monitoring.leavers.systems.map((system) => [system.system, system.stillUsable])).toEqual([
      ['google', 0],
      ['vpn', 1],
    ]);
  });

  it('gives the internal audits of the period with their findings, and the certification audit dates', () => {
    const { audits } = pack;
    expect(audits.occurrences.map((occurrence) => [occurrence.occurrenceId, occurrence.status, occurrence.completedBy])).toEqual([
      ['activity:internal-audit-it:2026-09-18', 'missed', null],
      ['activity:internal-audit:2026-10-15', 'done', 'auditor@example.com'],
      ['activity:surveillance-audit-1-readiness:2026-10-20', 'done', 'it@example.com'],
    ]);
    expect(audits.occurrences[1]).toMatchObject({
      note: `Two minor findings ${HOSTILE}`,
      evidence: [{ name: 'internal audit report', link: 'https://example.com/audit-2026.pdf' }],
    });
    expect(audits.findings).toEqual([
      {
        id: 'NC-0008',
        controlId: 'activity:internal-audit-it',
        title: 'Missed: internal audit of IT operations due 2026-09-18',
        severity: 'medium',
        status: 'open',
      },
    ]);
    expect(audits.certification!.audits.map((audit) => [audit.id, audit.due.slice(0, 10), audit.readinessStatus])).toEqual([
      ['surveillance-audit-1', '2026-12-01', 'done'],
      ['surveillance-audit-2', '2027-12-01', 'planned'],
      ['recertification-audit', '2028-09-08', 'planned'],
    ]);
  });

  it("compares the risk register at the start and the end of the period, and judges reviews and acceptance with the control's checks", () => {
    const risks: RiskSection = present(pack.risks);
    expect(risks.sources.map((source) => [source.controlId, source.sourceName, source.collectedAt])).toEqual([
      ['risk-management', 'risks', '2026-10-01T05:00:00.000Z'],
    ]);
    expect(risks.atStart.map((source) => source.collectedAt)).toEqual(['2026-08-20T05:00:00.000Z']);
    expect([risks.total, risks.versionsInPeriod, risks.reviewedInPeriod]).toEqual([3, 1, 1]);
    expect(risks.byTreatment).toEqual({ mitigate: 2, accept: 1 });
    expect(risks.added).toEqual([{ id: 'R-4', title: `Risk R-4 ${HOSTILE}`, residualScore: 16 }]);
    expect(risks.removed).toEqual([{ id: 'R-3', title: 'Risk R-3' }]);
    expect(risks.changed).toEqual([
      {
        id: 'R-1',
        title: 'Risk R-1',
        changes: [
          { field: 'residualScore', before: '6', after: '3' },
          { field: 'lastReviewAt', before: '2026-05-01T00:00:00.000Z', after: '2026-09-29T22:00:00.000Z' },
        ],
      },
    ]);
    // Due Oct 1 (late from Oct 2, Berlin); on Nov 2 it is 32 days late.
    expect(risks.overdueReviews).toEqual([{ id: 'R-2', title: 'Risk R-2', owner: 'risk-owner@example.com', reviewDue: '2026-10-01', daysLate: 32 }]);
    expect(risks.acceptanceMissing).toEqual([{ id: 'R-4', title: `Risk accepted without an acceptor: R-4 Risk R-4 ${HOSTILE}`, severity: 'high' }]);
    expect(risks.highest.map((risk) => [risk.id, risk.residualScore])).toEqual([
      ['R-4', 16],
      ['R-2', 6],
      ['R-1', 3],
    ]);
    expect(risks.checkRun).toMatchObject({
      runId: 'rm-oct-01',
      status: 'fail',
      results: [
        { checkId: 'risk-review-overdue', status: 'pass' },
        { checkId: 'risk-acceptance-missing', status: 'fail', deviations: 1 },
      ],
    });
  });

  it("gives the supplier register's overdue reviews and the certificates expired or expiring, with the control's window", () => {
    const suppliers: SupplierSection = present(pack.suppliers);
    expect([suppliers.total, suppliers.byCriticality]).toEqual([3, { critical: 2, high: 1 }]);
    expect(suppliers.overdueReviews).toEqual([
      { name: 'Gamma Mail', criticality: 'high', owner: 'vendor-owner@example.com', reviewDue: '2026-09-30', daysLate: 33 },
    ]);
    expect(suppliers.certificates).toEqual([
      { supplier: 'Acme Hosting', criticality: 'critical', certificate: 'SOC 2 Type II report', validUntil: '2026-10-15', daysLeft: -17 },
      { supplier: 'Beta Payments', criticality: 'critical', certificate: 'ISO/IEC 27001', validUntil: '2026-11-20', daysLeft: 19 },
    ]);
    expect(suppliers.watched).toEqual({ expiringWithinDays: 30, criticalities: ['critical'] });
    expect(suppliers.checkRun?.runId).toBe('sm-oct-05');
  });

  it('measures training completion by joining HR and the learning platform as the control does', () => {
    const training: TrainingSection = present(pack.training);
    // Ann, Cem (joined Oct 20, 30 days to go) and Eve are current; Bob lapsed in September, Dee never trained.
    expect(training).toMatchObject({
      controlId: 'awareness-training',
      courses: ['Security Awareness *'],
      active: 5,
      current: 3,
      completionPercent: 60,
      unknownLearners: 1,
      completionsInPeriod: 2,
    });
    expect(training.notCurrent.map((person) => person.subject)).toEqual(['person:2', 'person:4']);
    expect(training.sources.map((source) => source.sourceName)).toEqual(['hr', 'lms']);
    expect(training.checkRun?.runId).toBe('at-oct-26');
  });

  it('names the controls and activities with the most gaps and recurrences as opportunities for improvement', () => {
    expect(pack.improvement.map((row) => [row.kind, row.id, row.gaps, row.reopenings, row.openNonconformities])).toEqual([
      // W38 missing 7, W40 missing 1 and partial 2.
      ['control', 'daily-scans', 10, 0, 1],
      // Weekly on Thursdays, collected once (Oct 1); R-4's acceptance came back twice.
      ['control', 'risk-management', 7, 2, 1],
      ['control', 'awareness-training', 7, 0, 0],
      ['control', 'supplier-management', 7, 0, 0],
      ['activity', 'access-review', 2, 0, 1],
    ]);
  });

  it('has a trend value per ISO week: opened, closed and not closed nonconformities, coverage and open findings', () => {
    const { trends } = pack;
    expect(trends.unit).toBe('week');
    expect(trends.columns.map((column) => column.short)).toEqual(['W37', 'W38', 'W39', 'W40', 'W41', 'W42', 'W43', 'W44']);
    expect(trends.nonconformitiesOpened).toEqual([0, 1, 1, 2, 0, 0, 1, 0]);
    expect(trends.nonconformitiesClosed).toEqual([0, 0, 1, 0, 1, 0, 0, 0]);
    expect(trends.nonconformitiesNotClosed).toEqual([1, 2, 2, 4, 3, 3, 4, 4]);
    // W38: daily-scans had nothing (0 of 7), weekly-scans its run, the register controls none (0 of 3), the readiness... nothing else due.
    expect(trends.coveragePercent[1]).toBe(8.3);
    // CVE-A fixed Sep 8, CVE-C open Sep 15 to 25, CVE-B fixed Oct 20 when CVE-E appeared; CVE-D open throughout.
    expect(trends.findingsOpen).toEqual([2, 3, 2, 2, 2, 2, 2, 2]);
  });

  it('leaves a week not yet begun without a value, rather than zero', async () => {
    const now = Date.parse('2026-10-07T12:00:00Z');
    const midway = await gatherManagementReview(runtime, periodRange(), now);
    expect(midway.asOf).toBe('2026-10-07T12:00:00.000Z');
    expect(midway.trends.nonconformitiesOpened).toEqual([0, 1, 1, 2, 0, null, null, null]);
    expect(midway.trends.findingsOpen.slice(5)).toEqual([null, null, null]);
    // The R-4 snapshot (Oct 1) is the latest at Oct 7; D-0003 (due Sep 30) was already overdue.
    expect(present(midway.risks).overdueReviews.map((risk) => [risk.id, risk.daysLate])).toEqual([['R-2', 6]]);
    expect(midway.previousActions.counts.overdue).toBe(2);
  });

  it('says why a register is missing rather than leaving its section blank', async () => {
    const before = await gatherManagementReview(runtime, { from: Date.parse('2026-06-01T00:00:00Z'), to: Date.parse('2026-07-01T00:00:00Z') }, REPORT_NOW);
    expect(before.risks).toEqual({
      absent: 'no risk register snapshot was collected before 2026-07-01T00:00:00.000Z: no control has a risk-register source, or it has not run yet',
    });
    expect(before.suppliers).toEqual({
      absent: 'no supplier register snapshot was collected before 2026-07-01T00:00:00.000Z: no control has a supplier-register source, or it has not run yet',
    });
    expect(before.training).toEqual({ absent: 'control awareness-training has not collected training records before 2026-07-01T00:00:00.000Z' });
    // The actions followed up are those of the last review held before the pack was generated (Nov 12).
    expect(before.previousActions.review?.id).toBe('MR-0002');
  });
});

describe('management review pack: the page', () => {
  let html: string;
  beforeAll(() => {
    html = renderManagementReview(pack);
  });

  it('is one self-contained page: the CSP, inline style only, no script and nothing external', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP.replace(/'/g, '&#39;')}">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base|form|image|use|foreignObject)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href|action)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
  });

  it('escapes every hostile value', () => {
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/\sonmouseover=/i);
    expect(html).toContain(`<td>Rebuild base images weekly ${ESCAPED}</td>`);
    expect(html).toContain(`<td>Two minor findings ${ESCAPED}</td>`);
    expect(html).toContain(`VPN moved to SSO ${ESCAPED}`);
    expect(html).toContain(`<td>Risk R-4 ${ESCAPED}</td>`);
  });

  it('has a section for every input of clause 9.3.2, each filled', () => {
    const ids = [...html.matchAll(/<section id="([a-z]+)">/g)].map((match) => match[1]);
    expect(ids).toEqual(['trends', 'actions', 'changes', 'nonconformities', 'monitoring', 'audits', 'risks', 'suppliers', 'training', 'improvement']);
    const sectionOf = (id: string) => new RegExp(`<section id="${id}">([^]*?)</section>`).exec(html)![1]!;
    expect(sectionOf('actions')).toContain('The last review, MR-0002, was held 2026-07-15 18:00 by ceo@example.com');
    expect(sectionOf('actions')).toContain('<h3>Still open from earlier reviews</h3>');
    expect(sectionOf('actions')).toMatch(
      /<td><b>D-0003<\/b><\/td><td>Rebuild base images weekly [^<]+<\/td><td>ops@example.com<\/td><td>2026-09-30 <span class="badge bad">overdue<\/span><\/td><td><span class="badge neutral">open<\/span><\/td>/,
    );
    expect(sectionOf('nonconformities')).toContain('<dt>Time to close (days)</dt><dd>median 28.2, p90 46.2, max 46.2 (2 closed)</dd>');
    expect(sectionOf('risks')).toContain('<td>residualScore: 6 → 3<br>lastReviewAt: 2026-05-01T00:00:00.000Z → 2026-09-29T22:00:00.000Z</td>');
    expect(sectionOf('suppliers')).toContain('<span class="badge bad">expired</span>');
    expect(sectionOf('training')).toContain('3 of 5 active employees have the required course (Security Awareness *) current (60%)');
    expect([...html.matchAll(/<div class="tile (good|bad)"><b>([^<]+)<\/b>/g)].map((match) => [match[1], match[2]])).toEqual([
      ['bad', '2'],
      ['bad', '5 / 2'],
      ['bad', '64%'],
      ['bad', '1'],
      ['bad', '1'],
      ['bad', '60%'],
    ]);
  });

  it('draws four trend charts as inline SVG: bars for counts, lines for levels, a tooltip per value', () => {
    const charts = html.match(/<svg [^>]*>/g)!;
    expect(charts).toHaveLength(4);
    expect(charts[0]).toContain('role="img" aria-label="Nonconformities opened and closed"');
    const bars = /<svg [^>]*aria-label="Nonconformities opened and closed"[^>]*>([^]*?)<\/svg>/.exec(html)![1]!;
    // One bar per week and series, zero-height ones included: 8 weeks x 2 series.
    expect(bars.match(/<rect /g)).toHaveLength(16);
    expect(bars).toContain('<title>W40: opened 2</title>');
    expect(bars).toContain('<title>W41: closed 1</title>');
    const coverage = /<svg [^>]*aria-label="Evidence coverage"[^>]*>([^]*?)<\/svg>/.exec(html)![1]!;
    expect(coverage.match(/<polyline /g)).toHaveLength(1);
    expect(coverage.match(/<circle /g)).toHaveLength(8);
    expect(coverage).toContain('<title>W38: expected present 8.3%</title>');
    // The percentage scale tops at 100.
    expect(coverage).toContain('>100</text>');
  });

  it('says why each section is empty when there is nothing to show', () => {
    const empty: ManagementReviewPack = {
      ...pack,
      organisation: null,
      previousActions: { review: null, decisions: [], earlierOpen: [], counts: { open: 0, done: 0, dropped: 0, overdue: 0 } },
      changes: [],
      nonconformities: {
        ...pack.nonconformities,
        opened: 0,
        closed: 0,
        notClosed: [],
        recurring: [],
        correctiveActions: { recorded: 0, overdue: [] },
        timeToClose: { closed: 0, medianDays: null, p90Days: null, maxDays: null },
      },
      monitoring: {
        controls: [],
        coverage: { expected: 0, satisfied: 0, withGaps: [] },
        remediation: { bySeverity: [], openPastSla: 0 },
        leavers: { slaHours: 24, systems: [] },
      },
      audits: { activities: [], occurrences: [], findings: [], certification: null },
      risks: { absent: 'no risk register snapshot was collected' },
      suppliers: { absent: 'no supplier register snapshot was collected' },
      training: { absent: 'no control runs the training-overdue check' },
      improvement: [],
      trends: { ...pack.trends, nonconformitiesOpened: pack.trends.columns.map(() => null), nonconformitiesClosed: pack.trends.columns.map(() => null) },
    };
    const page = renderManagementReview(empty);
    for (const text of [
      'No management review has been held before: there are no previous decisions to follow up.',
      'No change to the ISMS was recorded in the period (isms change record).',
      'Every nonconformity was closed by the end of the period.',
      'No nonconformity recurred: none was observed again after it was settled.',
      'No controls are configured.',
      'Nothing was due in the period: no control schedule or calendar activity expected evidence.',
      'No vulnerability findings are in the ledger: no scanner source has been collected.',
      'No leaver was terminated in the period',
      'No calendar activity references clause 9.2: internal audits are not in the calendar',
      'No certification in the calendar config (calendar.certification): no surveillance audit dates.',
      'No risk register: no risk register snapshot was collected.',
      'No supplier register: no supplier register snapshot was collected.',
      'Training completion is not measured: no control runs the training-overdue check.',
      'No control or activity had a coverage gap or a recurring nonconformity in the period.',
      'no data in the period',
      'none closed in the period',
    ]) {
      expect(page).toContain(text);
    }
    expect(page).toContain('<h1>Management review</h1>');
  });
});

describe('management review pack in a browser', { tags: ['chromium'] }, () => {
  it('renders in headless Chromium: the charts as SVG elements, the hostile text as text, no script', async () => {
    const file = path.join(dir, 'pack.html');
    writeFileSync(file, renderManagementReview(pack));
    const dom = await headlessChromium(file, path.join(dir, 'profile'), ['--dump-dom']);
    expect(dom.match(/<svg [^>]*role="img"/g)).toHaveLength(4);
    expect(dom.match(/<rect /g)).toHaveLength(16);
    expect(dom.match(/<polyline /g)!.length).toBeGreaterThanOrEqual(3);
    expect(dom).toContain('Rebuild base images weekly &lt;script&gt;alert(1)&lt;/script&gt; "onmouseover=alert(2) x="');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
  }, 90_000);

  it('takes a screenshot with the charts drawn', async () => {
    const file = path.join(dir, 'pack.html');
    writeFileSync(file, renderManagementReview(pack));
    const png = path.join(dir, 'pack.png');
    await headlessChromium(file, path.join(dir, 'profile'), [`--screenshot=${png}`, '--window-size=1100,900']);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1100, 900]);
    if (process.env.MANAGEMENT_REVIEW_SCREENSHOT) writeFileSync(process.env.MANAGEMENT_REVIEW_SCREENSHOT, image);
  }, 90_000);
});
