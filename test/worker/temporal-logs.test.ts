import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../worker/dev-server.ts';
import { createLogger } from '../../worker/logger.ts';
import { cliPath } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-temporal-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once `test` holds for the text seen so far, or rejects after `ms`. */
async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('isms worker during a Temporal outage', () => {
  it("writes the Temporal core's connection retries to stderr as JSON lines of the one pino stream, nothing to stdout", async () => {
    writeFileSync(path.join(dir, 'isms.yaml'), 'dataDir: data\n');
    const server = await startDevServer({ log: createLogger({ level: 'silent' }) });
    let serverUp = true;
    const worker = spawn(process.execPath, [cliPath, '--config', 'isms.yaml', 'worker'], {
      cwd: dir,
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, LOG_LEVEL: 'info', FORCE_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    worker.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    let exitCode: number | null | 'hung';
    try {
      // The worker polls once it is up; then the server goes away under it.
      await until(() => /"msg":"worker running"/.test(stderr) || worker.exitCode !== null, 60_000, 'the worker to run');
      expect(worker.exitCode).toBeNull();
      await server.stop();
      serverUp = false;
      const coreRetry = /^\{.*"sdkComponent":"core".*retried.*\}$/m;
      await until(() => coreRetry.test(stderr) || stdout.length > 0, 30_000, 'the core to report the outage');
    } finally {
      worker.kill('SIGTERM');
      exitCode = await Promise.race([exited, sleep(15_000).then(() => 'hung' as const)]);
      if (exitCode === 'hung') worker.kill('SIGKILL');
      if (serverUp) await server.stop();
    }

    // SIGTERM stops it cleanly: the runtime that forwards the core's logs does not hold the process.
    expect(exitCode).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('\u001b[');
    const lines = stderr.split('\n').filter((line) => line !== '');
    const entries = lines.map((line) => JSON.parse(line) as { level: string; sdkComponent?: string; msg: string });
    const core = entries.filter((entry) => entry.sdkComponent === 'core');
    expect(core.length).toBeGreaterThan(0);
    expect(core.some((entry) => entry.level === 'warn' && /retried/.test(entry.msg))).toBe(true);
  }, 120_000);
});
