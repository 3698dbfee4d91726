import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
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
