import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { runControl } from '../../worker/run-control.ts';
import { loadHistory, scheduledActivities } from '../support/histories.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';

const { History, EventType } = { History: temporal.api.history.v1.History, EventType: temporal.api.enums.v1.EventType };
const workflowBundle = () => ({ codePath: inject('workflowBundlePath') });

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('workflow code replays the histories of runs already in flight', () => {
  it('a control run recorded before planning and reconciling became local activities', async () => {
    // Recorded from the previous controlRun on the dev server (one source collected, one evidence gap, both checks).
    const history = History.decode(readFileSync(new URL('../fixtures/histories/control-run-before-local-activities.bin', import.meta.url)));
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual(['planControlRun', 'collectEvidence', 'collectEvidence', 'evaluateControl', 'reconcileNonconformities', 'notify']);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('a control run that failed at evaluateControl before a run could survive its bookkeeping failing', async () => {
    // Recorded from the previous controlRun on the dev server: the control left the worker's config while its source was
    // collected, evaluateControl failed (ConfigError, not retried) and the run failed with it.
    const history = History.decode(readFileSync(new URL('../fixtures/histories/control-run-failed-at-evaluate.bin', import.meta.url)));
    const failedActivities = history.events.flatMap((event) =>
      event.activityTaskFailedEventAttributes ? [event.activityTaskFailedEventAttributes.failure?.applicationFailureInfo?.type] : [],
    );
    expect(failedActivities).toEqual(['ConfigError']);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('an access review campaign closed before closing completed its calendar occurrence', async () => {
    // Recorded from the previous accessReviewCampaign on the dev server: every entry decided, the campaign closed,
    // then one revocation verified. Today's code completes the access-review occurrence at the close, behind a patch.
    const history = History.decode(readFileSync(new URL('../fixtures/histories/access-review-campaign-before-occurrence.bin', import.meta.url)));
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual([
      'planAccessReview',
      'collectEvidence',
      'buildAccessReview',
      'recordReviewDecisions',
      'recordReviewDecisions',
      'closeAccessReview',
      'planRevocationCheck',
      'collectEvidence',
      'verifyRevocations',
    ]);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('an access review campaign of weeks: decided, closed, its calendar occurrence completed, a revocation verified five times', async () => {
    // Recorded on the dev server (JSON, as `temporal workflow show -o json` writes it): three entries, two approved and
    // one revoked in two Updates; the campaign closed, completed the access-review occurrence, then verified the
    // revocation five times without seeing it take effect and left it to the register as a nonconformity.
    const history = loadHistory(new URL('../fixtures/histories/access-review-campaign-completes-occurrence.json', import.meta.url));
    const activityTypes = scheduledActivities(history);
    const verification = ['planRevocationCheck', 'collectEvidence', 'verifyRevocations'];
    expect(activityTypes).toEqual([
      'planAccessReview',
      'collectEvidence',
      'buildAccessReview',
      'recordReviewDecisions',
      'recordReviewDecisions',
      'closeAccessReview',
      'completeAccessReviewOccurrence',
      ...verification,
      ...verification,
      ...verification,
      ...verification,
      ...verification,
    ]);
    expect(history.events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)).toHaveLength(2);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('a maintenance activity of weeks: reassigned, reminded, missed with a nonconformity, then completed late', async () => {
    // Recorded on the time-skipping server (JSON): a monthly restore test opened, reassigned by Update, reminded on
    // its ladder, missed at due + grace (one nonconformity), then completed late by Update with a stored report.
    const history = loadHistory(new URL('../fixtures/histories/maintenance-activity-reassigned-missed-late.json', import.meta.url));
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual([
      'openActivityOccurrence',
      'notifyActivityOwner',
      'recordActivityReassignment',
      'notifyActivityOwner',
      ...activityTypes.slice(4, -1).filter((type) => type === 'notifyActivityOwner' || type === 'raiseMissedActivity'),
      'recordActivityCompletion',
    ]);
    expect(activityTypes.filter((type) => type === 'raiseMissedActivity')).toHaveLength(1);
    expect(history.events.filter((event) => event.eventType === EventType.EVENT_TYPE_TIMER_STARTED).length).toBeGreaterThan(3);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('a control run of a risk register recorded before its snapshot completed the risk assessment review', async () => {
    // Recorded on the dev server (JSON) before the step existed: the register collected, evaluated, reconciled, notified.
    // Today's code asks the calendar to complete the risk-assessment-review occurrence after reconciling, behind a patch.
    const history = loadHistory(new URL('../fixtures/histories/control-run-before-risk-review.json', import.meta.url));
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual(['collectEvidence', 'evaluateControl', 'notify']);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('a control run of a risk register whose plan came from a newer worker than its workflow code (a rolling deployment)', async () => {
    // Recorded on the dev server (JSON) with the step left out of the workflow code but today's planControlRun: the plan
    // names the risk register, yet the run went on to notify. Only the patch marker tells a replay the step never ran.
    const history = loadHistory(new URL('../fixtures/histories/control-run-before-risk-review-planned-by-newer-worker.json', import.meta.url));
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual(['collectEvidence', 'evaluateControl', 'notify']);
    const payloads = history.events.flatMap((event) =>
      Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((details) => details.payloads ?? []),
    );
    expect(payloads.map((payload) => Buffer.from(payload.data!).toString('utf8')).filter((text) => text.includes('"riskRegisters":["risks"]'))).toHaveLength(1);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });

  it('a control run of today: planning and reconciling leave markers, not activity tasks, and replay', async () => {
    // Its own control id: the dev server is shared, and an occurrence of a control runs once.
    const controlId = `replay-${randomUUID().slice(0, 8)}`;
    current = await harness({
      controls: [
        {
          id: controlId,
          title: 'Technical vulnerabilities are remediated on time',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [{ name: 'api-scan', connector: 'paged-findings', config: { asset: 'api', pages: 2, perPage: 2, scannedAt: '2026-09-01T00:00:00Z' } }],
          checks: [{ check: 'vulnerability-sla', params: { days: { high: 30 } } }],
        },
      ],
    });
    const { client, worker, runtime } = current;
    const summary = await worker.runUntil(runControl(client, runtime.config, controlId, new Date('2026-11-25T00:00:00Z')));
    expect(summary.nonconformities.opened).toHaveLength(4);
    const history = await client.workflow.getHandle(summary.runId).fetchHistory();
    const activityTypes = scheduledActivities(history);
    expect(activityTypes).toEqual(['collectEvidence', 'evaluateControl', 'notify']);
    // The patch marker, then one marker per local activity.
    expect(history.events!.filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)).toHaveLength(3);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history);
  });
});
