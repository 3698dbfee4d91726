import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { ControlRunInput, ControlRunSummary } from '../core/contracts.ts';
import { controlRun } from '../workflows/control-run.ts';
import { connectClient, connectWorker, type TemporalSettings } from './connection.ts';
import type { Runtime } from './runtime.ts';
import { createWorker, stopOnSignals } from './worker.ts';

export function manualWorkflowIdOf(controlId: string, occurrence: string): string {
  return `control:${controlId}:${occurrence}`;
}

/** The occurrence a manual run names: the instant to the second, so the same `--occurrence` always names the same run. */
export function occurrenceOf(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
}

export function requireControl(loaded: LoadedConfig, controlId: string): void {
  if (!loaded.controls.has(controlId)) {
    throw new ConfigError(`no control "${controlId}" in ${loaded.file} (controls: ${[...loaded.controls.keys()].join(', ') || 'none'})`);
  }
}

/**
 * Starts one occurrence of a control on `taskQueue` (the config's by default) and waits for its summary. Starting an
 * occurrence that already ran, or is running, attaches to that run: an occurrence runs once.
 */
export async function runControl(
  client: Client,
  loaded: LoadedConfig,
  controlId: string,
  occurrence = new Date(),
  taskQueue = loaded.config.temporal.taskQueue,
): Promise<ControlRunSummary> {
  requireControl(loaded, controlId);
  const at = occurrenceOf(occurrence);
  const workflowId = manualWorkflowIdOf(controlId, at);
  const input: ControlRunInput = { controlId, trigger: 'manual', occurrence: at };
  try {
    const handle = await client.workflow.start(controlRun, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return await client.workflow.getHandle<typeof controlRun>(workflowId).result();
  }
}

/**
 * The task queue `isms run` starts its runs on and hosts its worker for: its own, so a deployed worker on the config's
 * queue never takes an activity of the run and executes it with another config and data folder. It is the same for one
 * config file and data folder on one host, so a run interrupted mid-way is finished by running its occurrence again.
 */
export function hostedTaskQueueOf(loaded: LoadedConfig): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([hostname(), loaded.file, loaded.dataDir]))
    .digest('hex')
    .slice(0, 16);
  return `${loaded.config.temporal.taskQueue}:run:${digest}`;
}

/**
 * Runs one occurrence on a worker this process hosts, with this process's config, on its own task queue. SIGINT or
 * SIGTERM stops the worker: in-flight activities finish within the grace period (`temporal.shutdownGraceTime`), and
 * the run stays open for the same occurrence to finish; a second signal ends the process at once (stopOnSignals).
 */
export async function runControlHosted(runtime: Runtime, settings: TemporalSettings, controlId: string, occurrence: Date): Promise<ControlRunSummary> {
  requireControl(runtime.config, controlId);
  const taskQueue = hostedTaskQueueOf(runtime.config);
  const connection = await connectWorker(settings);
  const client = new Client({ connection: await connectClient(settings), namespace: settings.namespace });
  let stoppedBy: NodeJS.Signals | undefined;
  // Once the worker has stopped, nothing is left to wait for: the wait for the run's result is cut, not left to time out.
  const waiting = new AbortController();
  try {
    const worker = await createWorker(runtime, connection, { namespace: settings.namespace, taskQueue });
    const releaseSignals = stopOnSignals(runtime.log, (signal) => {
      stoppedBy = signal;
      worker.shutdown();
    });
    try {
      return await worker.runUntil(
        client.connection.withAbortSignal(waiting.signal, () => runControl(client, runtime.config, controlId, occurrence, taskQueue)),
      );
    } catch (error) {
      if (stoppedBy === undefined) throw error;
      const at = occurrenceOf(occurrence);
      throw new Error(
        `${stoppedBy}: the worker stopped after its in-flight activities; run ${manualWorkflowIdOf(controlId, at)} stays open. ` +
          `\`isms run ${controlId} --occurrence ${at}\` finishes it`,
        { cause: error },
      );
    } finally {
      waiting.abort();
      releaseSignals();
    }
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

export function exitCodeOf(summary: ControlRunSummary): number {
  if (summary.status === 'pass') return 0;
  return summary.status === 'fail' ? 1 : 3;
}
