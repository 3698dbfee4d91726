import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import type { Registries } from '../../config/load.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { testRegistries } from './test-connectors.ts';

export const namespace = 'default';

/** A config file in a fresh folder, with its own task queue so tests never share workers. */
export function writeConfig(config: Record<string, unknown>): { dir: string; file: string; taskQueue: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-test-'));
  const taskQueue = `isms-test-${randomUUID()}`;
  const file = path.join(dir, 'isms.yaml');
  writeFileSync(file, stringify({ dataDir: 'data', temporal: { taskQueue }, ...config }));
  return { dir, file, taskQueue };
}

export interface TemporalHarness {
  runtime: Runtime;
  client: Client;
  worker: Worker;
  dir: string;
  file: string;
  close(): Promise<void>;
}

export async function harness(
  config: Record<string, unknown>,
  registries: Registries = testRegistries,
  options: { address?: string } = {},
): Promise<TemporalHarness> {
  const { dir, file } = writeConfig(config);
  const runtime = await openRuntime(file, createLogger({ level: 'silent' }), registries);
  const address = options.address ?? inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createWorker(runtime, nativeConnection, { namespace, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    runtime,
    client,
    worker,
    dir,
    file,
    async close() {
      await connection.close();
      await nativeConnection.close();
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits (up to a minute) until a worker has started an attempt of the workflow's pending activity of that type. */
export async function untilActivityStarted(handle: WorkflowHandle, activityType: string): Promise<void> {
  const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  for (let tries = 0; tries < 1_200; tries++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (pending.some((activity) => activity.activityType?.name === activityType && activity.state === started)) return;
    await sleep(50);
  }
  const described = await handle.describe();
  throw new Error(
    `${activityType} did not start within a minute: the workflow is ${described.status.name}, pending ${JSON.stringify(described.raw.pendingActivities)}`,
  );
}
