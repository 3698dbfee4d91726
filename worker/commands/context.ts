import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import protos, { type google } from '@temporalio/proto';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { asTemporalUnavailable, connectClient, connectWorker, temporalSettings, TemporalUnavailableError } from '../connection.ts';
import { createWorker } from '../worker.ts';
import { createLogger } from '../logger.ts';
import { configPath, openRuntime, type Runtime } from '../runtime.ts';

export const EXIT = { ok: 0, findings: 1, usage: 2, error: 3 } as const;

/** What every command group of the `isms` CLI shares. */
export interface CliContext {
  program: Command;
  log: Logger;
  configFile(): string;
  print(value: unknown): void;
  withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T>;
  withClient<T>(work: (client: Client) => Promise<T>): Promise<T>;
}

export function cliContext(program: Command): CliContext {
  const log = createLogger();
  const configFile = () => configPath(program.opts<{ config?: string }>().config);
  return {
    program,
    log,
    configFile,
    print: (value) => void process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`),
    async withRuntime(work) {
      const runtime = await openRuntime(configFile(), log);
      try {
        return await work(runtime);
      } finally {
        await runtime.close();
      }
    },
    async withClient(work) {
      const settings = temporalSettings();
      const connection = await connectClient(settings);
      try {
        return await work(new Client({ connection, namespace: settings.namespace }));
      } catch (error) {
        throw asTemporalUnavailable(error, settings.address);
      } finally {
        await connection.close();
      }
    },
  };
}

/** A plain-text table of the given columns. */
export function table(rows: readonly object[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const text = rows.map((row) => columns.map((column) => String((row as Record<string, unknown>)[column] ?? '')));
  const widths = columns.map((column, index) => Math.max(column.length, ...text.map((cells) => cells[index]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

/**
 * What a command that leaves its work to a deployed worker (no `hostWorker`) does when no worker polls the task queue:
 * `tell` when the work only starts a workflow, which a worker records once one starts (it is started, and the command
 * says so); `refuse` when the work waits on a worker, as an Update or a query does (it would hang: the command stops
 * before it starts anything).
 */
export type WithoutWorker = 'tell' | 'refuse';

/**
 * Gives `work` a Temporal client; with `hostWorker` it also runs a worker for as long as the work takes, so a
 * command works without a deployed worker (as `isms run` does). The workflows `settle` names keep the hosted worker
 * until the activities the work set going have finished: an activity task handed to a worker as it stops is lost
 * until its timeout on servers without graceful poll shutdown (Temporal Server before 1.30 among them). Without
 * `hostWorker`, `withoutWorker` says what happens when no worker polls the task queue (default `refuse`).
 */
export async function withTemporal<T>(
  runtime: Runtime,
  hostWorker: boolean,
  work: (client: Client) => Promise<T>,
  options: { settle?: readonly string[]; withoutWorker?: WithoutWorker } = {},
): Promise<T> {
  const settings = temporalSettings();
  const client = new Client({ connection: await connectClient(settings), namespace: settings.namespace });
  const taskQueue = runtime.config.config.temporal.taskQueue;
  try {
    if (!hostWorker) {
      const polled = await workerPolls(client, taskQueue, settings.address);
      if (polled === false && (options.withoutWorker ?? 'refuse') === 'refuse') {
        throw new TemporalUnavailableError(
          `no worker is polling task queue ${taskQueue} at ${settings.address}: start one with ${WORKER_COMMANDS}, or leave out --no-worker so this command hosts one`,
        );
      }
      const result = await work(client);
      if (polled === false)
        process.stderr.write(`started; no worker is polling task queue ${taskQueue}, so it will be recorded when one starts: ${WORKER_COMMANDS}\n`);
      return result;
    }
    const connection = await connectWorker(settings);
    try {
      const worker = await createWorker(runtime, connection, { namespace: settings.namespace });
      return await worker.runUntil(async () => {
        const result = await work(client);
        for (const workflowId of options.settle ?? []) await untilActivitiesFinished(client, workflowId, SETTLE_TIMEOUT_MS);
        return result;
      });
    } finally {
      await connection.close();
    }
  } catch (error) {
    throw asTemporalUnavailable(error, settings.address);
  } finally {
    await client.connection.close();
  }
}

const WORKER_COMMANDS = '`isms worker` (or `npm run dev`)';

/**
 * A long poll lasts up to a minute and a worker polls again at once, so a worker that has not polled for longer
 * than this has stopped (or all its slots are busy); the server lists a stopped worker for up to 5 minutes.
 */
const LIVE_POLL_MS = 70_000;

// A CommonJS module whose namespaces Node's ESM loader cannot see as named exports.
const { TaskQueueKind, TaskQueueType } = protos.temporal.api.enums.v1;

/**
 * Whether a worker has polled `taskQueue` for workflow tasks within the last long poll; undefined when the server
 * will not say (an API key without the permission to describe task queues): then nobody is warned or refused.
 */
export async function workerPolls(client: Client, taskQueue: string, address: string, now = Date.now()): Promise<boolean | undefined> {
  let pollers: protos.temporal.api.taskqueue.v1.IPollerInfo[] | null | undefined;
  try {
    ({ pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }));
  } catch (error) {
    const unavailable = asTemporalUnavailable(error, address);
    if (unavailable instanceof TemporalUnavailableError) throw unavailable;
    return undefined;
  }
  return (pollers ?? []).some((poller) => poller.lastAccessTime && now - millisOf(poller.lastAccessTime) <= LIVE_POLL_MS);
}

function millisOf(timestamp: google.protobuf.ITimestamp): number {
  const seconds = timestamp.seconds ?? 0;
  return (typeof seconds === 'number' ? seconds : seconds.toNumber()) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

const SETTLE_TIMEOUT_MS = 60_000;

/** Waits until the workflow has no pending activity or has ended; after `timeoutMs` it stops waiting (a deployed worker may finish them). */
async function untilActivitiesFinished(client: Client, workflowId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const handle = client.workflow.getHandle(workflowId);
  for (;;) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING' || (description.raw.pendingActivities ?? []).length === 0 || Date.now() >= deadline) return;
    await sleep(100);
  }
}
