import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.ts';

/**
 * The Temporal CLI to run the dev server with: TEMPORAL_CLI_PATH, then `temporal` on PATH, then where
 * `go install` puts it. Undefined means none is installed here.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) throw new ConfigError(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return env.TEMPORAL_CLI_PATH;
  }
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  dirs.push(path.join(env.GOBIN ?? path.join(env.GOPATH ?? path.join(homedir(), 'go'), 'bin')));
  for (const dir of dirs) {
    const candidate = path.join(dir, 'temporal');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return existsSync(file);
  } catch {
    return false;
  }
}

export interface DevServer {
  env: TestWorkflowEnvironment;
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

/**
 * Starts a local Temporal dev server through the SDK, from the CLI found here or, on a machine with internet,
 * the SDK's own download. `dbFile` makes schedules and history survive a restart.
 */
export async function startDevServer(options: {
  dbFile?: string;
  port?: number;
  ui?: boolean;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** More `temporal server start-dev` arguments, e.g. `--dynamic-config-value` for a test. */
  extraArgs?: string[];
}): Promise<DevServer> {
  const cli = findTemporalCli(options.env);
  if (cli) options.log.info({ cli }, 'starting Temporal dev server');
  else options.log.warn('no Temporal CLI on PATH or in TEMPORAL_CLI_PATH; the SDK will download one (needs internet)');
  const namespace = 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
      dbFilename: options.dbFile,
      ip: '127.0.0.1',
      port: options.port,
      ui: options.ui ?? false,
      namespace,
      log: { format: 'json', level: 'warn' },
      ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
    },
  });
  options.log.info({ address: env.address }, 'Temporal dev server is up');
  return { env, address: env.address, namespace, stop: () => env.teardown() };
}
