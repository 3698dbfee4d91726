import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { Runtime } from './runtime.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * A Worker over the runtime's dependencies. `workflowBundle` lets tests and benchmarks bundle the workflow
 * code once instead of once per worker.
 */
export async function createWorker(
  runtime: Runtime,
  connection: NativeConnection,
  options: { namespace: string; workflowBundle?: WorkerOptions['workflowBundle']; identity?: string; env?: NodeJS.ProcessEnv },
): Promise<Worker> {
  const activities = createActivities({ ...runtime, env: options.env });
  return Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: runtime.config.config.temporal.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    ...(options.identity ? { identity: options.identity } : {}),
    // Each activity holds at most one page and one staging file in memory; a handful at once keeps a 2-core box responsive.
    maxConcurrentActivityTaskExecutions: 8,
  });
}
