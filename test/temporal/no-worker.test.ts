import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { runIsms } from '../support/cli.ts';

const isms = (args: string[], cwd: string) =>
  runIsms(args, { cwd, env: { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' }, timeout: 60_000 });

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function until<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not there after ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('commands that leave their work to a deployed worker, when none polls the task queue', () => {
  it('activity open and change record say the work is started and recorded once a worker runs; an Update waiting on a worker is refused', async () => {
    // The harness builds a worker on a task queue of its own and does not run it: nothing polls that queue. Workflow
    // ids are the namespace's, shared with the other test files: the activity and the review's due date are this
    // test's own.
    const activityId = `restore-test-${randomUUID().slice(0, 8)}`;
    const dueInDays = String(100 + randomInt(800));
    current = await harness({
      timezone: 'Europe/Berlin',
      calendar: {
        owner: 'isms@example.com',
        activities: [{ id: activityId, title: 'Restore test', reference: 'A.8.13', every: '1 month', anchor: '2026-01-31' }],
        changeReview: { dueInDays: 14, owner: 'isms@example.com' },
      },
    });
    const { worker, dir, file, runtime, client } = current;
    const taskQueue = runtime.config.config.temporal.taskQueue;
    const config = ['--config', file];
    const calendar = new CalendarStore(runtime.store.catalog);
    const notice = `started; no worker is polling task queue ${taskQueue}, so it will be recorded when one starts: \`isms worker\` (or \`npm run dev\`)\n`;

    const opened = await isms([...config, 'activity', 'open', activityId], dir);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stderr).toBe(notice);
    const occurrenceId = new RegExp(`^(activity:${activityId}:\\S+): open, due`, 'm').exec(opened.stdout)?.[1];
    expect(occurrenceId, opened.stdout).toBeDefined();
    // Started in Temporal, not yet in the catalog: only a worker records it.
    expect((await client.workflow.getHandle(occurrenceId!).describe()).status.name).toBe('RUNNING');
    expect(await calendar.get(occurrenceId!)).toBeUndefined();

    const recorded = await isms(
      [...config, 'change', 'record', '--title', 'New payment provider', '--affects', 'scope', '--by', 'cto@example.com', '--due-in', dueInDays],
      dir,
    );
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(recorded.stderr).toBe(notice);
    const reviewId = /review (activity:change-review-chg-\d{4}:\S+) due/.exec(recorded.stdout)?.[1];
    expect(reviewId, recorded.stdout).toBeDefined();

    // Completing is an Update: it would wait for a worker, so it is refused before anything is sent.
    const refused = await isms([...config, 'activity', 'complete', occurrenceId!, '--by', 'isms@example.com', '--no-worker'], dir);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `no worker is polling task queue ${taskQueue} at ${inject('temporalAddress')}: start one with \`isms worker\` (or \`npm run dev\`), or leave out --no-worker so this command hosts one\n`,
    );

    await worker.runUntil(async () => {
      expect(await until(async () => await calendar.get(occurrenceId!))).toMatchObject({ occurrenceId, status: 'open' });
      expect(await until(async () => await calendar.get(reviewId!))).toMatchObject({ occurrenceId: reviewId, status: 'open' });
      // With the worker polling, the same commands say nothing more.
      const again = await isms([...config, 'activity', 'open', activityId], dir);
      expect(again).toMatchObject({ code: 0, stderr: '' });
    });
  });
});
