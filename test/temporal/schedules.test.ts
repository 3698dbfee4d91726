import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import { listSchedules, scheduleIdOf, syncSchedules } from '../../worker/schedules.ts';
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

const control = (id: string, cron: string) => ({
  id,
  title: `Control ${id}`,
  reference: 'A.8.8',
  owner: 'security@example.com',
  schedule: { cron, timezone: 'Europe/Berlin' },
  sources: [{ name: 'scan', connector: 'paged-findings' }],
  checks: [{ check: 'vulnerability-sla' }],
});

function configWith(taskQueue: string, controls: unknown[]) {
  return parseConfig(stringify({ temporal: { taskQueue, catchupWindow: '2 hours' }, controls }), '/tmp/isms.yaml', testRegistries);
}

describe('schedules sync', () => {
  it('creates one schedule per control, updates in place keeping a pause, deletes removed controls and leaves others alone', async () => {
    const suffix = randomUUID().slice(0, 8);
    const [a, b] = [`alpha-${suffix}`, `beta-${suffix}`];
    const taskQueue = `isms-schedules-${suffix}`;

    const dry = await syncSchedules(client, configWith(taskQueue, [control(a, '0 6 * * *'), control(b, '0 7 * * 1')]), { dryRun: true });
    expect(dry.map((change) => change.action)).toEqual(['create', 'create']);
    await expect(client.schedule.getHandle(scheduleIdOf(a)).describe()).rejects.toThrow();

    const created = await syncSchedules(client, configWith(taskQueue, [control(a, '0 6 * * *'), control(b, '0 7 * * 1')]));
    expect(created.map((change) => [change.scheduleId, change.action])).toEqual([
      [scheduleIdOf(a), 'create'],
      [scheduleIdOf(b), 'create'],
    ]);
    const described = await client.schedule.getHandle(scheduleIdOf(a)).describe();
    expect(described.spec.calendars).toHaveLength(1);
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.policies.catchupWindow).toBe(2 * 3600 * 1000);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'controlRun', taskQueue, args: [{ controlId: a, trigger: 'schedule' }] });

    const again = await syncSchedules(client, configWith(taskQueue, [control(a, '0 6 * * *'), control(b, '0 7 * * 1')]));
    expect(again.map((change) => change.action)).toEqual(['unchanged', 'unchanged']);

    await client.schedule.getHandle(scheduleIdOf(a)).pause('operator: change freeze');
    const foreign = `someone-else-${suffix}`;
    await client.schedule.create({
      scheduleId: foreign,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'other', taskQueue: 'other', args: [] },
    });
    const otherDeployment = `isms:control:gamma-${suffix}`;
    await client.schedule.create({
      scheduleId: otherDeployment,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'controlRun', taskQueue: 'another-isms', args: [] },
    });

    const changed = await syncSchedules(client, configWith(taskQueue, [control(a, '30 5 * * *')]));
    expect(changed.map((change) => [change.scheduleId, change.action])).toEqual([
      [scheduleIdOf(a), 'update'],
      [scheduleIdOf(b), 'delete'],
    ]);
    const updated = await client.schedule.getHandle(scheduleIdOf(a)).describe();
    expect(updated.state.paused).toBe(true);
    expect(updated.state.note).toBe('operator: change freeze');
    expect(updated.spec.calendars).toHaveLength(1);
    expect(updated.spec.calendars![0]).toMatchObject({ hour: [{ start: 5, end: 5 }], minute: [{ start: 30, end: 30 }] });
    await expect(client.schedule.getHandle(scheduleIdOf(b)).describe()).rejects.toThrow();
    await expect(client.schedule.getHandle(foreign).describe()).resolves.toBeDefined();
    await expect(client.schedule.getHandle(otherDeployment).describe()).resolves.toBeDefined();

    const listed = await listSchedules(client);
    const ours = listed.find((entry) => entry.scheduleId === scheduleIdOf(a));
    expect(ours).toMatchObject({ kind: 'control', subject: a, paused: true });
    expect(ours!.nextRuns.length).toBeGreaterThan(0);

    for (const id of [scheduleIdOf(a), foreign, otherDeployment]) await client.schedule.getHandle(id).delete();
  });

  it('creates calendar specs the server accepts: single values, ranges, day and month names or numbers', async () => {
    const suffix = randomUUID().slice(0, 8);
    const id = `calendar-${suffix}`;
    const calendarControl = {
      ...control(id, '0 6 * * *'),
      schedule: { calendar: [{ hour: 6, minute: 30, dayOfWeek: 'MONDAY', month: [3, '6-9'], comment: 'quarterly-ish' }], timezone: 'UTC' },
    };
    await syncSchedules(client, configWith(`isms-calendar-${suffix}`, [calendarControl]));
    const described = await client.schedule.getHandle(scheduleIdOf(id)).describe();
    expect(described.spec.calendars![0]).toMatchObject({
      hour: [{ start: 6, end: 6 }],
      minute: [{ start: 30, end: 30 }],
      dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY' }],
      month: [
        { start: 'MARCH', end: 'MARCH' },
        { start: 'JUNE', end: 'SEPTEMBER' },
      ],
    });
    const next = new Date(described.info.nextActionTimes[0]!);
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 6, 30]);
    expect([3, 6, 7, 8, 9]).toContain(next.getUTCMonth() + 1);
    await client.schedule.getHandle(scheduleIdOf(id)).delete();
  });
});
