import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { LeaverClockEntry } from '../../core/check-results.ts';
import { resolveCalendar } from '../../config/calendar.ts';
import { addDays, formatLocalDate, fromZoned, parseLocalDate } from '../../core/calendar-occurrences.ts';
import { planOccurrences } from '../../config/calendar-plan.ts';
import { loadConfig } from '../../config/load.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { FindingLedger } from '../../evidence/finding-ledger.ts';
import { LeaverClock } from '../../evidence/leaver-clock.ts';
import { Finding, Scan } from '../../core/records.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { defaultRegistries } from '../../worker/runtime.ts';
import type { ReportRuntime } from '../../worker/audit-report-data.ts';

/**
 * A catalog for the audit-readiness report, seeded through the store, register, ledger, leaver clock and calendar
 * store APIs: eight ISO weeks (2026-W37 to W44, Europe/Berlin, across the end of summer time) with a daily control
 * whose second week is missing entirely and whose fourth week is partial, a weekly control fully covered, a
 * fortnightly activity done, done late, missed and unrecorded, a readiness check done, remediated and open
 * findings, leavers revoked in time, late and not at all, and nonconformities before, in and after the period.
 */

export const HOSTILE = '<script>alert(1)</script> "onmouseover=alert(2) x="';
export const ZONE = 'Europe/Berlin';
export const PERIOD = { from: '2026-09-07', to: '2026-11-02' };
/** "Now" for reports on this catalog: after everything seeded, ten days after the period. */
export const REPORT_NOW = Date.parse('2026-11-12T12:00:00Z');

const at = (date: string, hour: number, minute = 0) => fromZoned({ ...parseLocalDate(date)!, hour, minute, second: 0 }, ZONE);
const isoAt = (date: string, hour: number, minute = 0) => new Date(at(date, hour, minute)).toISOString();
const datesOf = (from: string, days: number) => Array.from({ length: days }, (_, index) => formatLocalDate(addDays(parseLocalDate(from)!, index)));

export function periodRange(): { from: number; to: number } {
  return { from: at(PERIOD.from, 0), to: at(PERIOD.to, 0) };
}

export function writeAuditConfig(dir: string): string {
  const file = path.join(dir, 'isms.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    stringify({
      organisation: 'Example GmbH',
      dataDir: 'data',
      timezone: ZONE,
      controls: [
        {
          id: 'daily-scans',
          title: `Daily scans ${HOSTILE}`,
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [
            { name: 'scans-api', connector: 'scanner-files', config: { paths: ['scans/api'] } },
            { name: 'scans-web', connector: 'scanner-files', config: { paths: ['scans/web'] } },
          ],
          checks: [{ check: 'vulnerability-sla', params: { days: { critical: 10 } } }],
        },
        {
          id: 'weekly-scans',
          title: 'Weekly full scan',
          reference: 'A.8.8',
          owner: 'ops@example.com',
          schedule: { cron: '0 7 * * 1' },
          sources: [{ name: 'full-scan', connector: 'scanner-files', config: { paths: ['scans/full'] } }],
          checks: [{ check: 'scan-staleness' }],
        },
      ],
      calendar: {
        owner: 'it@example.com',
        activities: [{ id: 'access-review', title: 'User access review', reference: 'A.5.18', every: '2 weeks', anchor: '2026-09-07' }],
        certification: { issued: '2025-12-01', body: 'Example Cert GmbH' },
      },
    }),
  );
  return file;
}

async function snapshot(store: EvidenceStore, controlId: string, sourceName: string, collectedAt: string): Promise<void> {
  const runId = `control:${controlId}:${collectedAt}`;
  const staged = await store.stage(runId, sourceName);
  await staged.append(
    Scan.parse({ kind: 'scan', source: sourceName, scanner: 'trivy', asset: sourceName, scannedAt: collectedAt, origin: 'seed', findingCount: 0 }),
  );
  await store.commit(staged, {
    runId,
    controlId,
    sourceName,
    connector: 'scanner-files',
    connectorVersion: '1',
    kinds: ['scan'],
    collectedAt,
    provenance: {},
    warnings: [],
  });
}

const day = (date: string) => `${date}T08:00:00.000Z`;
const finding = (id: string, severity: Finding['severity'], asset: string, scannedOn: string, firstSeenOn = scannedOn) =>
  Finding.parse({
    kind: 'finding',
    source: 's',
    scanner: 'trivy',
    id,
    title: id,
    severity,
    cvss: null,
    asset,
    location: 'pkg@1',
    scannedAt: day(scannedOn),
    firstSeenAt: day(firstSeenOn),
    fixAvailable: true,
  });
const scan = (asset: string, on: string) =>
  Scan.parse({ kind: 'scan', source: 's', scanner: 'trivy', asset, scannedAt: day(on), origin: 'seed', findingCount: 0 });

