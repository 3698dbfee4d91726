import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import type { ResolvedControl, LoadedConfig } from '../config/load.ts';
import type { CalendarEntry, Schedule } from '../config/schedule.ts';
import type { ControlRunInput } from '../core/contracts.ts';
import { controlRun } from '../workflows/control-run.ts';

export const SCHEDULE_PREFIX = 'isms:control:';
/** Memo key of the schedule action holding a digest of what config asked for, so unchanged schedules are left alone. */
export const HASH_MEMO = 'ismsScheduleHash';

export function scheduleDigest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function scheduleIdOf(controlId: string): string {
  return `${SCHEDULE_PREFIX}${controlId}`;
}

/** Workflow id of a scheduled occurrence; Temporal appends the scheduled time to it. */
export function scheduledWorkflowIdOf(controlId: string): string {
  return `control:${controlId}`;
}

export interface PlannedChange {
  scheduleId: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  detail: string;
}

export function specOf(schedule: Schedule, defaultTimezone: string): ScheduleSpec {
  const jitter = schedule.jitter;
  if ('cron' in schedule) {
    return { cronExpressions: Array.isArray(schedule.cron) ? schedule.cron : [schedule.cron], timezone: schedule.timezone ?? defaultTimezone, jitter };
  }
  if ('every' in schedule) return { intervals: [{ every: schedule.every, offset: schedule.offset }], jitter };
  return { calendars: schedule.calendar.map(calendarOf), timezone: schedule.timezone ?? defaultTimezone, jitter };
}

type Range = { start: number; end?: number; step?: number };
function calendarOf(entry: CalendarEntry) {
  const ranges = (field: keyof CalendarEntry) => {
    const value = entry[field];
    if (value === undefined || field === 'comment') return undefined;
    return (Array.isArray(value) ? value : [value]).map((item) => rangeOf(item, field));
  };
  return {
    second: ranges('second'),
    minute: ranges('minute'),
    hour: ranges('hour'),
    dayOfMonth: ranges('dayOfMonth'),
    month: ranges('month'),
    dayOfWeek: ranges('dayOfWeek'),
    comment: entry.comment,
  } as never;
}

const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
const MONTH_NAMES = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];

/**
 * One calendar value as the SDK takes it. A single number is a one-value range (start = end: the SDK would
 * otherwise send end 1 and the server refuse any hour above 1), and months are names (the SDK takes no numbers).
 */
function rangeOf(value: number | string, field: keyof CalendarEntry): Range | string {
  const month = (n: number) => MONTH_NAMES[n - 1] ?? String(n);
  if (typeof value === 'number') return field === 'month' ? ({ start: month(value), end: month(value) } as never) : { start: value, end: value };
  const upper = value.toUpperCase();
  if (DAY_NAMES.includes(upper) || MONTH_NAMES.includes(upper)) return { start: upper, end: upper } as never;
  const match = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(value);
  if (!match) return value;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  const step = match[3] === undefined ? undefined : Number(match[3]);
  if (field === 'month') return { start: month(start), end: month(end), step } as never;
  return { start, end, step };
}

export function desiredSchedule(control: ResolvedControl, loaded: LoadedConfig): ScheduleOptions {
  const spec = specOf(control.control.schedule, loaded.config.timezone);
  const args: [ControlRunInput] = [{ controlId: control.control.id, trigger: 'schedule' }];
  const taskQueue = loaded.config.temporal.taskQueue;
  const catchupWindow = loaded.config.temporal.catchupWindow;
  const hash = scheduleDigest({ spec, args, taskQueue, catchupWindow });
  return {
    scheduleId: scheduleIdOf(control.control.id),
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: controlRun,
      workflowId: scheduledWorkflowIdOf(control.control.id),
      taskQueue,
      args,
      memo: { [HASH_MEMO]: hash },
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow, pauseOnFailure: false },
    state: { paused: control.control.paused, note: control.control.paused ? 'paused in config' : undefined },
    memo: { controlTitle: control.control.title },
  };
}

export interface DesiredSchedule {
  options: ScheduleOptions;
  /** One line for `schedules sync` to print. */
  detail: string;
}

