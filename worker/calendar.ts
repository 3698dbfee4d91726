import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { resolveCalendar } from '../config/calendar.ts';
import { nextOccurrence, occurrenceOn, planChangeReview, planOccurrences } from '../config/calendar-plan.ts';
import { scheduleTimes } from '../config/schedule-occurrences.ts';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import { CalendarStore, type RecordedChange } from '../evidence/calendar-store.ts';
import { activityControlOf } from '../evidence/register.ts';
import type { OccurrenceWorkflows } from '../activities/deps.ts';
import type { ActivityOccurrence, Completion, CompletionReceipt, EvidenceItem, Reassignment } from '../core/calendar-contracts.ts';
import { completeUpdate, maintenanceActivity, reassignUpdate } from '../workflows/maintenance-activity.ts';
import { activityCoverage, calendarRows, controlCoverage, type CalendarRow, type CoverageSummary } from './calendar-report.ts';
import type { Runtime } from './runtime.ts';

/*
 * What the calendar commands do, apart from printing: the CLI and the tests call these.
 */

const DAY_MS = 86_400_000;

export function calendarOf(runtime: Pick<Runtime, 'config'>) {
  return resolveCalendar(runtime.config.config);
}

/** Planned occurrences of every configured activity due in [from, to), merged with the recorded ones. */
export async function calendarView(runtime: Pick<Runtime, 'config' | 'store'>, range: { from: number; to: number }, now: number): Promise<CalendarRow[]> {
  const planned = [...calendarOf(runtime).activities.values()].flatMap((activity) => planOccurrences(activity, range));
  const recorded = await new CalendarStore(runtime.store.catalog).list({ from: iso(range.from), to: iso(range.to) });
  return calendarRows(planned, recorded, now);
}

/** Expected versus actual over [from, to) for every control (by its schedule) and every activity (by its recurrence). */
export async function coverageOf(runtime: Pick<Runtime, 'config' | 'store'>, range: { from: number; to: number }, now: number): Promise<CoverageSummary[]> {
  const loaded = runtime.config;
  const summaries: CoverageSummary[] = [];
  for (const control of loaded.controls.values()) {
    const schedule = control.control.schedule;
    let expected: number[] = [];
    let next: number | undefined;
    let error: string | undefined;
    try {
      expected = scheduleTimes(schedule, loaded.config.timezone, range.from, range.to);
      next = scheduleTimes(schedule, loaded.config.timezone, range.to, range.to + 400 * DAY_MS)[0];
    } catch (failure) {
      error = (failure as Error).message;
    }
    const evidence = (await runtime.store.list({ controlId: control.control.id })).map((row) => ({
      id: row.id,
      controlId: row.controlId,
      sourceName: row.sourceName,
      collectedAt: row.collectedAt,
    }));
    summaries.push(
      controlCoverage(
        { id: control.control.id, title: control.control.title, sources: control.sources.map((source) => source.name), expected, next, error },
        evidence,
        now,
      ),
    );
  }
  const recorded = await new CalendarStore(runtime.store.catalog).list({ from: iso(range.from), to: iso(range.to) });
  for (const activity of calendarOf(runtime).activities.values()) {
    summaries.push(activityCoverage(activity, planOccurrences(activity, range), recorded, now));
  }
  return summaries;
}

/** Starts an occurrence now (default: the activity's next one), as a schedule firing would; starting it twice is refused by Temporal and reported. */
export async function openOccurrence(
  client: Client,
  loaded: LoadedConfig,
  activityId: string,
  options: { dueDate?: string; now?: number } = {},
): Promise<ActivityOccurrence> {
  const activity = resolveCalendar(loaded.config).activities.get(activityId);
  if (!activity) throw new ConfigError(`no calendar activity "${activityId}" in ${loaded.file}`);
  const occurrence = options.dueDate ? occurrenceOn(activity, options.dueDate) : nextOccurrence(activity, options.now ?? Date.now());
  if (!occurrence) throw new ConfigError(`activity ${activityId} has no occurrence ${options.dueDate ? `due on ${options.dueDate}` : 'ahead'}`);
  await startOccurrence(client, loaded, occurrence);
  return occurrence;
}

/** The occurrences' workflows over a client: what the worker's obligation activities reach them by. */
export function occurrenceWorkflows(client: Client, loaded: LoadedConfig): OccurrenceWorkflows {
  return {
    start: (occurrence) => startOccurrence(client, loaded, occurrence),
    complete: (occurrenceId, completion) => client.workflow.getHandle(occurrenceId).executeUpdate(completeUpdate, { args: [completion] }),
  };
}

