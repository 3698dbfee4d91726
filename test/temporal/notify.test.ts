import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotificationLedger } from '../../evidence/notification-ledger.ts';
import { runControl } from '../../worker/run-control.ts';
import { smtpReceiver } from '../support/smtp.ts';
import { harness, namespace, type TemporalHarness } from '../support/temporal.ts';
import type { controlRun } from '../../workflows/control-run.ts';

/*
 * Notifications of control runs on a real Temporal server: Temporal's own retry of the notify activity reaches only the
 * target that failed, a re-executed run (reset) tells nobody twice, and the SMTP password stays out of the history.
 */

const EventType = temporal.api.enums.v1.EventType;

let hooks: Server;
/** Requests per path, accepted or not. */
const requests = new Map<string, number>();
const accepted: string[] = [];
/** Paths that answer HTTP 500 to their next request only. */
const failOnce = new Set<string>();

beforeAll(async () => {
  hooks = createServer((request, response) => {
    const path = request.url ?? '';
    request.resume();
    request.on('end', () => {
      requests.set(path, (requests.get(path) ?? 0) + 1);
      if (failOnce.delete(path)) return void response.writeHead(500).end();
      accepted.push(path);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  // The worker's activities resolve secret references from the process environment.
  for (const name of ['audit', 'chat', 'teams']) process.env[`ISMS_TEST_HOOK_${name.toUpperCase()}`] = `${origin}/${name}/s3cr3t`;
});
afterAll(() => new Promise<void>((resolve) => hooks.close(() => resolve())));

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  requests.clear();
  accepted.length = 0;
  failOnce.clear();
});

const webhooks = ['audit', 'chat', 'teams'].map((name) => ({
  name,
  kind: 'webhook',
  url: { env: `ISMS_TEST_HOOK_${name.toUpperCase()}` },
  format: name === 'audit' ? 'json' : name === 'chat' ? 'slack' : 'teams',
}));

/** Four high findings scanned 85 days before the run: past a 30-day SLA, so the run opens four nonconformities. */
const overdueControl = (notify: string[]) => ({
  id: 'vuln-notify',
  title: 'Technical vulnerabilities are remediated on time',
  reference: 'A.8.8',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  notify,
  sources: [{ name: 'api-scan', connector: 'paged-findings', config: { asset: 'api', pages: 2, perPage: 2, scannedAt: '2026-09-01T00:00:00Z' } }],
  checks: [{ check: 'vulnerability-sla', params: { days: { high: 30 } } }],
});

async function historyOf(h: TemporalHarness, workflowId: string) {
  return (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

type History = Awaited<ReturnType<typeof historyOf>>;

/** The attempt on which each completed notify activity of the history succeeded. */
function notifyAttempts(history: History): number[] {
  const notifyScheduled = new Set(
    history.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'notify').map((event) => String(event.eventId)),
  );
  const started = new Map(
    history.filter((event) => event.activityTaskStartedEventAttributes).map((event) => [String(event.eventId), event.activityTaskStartedEventAttributes!]),
  );
  return history
    .filter((event) => event.activityTaskCompletedEventAttributes && notifyScheduled.has(String(event.activityTaskCompletedEventAttributes.scheduledEventId)))
    .map((event) => started.get(String(event.activityTaskCompletedEventAttributes!.startedEventId))!.attempt ?? 0);
}

describe('notifications of control runs on a real Temporal server', () => {
  it("retries only the target that failed, and a re-executed run does not post 'opened' again", async () => {
    current = await harness({ notifications: webhooks, controls: [overdueControl(['audit', 'chat', 'teams'])] });
    let runId = '';
    const h = current;
    failOnce.add('/chat/s3cr3t');
    // One worker run for both executions: a worker runs once.
    await h.worker.runUntil(async () => {
      const summary = await runControl(h.client, h.runtime.config, 'vuln-notify', new Date('2026-11-25T06:00:00Z'));
      expect(summary.nonconformities.opened).toHaveLength(4);

      // Attempt 1 reached audit and teams and failed on chat; Temporal's attempt 2 posted to chat only.
      expect(accepted.sort()).toEqual(['/audit/s3cr3t', '/chat/s3cr3t', '/teams/s3cr3t']);
      expect(Object.fromEntries(requests)).toEqual({ '/audit/s3cr3t': 1, '/chat/s3cr3t': 2, '/teams/s3cr3t': 1 });
      const history = await historyOf(h, summary.runId);
      expect(notifyAttempts(history)).toEqual([2]);
      expect(JSON.stringify(history)).not.toContain('s3cr3t');

      // Reset to the first workflow task: the occurrence runs again from the start under the same workflow id.
      const firstTask = history.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
      const { runId: newRunId } = await h.client.workflowService.resetWorkflowExecution({
        namespace,
        workflowExecution: { workflowId: summary.runId },
        workflowTaskFinishEventId: firstTask.eventId,
        requestId: randomUUID(),
        reason: 'test: re-execute the occurrence',
      });
      const again = await h.client.workflow.getHandle<typeof controlRun>(summary.runId, newRunId ?? undefined).result();
      expect(again.nonconformities).toEqual(summary.nonconformities);
      // The re-execution ran notify again (one attempt, completed) and it posted nothing.
      expect(notifyAttempts(await historyOf(h, summary.runId))).toEqual([1]);
      expect(Object.fromEntries(requests)).toEqual({ '/audit/s3cr3t': 1, '/chat/s3cr3t': 2, '/teams/s3cr3t': 1 });
      runId = summary.runId;
    });

    const ledger = new NotificationLedger(h.runtime.store.catalog);
    expect((await ledger.deliveries(runId)).map((delivery) => [delivery.target, delivery.event]).sort()).toEqual([
      ['audit', 'nonconformity-opened'],
      ['chat', 'nonconformity-opened'],
      ['teams', 'nonconformity-opened'],
    ]);
  });

  it('keeps the SMTP password out of the history when the login is refused, and the run stands', async () => {
    const user = 'isms-bot';
    const password = 'pw-Hx4!only-in-the-environment';
    const smtp = await smtpReceiver({ user, password: 'the-right-one' });
    try {
      process.env.ISMS_TEST_SMTP_PASSWORD = password;
      const mail = {
        name: 'mail',
        kind: 'email',
        host: '127.0.0.1',
        port: smtp.port,
        caFile: smtp.caFile,
        auth: { user, password: { env: 'ISMS_TEST_SMTP_PASSWORD' } },
        from: 'isms@example.com',
        to: ['security@example.com'],
      };
      current = await harness({ notifications: [mail, ...webhooks], controls: [overdueControl(['mail', 'audit'])] });
      const h = current;
      const summary = await h.worker.runUntil(runControl(h.client, h.runtime.config, 'vuln-notify', new Date('2026-11-26T06:00:00Z')));
      expect(summary.status).toBe('fail');
      expect(accepted).toEqual(['/audit/s3cr3t']);
      // A refused login is permanent: one attempt, no retry.
      expect(smtp.logins).toEqual([{ username: user, password }]);

      const history = await historyOf(h, summary.runId);
      const failed = history.find((event) => event.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
      expect(failed.message).toBe('notification target mail: the SMTP server refused the login (535)');
      expect(failed.applicationFailureInfo).toMatchObject({ type: 'NotificationError', nonRetryable: true });
      const text = JSON.stringify(history);
      for (const form of [password, Buffer.from(password).toString('base64'), Buffer.from(`\0${user}\0${password}`).toString('base64')])
        expect(text).not.toContain(form);
    } finally {
      delete process.env.ISMS_TEST_SMTP_PASSWORD;
      await smtp.close();
    }
  });
});
