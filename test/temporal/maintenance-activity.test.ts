import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveCalendar } from '../../config/calendar.ts';
import { formatLocalDate, toZoned } from '../../core/calendar-occurrences.ts';
import { nextOccurrence } from '../../config/calendar-plan.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { activityControlOf, MISSED_ACTIVITY_CHECK } from '../../evidence/register.ts';
import type { ActivityOccurrence } from '../../core/calendar-contracts.ts';
import { timeSkippingHarness, timeSkippingServerPath, type TimeSkippingHarness } from '../support/time-skipping.ts';
import { completeUpdate, maintenanceActivity, openActivityOccurrences, reassignUpdate } from '../../workflows/maintenance-activity.ts';

/*
 * The maintenance activity over simulated weeks and months on Temporal's time-skipping test server: the ladder,
 * completion, late completion, the one missed-activity nonconformity, reassignment and the evidence validator.
 */

const DAY = 86_400_000;
const ZONE = 'Europe/Berlin';

let hook: Server;
const posts: { event: string; occurrenceId: string; owner: string; text: string }[] = [];

// On a machine without the cached jars Maven fetches them first: allow for that once, here, not in a test.
beforeAll(() => void timeSkippingServerPath(), 300_000);

beforeAll(async () => {
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      posts.push(JSON.parse(body) as (typeof posts)[number]);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  // The worker's activities resolve secret references from the process environment.
  process.env.ISMS_TEST_OWNER_HOOK = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

let current: TimeSkippingHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  posts.length = 0;
});

/** A monthly restore test whose first occurrence is due 20 days after the test server's clock. */
async function monthlyRestoreTest(activityId: string) {
  let anchor = '';
  const harness = await timeSkippingHarness((now) => {
    anchor = formatLocalDate(toZoned(now + 20 * DAY, ZONE));
    return {
      timezone: ZONE,
      notifications: [{ name: 'owner-hook', kind: 'webhook', url: { env: 'ISMS_TEST_OWNER_HOOK' }, format: 'json' }],
      calendar: {
        owner: 'ops@example.com',
        notify: ['owner-hook'],
        activities: [
          {
            id: activityId,
            title: 'Backup restore test',
            reference: 'A.8.13',
            every: '1 month',
            anchor,
            dueTime: '09:00',
            evidence: [
              { name: 'restore test report', required: true },
              { name: 'ticket', required: false },
            ],
          },
        ],
      },
    };
  });
  current = harness;
  const activity = resolveCalendar(harness.runtime.config.config).activities.get(activityId)!;
  const occurrence = nextOccurrence(activity, harness.startedAt)!;
  expect(occurrence.occurrenceId).toBe(`activity:${activityId}:${anchor}`);
  return { harness, occurrence, calendar: new CalendarStore(harness.runtime.store.catalog) };
}

/** The messages along a failure's cause chain: an Update refused by an activity wraps the activity's failure. */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let cause = error as { message?: string; cause?: unknown } | undefined; cause; cause = cause.cause as typeof cause) messages.push(cause.message ?? '');
  return messages.join(' <- ');
}

async function start(harness: TimeSkippingHarness, occurrence: ActivityOccurrence) {
  return harness.env.client.workflow.start(maintenanceActivity, { taskQueue: harness.taskQueue, workflowId: occurrence.occurrenceId, args: [occurrence] });
}

