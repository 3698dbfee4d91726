import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
}

/**
 * Starts a real worker in its own process (worker-process.ts) and waits for its "ready" line. Both pipes are read for
 * its whole life, so a chatty worker never blocks on a full pipe, and kept: a test can look for what it logged, and a
 * worker that exits before it is ready fails the start with its output. The child is added to `started` at once, so
 * the caller stops it even when another worker fails to start.
 */
export async function startWorkerProcess(options: {
  configFile: string;
  address: string;
  bundlePath: string;
  env?: Record<string, string>;
  started?: ChildProcess[];
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [workerScript, options.configFile, options.address, options.bundlePath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  options.started?.push(child);
  let output = '';
  let stdout = '';
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    let ready = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (ready) return;
      stdout += chunk;
      if (/^ready$/m.test(stdout)) {
        ready = true;
        resolve();
      }
    });
    void exited.then(([code]) => {
      if (!ready) reject(new Error(`a worker process exited with ${String(code)} before it was ready:\n${output.slice(-4000)}`));
    });
  });
  return { child, output: () => output };
}
