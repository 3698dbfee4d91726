import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { connectClient, connectWorker, temporalSettings } from '../connection.ts';
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
        runtime.close();
      }
    },
    async withClient(work) {
      const settings = temporalSettings();
      const connection = await connectClient(settings);
      try {
        return await work(new Client({ connection, namespace: settings.namespace }));
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
  const line = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

/**
 * Gives `work` a Temporal client; with `hostWorker` it also runs a worker for as long as the work takes, so a
 * command works without a deployed worker (as `isms run` does). The workflows `settle` names keep the hosted worker
 * until the activities the work set going have finished: an activity task handed to a worker as it stops is lost
 * until its timeout on servers without graceful poll shutdown (Temporal Server before 1.30 among them).
 */
export async function withTemporal<T>(
  runtime: Runtime,
  hostWorker: boolean,
  work: (client: Client) => Promise<T>,
  options: { settle?: readonly string[] } = {},
): Promise<T> {
  const settings = temporalSettings();
  const client = new Client({ connection: await connectClient(settings), namespace: settings.namespace });
  try {
    if (!hostWorker) return await work(client);
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
  } finally {
    await client.connection.close();
  }
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