/**
 * Makes one family of schedules (those whose id starts with `prefix`) match the config: creates missing ones,
 * updates changed ones in place (an operator's pause survives), deletes those that left the config. Schedules
 * without the prefix, or feeding another task queue (another deployment sharing the namespace), are never touched.
 */
export async function reconcileSchedules(
  client: Client,
  family: { prefix: string; taskQueue: string; desired: readonly DesiredSchedule[]; removed: string },
  options: { dryRun?: boolean } = {},
): Promise<PlannedChange[]> {
  const existing = new Set<string>();
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(family.prefix)) existing.add(summary.scheduleId);
  }
  const changes: PlannedChange[] = [];
  for (const { options: desired, detail } of family.desired) {
    const handle = client.schedule.getHandle(desired.scheduleId);
    let current;
    try {
      current = await handle.describe();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    if (!current) {
      changes.push({ scheduleId: desired.scheduleId, action: 'create', detail });
      if (!options.dryRun) await client.schedule.create(desired);
      continue;
    }
    const currentHash = current.action.type === 'startWorkflow' ? current.action.memo?.[HASH_MEMO] : undefined;
    if (currentHash === desired.action.memo?.[HASH_MEMO]) {
      changes.push({ scheduleId: desired.scheduleId, action: 'unchanged', detail });
      continue;
    }
    changes.push({ scheduleId: desired.scheduleId, action: 'update', detail });
    if (!options.dryRun) {
      await handle.update((previous) => ({ ...previous, spec: desired.spec, action: desired.action, policies: desired.policies, state: previous.state }));
    }
  }
  const wanted = new Set(family.desired.map(({ options: desired }) => desired.scheduleId));
  for (const scheduleId of existing) {
    if (wanted.has(scheduleId)) continue;
    const description = await client.schedule.getHandle(scheduleId).describe();
    if (description.action.type !== 'startWorkflow' || description.action.taskQueue !== family.taskQueue) continue;
    changes.push({ scheduleId, action: 'delete', detail: family.removed });
    if (!options.dryRun) await client.schedule.getHandle(scheduleId).delete();
  }
  return changes;
}

/** One schedule per control. */
export function syncSchedules(client: Client, loaded: LoadedConfig, options: { dryRun?: boolean } = {}): Promise<PlannedChange[]> {
  const desired = [...loaded.controls.values()].map((control) => ({ options: desiredSchedule(control, loaded), detail: describeSpec(control) }));
  return reconcileSchedules(
    client,
    { prefix: SCHEDULE_PREFIX, taskQueue: loaded.config.temporal.taskQueue, desired, removed: 'control no longer in config' },
    options,
  );
}

function describeSpec(control: ResolvedControl): string {
  const schedule = control.control.schedule;
  if ('cron' in schedule) return `cron ${[schedule.cron].flat().join(' | ')}${schedule.timezone ? ` (${schedule.timezone})` : ''}`;
  if ('every' in schedule) return `every ${schedule.every}`;
  return `calendar (${schedule.calendar.length} entries)`;
}

export interface ScheduleListing {
  scheduleId: string;
  /** What the schedule runs: a control, an access review or a calendar activity. */
  kind: string;
  /** The control or activity id. */
  subject: string;
  paused: boolean;
  note: string | undefined;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
}

export async function listSchedules(client: Client): Promise<ScheduleListing[]> {
  const listings: ScheduleListing[] = [];
  for await (const summary of client.schedule.list()) {
    const family = /^isms:([a-z-]+):(.+)$/.exec(summary.scheduleId);
    if (!family) continue;
    const description = await client.schedule.getHandle(summary.scheduleId).describe();
    listings.push({
      scheduleId: summary.scheduleId,
      kind: family[1]!,
      subject: family[2]!,
      paused: description.state.paused,
      note: description.state.note,
      nextRuns: description.info.nextActionTimes.slice(0, 3).map((at) => at.toISOString()),
      recentRuns: description.info.recentActions.slice(-3).map((action) => ({
        scheduledAt: action.scheduledAt.toISOString(),
        workflowId: action.action.type === 'startWorkflow' ? action.action.workflow.workflowId : '',
      })),
    });
  }
  return listings.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
