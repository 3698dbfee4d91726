import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { writeConfig } from './temporal.ts';
import { testRegistries } from './test-connectors.ts';

const script = fileURLToPath(new URL('./time-skipping-server.sh', import.meta.url));

/**
 * The wrapper that starts Temporal's Java time-skipping test server: $TEMPORAL_TEST_SERVER_PATH (set by .ci/run),
 * else whatever time-skipping-server.sh prepares in the cache (Maven fetches the jars once).
 */
let prepared: string | undefined;
export function timeSkippingServerPath(): string {
  prepared ??= prepare();
  return prepared;
}

function prepare(): string {
  const explicit = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_TEST_SERVER_PATH=${explicit} does not exist; run test/support/time-skipping-server.sh`);
    return explicit;
  }
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim();
}

export interface TimeSkippingHarness {
  env: TestWorkflowEnvironment;
  runtime: Runtime;
  worker: Worker;
  dir: string;
  file: string;
  taskQueue: string;
  close(): Promise<void>;
}

/**
 * A time-skipping server of its own, a runtime on a fresh data dir and a worker over both. The config is made from
 * the server's clock, which starts at the real time and then runs ahead of it.
 */
export async function timeSkippingHarness(configAt: (serverNow: number) => Record<string, unknown>): Promise<TimeSkippingHarness & { startedAt: number }> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: timeSkippingServerPath() } } });
  const startedAt = await env.currentTimeMs();
  const { dir, file, taskQueue } = writeConfig(configAt(startedAt));
  const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
  const worker = await createWorker(runtime, env.nativeConnection, {
    namespace: env.namespace ?? 'default',
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  return {
    env,
    startedAt,
    runtime,
    worker,
    dir,
    file,
    taskQueue,
    async close() {
      await env.teardown();
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
