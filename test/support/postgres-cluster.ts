import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster from the Debian binaries (or PG_BIN): trust auth on 127.0.0.1, a free port, no
 * fsync. The test run's global setup and the benchmarks both start theirs here.
 */

export const DEBIAN_BINARIES = '/usr/lib/postgresql';
const STARTUP_MS = 30_000;

/** The newest PostgreSQL of the Debian packages, or of PG_BIN. */
export function postgresBinaries(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  if (!existsSync(DEBIAN_BINARIES)) return undefined;
  const versions = readdirSync(DEBIAN_BINARIES).filter((version) => existsSync(path.join(DEBIAN_BINARIES, version, 'bin', 'initdb')));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest && path.join(DEBIAN_BINARIES, newest, 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** initdb refuses to run as root: as root, the cluster belongs to the postgres user. */
function asClusterOwner(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

export interface PostgresCluster {
  /** A superuser URL of the cluster's `postgres` database. */
  url: string;
  /**
   * Takes the server down and leaves its data directory for `resume()`: `fast` is PostgreSQL's fast shutdown (open
   * sessions are ended, open transactions rolled back); `immediate` is its immediate shutdown, as a crash: every
   * process quits at once, and the next start recovers from the WAL.
   */
  pause(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same data directory and port, and waits until it takes connections. */
  resume(): Promise<void>;
  /** Stops the cluster (fast shutdown) and removes its files. */
  stop(): Promise<void>;
}

/** The postmaster's signal for each shutdown mode (see "Shutting Down the Server" in PostgreSQL's manual). */
const SHUTDOWN_SIGNALS = { fast: 'SIGINT', immediate: 'SIGQUIT' } as const;

/**
 * Starts a cluster with the binaries in `bin` and waits until it takes connections. Commits are asynchronous unless
 * `durableCommits`: fast, but an immediate shutdown may then lose the last commits it acknowledged, which a production
 * server never does.
 */
export async function startPostgresCluster(bin: string, options: { durableCommits?: boolean } = {}): Promise<PostgresCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-postgres-'));
  if (process.getuid?.() === 0) {
    const owner = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(owner.stdout.trim()), Number(group.stdout.trim()));
  }
  const data = path.join(dir, 'data');
  const [initdb, initArgs] = asClusterOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'isms', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const init = spawnSync(initdb, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const [postgres, args] = asClusterOwner(path.join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    `synchronous_commit=${options.durableCommits ? 'on' : 'off'}`,
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]);
  const url = `postgres://isms@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let stderr = '';

  const halt = async (mode: keyof typeof SHUTDOWN_SIGNALS) => {
    const running = server;
    server = undefined;
    if (running === undefined) return;
    if (running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      // As root the child is runuser: the signal goes to the postmaster itself, whose pid heads postmaster.pid.
      const postmaster = postmasterPid(data);
      if (postmaster === undefined) running.kill(SHUTDOWN_SIGNALS[mode]);
      else process.kill(postmaster, SHUTDOWN_SIGNALS[mode]);
      const stuck = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(stuck);
    }
    // The cluster's own processes may hold the pipe a little longer; nothing more is read from it.
    running.stderr!.destroy();
    running.unref();
  };
  const stop = async () => {
    await halt('fast');
    rmSync(dir, { recursive: true, force: true });
  };
  const launch = async () => {
    if (server !== undefined) throw new Error(`PostgreSQL on port ${port} is already running`);
    const started: ChildProcess = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    server = started;
    stderr = '';
    started.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + STARTUP_MS;
    for (;;) {
      const client = new pg.Client(url);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (started.exitCode !== null || Date.now() > deadline) {
          await halt('fast');
          throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${stderr}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  try {
    await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { url, stop, pause: (mode = 'fast') => halt(mode), resume: launch };
}

/** The running postmaster's pid: the first line of postmaster.pid in its data directory. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
