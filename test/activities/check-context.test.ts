import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkContext } from '../../activities/check-context.ts';
import { evaluateControl } from '../../activities/evaluate.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import type { Risk } from '../../core/records.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { risk } from '../support/register-records.ts';
import { testRegistries } from '../support/test-connectors.ts';

const control = (id: string, reference: string[], sources: unknown[], checks: unknown[]) => ({
  id,
  title: id,
  reference,
  owner: 'security@example.com',
  schedule: { every: '1 day' },
  sources,
  checks,
});

let dir: string;
let runtime: Runtime;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-check-context-'));
  writeFileSync(path.join(dir, 'risks.yaml'), 'risks: []\n');
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      controls: [
        control('scans', ['A.8.8'], [{ name: 'scans', connector: 'paged-findings' }], [{ check: 'vulnerability-sla' }]),
        control('backups', ['A.8.13'], [{ name: 'scans', connector: 'paged-findings' }], [{ check: 'vulnerability-sla' }]),
        control(
          'risks',
          ['6.1.2'],
          [{ name: 'risks', connector: 'risk-register', config: { path: 'risks.yaml' } }],
          [{ check: 'risk-review-overdue' }, { check: 'risk-control-ineffective' }, { check: 'risk-change-unreviewed' }],
        ),
      ],
    }),
  );
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
});
afterEach(() => {
  runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

async function saveRun(controlId: string, runId: string, evaluatedAt: string, status: 'pass' | 'fail' | 'error') {
  await runtime.register.saveCheckRun({ runId, controlId, evaluatedAt, status, results: [] }, []);
}

async function riskEvidence(runId: string, risks: Risk[]) {
  const staged = await runtime.store.stage(runId, 'risks');
  for (const record of risks) await staged.append(record);
  const row = await runtime.store.commit(staged, {
    runId,
    controlId: 'risks',
    sourceName: 'risks',
    connector: 'risk-register',
    connectorVersion: '1',
    kinds: ['risk'],
    collectedAt: '2026-11-25T06:00:00.000Z',
    provenance: {},
    warnings: [],
  });
  return runtime.store.ref(row);
}

describe('check context', () => {
  it('gives each other configured control its references and latest run, leaving out review runs and the control being evaluated', async () => {
    await saveRun('scans', 'control:scans:1', '2026-11-20T06:00:00.000Z', 'pass');
    await saveRun('scans', 'control:scans:2', '2026-11-24T06:00:00.000Z', 'fail');
    // An access review records its results as check runs of the control; they are not the control's status.
    await saveRun('scans', 'review:scans:2026-Q4', '2026-11-25T06:00:00.000Z', 'pass');
    await saveRun('risks', 'control:risks:1', '2026-11-24T07:00:00.000Z', 'fail');
    const context = await checkContext(runtime, runtime.config.controls.get('risks')!);
    expect(context['control-status']).toEqual([
      { controlId: 'scans', references: ['A.8.8'], status: 'fail', evaluatedAt: '2026-11-24T06:00:00.000Z', runId: 'control:scans:2' },
      { controlId: 'backups', references: ['A.8.13'], status: null, evaluatedAt: null, runId: null },
    ]);
  });

  it('gives the recorded changes with the due time of their review, when its occurrence is recorded', async () => {
    const calendar = new CalendarStore(runtime.store.catalog);
    await calendar.recordChange(
      { title: 'VPN to SSO', affects: ['risk'], risks: ['R-1'], recordedAt: '2026-10-20T10:00:00.000Z', recordedBy: 'me' },
      () => 'activity:change-review-chg-0001:2026-11-03',
    );
    await calendar.open(
      {
        occurrenceId: 'activity:change-review-chg-0001:2026-11-03',
        activityId: 'change-review-chg-0001',
        origin: 'change',
        title: 'Review of change CHG-0001',
        reference: '6.3',
        owner: 'isms@example.com',
        due: '2026-11-03T08:00:00.000Z',
        dueDate: '2026-11-03',
        timeZone: 'Europe/Berlin',
        opensAt: '2026-10-20T10:00:00.000Z',
        graceUntil: '2026-11-17T08:00:00.000Z',
        closesAt: '2027-02-15T08:00:00.000Z',
        reminders: [],
        evidence: [],
      },
      '2026-10-20T10:00:00.000Z',
    );
    await calendar.recordChange(
      { title: 'New office', affects: ['scope'], recordedAt: '2026-10-21T10:00:00.000Z', recordedBy: 'me' },
      () => 'activity:not-opened',
    );
    expect((await checkContext(runtime, runtime.config.controls.get('risks')!))['isms-change']).toEqual([
      { id: 'CHG-0001', title: 'VPN to SSO', affects: ['risk'], risks: ['R-1'], recordedAt: '2026-10-20T10:00:00.000Z', reviewDue: '2026-11-03T08:00:00.000Z' },
      { id: 'CHG-0002', title: 'New office', affects: ['scope'], risks: [], recordedAt: '2026-10-21T10:00:00.000Z', reviewDue: null },
    ]);
  });

  it("looks up only the kinds the control's checks declare", async () => {
    expect(await checkContext(runtime, runtime.config.controls.get('scans')!)).toEqual({});
  });

  it('reaches the checks through evaluateControl: a risk treated by a failing control, a change whose risk was not reviewed', async () => {
    await saveRun('scans', 'control:scans:1', '2026-11-24T06:00:00.000Z', 'fail');
    await saveRun('backups', 'control:backups:1', '2026-11-24T06:00:00.000Z', 'pass');
    await new CalendarStore(runtime.store.catalog).recordChange(
      { title: 'VPN to SSO', affects: ['risk'], risks: ['R-1'], recordedAt: '2026-10-20T10:00:00.000Z', recordedBy: 'me' },
      () => 'activity:x',
    );
    const runId = 'control:risks:2026-11-25T06:00:00.000Z';
    const ref = await riskEvidence(runId, [risk({ controls: ['A.8.8', 'A.8.13'], lastReview: '2026-09-01' })]);

    const summary = await evaluateControl(runtime, { runId, controlId: 'risks', occurrence: '2026-11-25T06:00:00.000Z', refs: [ref], gaps: [] });
    expect(summary.checks).toEqual([
      { checkId: 'risk-review-overdue', status: 'pass', deviations: 0 },
      { checkId: 'risk-control-ineffective', status: 'fail', deviations: 1 },
      { checkId: 'risk-change-unreviewed', status: 'fail', deviations: 1 },
    ]);
    const deviations = await runtime.store.catalog.all<{ check_id: string; subject: string; severity: string }>(
      'SELECT check_id, subject, severity FROM deviations ORDER BY check_id',
    );
    expect(deviations).toEqual([
      { check_id: 'risk-change-unreviewed', subject: 'change:CHG-0001:risk:R-1', severity: 'medium' },
      { check_id: 'risk-control-ineffective', subject: 'risk:R-1:A.8.8', severity: 'high' },
    ]);
  });
});
