import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { occurrenceWorkflows } from './calendar.ts';
import type { Runtime } from './runtime.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Every heartbeat of a collection carries a staging checkpoint already synced to disk, once a page: sent at once, a
 * retry after a kill resumes from the last page. The SDK's default holds heartbeats back for 0.8 x heartbeatTimeout,
 * at most 60 s, and that many pages would be fetched again. Connectors heartbeat at most once a page (or every
 * thousands of rows), so this is at most one small request per page.
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