async function eventually(assertion: () => void | Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function storeEvidence(harness: TimeSkippingHarness, occurrence: ActivityOccurrence, name: string, content: string) {
  const row = await harness.runtime.store.storeFile(
    {
      runId: occurrence.occurrenceId,
      controlId: activityControlOf(occurrence.activityId),
      sourceName: `${name}@${createHash('sha256').update(content).digest('hex').slice(0, 16)}`,
      connector: 'calendar',
      connectorVersion: '1',
      collectedAt: new Date().toISOString(),
      provenance: {},
      warnings: [],
    },
    { name: `${name}.txt`, mediaType: 'text/plain' },
    content,
  );
  return { name, evidenceId: row.id, sha256: row.sha256, uri: row.uri };
}

describe('maintenanceActivity on a time-skipping server', () => {
  it('left alone: reminds on the ladder, raises exactly one missed-activity nonconformity at due + grace, and closes missed', async () => {
    const { harness, occurrence, calendar } = await monthlyRestoreTest('restore-left-alone');
    const outcome = await harness.worker.runUntil(async () => {
      const handle = await start(harness, occurrence);
      return await handle.result();
    });

    expect(outcome).toMatchObject({ occurrenceId: occurrence.occurrenceId, status: 'missed', late: false, owner: 'ops@example.com' });
    const events = await calendar.events(occurrence.occurrenceId);
    const notices = events.filter((event) => event.kind !== 'opened' && event.kind !== 'closed').map((event) => [event.kind, event.at]);
    // 14d opens the occurrence; then 7d, 1d and 0d before due; overdue every 7 days, where the 14th day (the end of
    // grace) carries the missed notice instead, until the next month's occurrence is due.
    const expected = [...occurrence.reminders.map((reminder) => [reminder.kind, reminder.at]), ['missed', occurrence.graceUntil]].sort((a, b) =>
      a[1]!.localeCompare(b[1]!),
    );
    expect(notices).toEqual(expected);
    expect(notices.map(([kind]) => kind)).toEqual(['reminder', 'reminder', 'due', 'overdue', 'missed', ...expected.slice(5).map(() => 'overdue')]);
    const due = Date.parse(occurrence.due);
    const daysFromDue = (at: string) => Math.round((Date.parse(at) - due) / DAY);
    expect(notices.slice(0, 5).map(([, at]) => daysFromDue(at!))).toEqual([-7, -1, 0, 7, 14]);
    expect(expected.length).toBeGreaterThan(5);
    expect(events.at(-1)!.kind).toBe('closed');

    const nonconformities = await harness.runtime.register.list({ controlId: activityControlOf(occurrence.activityId) });
    expect(nonconformities).toHaveLength(1);
    expect(nonconformities[0]).toMatchObject({
      checkId: MISSED_ACTIVITY_CHECK,
      subject: occurrence.occurrenceId,
      status: 'open',
      reference: 'A.8.13',
      owner: 'ops@example.com',
    });
    expect(outcome.nonconformityId).toBe(nonconformities[0]!.id);
    expect(await calendar.get(occurrence.occurrenceId)).toMatchObject({ status: 'missed', nonconformityId: nonconformities[0]!.id });
    expect((await calendar.get(occurrence.occurrenceId))!.closedAt).not.toBeNull();

    // Every notice reached the owner's webhook once.
    const delivered = posts.filter((post) => post.occurrenceId === occurrence.occurrenceId);
    expect(delivered.map((post) => post.event)).toEqual(events.filter((event) => event.kind !== 'closed').map((event) => `activity-${event.kind}`));
    expect(new Set(delivered.map((post) => post.owner))).toEqual(new Set(['ops@example.com']));
  });

  it('refuses a completion without the required evidence, then completes on time with it', async () => {
    const { harness, occurrence, calendar } = await monthlyRestoreTest('restore-on-time');
    await harness.worker.runUntil(async () => {
      const handle = await start(harness, occurrence);
      await harness.env.sleep(14 * DAY);

      const refused = handle.executeUpdate(completeUpdate, {
        args: [{ by: 'ops@example.com', evidence: [{ name: 'ticket', link: 'https://tickets.example.com/42' }] }],
      });
      await expect(refused).rejects.toThrow(WorkflowUpdateFailedError);
      expect(messagesOf(await refused.catch((error: unknown) => error))).toMatch(/required evidence missing: restore test report/);

      const report = await storeEvidence(harness, occurrence, 'restore test report', 'restored db-prod to staging in 42 minutes');
      const forged = handle.executeUpdate(completeUpdate, { args: [{ by: 'ops@example.com', evidence: [{ ...report, sha256: 'f'.repeat(64) }] }] });
      await expect(forged).rejects.toThrow(WorkflowUpdateFailedError);
      expect(messagesOf(await forged.catch((error: unknown) => error))).toMatch(
        /evidence "restore test report" \(ev-[^)]+\) has sha256 [0-9a-f]{64}, not f{64}/,
      );

      const receipt = await handle.executeUpdate(completeUpdate, {
        args: [{ by: 'ops@example.com', note: 'all tables restored', evidence: [report, { name: 'ticket', link: 'https://tickets.example.com/42' }] }],
      });
      expect(receipt).toMatchObject({ occurrenceId: occurrence.occurrenceId, completedBy: 'ops@example.com', late: false });
      expect(receipt.settledNonconformity).toBeUndefined();

      const second = handle.executeUpdate(completeUpdate, { args: [{ by: 'someone', evidence: [report] }] });
      await expect(second).rejects.toThrow();
      const outcome = await handle.result();
      expect(outcome).toMatchObject({ status: 'done', late: false });
      expect(outcome.nonconformityId).toBeUndefined();
    });

    const recorded = (await calendar.get(occurrence.occurrenceId))!;
    expect(recorded).toMatchObject({ status: 'done', late: false, completedBy: 'ops@example.com', note: 'all tables restored' });
    const file = recorded.evidence.find((item) => item.name === 'restore test report')!;
    expect('evidenceId' in file && file.sha256).toBe(createHash('sha256').update('restored db-prod to staging in 42 minutes').digest('hex'));
    expect(await harness.runtime.register.list({ controlId: activityControlOf(occurrence.activityId) })).toEqual([]);
    // The 7-day reminder went out before completion; nothing after it.
    expect((await calendar.events(occurrence.occurrenceId)).map((event) => event.kind)).toEqual(['opened', 'reminder', 'completed']);
    expect((await harness.runtime.store.verify()).ok).toBe(true);
  });

  it('takes a late completion after the nonconformity: recorded late, the nonconformity becomes no-longer-observed with a note', async () => {
    const { harness, occurrence, calendar } = await monthlyRestoreTest('restore-late');
    await harness.worker.runUntil(async () => {
      const handle = await start(harness, occurrence);
      await harness.env.sleep(Date.parse(occurrence.graceUntil) - (await harness.env.currentTimeMs()) + 3 * DAY);
      await eventually(async () => expect(await harness.runtime.register.list({ controlId: activityControlOf(occurrence.activityId) })).toHaveLength(1));

      const report = await storeEvidence(harness, occurrence, 'restore test report', 'restored late');
      const receipt = await handle.executeUpdate(completeUpdate, { args: [{ by: 'ops@example.com', evidence: [report] }] });
      const nc = (await harness.runtime.register.list({ controlId: activityControlOf(occurrence.activityId) }))[0]!;
      expect(receipt).toMatchObject({ late: true, settledNonconformity: nc.id });
      expect(await handle.result()).toMatchObject({ status: 'done', late: true, nonconformityId: nc.id });
    });

    const [nc] = await harness.runtime.register.list({ controlId: activityControlOf(occurrence.activityId) });
    expect(nc!.status).toBe('no-longer-observed');
    expect(nc!.evidenceIds).toHaveLength(1);
    const history = await harness.runtime.register.historyOf(nc!.id);
    expect(history.map((entry) => [entry.actor, entry.toStatus])).toEqual([
      ['isms-worker', 'open'],
      ['isms-worker', 'no-longer-observed'],
    ]);
    expect(history[1]!.note).toMatch(/^completed late by ops@example\.com .*; verify and close$/);
    expect(await calendar.get(occurrence.occurrenceId)).toMatchObject({ status: 'done', late: true, nonconformityId: nc!.id });
  });

  it('reassigns the owner: the validator refuses an empty owner, later reminders go to the new one', async () => {
    const { harness, occurrence, calendar } = await monthlyRestoreTest('restore-reassign');
    await harness.worker.runUntil(async () => {
      const handle = await start(harness, occurrence);
      // Reassign after the opening notice went out; one sent after a reassignment rightly names the new owner.
      await eventually(() => expect(posts.some((post) => post.occurrenceId === occurrence.occurrenceId && post.event === 'activity-opened')).toBe(true));
      await expect(handle.executeUpdate(reassignUpdate, { args: [{ owner: ' ', by: 'ops@example.com' }] })).rejects.toThrow(WorkflowUpdateFailedError);
      expect(await handle.executeUpdate(reassignUpdate, { args: [{ owner: 'dba@example.com', by: 'ops@example.com' }] })).toEqual({ owner: 'dba@example.com' });
      await harness.env.sleep(Date.parse(occurrence.due) - (await harness.env.currentTimeMs()) + 60_000);
      await eventually(async () => expect((await calendar.events(occurrence.occurrenceId)).filter((event) => event.kind === 'due')).toHaveLength(1));
      const report = await storeEvidence(harness, occurrence, 'restore test report', 'done by the DBA');
      await handle.executeUpdate(completeUpdate, { args: [{ by: 'dba@example.com', evidence: [report] }] });
      expect(await handle.result()).toMatchObject({ status: 'done', owner: 'dba@example.com', late: true });
    });

    expect(await calendar.get(occurrence.occurrenceId)).toMatchObject({ owner: 'dba@example.com', completedBy: 'dba@example.com' });
    const events = await calendar.events(occurrence.occurrenceId);
    expect(events.filter((event) => event.kind === 'reassigned').map((event) => [event.actor, event.detail])).toEqual([
      ['ops@example.com', 'owner ops@example.com -> dba@example.com'],
    ]);
    const owners = posts.filter((post) => post.occurrenceId === occurrence.occurrenceId).map((post) => [post.event, post.owner]);
    expect(owners).toEqual([
      ['activity-opened', 'ops@example.com'],
      ['activity-reassigned', 'dba@example.com'],
      ['activity-reminder', 'dba@example.com'],
      ['activity-reminder', 'dba@example.com'],
      ['activity-due', 'dba@example.com'],
    ]);
  });

  it('opens an occurrence from its schedule firing once, however often the opener runs', async () => {
    const { harness, occurrence, calendar } = await monthlyRestoreTest('restore-opener');
    await harness.worker.runUntil(async () => {
      // The opener opens what is open by then: move to the occurrence's opening time first.
      await harness.env.sleep(Date.parse(occurrence.opensAt) - (await harness.env.currentTimeMs()) + 60_000);
      const first = await harness.env.client.workflow.execute(openActivityOccurrences, {
        taskQueue: harness.taskQueue,
        workflowId: 'opener-1',
        args: [{ activityId: occurrence.activityId }],
      });
      expect(first).toEqual({ started: [occurrence.occurrenceId] });
      await eventually(async () => expect((await calendar.get(occurrence.occurrenceId))?.status).toBe('open'));
      const second = await harness.env.client.workflow.execute(openActivityOccurrences, {
        taskQueue: harness.taskQueue,
        workflowId: 'opener-2',
        args: [{ activityId: occurrence.activityId }],
      });
      expect(second).toEqual({ started: [] });
      const description = await harness.env.client.workflow.getHandle(occurrence.occurrenceId).describe();
      expect(description.type).toBe('maintenanceActivity');
      expect(await calendar.list({ activityId: occurrence.activityId })).toHaveLength(1);
    });
  });
});
