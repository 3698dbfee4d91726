import { CalendarStore } from '../../evidence/calendar-store.ts';
import { LeaverClock } from '../../evidence/leaver-clock.ts';
import { Register } from '../../evidence/register.ts';
import type { EvidenceStore } from '../../evidence/store.ts';

/** The dashboard views, compared between catalogs that hold the same history. */
export const VIEWS = ['v_control_status', 'v_evidence_coverage', 'v_open_nonconformities', 'v_leaver_clock', 'overdue_activities'];

/** The same history on any backend: runs, a gap, snapshots in three weeks (one before the year's first Monday), leavers and an occurrence. */
export async function seed(store: EvidenceStore): Promise<void> {
  for (const [index, collectedAt] of [
    '2026-11-23T06:00:00.000Z',
    '2026-12-28T06:00:00.000Z',
    '2027-01-01T06:00:00.000Z',
    '2027-01-01T18:30:00.000Z',
  ].entries()) {
    const staged = await store.stage(`run-${index}`, 'scans');
    for (let record = 0; record <= index; record++)
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: `api-${record}`, scannedAt: collectedAt, origin: 'f', findingCount: 0 });
    await store.commit(staged, {
      runId: `run-${index}`,
      controlId: index % 2 ? 'vuln' : 'access',
      sourceName: 'scans',
      connector: 'scanner-files',
      connectorVersion: '1',
      kinds: ['scan'],
      collectedAt,
      provenance: {},
      warnings: [],
    });
  }
  const register = new Register(store.catalog);
  const run = await register.saveCheckRun({ runId: 'run-1', controlId: 'vuln', evaluatedAt: '2026-11-23T06:00:00Z', status: 'error', results: [] }, []);
  await register.reconcile({
    checkRunId: run.id,
    controlId: 'vuln',
    reference: 'A.8.8',
    owner: 'sec',
    at: '2026-11-23T06:00:00Z',
    gaps: [{ sourceName: 'cloud', reason: 'denied', errorType: 'PermissionError' }],
    collectedSources: [],
  });
  await register.saveCheckRun({ runId: 'review:vuln:2026-Q4:close', controlId: 'vuln', evaluatedAt: '2026-11-24T06:00:00Z', status: 'pass', results: [] }, []);
  await register.saveCheckRun({ runId: 'run-2', controlId: 'access', evaluatedAt: '2026-12-28T06:00:00Z', status: 'pass', results: [] }, []);
  const leaver = {
    employeeId: 'E1',
    system: 'google',
    tenant: 'acme',
    account: 'ada',
    terminationDate: '2026-11-01',
    slaHours: 24,
    hoursSinceTermination: 13.5,
  };
  const clock = new LeaverClock(store.catalog);
  await clock.observe(
    [
      { ...leaver, active: true },
      { ...leaver, account: 'bob', active: true },
    ],
    new Set(['google|acme']),
    '2026-11-01T13:30:00.000Z',
  );
  await clock.observe([{ ...leaver, active: false }], new Set(['google|acme']), '2026-11-02T07:45:00.000Z');
  await new CalendarStore(store.catalog).open(
    {
      occurrenceId: 'activity:review:2026-12-31',
      activityId: 'review',
      origin: 'calendar',
      title: 'Review',
      reference: 'A.5.18',
      owner: 'it@example.com',
      due: '2026-12-31T09:00:00.000Z',
      dueDate: '2026-12-31',
      graceUntil: '2027-01-07T09:00:00.000Z',
      closesAt: '2027-01-31T09:00:00.000Z',
      opensAt: '2026-12-17T09:00:00.000Z',
      timeZone: 'UTC',
      reminders: [],
      evidence: [],
    },
    '2026-12-17T09:00:00.000Z',
  );
}

/** Every view's columns and rows, sorted so that catalogs answering in another order compare equal. */
export async function viewContents(store: EvidenceStore): Promise<Record<string, { columns: string[]; rows: unknown[] }>> {
  const contents: Record<string, { columns: string[]; rows: unknown[] }> = {};
  for (const view of VIEWS) {
    const rows = await store.catalog.all<Record<string, unknown>>(`SELECT * FROM ${view}`);
    const sorted = rows.map((row) => JSON.stringify(row)).sort();
    contents[view] = { columns: Object.keys(rows[0] ?? {}), rows: sorted.map((row) => JSON.parse(row) as unknown) };
  }
  return contents;
}