async function startOccurrence(client: Client, loaded: LoadedConfig, occurrence: ActivityOccurrence): Promise<void> {
  try {
    await client.workflow.start(maintenanceActivity, {
      taskQueue: loaded.config.temporal.taskQueue,
      workflowId: occurrence.occurrenceId,
      args: [occurrence],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** Records a change to the ISMS and starts its review ("does this change affect our ISMS?") due in N days. */
export async function recordChange(
  client: Client,
  runtime: Pick<Runtime, 'config' | 'store'>,
  change: { title: string; description?: string; affects: string[]; risks?: string[]; by: string; dueInDays?: number; now?: number },
): Promise<{ change: RecordedChange; occurrence: ActivityOccurrence }> {
  const calendar = calendarOf(runtime);
  if (!calendar.changeReview) throw new ConfigError(`${runtime.config.file}: calendar.changeReview (owner, dueInDays) is needed to record changes`);
  const now = change.now ?? Date.now();
  let occurrence: ActivityOccurrence | undefined;
  const recorded = await new CalendarStore(runtime.store.catalog).recordChange(
    { title: change.title, description: change.description, affects: change.affects, risks: change.risks, recordedAt: iso(now), recordedBy: change.by },
    (changeId) => {
      occurrence = planChangeReview(calendar, { id: changeId, title: change.title }, now, change.dueInDays);
      return occurrence.occurrenceId;
    },
  );
  await startOccurrence(client, runtime.config, occurrence!);
  return { change: recorded, occurrence: occurrence! };
}

/**
 * Completes an occurrence: stores each file as evidence (sha256 of its bytes) first, then sends the `complete`
 * Update with refs only. A bare FILE is named after the next required evidence not yet given; NAME=FILE names it.
 */
export async function completeOccurrence(
  client: Client,
  runtime: Pick<Runtime, 'store'>,
  occurrenceId: string,
  input: { by: string; note?: string; at?: string; files?: string[]; links?: string[] },
): Promise<CompletionReceipt> {
  const recorded = await new CalendarStore(runtime.store.catalog).get(occurrenceId);
  if (!recorded) throw new ConfigError(`no open occurrence ${occurrenceId} (isms activity list shows the open ones)`);
  const explicit = (spec: string) => {
    const match = /^([^=]+)=(.+)$/.exec(spec);
    return match && !/^https?:/i.test(spec) ? { name: match[1]!.trim(), target: match[2]!.trim() } : undefined;
  };
  const given = new Set([...(input.links ?? []), ...(input.files ?? [])].flatMap((spec) => explicit(spec)?.name ?? []));
  // Bare files and links take the required evidence names not given explicitly, in the calendar's order.
  const pending = recorded.expectedEvidence.filter((expected) => expected.required && !given.has(expected.name)).map((expected) => expected.name);
  const named = (spec: string) => explicit(spec) ?? { name: pending.shift() ?? path.basename(spec), target: spec };

  const evidence: EvidenceItem[] = [];
  for (const link of input.links ?? []) {
    const { name, target } = named(link);
    evidence.push({ name, link: target });
  }
  for (const file of input.files ?? []) {
    const { name, target } = named(file);
    let content: Buffer;
    try {
      content = await readFile(target);
    } catch (error) {
      throw new ConfigError(`--evidence ${target}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    const row = await runtime.store.storeFile(
      {
        runId: occurrenceId,
        controlId: activityControlOf(recorded.activityId),
        sourceName: `${name}@${sha256.slice(0, 16)}`,
        connector: 'calendar',
        connectorVersion: '1',
        collectedAt: new Date().toISOString(),
        provenance: { occurrenceId, evidence: name, storedBy: input.by },
        warnings: [],
      },
      { name: path.basename(target), mediaType: mediaTypeOf(target) },
      content,
    );
    evidence.push({ name, evidenceId: row.id, sha256: row.sha256, uri: row.uri });
  }
  const completion: Completion = {
    by: input.by,
    evidence,
    ...(input.note ? { note: input.note } : {}),
    ...(input.at ? { at: new Date(input.at).toISOString() } : {}),
  };
  try {
    return await client.workflow.getHandle(occurrenceId).executeUpdate(completeUpdate, { args: [completion] });
  } catch (error) {
    throw refusal(error, occurrenceId);
  }
}

export async function reassignOccurrence(client: Client, occurrenceId: string, reassignment: Reassignment): Promise<{ owner: string }> {
  try {
    return await client.workflow.getHandle(occurrenceId).executeUpdate(reassignUpdate, { args: [reassignment] });
  } catch (error) {
    throw refusal(error, occurrenceId);
  }
}

/** A refused Update or a closed occurrence is the person's to correct: a usage error, not a crash. */
function refusal(error: unknown, occurrenceId: string): unknown {
  if (error instanceof WorkflowUpdateFailedError)
    return new ConfigError(`${occurrenceId}: refused: ${(error.cause as Error | undefined)?.message ?? error.message}`);
  const name = (error as Error).name;
  if (name === 'WorkflowNotFoundError' || /already completed|not found/i.test((error as Error).message)) {
    return new ConfigError(`${occurrenceId}: the occurrence is closed or was never started (${(error as Error).message})`);
  }
  return error;
}

function mediaTypeOf(file: string): string {
  const types: Record<string, string> = {
    '.pdf': 'application/pdf',
    '.csv': 'text/csv',
    '.txt': 'text/plain',
    '.md': 'text/markdown',
    '.html': 'text/html',
    '.json': 'application/json',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  };
  return types[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}
