import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { activityScheduleIdOf, syncCalendarSchedules } from '../../worker/calendar-schedules.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { runIsms } from '../support/cli.ts';

let connection: Connection;
let client: Client;
beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: 'default' });
});
afterAll(async () => {
  await connection.close();
});

const activity = (id: string, dueTime = '09:00') => ({ id, title: `Activity ${id}`, reference: 'A.8.13', every: '1 month', anchor: '2026-01-31', dueTime });

function configWith(taskQueue: string, activities: unknown[]) {
  return parseConfig(
    stringify({ timezone: 'Europe/Berlin', temporal: { taskQueue }, calendar: { owner: 'ops@example.com', activities } }),
    '/tmp/isms.yaml',
    testRegistries,
  );
}

describe('calendar schedules sync', () => {
  it('creates one schedule per activity, updates in place keeping a pause, deletes removed activities and leaves other queues alone', async () => {
    const suffix = randomUUID().slice(0, 8);
    const [a, b] = [`restore-${suffix}`, `review-${suffix}`];
    const taskQueue = `isms-calendar-${suffix}`;

    const created = await syncCalendarSchedules(client, configWith(taskQueue, [activity(a), activity(b)]));
    expect(created.map((change) => [change.scheduleId, change.action])).toEqual([
      [activityScheduleIdOf(a), 'create'],
      [activityScheduleIdOf(b), 'create'],
    ]);
    const described = await client.schedule.getHandle(activityScheduleIdOf(a)).describe();
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect(described.spec.calendars).toHaveLength(1);
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ALL);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'openActivityOccurrences', taskQueue, args: [{ activityId: a }] });
    // Daily at the due time in the activity's zone.
    const next = described.info.nextActionTimes.slice(0, 2).map((at) => at.getTime());
    expect(next[1]! - next[0]!).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next[0])).toBe('09:00');

    expect((await syncCalendarSchedules(client, configWith(taskQueue, [activity(a), activity(b)]))).map((change) => change.action)).toEqual([
      'unchanged',
      'unchanged',
    ]);

    await client.schedule.getHandle(activityScheduleIdOf(a)).pause('operator: holiday freeze');
    const foreign = `isms:activity:foreign-${suffix}`;
    await client.schedule.create({
      scheduleId: foreign,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'other', taskQueue: `other-${suffix}`, args: [] },
    });

    const changed = await syncCalendarSchedules(client, configWith(taskQueue, [activity(a, '07:30')]));
    expect(changed.map((change) => [change.scheduleId, change.action])).toEqual(
      expect.arrayContaining([
        [activityScheduleIdOf(a), 'update'],
        [activityScheduleIdOf(b), 'delete'],
      ]),
    );
    expect(changed.some((change) => change.scheduleId === foreign)).toBe(false);
    const updated = await client.schedule.getHandle(activityScheduleIdOf(a)).describe();
    expect(updated.state).toMatchObject({ paused: true, note: 'operator: holiday freeze' });
    expect(updated.spec.calendars![0]).toMatchObject({ hour: [{ start: 7, end: 7, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    await expect(client.schedule.getHandle(activityScheduleIdOf(b)).describe()).rejects.toThrow();
    await expect(client.schedule.getHandle(foreign).describe()).resolves.toBeDefined();

    await client.schedule.getHandle(activityScheduleIdOf(a)).delete();
    await client.schedule.getHandle(foreign).delete();
  });
});