/** Writes the config and seeds its catalog; returns the runtime pieces the report reads (close the store after). */
export async function seedAuditCatalog(dir: string): Promise<ReportRuntime> {
  const config = await loadConfig(writeAuditConfig(dir), defaultRegistries);
  const store = await EvidenceStore.open(config.dataDir);
  const register = new Register(store.catalog);

  // daily-scans: W38 (Sep 14-20) has nothing; in W40 Sep 30 and Oct 1 have one source of two and Oct 2 none.
  for (const date of datesOf(PERIOD.from, 56)) {
    if (date >= '2026-09-14' && date <= '2026-09-20') continue;
    if (date === '2026-10-02') continue;
    await snapshot(store, 'daily-scans', 'scans-api', isoAt(date, 6, 5));
    if (date !== '2026-09-30' && date !== '2026-10-01') await snapshot(store, 'daily-scans', 'scans-web', isoAt(date, 6, 5));
  }
  for (const monday of datesOf(PERIOD.from, 56).filter((_, index) => index % 7 === 0)) await snapshot(store, 'weekly-scans', 'full-scan', isoAt(monday, 7, 10));

  // Nonconformities: one closed before the period (left out), one in it with root cause and corrective action,
  // an evidence gap settled and closed in it, and one first observed after it (left out).
  const checkOf: Record<string, string> = { 'daily-scans': 'vulnerability-sla', 'weekly-scans': 'scan-staleness' };
  const deviation = (subject: string, title: string, severity: Finding['severity']) => ({
    subject,
    title,
    severity,
    detail: title,
    values: {},
    evidenceIds: [],
  });
  const runOf = async (
    runId: string,
    controlId: string,
    evaluatedAt: string,
    found: ReturnType<typeof deviation>[],
    gaps: { sourceName: string; reason: string; errorType: string }[] = [],
    collectedSources: string[] = [],
  ) => {
    const checkId = checkOf[controlId]!;
    const deviations = found.map((entry) => ({ checkId, ...entry }));
    const results = [{ checkId, status: deviations.length > 0 ? ('fail' as const) : ('pass' as const), deviations: deviations.length }];
    const run = await register.saveCheckRun({ runId, controlId, evaluatedAt, status: gaps.length > 0 ? 'error' : results[0]!.status, results }, deviations);
    return await register.reconcile({
      checkRunId: run.id,
      controlId,
      reference: 'A.8.8',
      owner: 'security@example.com',
      at: evaluatedAt,
      gaps,
      collectedSources,
    });
  };
  await runOf('r-aug-1', 'daily-scans', '2026-08-03T06:00:00.000Z', [deviation('old', 'An old finding', 'low')]);
  await runOf('r-aug-2', 'daily-scans', '2026-08-10T06:00:00.000Z', []);
  await register.transition('NC-0001', 'verified', { actor: 'sec-lead', at: '2026-08-11T10:00:00.000Z' });
  await register.transition('NC-0001', 'closed', { actor: 'sec-lead', at: '2026-08-12T10:00:00.000Z', note: 'fixed before the period' });

  await runOf('r-sep-21', 'daily-scans', '2026-09-21T04:00:00.000Z', [deviation('web|CVE-D|pkg@1', `CVE-D past SLA ${HOSTILE}`, 'high')]);
  await register.transition('NC-0002', 'root-cause', { actor: 'alice', at: '2026-09-23T09:00:00.000Z', rootCause: `Base image pinned ${HOSTILE}` });
  await register.transition('NC-0002', 'corrective-action', {
    actor: 'alice',
    at: '2026-09-25T09:00:00.000Z',
    correctiveAction: 'Rebuild weekly from a patched base',
    dueDate: '2026-11-15',
  });
  await runOf('r-oct-26', 'daily-scans', '2026-10-26T05:00:00.000Z', [deviation('web|CVE-D|pkg@1', `CVE-D past SLA ${HOSTILE}`, 'high')]);

  await runOf(
    'r-w-sep-14',
    'weekly-scans',
    '2026-09-14T05:00:00.000Z',
    [],
    [{ sourceName: 'full-scan', reason: 'bucket denied', errorType: 'PermissionError' }],
  );
  await runOf('r-w-sep-21', 'weekly-scans', '2026-09-21T05:00:00.000Z', [], [], ['full-scan']);
  await register.transition('NC-0003', 'verified', { actor: 'bob', at: '2026-09-22T09:00:00.000Z' });
  await register.transition('NC-0003', 'closed', { actor: 'bob', at: '2026-09-24T09:00:00.000Z', note: 'permission restored' });
  await runOf('r-nov-10', 'weekly-scans', '2026-11-10T06:00:00.000Z', [deviation('late', 'After the period', 'medium')]);

  // Findings: critical A fixed in 7 days (the Sep 8 scan of api no longer reports it), high B in 42 and high C in 10; high D open since Sep 1, medium E open since Oct 20.
  const ledger = new FindingLedger(store.catalog);
  await ledger.observe([
    finding('CVE-A', 'critical', 'api', '2026-09-01'),
    finding('CVE-D', 'high', 'web', '2026-09-01'),
    scan('api', '2026-09-01'),
    scan('web', '2026-09-01'),
  ]);
  await ledger.observe([finding('CVE-B', 'high', 'api', '2026-09-08'), scan('api', '2026-09-08')]);
  await ledger.observe([finding('CVE-B', 'high', 'api', '2026-09-10'), scan('api', '2026-09-10')]);
  await ledger.observe([finding('CVE-C', 'high', 'web', '2026-09-15'), finding('CVE-D', 'high', 'web', '2026-09-15'), scan('web', '2026-09-15')]);
  await ledger.observe([finding('CVE-D', 'high', 'web', '2026-09-25'), scan('web', '2026-09-25')]);
  await ledger.observe([
    finding('CVE-D', 'high', 'web', '2026-10-20'),
    finding('CVE-E', 'medium', 'web', '2026-10-20'),
    scan('web', '2026-10-20'),
    scan('api', '2026-10-20'),
  ]);

  // Leavers: E1 revoked after 18 h; E2's google account first found revoked at 54 h (usable at 30 h) and VPN still usable;
  // E3 first looked at (already revoked) after 30 h; E0 left before the period.
  const clock = new LeaverClock(store.catalog);
  const systems = new Set(['google|example.com', 'vpn|vpn']);
  const leaver = (employeeId: string, system: string, account: string, terminationDate: string, active: boolean): LeaverClockEntry => ({
    employeeId,
    system,
    tenant: system === 'google' ? 'example.com' : 'vpn',
    account,
    terminationDate,
    active,
    hoursSinceTermination: 0,
  });
  const e0 = '2026-08-01T00:00:00.000Z';
  const e1 = '2026-09-10T00:00:00.000Z';
  const e2 = '2026-09-20T00:00:00.000Z';
  const e3 = '2026-10-05T00:00:00.000Z';
  await clock.observe([leaver('E0', 'google', 'zed', e0, false)], systems, '2026-08-01T06:00:00.000Z');
  await clock.observe([leaver('E1', 'google', 'ann', e1, true)], systems, '2026-09-10T06:00:00.000Z');
  await clock.observe([leaver('E1', 'google', 'ann', e1, false)], systems, '2026-09-10T18:00:00.000Z');
  await clock.observe([leaver('E2', 'google', 'ben', e2, true), leaver('E2', 'vpn', 'ben', e2, true)], systems, '2026-09-21T06:00:00.000Z');
  await clock.observe([leaver('E2', 'google', 'ben', e2, false), leaver('E2', 'vpn', 'ben', e2, true)], systems, '2026-09-22T06:00:00.000Z');
  await clock.observe([leaver('E3', 'google', 'cat', e3, false), leaver('E2', 'vpn', 'ben', e2, true)], systems, '2026-10-06T06:00:00.000Z');

  // The access review every two weeks: Sep 7 done, Sep 21 done late, Oct 5 missed, Oct 19 never recorded.
  const calendar = resolveCalendar(config.config);
  const calendarStore = new CalendarStore(store.catalog);
  const reviews = planOccurrences(calendar.activities.get('access-review')!, periodRange());
  for (const occurrence of reviews.slice(0, 3)) await calendarStore.open(occurrence, occurrence.opensAt);
  const complete = (occurrenceId: string, performedAt: string, late: boolean) =>
    calendarStore.complete({
      occurrenceId,
      by: 'it@example.com',
      performedAt,
      recordedAt: performedAt,
      late,
      evidence: [{ name: 'review record', link: 'https://example.com/r' }],
    });
  await complete(reviews[0]!.occurrenceId, isoAt('2026-09-07', 8), false);
  await complete(reviews[1]!.occurrenceId, isoAt('2026-10-01', 8), true);
  const missed = await register.raiseMissedActivity({
    activityId: 'access-review',
    occurrenceId: reviews[2]!.occurrenceId,
    reference: 'A.5.18',
    owner: 'it@example.com',
    title: 'Missed: user access review due 2026-10-05',
    at: reviews[2]!.graceUntil,
    detail: 'not completed by the end of grace',
  });
  await calendarStore.missed(reviews[2]!.occurrenceId, missed.id, reviews[2]!.graceUntil);

  const [readiness] = planOccurrences(calendar.activities.get('surveillance-audit-1-readiness')!, periodRange());
  await calendarStore.open(readiness!, readiness!.opensAt);
  await complete(readiness!.occurrenceId, isoAt('2026-10-19', 15), false);

  return { config, store, register };
}
