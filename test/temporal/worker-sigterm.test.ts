import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { writeConfig } from '../support/temporal.ts';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.ts';

const cli = fileURLToPath(new URL('../../worker/cli.ts', import.meta.url));
const testConnectors = fileURLToPath(new URL('../support/cli-test-connectors.ts', import.meta.url));
const children: ChildProcess[] = [];

/** `isms worker` as a deployment runs it (the image's entrypoint), with the test connectors added to its registry. */
async function startIsmsWorker(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, '--import', testConnectors, cli, 'worker'], {
    env: { ...process.env, ISMS_CONFIG: configFile, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stderr!.setEncoding('utf8');
  // The CLI logs this line just before it starts polling; its signal handlers are in place from then on.
  const running = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: string) => {
      log += chunk;
      if (log.includes('"msg":"worker running"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`isms worker exited before it was running (code ${code}): ${log.slice(-2_000)}`)));
  });
  await running;
  return child;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function pagesFetched(fetchLog: string): number[] {
  return existsSync(fetchLog) ? readFileSync(fetchLog, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

const GRACE_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 60_000;
const PAGES = 30;
const PAGE_DELAY_MS = 300;

describe('a worker stopped with SIGTERM while a collection runs longer than temporal.shutdownGraceTime', () => {
  it('exits 0 within the grace time and hands the collection back: a second worker resumes it at once, not after the heartbeat timeout', async () => {
    const fetchLog = path.join(mkdtempSync(path.join(tmpdir(), 'isms-fetched-')), 'fetched.log');
    const taskQueue = `isms-test-${randomUUID()}`;
    const { file } = writeConfig({
      temporal: { taskQueue, shutdownGraceTime: `${GRACE_MS}ms` },
      controls: [
        {
          id: 'sigterm-handback',
          title: 'SIGTERM hand-back',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { every: '1 day' },
          sources: [{ name: 'slow-scan', connector: 'paged-findings', config: { pages: PAGES, perPage: 2, delayMs: PAGE_DELAY_MS, scannedAt: '2026-11-20T00:00:00Z', fetchLog } }],
          checks: [{ check: 'vulnerability-sla' }],
          collection: { heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS}ms`, timeout: '10 minutes', maximumAttempts: 5, initialRetryInterval: '200ms' },
        },
      ],
    });
    const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection, namespace: 'default' });
    try {
      const first = await startIsmsWorker(file);
      const handle = await client.workflow.start('controlRun', {
        taskQueue,
        workflowId: `control:sigterm-handback:${Date.now()}`,
        args: [{ controlId: 'sigterm-handback', trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
      });
      for (let tries = 0; tries < 200 && pagesFetched(fetchLog).length < 2; tries++) await sleep(50);
      expect(pagesFetched(fetchLog).length, 'the first worker is collecting').toBeGreaterThanOrEqual(2);

      const exited = once(first, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const stoppedAt = performance.now();
      first.kill('SIGTERM');
      const [code, signal] = await exited;
      const stopMs = performance.now() - stoppedAt;
      const pagesBeforeStop = pagesFetched(fetchLog).length;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stopMs, 'the worker gives its in-flight collection the grace time').toBeGreaterThanOrEqual(GRACE_MS - 100);
      expect(stopMs, 'the worker exits once the grace time is over').toBeLessThan(GRACE_MS + 3_000);
      expect(pagesBeforeStop, 'the collection outlived the grace time').toBeLessThan(PAGES);

      const second = await startIsmsWorker(file);
      const summary = (await handle.result()) as { evidence: { id: string; recordCount: number }[]; gaps: unknown[] };
      const handBackMs = performance.now() - stoppedAt;
      second.kill('SIGTERM');
      await once(second, 'exit');

      expect(summary.gaps).toEqual([]);
      // The rest of the pull takes (PAGES - pagesBeforeStop) x PAGE_DELAY_MS; waiting for the heartbeat timeout would add 60 s.
      const remainingMs = (PAGES - pagesBeforeStop + 1) * PAGE_DELAY_MS;
      expect(handBackMs, `SIGTERM to result: ${Math.round(handBackMs)} ms`).toBeLessThan(stopMs + remainingMs + 10_000);
      const rows = await runtime.store.list({ controlId: 'sigterm-handback' });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.recordCount).toBe(1 + PAGES * 2);
      expect(rows[0]!.provenance).toMatchObject({ resumed: true, attempt: 2 });
      const fetched = pagesFetched(fetchLog);
      expect(new Set(fetched)).toEqual(new Set(Array.from({ length: PAGES }, (_, index) => index + 1)));
      expect(fetched.length - PAGES, 'pages fetched again after the hand-back').toBeLessThanOrEqual(1);
      process.stdout.write(`SIGTERM: worker exited ${Math.round(stopMs)} ms after the signal (grace ${GRACE_MS} ms); run finished on the second worker ${Math.round(handBackMs)} ms after it\n`);
    } finally {
      await connection.close();
      runtime.close();
    }
  });
});