const isms = (args: string[], cwd: string) =>
  runIsms(args, { cwd, env: { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' }, timeout: 60_000 });

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('calendar CLI against a running worker', () => {
  it('records a change, lists its review, refuses completion without evidence, completes it with a file, prints and exports the calendar', async () => {
    current = await harness({
      timezone: 'Europe/Berlin',
      calendar: {
        defaults: true,
        owner: 'isms@example.com',
        certification: { issued: '2025-12-01', body: 'Example Cert GmbH' },
        changeReview: { dueInDays: 14, owner: 'isms@example.com' },
      },
    });
    const { worker, dir, file, runtime } = current;
    const config = ['--config', file];
    await worker.runUntil(async () => {
      const refusedRisks = await isms([...config, 'change', 'record', '--title', 'New office', '--affects', 'scope', '--risks', 'R-12'], dir);
      expect(refusedRisks.code).toBe(2);
      expect(refusedRisks.stderr).toContain('--risks names risks the change affects: --affects must include risk');
      const recorded = await isms(
        [...config, 'change', 'record', '--title', 'New payment provider', '--affects', 'scope,risk,soa', '--risks', 'R-12, R-4', '--by', 'cto@example.com'],
        dir,
      );
      expect(recorded.stderr).toBe('');
      const changes = await isms([...config, 'change', 'list', '--json'], dir);
      expect((JSON.parse(changes.stdout) as { risks: string[] }[]).map((change) => change.risks)).toEqual([['R-12', 'R-4']]);
      const match = /^(CHG-\d{4}): recorded; review (activity:change-review-chg-\d{4}:\d{4}-\d{2}-\d{2}) due (\S+), owner isms@example\.com$/m.exec(
        recorded.stdout,
      );
      expect(match, recorded.stdout).not.toBeNull();
      const occurrenceId = match![2]!;
      expect(Date.parse(match![3]!) - Date.now()).toBeGreaterThan(13 * 86_400_000);

      const calendar = new CalendarStore(runtime.store.catalog);
      for (let i = 0; i < 100 && !(await calendar.get(occurrenceId)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      const open = await isms([...config, 'activity', 'list', '--status', 'open', '--json'], dir);
      expect((JSON.parse(open.stdout) as { occurrenceId: string }[]).map((row) => row.occurrenceId)).toEqual([occurrenceId]);

      const refused = await isms([...config, 'activity', 'complete', occurrenceId, '--by', 'isms@example.com', '--no-worker'], dir);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/refused: .*required evidence missing: change impact assessment/);

      const assessment = path.join(dir, 'impact.md');
      writeFileSync(assessment, '# Impact\nScope unchanged; risk R-12 updated; SoA A.5.19 applies.\n');
      const done = await isms(
        [
          ...config,
          'activity',
          'complete',
          occurrenceId,
          '--by',
          'isms@example.com',
          '--note',
          'reviewed with the CTO',
          '--evidence',
          assessment,
          '--no-worker',
          '--json',
        ],
        dir,
      );
      expect(done.stderr).toBe('');
      expect(JSON.parse(done.stdout)).toMatchObject({ occurrenceId, completedBy: 'isms@example.com', late: false });
      const stored = (await calendar.get(occurrenceId))!;
      expect(stored.status).toBe('done');
      const ref = stored.evidence[0]!;
      expect(ref).toMatchObject({ name: 'change impact assessment' });
      const row = (await runtime.store.get('evidenceId' in ref ? ref.evidenceId : ''))!;
      expect(row).toMatchObject({ runId: occurrenceId, controlId: `activity:${stored.activityId}`, kinds: ['file'] });
      expect((await runtime.store.fileContent(row.id)).toString()).toContain('risk R-12 updated');

      const listed = await isms([...config, 'activity', 'list', '--status', 'done'], dir);
      expect(listed.stdout).toContain(occurrenceId);

      const printed = await isms([...config, 'calendar', '--from', '2026-11-25', '--to', '2029-11-25'], dir);
      expect(printed.stdout).toMatch(/^occurrenceId\s+activity\s+owner\s+due\s+status$/m);
      for (const expected of [
        'activity:surveillance-audit-2:2027-12-01',
        'activity:recertification-audit:2028-09-08',
        'activity:access-review:2029-09-30',
        `${occurrenceId}`,
      ]) {
        expect(printed.stdout).toContain(expected);
      }
      expect(printed.stdout).toMatch(new RegExp(`${occurrenceId}\\s.*\\sdone$`, 'm'));

      const ics = path.join(dir, 'calendar.ics');
      const exported = await isms([...config, 'calendar', '--from', '2026-11-25', '--to', '2029-11-25', '--ics', ics], dir);
      expect(exported.stdout).toMatch(/calendar\.ics: \d+ occurrences/);
      const text = readFileSync(ics, 'utf8');
      const uids = [...text.matchAll(/^UID:(.+)\r$/gm)].map((found) => found[1]);
      expect(uids).toContain(`${occurrenceId}@isms-worker`);
      expect(new Set(uids).size).toBe(uids.length);
      await isms([...config, 'calendar', '--from', '2026-11-25', '--to', '2029-11-25', '--ics', ics], dir);
      expect([...readFileSync(ics, 'utf8').matchAll(/^UID:(.+)\r$/gm)].map((found) => found[1])).toEqual(uids);
    });
  });
});
