import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { resolveCalendar, type CalendarActivity } from '../config/calendar.ts';
import { zoneOf } from '../core/calendar-occurrences.ts';
import type { LoadedConfig } from '../config/load.ts';
import { ACTIVITY_SCHEDULE_PREFIX } from '../core/calendar-contracts.ts';
import { openActivityOccurrences } from '../workflows/maintenance-activity.ts';
import { HASH_MEMO, reconcileSchedules, scheduleDigest, type PlannedChange } from './schedules.ts';

export function activityScheduleIdOf(activityId: string): string {
  return `${ACTIVITY_SCHEDULE_PREFIX}${activityId}`;
}

/**
 * One schedule per calendar activity. A Temporal spec cannot say "14 days before the last Friday of the month",
 * so the schedule fires daily at the activity's due time in its zone and starts `openActivityOccurrences`, which
 * opens the occurrences whose ladder begins by then under their own ids (`activity:<id>:<due date>`); repeated or
 * caught-up firings find them started and do nothing. BUFFER_ALL lets a catch-up after downtime fire every missed day.
 */
export function desiredActivitySchedule(activity: CalendarActivity, loaded: LoadedConfig): ScheduleOptions {
  const spec = {
    calendars: [{ hour: activity.time.hour, minute: activity.time.minute, second: activity.time.second, comment: `opens occurrences of ${activity.id}` }],
    timezone: zoneOf(activity.recurrence, activity.timeZone),
  };
  const args: [{ activityId: string }] = [{ activityId: activity.id }];
  const taskQueue = loaded.config.temporal.taskQueue;
  const catchupWindow = loaded.config.temporal.catchupWindow;
  const overlap = ScheduleOverlapPolicy.BUFFER_ALL;
  const hash = scheduleDigest({ spec, args, taskQueue, catchupWindow, overlap });
  return {
    scheduleId: activityScheduleIdOf(activity.id),
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: openActivityOccurrences,
      // The opener is short-lived; the occurrences it starts carry their own ids.
      workflowId: `activity-opener:${activity.id}`,
      taskQueue,
      args,
      memo: { [HASH_MEMO]: hash },
    },
    policies: { overlap, catchupWindow, pauseOnFailure: false },
    state: { paused: activity.paused, note: activity.paused ? 'paused in config' : undefined },
    memo: { activityTitle: activity.title },
  };
}

/** One schedule per calendar activity, reconciled as the control schedules are. */
export function syncCalendarSchedules(client: Client, loaded: LoadedConfig, options: { dryRun?: boolean } = {}): Promise<PlannedChange[]> {
  const desired = [...resolveCalendar(loaded.config).activities.values()].map((activity) => {
    const schedule = desiredActivitySchedule(activity, loaded);
    const time = `${String(activity.time.hour).padStart(2, '0')}:${String(activity.time.minute).padStart(2, '0')}`;
    return { options: schedule, detail: `${activity.title}, opens occurrences daily at ${time} ${schedule.spec.timezone}` };
  });
  return reconcileSchedules(
    client,
    { prefix: ACTIVITY_SCHEDULE_PREFIX, taskQueue: loaded.config.temporal.taskQueue, desired, removed: 'activity no longer in the calendar' },
    options,
  );
}

/**
 * Runs every activity's opener once now, as its schedule's next daily firing would: the occurrences whose reminder
 * ladder has begun are open at once rather than at that firing. Idempotent like the firings (occurrences already
 * recorded or started are left alone). Returns the occurrence ids it started.
 */
export async function openCurrentOccurrences(client: Client, loaded: LoadedConfig): Promise<string[]> {
  const started: string[] = [];
  for (const activity of resolveCalendar(loaded.config).activities.values()) {
    if (activity.paused) continue;
    const result = await client.workflow.execute(openActivityOccurrences, {
      workflowId: `activity-opener:${activity.id}:now-${Date.now()}`,
      taskQueue: loaded.config.temporal.taskQueue,
      args: [{ activityId: activity.id }],
    });
    started.push(...result.started);
  }
  return started;
}
