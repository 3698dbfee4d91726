import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities/index.ts';
import { occurrenceWorkflows } from './calendar.ts';
import type { Runtime } from './runtime.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Every heartbeat of a collection carries a staging checkpoint already synced to disk, once a page: sent at once, a
 * retry after a kill resumes from the last page. The SDK's default holds heartbeats back for 0.8 x heartbeatTimeout,
 * at most 60 s, and that many pages would be fetched again. Connectors heartbeat at most once a page (or every
 * thousands of rows), so this is at most one small request per page; an evaluation, which has no page, paces its own
 * (activities/evaluate.ts).
 */
const HEARTBEAT_THROTTLE_MS = 0;

/**
 * A Worker over the runtime's dependencies. `workflowBundle` lets tests and benchmarks bundle the workflow
 * code once instead of once per worker.
 */
export async function createWorker(
  runtime: Runtime,
  connection: NativeConnection,
  options: { namespace: string; workflowBundle?: WorkerOptions['workflowBundle']; identity?: string; env?: NodeJS.ProcessEnv; taskQueue?: string },
): Promise<Worker> {
  const activities = createActivities({ ...runtime, env: options.env, occurrenceWorkflows: (client) => occurrenceWorkflows(client, runtime.config) });
  return Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? runtime.config.config.temporal.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    ...(options.identity ? { identity: options.identity } : {}),
    // Each activity holds at most one page and one staging file in memory; a handful at once keeps a 2-core box responsive.
    maxConcurrentActivityTaskExecutions: 8,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE_MS,
    // A stopping worker (SIGTERM, an `isms run` ending) lets in-flight activities finish instead of cancelling them into retries.
    shutdownGraceTime: runtime.config.config.temporal.shutdownGraceTime,
  });
}

/**
 * The first SIGINT or SIGTERM stops the worker gently with `stop` (its shutdown: in-flight activities get
 * `temporal.shutdownGraceTime`, then are cancelled and handed back to the server at once). A second one comes from
 * someone who will not wait for that (Ctrl-C pressed again): the process ends at once, exit 128 + the signal's
 * number as a shell reports a process a signal ended; its in-flight activities are left unfinished, and the server
 * hands each to another worker once its heartbeat timeout passes. Returns what removes the handlers.
 */
export function stopOnSignals(log: Logger, stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) {
      stopping = true;
      log.info({ signal }, 'stopping: in-flight activities may finish within temporal.shutdownGraceTime; a second signal stops at once');
      stop(signal);
      return;
    }
    log.warn(
      { signal },
      'stopping at once: in-flight activities are handed back to the server, which gives each to another worker after its heartbeat timeout',
    );
    process.exit(128 + constants.signals[signal]);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  };
}
