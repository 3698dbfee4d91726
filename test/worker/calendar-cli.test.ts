import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import type { CoverageSummary } from '../../worker/calendar-report.ts';
import { runIsms } from '../support/cli.ts';

const run = (args: string[], cwd: string) => runIsms(args, { cwd });

const dir = mkdtempSync(path.join(tmpdir(), 'isms-calendar-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms calendar coverage', () => {
  it('shows the deliberately missed quarter of a control and of an activity, and exits 1', async () => {
    writeFileSync(
      path.join(dir, 'isms.yaml'),
      stringify({
        dataDir: 'data',
        timezone: 'UTC',
        controls: [
          {
            id: 'vuln-mgmt',
            title: 'Vulnerabilities are fixed on time',
            reference: 'A.8.8',
            owner: 'security@example.com',
            schedule: { cron: '0 6 1 */3 *', timezone: 'UTC' },
            sources: [{ name: 'scans', connector: 'scanner-files', config: { paths: ['scans'] } }],
            checks: [{ check: 'vulnerability-sla' }],
          },
        ],
        calendar: {
          owner: 'it@example.com',
          activities: [
            {
              id: 'access-review',
              title: 'User access review',
              reference: 'A.5.18',
              rrule: 'FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1',
              anchor: '2026-01-01',
            },
          ],
        },
      }),
    );
    const store = await EvidenceStore.open(path.join(dir, 'data'));
    for (const collectedAt of ['2026-01-01T06:01:00Z', '2026-04-01T06:01:00Z', '2026-10-01T06:01:00Z']) {
      const staged = await store.stage(`run-${collectedAt}`, 'scans');
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: 'api', scannedAt: collectedAt, origin: 'x', findingCount: 0 });
      await store.commit(staged, {
        runId: `run-${collectedAt}`,
        controlId: 'vuln-mgmt',
        sourceName: 'scans',
        connector: 'scanner-files',
        connectorVersion: '1',
        kinds: ['scan'],
        collectedAt,
        provenance: {},
        warnings: [],
      });
    }
    const calendar = new CalendarStore(store.catalog);
    const occurrence = (dueDate: string) => ({
      occurrenceId: `activity:access-review:${dueDate}`,
      activityId: 'access-review',
      origin: 'calendar' as const,
      title: 'User access review',
      reference: 'A.5.18',
      owner: 'it@example.com',
      due: `${dueDate}T09:00:00.000Z`,
      dueDate,
      timeZone: 'UTC',
      opensAt: `${dueDate}T09:00:00.000Z`,
      graceUntil: `${dueDate}T09:00:00.000Z`,
      closesAt: `${dueDate}T09:00:00.000Z`,
      reminders: [],
      evidence: [],
    });
    for (const dueDate of ['2026-03-31', '2026-06-30', '2026-09-30']) await calendar.open(occurrence(dueDate), `${dueDate}T00:00:00.000Z`);
    for (const dueDate of ['2026-03-31', '2026-06-30']) {
      await calendar.complete({
        occurrenceId: `activity:access-review:${dueDate}`,
        by: 'it@example.com',
        performedAt: `${dueDate}T08:00:00.000Z`,
        recordedAt: `${dueDate}T08:00:00.000Z`,
        late: false,
        evidence: [],
      });
    }
    await calendar.missed('activity:access-review:2026-09-30', 'NC-0001', '2026-10-14T09:00:00.000Z');
    await store.close();

    const json = await run(['--config', 'isms.yaml', 'calendar', 'coverage', '--from', '2026-01-01', '--to', '2027-01-01', '--json'], dir);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(1);
    const summaries = JSON.parse(json.stdout) as CoverageSummary[];
    const control = summaries.find((summary) => summary.id === 'vuln-mgmt')!;
    expect(control.occurrences.map((entry) => [entry.expected.slice(0, 10), entry.status])).toEqual([
      ['2026-01-01', 'covered'],
      ['2026-04-01', 'covered'],
      ['2026-07-01', 'missing'],
      ['2026-10-01', 'covered'],
    ]);
    const activity = summaries.find((summary) => summary.id === 'access-review')!;
    expect(activity.occurrences.map((entry) => [entry.expected.slice(0, 10), entry.status])).toEqual([
      ['2026-03-31', 'done'],
      ['2026-06-30', 'done'],
      ['2026-09-30', 'missed'],
      ['2026-12-31', 'planned'],
    ]);

    const text = await run(['--config', 'isms.yaml', 'calendar', 'coverage', '--from', '2026-01-01', '--to', '2027-01-01'], dir);
    expect(text.stdout).toMatch(/^control\s+vuln-mgmt\s+4\s+3\s+2026-07-01$/m);
    expect(text.stdout).toMatch(/^activity\s+access-review\s+4\s+2\s+2026-09-30$/m);
  });

  it('prints the calendar as JSON without Temporal, and refuses a bad range', async () => {
    const json = await run(['--config', 'isms.yaml', 'calendar', '--from', '2027-01-01', '--to', '2027-07-01', '--json'], dir);
    expect((JSON.parse(json.stdout) as { occurrenceId: string; status: string }[]).map((row) => [row.occurrenceId, row.status])).toEqual([
      ['activity:access-review:2027-03-31', 'planned'],
      ['activity:access-review:2027-06-30', 'planned'],
    ]);
    const bad = await run(['--config', 'isms.yaml', 'calendar', '--from', '2027-01-01', '--to', '2026-01-01'], dir);
    expect(bad).toMatchObject({ code: 2, stderr: '--to must be after --from\n' });
  });
});
