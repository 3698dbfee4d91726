import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import { reviewScheduleIdOf, syncReviewSchedules } from '../../worker/review-schedules.ts';
import { testRegistries } from '../support/test-connectors.ts';

let connection: Connection;
let client: Client;
beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: 'default' });
});
afterAll(async () => {
  await connection.close();
});

const control = (id: string, review?: Record<string, unknown>) => ({
  id,
  title: `Control ${id}`,
  reference: 'A.5.18',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  sources: [{ name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'T' } } }],
  checks: [{ check: 'mfa-missing' }],
  ...(review ? { review } : {}),
});

const configWith = (taskQueue: string, controls: unknown[]) =>
  parseConfig(stringify({ timezone: 'Europe/Berlin', temporal: { taskQueue, catchupWindow: '2 hours' }, controls }), '/tmp/isms.yaml', testRegistries);

describe('access review schedules sync', () => {
  it('creates one schedule per reviewed control, updates in place keeping a pause, deletes removed reviews and leaves others alone', async () => {
    const suffix = randomUUID().slice(0, 8);
    const [a, b, plain] = [`alpha-${suffix}`, `beta-${suffix}`, `plain-${suffix}`];
    const taskQueue = `isms-review-schedules-${suffix}`;
    const initial = () => configWith(taskQueue, [control(a, { every: 'quarterly' }), control(b, { every: { cron: '0 9 1 * *' } }), control(plain)]);

    const dry = await syncReviewSchedules(client, initial(), { dryRun: true });
    expect(dry.map((change) => [change.scheduleId, change.action])).toEqual([
      [reviewScheduleIdOf(a), 'create'],
      [reviewScheduleIdOf(b), 'create'],
    ]);
    await expect(client.schedule.getHandle(reviewScheduleIdOf(a)).describe()).rejects.toThrow();

    const created = await syncReviewSchedules(client, initial());
    expect(created.map((change) => change.action)).toEqual(['create', 'create']);
    expect(created[0]!.detail).toBe('access review quarterly, due in 14 days');
    const described = await client.schedule.getHandle(reviewScheduleIdOf(a)).describe();
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect(described.spec.calendars![0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1 }], hour: [{ start: 9, end: 9 }], minute: [{ start: 0, end: 0 }] });
    expect(described.spec.calendars![0]!.month!.map((range) => range.start)).toEqual(['JANUARY', 'APRIL', 'JULY', 'OCTOBER']);
    // 09:00 in Berlin on the 1st of a quarter's first month.
    const next = described.info.nextActionTimes[0]!;
    expect([next.getUTCDate(), [0, 3, 6, 9].includes(next.getUTCMonth()), [7, 8].includes(next.getUTCHours())]).toEqual([1, true, true]);
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'openAccessReview', taskQueue, args: [{ controlId: a }] });
    await expect(client.schedule.getHandle(reviewScheduleIdOf(plain)).describe()).rejects.toThrow();

    expect((await syncReviewSchedules(client, initial())).map((change) => change.action)).toEqual(['unchanged', 'unchanged']);

    await client.schedule.getHandle(reviewScheduleIdOf(a)).pause('operator: audit week');
    const otherDeployment = `isms:review:gamma-${suffix}`;
    await client.schedule.create({
      scheduleId: otherDeployment,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'openAccessReview', taskQueue: 'another-isms', args: [] },
    });

    const changed = await syncReviewSchedules(client, configWith(taskQueue, [control(a, { every: 'monthly' }), control(b)]));
    expect(changed.map((change) => [change.scheduleId, change.action])).toEqual([
      [reviewScheduleIdOf(a), 'update'],
      [reviewScheduleIdOf(b), 'delete'],
    ]);
    const updated = await client.schedule.getHandle(reviewScheduleIdOf(a)).describe();
    expect(updated.state).toMatchObject({ paused: true, note: 'operator: audit week' });
    expect(updated.spec.calendars![0]!.month).toEqual([{ start: 'JANUARY', end: 'DECEMBER', step: 1 }]);
    expect(updated.spec.calendars![0]!.dayOfMonth).toEqual([{ start: 1, end: 1, step: 1 }]);
    await expect(client.schedule.getHandle(reviewScheduleIdOf(b)).describe()).rejects.toThrow();
    await expect(client.schedule.getHandle(otherDeployment).describe()).resolves.toBeDefined();

    for (const id of [reviewScheduleIdOf(a), otherDeployment]) await client.schedule.getHandle(id).delete();
  });
});
