import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { calendarActivities } from '../../activities/calendar.ts';
import { resolveCalendar } from '../../config/calendar.ts';
import { occurrenceOn } from '../../config/calendar-plan.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';

const SECRET_PATH = '/hooks/T0000/B0000/s3cr3t-t0ken-do-not-leak';
let server: Server;
let port = 0;
const received: { path: string; body: Record<string, unknown> }[] = [];
let failing = false;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (failing && request.url === SECRET_PATH) return void response.writeHead(500).end();
      received.push({ path: request.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function runtimeWith(calendar: Record<string, unknown>): Promise<{ runtime: Runtime; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-calendar-activities-'));
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      timezone: 'Europe/Berlin',
      notifications: [
        { name: 'chat', kind: 'webhook', url: { env: 'CHAT_HOOK' }, format: 'slack' },
        { name: 'audit-log', kind: 'webhook', url: { env: 'AUDIT_HOOK' }, format: 'json' },
      ],
      calendar,
    }),
  );
  return { runtime: await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries), dir };
}

const restoreTest = { id: 'restore-test', title: 'Restore test', reference: 'A.8.13', every: '1 month', anchor: '2026-01-31', evidence: [{ name: 'report' }] };

describe('calendar activities', () => {
  it('sends a notice to every target once, keeps a secret webhook URL out of failures and events, and resends only what was not delivered', async () => {
    const { runtime, dir } = await runtimeWith({ owner: 'ops@example.com', notify: ['audit-log', 'chat'], activities: [restoreTest] });
    try {
      const env = { CHAT_HOOK: `http://127.0.0.1:${port}${SECRET_PATH}`, AUDIT_HOOK: `http://127.0.0.1:${port}/log` };
      const activities = calendarActivities({ ...runtime, env });
      const occurrence = occurrenceOn(resolveCalendar(runtime.config.config).activities.get('restore-test')!, '2026-03-31')!;
      await activities.openActivityOccurrence({ occurrence, at: occurrence.opensAt });
      const notice = {
        occurrenceId: occurrence.occurrenceId,
        kind: 'reminder' as const,
        at: occurrence.reminders[0]!.at,
        owner: 'ops@example.com',
        text: 'Restore test: due in 7 days',
      };

      failing = true;
      const failure = await activities.notifyActivityOwner(notice).catch((error: Error) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe('notification target chat answered HTTP 500');
      expect(JSON.stringify(failure)).not.toContain('s3cr3t');
      // audit-log got it although chat failed: the retry must not post it there again.
      expect(received.map((entry) => entry.path)).toEqual(['/log']);

      failing = false;
      expect(await activities.notifyActivityOwner(notice)).toEqual({ sent: ['audit-log', 'chat'] });
      expect(await activities.notifyActivityOwner(notice)).toEqual({ sent: ['audit-log', 'chat'] });
      expect(received.map((entry) => entry.path)).toEqual(['/log', SECRET_PATH]);
      expect(received[0]!.body).toMatchObject({
        event: 'activity-reminder',
        occurrenceId: occurrence.occurrenceId,
        owner: 'ops@example.com',
        title: 'Restore test',
        due: occurrence.due,
      });
      expect(received[1]!.body).toEqual({ text: 'Restore test: due in 7 days' });
      const events = await new CalendarStore(runtime.store.catalog).events(occurrence.occurrenceId);
      expect(events.map((event) => [event.kind, event.delivered])).toEqual([['reminder', ['audit-log', 'chat']]]);
      expect(JSON.stringify(events)).not.toContain('s3cr3t');

      // A secret that cannot be resolved is a config fault; its message names the target and the variable, never a value.
      const unresolved = await calendarActivities({ ...runtime, env: { AUDIT_HOOK: env.AUDIT_HOOK } })
        .notifyActivityOwner({ ...notice, kind: 'due', at: occurrence.due })
        .catch((error: Error) => error);
      expect(unresolved).toMatchObject({ message: 'notification target chat: secret: environment variable CHAT_HOOK is not set', nonRetryable: true });
      expect(received.map((entry) => entry.path)).toEqual(['/log', SECRET_PATH, '/log']);
    } finally {
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('announces an occurrence once, even when a re-executed occurrence opens it at another time', async () => {
    const { runtime, dir } = await runtimeWith({ owner: 'ops@example.com', notify: ['audit-log', 'chat'], activities: [restoreTest] });
    try {
      const env = { CHAT_HOOK: `http://127.0.0.1:${port}${SECRET_PATH}`, AUDIT_HOOK: `http://127.0.0.1:${port}/log` };
      const occurrence = occurrenceOn(resolveCalendar(runtime.config.config).activities.get('restore-test')!, '2026-04-30')!;
      const opening = { occurrenceId: occurrence.occurrenceId, kind: 'opened' as const, owner: 'ops@example.com', text: 'Restore test is due' };
      received.length = 0;
      await calendarActivities({ ...runtime, env }).openActivityOccurrence({ occurrence, at: occurrence.opensAt });
      expect(await calendarActivities({ ...runtime, env }).notifyActivityOwner({ ...opening, at: '2026-04-16T07:00:00.000Z' })).toEqual({
        sent: ['audit-log', 'chat'],
      });
      // The workflow ran again (reset, replayed from scratch): its clock says another time, the opening is the same news.
      expect(await calendarActivities({ ...runtime, env }).notifyActivityOwner({ ...opening, at: '2026-04-16T07:03:10.000Z' })).toEqual({
        sent: ['audit-log', 'chat'],
      });
      expect(received.map((entry) => entry.path).sort()).toEqual([SECRET_PATH, '/log']);
      // Reminders are one per planned time: the next one is news.
      await calendarActivities({ ...runtime, env }).notifyActivityOwner({
        ...opening,
        kind: 'reminder',
        at: occurrence.reminders[1]!.at,
        text: 'Restore test: due in 1 day',
      });
      expect(received).toHaveLength(4);
    } finally {
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plans the occurrences a firing opens, leaving out recorded ones and paused activities', async () => {
    const { runtime, dir } = await runtimeWith({ owner: 'ops@example.com', activities: [restoreTest, { ...restoreTest, id: 'paused-test', paused: true }] });
    try {
      const activities = calendarActivities(runtime);
      const firedAt = '2026-03-17T08:00:00.000Z';
      const planned = await activities.planActivityOccurrences({ activityId: 'restore-test', firedAt });
      expect(planned.map((occurrence) => occurrence.occurrenceId)).toEqual(['activity:restore-test:2026-03-31']);
      await activities.openActivityOccurrence({ occurrence: planned[0]!, at: firedAt });
      expect(await activities.planActivityOccurrences({ activityId: 'restore-test', firedAt })).toEqual([]);
      expect(await activities.planActivityOccurrences({ activityId: 'paused-test', firedAt })).toEqual([]);
      await expect(activities.planActivityOccurrences({ activityId: 'gone', firedAt })).rejects.toMatchObject({ type: 'ConfigError', nonRetryable: true });
    } finally {
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
