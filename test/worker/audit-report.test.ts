import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vulnerabilitySla } from '../../checks/vulnerability-sla.ts';
import { fromZoned } from '../../core/calendar-occurrences.ts';
import { FindingLedger } from '../../evidence/finding-ledger.ts';
import { Finding, Scan } from '../../core/records.ts';
import { AUDIT_REPORT_CSP, renderAuditReport, type AuditReportData, type HeatmapCell } from '../../worker/audit-report.ts';
import { columnsOf, gatherAuditReport, isoWeekLabel, type ReportRuntime } from '../../worker/audit-report-data.ts';
import { HOSTILE, periodRange, REPORT_NOW, seedAuditCatalog, ZONE } from '../support/audit-report-seed.ts';
import { headlessChromium } from '../support/chromium.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-audit-report-'));
let runtime: ReportRuntime;
let data: AuditReportData;

beforeAll(async () => {
  runtime = await seedAuditCatalog(path.join(dir, 'catalog'));
  data = await gatherAuditReport(runtime, periodRange(), REPORT_NOW);
});
afterAll(async () => {
  await runtime.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rowOf = (id: string) => data.heatmap.rows.find((row) => row.id === id)!;
const states = (id: string) => rowOf(id).cells.map((cell) => cell.state);
const numbers = (cell: HeatmapCell) => ({
  expected: cell.expected,
  satisfied: cell.satisfied,
  partial: cell.partial,
  missing: cell.missing,
  pending: cell.pending,
  present: cell.present,
});

describe('audit report data', () => {
  it('has one column per ISO week of the period in the config zone, across the end of summer time', () => {
    expect(data.period).toEqual({ from: '2026-09-06T22:00:00.000Z', to: '2026-11-01T23:00:00.000Z', timeZone: ZONE });
    expect(data.heatmap.unit).toBe('week');
    expect(data.heatmap.columns.map((column) => column.label)).toEqual([
      '2026-W37',
      '2026-W38',
      '2026-W39',
      '2026-W40',
      '2026-W41',
      '2026-W42',
      '2026-W43',
      '2026-W44',
    ]);
    expect(data.heatmap.columns.map((column) => column.group)).toEqual([
      'Sep 2026',
      'Sep 2026',
      'Sep 2026',
      'Oct 2026',
      'Oct 2026',
      'Oct 2026',
      'Oct 2026',
      'Oct 2026',
    ]);
    // W43 holds the last Sunday of October: 169 hours, ending at midnight CET.
    expect(data.heatmap.columns[6]).toMatchObject({ from: '2026-10-18T22:00:00.000Z', to: '2026-10-25T23:00:00.000Z' });
  });

  it('shows the deliberately missed week red, the partial week amber and the covered weeks green, with the numbers', () => {
    expect(states('daily-scans')).toEqual(['all', 'none', 'all', 'some', 'all', 'all', 'all', 'all']);
    expect(numbers(rowOf('daily-scans').cells[0]!)).toEqual({ expected: 7, satisfied: 7, partial: 0, missing: 0, pending: 0, present: 14 });
    expect(numbers(rowOf('daily-scans').cells[1]!)).toEqual({ expected: 7, satisfied: 0, partial: 0, missing: 7, pending: 0, present: 0 });
    // Sep 30 and Oct 1 have one source of two; Oct 2 has none.
    expect(numbers(rowOf('daily-scans').cells[3]!)).toEqual({ expected: 7, satisfied: 4, partial: 2, missing: 1, pending: 0, present: 10 });
    expect(states('weekly-scans')).toEqual(Array(8).fill('all'));
    expect(rowOf('daily-scans').title).toBe(`Daily scans ${HOSTILE}`);
  });

  it('rows activities with occurrences in the period: grey where nothing is due, red where missed or never recorded', () => {
    expect(data.heatmap.rows.map((row) => `${row.kind}:${row.id}`)).toEqual([
      'control:daily-scans',
      'control:weekly-scans',
      'activity:access-review',
      'activity:surveillance-audit-1-readiness',
    ]);
    expect(states('access-review')).toEqual(['all', 'nothing', 'all', 'nothing', 'none', 'nothing', 'none', 'nothing']);
    // The Sep 21 review was done late, on Oct 1: satisfied in its own week, its completion recorded in W40.
    expect(rowOf('access-review').cells[2]).toMatchObject({ satisfied: 1, late: 1, present: 0 });
    expect(rowOf('access-review').cells[3]).toMatchObject({ state: 'nothing', present: 1 });
    expect(states('surveillance-audit-1-readiness')).toEqual(['nothing', 'nothing', 'nothing', 'nothing', 'nothing', 'nothing', 'all', 'nothing']);
    expect(data.heatmap.activitiesWithoutOccurrences).toEqual([
      'surveillance-audit-1',
      'surveillance-audit-2-readiness',
      'surveillance-audit-2',
      'recertification-audit-readiness',
      'recertification-audit',
    ]);
  });

  it('marks what is not due yet as pending, not missing, when the period reaches past now', async () => {
    const midway = await gatherAuditReport(runtime, periodRange(), fromZoned({ year: 2026, month: 10, day: 21, hour: 12, minute: 0, second: 0 }, ZONE));
    const daily = midway.heatmap.rows.find((row) => row.id === 'daily-scans')!;
    // Oct 19 to 21 are covered (Oct 21's window is still open but has its evidence); Oct 22 to 25 are ahead.
    expect(daily.cells[6]).toMatchObject({ expected: 7, satisfied: 3, partial: 0, missing: 0, pending: 4 });
    expect(daily.cells.map((cell) => cell.state).slice(6)).toEqual(['all', 'pending']);

    // The Nov 16 review's reminders began on Nov 2 and no workflow recorded it; on Nov 12 it is not missing yet.
    const local = (day: number) => fromZoned({ year: 2026, month: 11, day, hour: 0, minute: 0, second: 0 }, ZONE);
    const ahead = await gatherAuditReport(runtime, { from: local(9), to: local(23) }, REPORT_NOW);
    expect(ahead.calendar.inPeriod.map((row) => [row.dueDate, row.status])).toEqual([['2026-11-16', 'unrecorded']]);
    expect(ahead.heatmap.rows.find((row) => row.id === 'access-review')!.cells).toMatchObject([
      { state: 'nothing', expected: 0 },
      { state: 'pending', expected: 1, missing: 0, pending: 1 },
    ]);
  });

  it('gives each control its latest status, open nonconformities, last evidence and coverage in the period', () => {
    expect(data.controls).toEqual([
      {
        id: 'daily-scans',
        title: `Daily scans ${HOSTILE}`,
        reference: 'A.8.8',
        owner: 'security@example.com',
        paused: false,
        status: 'fail',
        evaluatedAt: '2026-10-26T05:00:00.000Z',
        openNonconformities: 1,
        awaitingVerification: 0,
        lastEvidenceAt: '2026-11-01T05:05:00.000Z',
        snapshotsInPeriod: 94,
        expectedInPeriod: 56,
        satisfiedInPeriod: 46,
      },
      expect.objectContaining({
        id: 'weekly-scans',
        status: 'fail',
        evaluatedAt: '2026-11-10T06:00:00.000Z',
        openNonconformities: 1,
        snapshotsInPeriod: 8,
        expectedInPeriod: 8,
        satisfiedInPeriod: 8,
      }),
    ]);
  });

  it("labels and groups the controls by the chosen framework's ids through the crosswalk", async () => {
    expect(data.framework).toEqual({ id: 'iso27001:2022', name: 'ISO/IEC 27001:2022' });
    expect(data.byFramework).toEqual([{ id: 'A.8.8', title: 'Finding and fixing technical vulnerabilities', controls: ['daily-scans', 'weekly-scans'] }]);
    const soc2 = await gatherAuditReport(runtime, periodRange(), REPORT_NOW, 'soc2');
    expect(soc2.framework).toEqual({ id: 'soc2', name: 'SOC 2 (2017 Trust Services Criteria)' });
    expect(soc2.controls.map((control) => [control.id, control.reference])).toEqual([
      ['daily-scans', 'CC7.1'],
      ['weekly-scans', 'CC7.1'],
    ]);
    expect(soc2.byFramework).toEqual([
      { id: 'CC7.1', title: 'Detecting configuration changes and new vulnerabilities', controls: ['daily-scans', 'weekly-scans'] },
    ]);
    const csf = await gatherAuditReport(runtime, periodRange(), REPORT_NOW, 'nist-csf-2.0');
    expect(csf.controls[0]!.reference).toBe('ID.RA-01, PR.PS-02');
    expect(csf.byFramework.map((group) => group.id)).toEqual(['ID.RA-01', 'PR.PS-02']);

    const page = renderAuditReport(soc2);
    expect(page).toContain('<th>Control</th><th>SOC 2 (2017 Trust Services Criteria)</th><th>Owner</th>');
    const section = /<section id="framework">([^]*?)<\/section>/.exec(page)![1]!;
    expect(section).toContain('<h2>Controls by SOC 2 (2017 Trust Services Criteria)</h2>');
    expect(section).toContain('<td><b>CC7.1</b></td><td>Detecting configuration changes and new vulnerabilities</td>');
    expect(section).toContain(
      'Daily scans &lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=alert(2) x=&quot; <small>daily-scans</small> <span class="badge bad">fail</span>',
    );
    expect(renderAuditReport({ ...soc2, byFramework: [] })).toContain(
      '<p class="muted">No control addresses an id of SOC 2 (2017 Trust Services Criteria).</p>',
    );
  });

  it('logs every nonconformity alive in the period with its history, and none closed before it or opened after it', () => {
    expect(data.nonconformities.map((nc) => [nc.id, nc.status])).toEqual([
      ['NC-0002', 'corrective-action'],
      ['NC-0003', 'closed'],
      ['NC-0005', 'open'],
    ]);
    const [finding, gap, missed] = data.nonconformities;
    expect(finding).toMatchObject({
      title: `CVE-D past SLA ${HOSTILE}`,
      severity: 'high',
      owner: 'security@example.com',
      rootCause: `Base image pinned ${HOSTILE}`,
      correctiveAction: 'Rebuild weekly from a patched base',
      dueDate: '2026-11-15',
      firstObserved: '2026-09-21T04:00:00.000Z',
      lastObserved: '2026-10-26T05:00:00.000Z',
      occurrences: 2,
      closedAt: null,
    });
    expect(finding!.history.map((entry) => [entry.actor, entry.change, entry.toStatus])).toEqual([
      ['isms-worker', 'opened', 'open'],
      ['alice', 'status', 'root-cause'],
      ['alice', 'status', 'corrective-action'],
    ]);
    expect(gap).toMatchObject({ controlId: 'weekly-scans', closedAt: '2026-09-24T09:00:00.000Z' });
    expect(gap!.history.at(-1)).toMatchObject({ actor: 'bob', toStatus: 'closed', note: 'permission restored' });
    expect(missed).toMatchObject({ controlId: 'activity:access-review', severity: 'medium' });
  });

  it('summarises time to remediate per severity with the configured SLA, and counts open findings past it at the end of the period', () => {
    expect(data.remediation).toEqual({
      bySeverity: [
        { severity: 'critical', slaDays: [10], fixed: 1, fixedWithinSla: 1, medianDays: 7, p90Days: 7, maxDays: 7, open: 0, openPastSla: 0 },
        { severity: 'high', slaDays: [30], fixed: 2, fixedWithinSla: 1, medianDays: 26, p90Days: 42, maxDays: 42, open: 1, openPastSla: 1 },
        { severity: 'medium', slaDays: [90], fixed: 0, fixedWithinSla: 0, medianDays: null, p90Days: null, maxDays: null, open: 1, openPastSla: 0 },
      ],
      openPastSla: 1,
    });
  });

  it('judges each finding by the SLA of the controls that observed it, the strictest where several did', async () => {
    const own = await seedAuditCatalog(path.join(dir, 'per-control-sla'));
    try {
      // weekly-scans gets its own SLA for high findings: 5 days (daily-scans keeps the default 30).
      own.config.controls
        .get('weekly-scans')!
        .checks.push({ check: vulnerabilitySla, params: vulnerabilitySla.params.parse({ days: { high: 5 } }), sources: ['full-scan'] });
      const high = (id: string, asset: string, on: string) =>
        Finding.parse({
          kind: 'finding',
          source: 's',
          scanner: 'trivy',
          id,
          title: id,
          severity: 'high',
          cvss: null,
          asset,
          location: 'pkg@1',
          scannedAt: `${on}T08:00:00.000Z`,
          firstSeenAt: `${on}T08:00:00.000Z`,
          fixAvailable: true,
        });
      const scanOf = (asset: string, on: string) =>
        Scan.parse({ kind: 'scan', source: 's', scanner: 'trivy', asset, scannedAt: `${on}T08:00:00.000Z`, origin: 'test', findingCount: 0 });
      const ledger = new FindingLedger(own.store.catalog);
      // Each fixed after 8 days: within daily-scans' 30, past weekly-scans' 5; the one both saw takes the stricter.
      await ledger.observe([high('CVE-W', 'db', '2026-09-08'), scanOf('db', '2026-09-08')], 'weekly-scans');
      await ledger.observe([high('CVE-DLY', 'cache', '2026-09-08'), scanOf('cache', '2026-09-08')], 'daily-scans');
      await ledger.observe([high('CVE-BOTH', 'queue', '2026-09-08'), scanOf('queue', '2026-09-08')], 'daily-scans');
      await ledger.observe([high('CVE-BOTH', 'queue', '2026-09-09'), scanOf('queue', '2026-09-09')], 'weekly-scans');
      for (const asset of ['db', 'cache', 'queue']) await ledger.observe([scanOf(asset, '2026-09-16')]);
      const report = await gatherAuditReport(own, periodRange(), REPORT_NOW);
      const before = data.remediation.bySeverity.find((row) => row.severity === 'high')!;
      expect(before.fixedWithinSla).toBe(1);
      expect(report.remediation.bySeverity.find((row) => row.severity === 'high')).toEqual({
        ...before,
        slaDays: [5, 30],
        fixed: before.fixed + 3,
        // Only CVE-DLY: the seed's findings were recorded without controls and fall back to the strictest SLA
        // configured anywhere (5 days), so CVE-C, fixed in 10 days and within the SLA before, is now past it.
        fixedWithinSla: 1,
        medianDays: 8,
        p90Days: 42,
        maxDays: 42,
      });
    } finally {
      await own.store.close();
    }
  });

  it('counts leavers per system: revoked within the SLA, later (and seen usable after it), still usable', () => {
    expect(data.leavers).toEqual({
      slaHours: 24,
      systems: [
        {
          system: 'google',
          tenant: 'example.com',
          leavers: 3,
          accounts: 3,
          revokedWithinSla: 1,
          revokedLater: 2,
          seenUsableAfterSla: 1,
          stillUsable: 0,
          maxHoursToRevoke: 54,
          longestStillUsableHours: null,
        },
        {
          system: 'vpn',
          tenant: 'vpn',
          leavers: 1,
          accounts: 1,
          revokedWithinSla: 0,
          revokedLater: 0,
          seenUsableAfterSla: 0,
          stillUsable: 1,
          maxHoursToRevoke: null,
          longestStillUsableHours: 1284,
        },
      ],
    });
  });

  it('lists the calendar of the period and the next 90 days, and the audit dates of the certificate', () => {
    expect(data.calendar.counts).toEqual({ done: 2, 'done-late': 1, missed: 1, unrecorded: 1 });
    expect(data.calendar.inPeriod.map((row) => [row.dueDate, row.activityId, row.status])).toEqual([
      ['2026-09-07', 'access-review', 'done'],
      ['2026-09-21', 'access-review', 'done-late'],
      ['2026-10-05', 'access-review', 'missed'],
      ['2026-10-19', 'access-review', 'unrecorded'],
      ['2026-10-20', 'surveillance-audit-1-readiness', 'done'],
    ]);
    expect(data.calendar.next90Days.slice(0, 3).map((row) => [row.dueDate, row.activityId, row.status])).toEqual([
      ['2026-11-16', 'access-review', 'unrecorded'],
      ['2026-11-30', 'access-review', 'planned'],
      ['2026-12-01', 'surveillance-audit-1', 'planned'],
    ]);
    expect(data.certification).toMatchObject({ body: 'Example Cert GmbH', issued: '2025-12-01', expires: '2028-12-01' });
    expect(
      data.certification!.audits.map((audit) => [audit.id, audit.due.slice(0, 10), audit.status, audit.readinessDue?.slice(0, 10), audit.readinessStatus]),
    ).toEqual([
      ['surveillance-audit-1', '2026-12-01', 'planned', '2026-10-20', 'done'],
      ['surveillance-audit-2', '2027-12-01', 'planned', '2027-10-20', 'planned'],
      ['recertification-audit', '2028-09-08', 'planned', '2028-07-28', 'planned'],
    ]);
  });

  it('switches to one column per month for periods longer than 26 weeks', () => {
    const year = {
      from: fromZoned({ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, ZONE),
      to: fromZoned({ year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, ZONE),
    };
    const columns = columnsOf(year, ZONE);
    expect(columns.map((column) => column.label)).toEqual(Array.from({ length: 12 }, (_, index) => `2026-${String(index + 1).padStart(2, '0')}`));
    expect(columns[2]).toMatchObject({ short: 'Mar', group: '2026', from: '2026-02-28T23:00:00.000Z', to: '2026-03-31T22:00:00.000Z' });
    const half = { from: year.from, to: year.from + 26 * 7 * 86_400_000 };
    expect(columnsOf(half, ZONE)).toHaveLength(27);
    // A period starting mid-week clips its first column to the period.
    const midweek = { from: Date.parse('2026-09-09T00:00:00Z'), to: Date.parse('2026-09-21T00:00:00Z') };
    expect(columnsOf(midweek, 'UTC').map((column) => [column.label, column.from, column.to])).toEqual([
      ['2026-W37', '2026-09-09T00:00:00.000Z', '2026-09-14T00:00:00.000Z'],
      ['2026-W38', '2026-09-14T00:00:00.000Z', '2026-09-21T00:00:00.000Z'],
    ]);
  });

  it('numbers ISO weeks by their Thursday', () => {
    expect(isoWeekLabel({ year: 2026, month: 12, day: 28 })).toBe('2026-W53');
    expect(isoWeekLabel({ year: 2027, month: 1, day: 4 })).toBe('2027-W01');
    expect(isoWeekLabel({ year: 2024, month: 12, day: 30 })).toBe('2025-W01');
    expect(isoWeekLabel({ year: 2026, month: 1, day: 5 })).toBe('2026-W02');
  });
});

describe('audit report HTML', () => {
  let html: string;
  beforeAll(() => {
    html = renderAuditReport(data);
  });

  it('is one self-contained page: a strict CSP, inline style only, no script and nothing external', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${AUDIT_REPORT_CSP.replace(/'/g, '&#39;')}">`);
    expect(AUDIT_REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base|form)\b/i);
    expect(html).not.toMatch(/\s(src|href|action)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toMatch(/@media print\{[^]*@page\{size:A4 landscape/);
  });

  it('escapes every hostile value, in text and in attributes', () => {
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=alert(2) x=&quot;';
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/\sonmouseover=/i);
    expect(html).toContain(`<b>Daily scans ${escaped}</b>`);
    expect(html).toContain(`<td>CVE-D past SLA ${escaped}</td>`);
    expect(html).toContain(`<td>Base image pinned ${escaped}</td>`);
    expect(html).toContain(`<th scope="row" title="Daily scans ${escaped} (daily-scans)">`);
    expect(html).toContain(`<title>Audit readiness: Example GmbH, 2026-09-07 to 2026-11-01</title>`);

    const hostileHeader = renderAuditReport({ ...data, organisation: HOSTILE, certification: { ...data.certification!, body: HOSTILE } });
    expect(hostileHeader).not.toContain(HOSTILE);
    expect(hostileHeader).toContain(`<title>Audit readiness: ${escaped}, 2026-09-07 to 2026-11-01</title>`);
    expect(hostileHeader).toContain(`<h1>Audit readiness: ${escaped}</h1>`);
    expect(hostileHeader).toContain(`<dt>Certification body</dt><dd>${escaped}</dd>`);
  });

  it('draws the heatmap: a row per control and activity, a cell per week with its state and numbers', () => {
    const body = /<table class="heatmap weeks">[^]*?<\/table>/.exec(html)![0];
    expect(body.match(/<td class="c-/g)).toHaveLength(4 * 8);
    const daily = /<tr data-row="control:daily-scans">([^]*?)<\/tr>/.exec(body)![1]!;
    expect([...daily.matchAll(/<td class="c-([a-z]+)"/g)].map((match) => match[1])).toEqual(['all', 'none', 'all', 'some', 'all', 'all', 'all', 'all']);
    expect(daily).toContain(
      'title="daily-scans 2026-W38 (2026-09-14 to 2026-09-20): expected 7, covered 0, missing 7; 0 snapshots collected in the week">✗</td>',
    );
    expect(daily).toContain(
      'title="daily-scans 2026-W40 (2026-09-28 to 2026-10-04): expected 7, covered 4, partial 2, missing 1; 10 snapshots collected in the week">◐</td>',
    );
    expect(body).toContain('done 1 (1 late), missing 0; 0 completions recorded in the week');
    expect(body).toContain('<th colspan="5" class="span">Oct 2026</th>');
  });

  it('renders the sections an auditor reads: header with audit dates, status, log, remediation, leavers, calendar', () => {
    expect(
      [...html.matchAll(/<div class="tile (good|bad)"><b>([^<]+)<\/b><span>([^<]+)<\/span><\/div>/g)].map((match) => [match[1], match[2], match[3]]),
    ).toEqual([
      ['bad', '57/69', 'expected occurrences satisfied'],
      ['bad', '2', 'controls and activities with gaps'],
      ['bad', '3', 'nonconformities in the period, 2 open'],
      ['bad', '1', 'open findings past SLA'],
      ['bad', '3', 'leaver accounts revoked after 24 h or still usable'],
      ['bad', '2', 'activities missed or overdue'],
    ]);
    expect(html).toContain('<dt>Certification body</dt><dd>Example Cert GmbH</dd>');
    expect(html).toMatch(
      /<dt>Surveillance audit 1<\/dt><dd>2026-12-01 <span class="badge neutral">planned<\/span><br><span class="muted">readiness check 2026-10-20<\/span> <span class="badge good">done<\/span><\/dd>/,
    );
    expect([...html.matchAll(/<tr class="nc" data-nc="([^"]+)">/g)].map((match) => match[1])).toEqual(['NC-0002', 'NC-0003', 'NC-0005']);
    expect(html).toContain('alice: root-cause → corrective-action');
    expect(html).toContain('<q>permission restored</q>');
    expect(html).toMatch(
      /<span class="badge bad">high<\/span><\/td><td>30<\/td><td>2<\/td><td>1\/2<\/td><td>26\.0<\/td><td>42\.0<\/td><td>42\.0<\/td><td>1<\/td><td><span class="num bad-text">1<\/span><\/td>/,
    );
    expect(html).toMatch(/<b>vpn<\/b><br><small>vpn<\/small><\/td><td>1<\/td><td>1<\/td><td>0<\/td>/);
    expect(html).toContain('<h3>Next 90 days</h3>');
    expect(html).toContain('<span class="badge bad">unrecorded</span>');
  });

  it('says so where there is nothing, and marks a schedule it cannot expand', () => {
    const empty: AuditReportData = {
      ...data,
      organisation: null,
      certification: null,
      heatmap: {
        unit: 'month',
        columns: [{ label: '2026-01', group: '2026', short: 'Jan', from: '2025-12-31T23:00:00.000Z', to: '2026-01-31T23:00:00.000Z' }],
        rows: [
          {
            kind: 'control',
            id: 'odd',
            title: 'Odd schedule',
            error: 'cron "0 0 6 * * *": only 5-field expressions are expanded',
            cells: [{ state: 'unknown', expected: 0, satisfied: 0, late: 0, partial: 0, missing: 0, pending: 0, present: 0 }],
          },
        ],
        activitiesWithoutOccurrences: [],
      },
      nonconformities: [],
      remediation: { bySeverity: [], openPastSla: 0 },
      leavers: { slaHours: 24, systems: [] },
      calendar: { inPeriod: [], counts: {}, next90Days: [] },
    };
    const page = renderAuditReport(empty);
    expect(page).toContain('<table class="heatmap months">');
    expect(page).toContain(
      'title="odd 2026-01 (2026-01-01 to 2026-01-31): cannot tell: cron &quot;0 0 6 * * *&quot;: only 5-field expressions are expanded">?</td>',
    );
    expect(page).toContain('no certification in the calendar config');
    expect(page).toContain('<p class="muted">No findings in the ledger.</p>');
    expect(page).toContain('<p class="muted">No leavers in the period.</p>');
    expect(page).toContain('<p class="muted">Nothing due in the next 90 days.</p>');
    expect(page).not.toContain('<p class="counts">');
    expect(page).toContain('<h1>Audit readiness</h1>');
  });
});

describe('audit report in a browser', { tags: ['chromium'] }, () => {
  it('renders in headless Chromium: every heatmap cell present, the hostile titles as text, no script', async () => {
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderAuditReport(data));
    const dom = await headlessChromium(file, path.join(dir, 'profile'), ['--dump-dom']);
    const heatmap = /<table class="heatmap weeks">[^]*?<\/table>/.exec(dom)![0];
    expect(heatmap.match(/<tr data-row=/g)).toHaveLength(4);
    expect(heatmap.match(/<td class="c-[a-z]+" title="/g)).toHaveLength(32);
    expect(heatmap.match(/<td class="c-none"/g)).toHaveLength(3);
    expect(heatmap.match(/<td class="c-some"/g)).toHaveLength(1);
    // The payload survives parsing as text only: no script element, no event handler attribute.
    expect(dom).toContain('CVE-D past SLA &lt;script&gt;alert(1)&lt;/script&gt; "onmouseover=alert(2) x="');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
  }, 90_000);

  it('takes a full-width screenshot', async () => {
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderAuditReport(data));
    const png = path.join(dir, 'r.png');
    await headlessChromium(file, path.join(dir, 'profile'), [`--screenshot=${png}`, '--window-size=1280,2000']);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 2000]);
    if (process.env.AUDIT_REPORT_SCREENSHOT) writeFileSync(process.env.AUDIT_REPORT_SCREENSHOT, image);
  }, 90_000);
});
