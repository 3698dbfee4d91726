import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { untilActivityStarted, writeConfig } from '../support/temporal.ts';
import { lastAttemptOf } from '../support/histories.ts';
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

const HEARTBEAT_TIMEOUT_MS = 60_000;
const PAGE_DELAY_MS = 300;

/** A config whose one control pulls `pages` pages, one every PAGE_DELAY_MS, logging each page it fetches. */
function slowControl(controlId: string, pages: number, graceMs: number, heartbeatTimeoutMs = HEARTBEAT_TIMEOUT_MS) {
  const fetchLog = path.join(mkdtempSync(path.join(tmpdir(), 'isms-fetched-')), 'fetched.log');
  const taskQueue = `isms-test-${randomUUID()}`;
  const { file } = writeConfig({
    temporal: { taskQueue, shutdownGraceTime: `${graceMs}ms` },
    controls: [
      {
        id: controlId,
        title: controlId,
        reference: 'A.8.8',
        owner: 'security@example.com',
        schedule: { every: '1 day' },
        sources: [
          {
            name: 'slow-scan',
            connector: 'paged-findings',
            config: { pages, perPage: 2, delayMs: PAGE_DELAY_MS, scannedAt: '2026-11-20T00:00:00Z', fetchLog },
          },
        ],
        checks: [{ check: 'vulnerability-sla' }],
        collection: { heartbeatTimeout: `${heartbeatTimeoutMs}ms`, timeout: '10 minutes', maximumAttempts: 5, initialRetryInterval: '200ms' },
      },
    ],
  });
  return { file, taskQueue, fetchLog };
}

interface Stopped {
  handle: WorkflowHandle;
  stopMs: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  pagesBeforeStop: number;
  stoppedAt: number;
}

/** Starts `isms worker` and a run of the control, SIGTERMs the worker once it has fetched two pages, and waits for it to exit. */
async function stopMidCollection(client: Client, control: ReturnType<typeof slowControl>, controlId: string): Promise<Stopped> {
  const first = await startIsmsWorker(control.file);
  const handle = await client.workflow.start('controlRun', {
    taskQueue: control.taskQueue,
    workflowId: `control:${controlId}:${Date.now()}`,
    args: [{ controlId, trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
  });
  for (let tries = 0; tries < 200 && pagesFetched(control.fetchLog).length < 2; tries++) await sleep(50);
  expect(pagesFetched(control.fetchLog).length, 'the first worker is collecting').toBeGreaterThanOrEqual(2);
  const exited = once(first, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const stoppedAt = performance.now();
  first.kill('SIGTERM');
  const [code, signal] = await exited;
  return { handle, stopMs: performance.now() - stoppedAt, exit: { code, signal }, pagesBeforeStop: pagesFetched(control.fetchLog).length, stoppedAt };
}

/** The store and a Temporal client for the length of `work`. */
async function withStoreAndClient(file: string, work: (runtime: Runtime, client: Client) => Promise<void>): Promise<void> {
  const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    await work(runtime, new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
    runtime.close();
  }
}

describe('`isms worker` stopped with SIGTERM mid-collection', () => {
  it('lets a collection that ends within temporal.shutdownGraceTime finish, commits it, and exits 0: one attempt, no retry', async () => {
    const pages = 6;
    const control = slowControl('sigterm-finish', pages, 20_000);
    await withStoreAndClient(control.file, async (runtime, client) => {
      const stopped = await stopMidCollection(client, control, 'sigterm-finish');
      expect(stopped.exit).toEqual({ code: 0, signal: null });
      expect(stopped.pagesBeforeStop, 'the pull ran to its end before the worker exited').toBe(pages);
      const rows = await runtime.store.list({ controlId: 'sigterm-finish' });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.provenance).toMatchObject({ attempt: 1, resumed: false });

      const second = await startIsmsWorker(control.file);
      const summary = (await stopped.handle.result()) as { evidence: { id: string }[]; gaps: unknown[] };
      second.kill('SIGTERM');
      await once(second, 'exit');
      expect(summary.gaps).toEqual([]);
      expect(summary.evidence.map((ref) => ref.id)).toEqual([rows[0]!.id]);
      expect(pagesFetched(control.fetchLog)).toEqual(Array.from({ length: pages }, (_, index) => index + 1));
    });
  });

  it(
    'hands a collection that outlives the grace time back when the grace ends and exits 0: a second worker resumes it at once, not after the heartbeat timeout',
    async () => {
      const pages = 30;
      const graceMs = 2_000;
      const control = slowControl('sigterm-handback', pages, graceMs);
      await withStoreAndClient(control.file, async (runtime, client) => {
        const { handle, stopMs, exit, pagesBeforeStop, stoppedAt } = await stopMidCollection(client, control, 'sigterm-handback');
        expect(exit).toEqual({ code: 0, signal: null });
        expect(stopMs, 'the worker gives its in-flight collection the grace time').toBeGreaterThanOrEqual(graceMs - 100);
        expect(stopMs, 'the worker exits once the grace time is over').toBeLessThan(graceMs + 3_000);
        expect(pagesBeforeStop, 'the collection outlived the grace time').toBeLessThan(pages);

        const second = await startIsmsWorker(control.file);
        const summary = (await handle.result()) as { evidence: { id: string; recordCount: number }[]; gaps: unknown[] };
        const handBackMs = performance.now() - stoppedAt;
        second.kill('SIGTERM');
        await once(second, 'exit');

        expect(summary.gaps).toEqual([]);
        // Waiting for the heartbeat timeout would put the retry 60 s after the last heartbeat, just before the SIGTERM;
        // handed back, the run takes the grace, a worker start and the rest of the pull (about 7 s of pages).
        expect(handBackMs, `SIGTERM to result: ${Math.round(handBackMs)} ms`).toBeLessThan(HEARTBEAT_TIMEOUT_MS / 2);
        const rows = await runtime.store.list({ controlId: 'sigterm-handback' });
        expect(rows).toHaveLength(1);
        expect(rows[0]!.recordCount).toBe(1 + pages * 2);
        expect(rows[0]!.provenance).toMatchObject({ resumed: true, attempt: 2 });
        const fetched = pagesFetched(control.fetchLog);
        expect(new Set(fetched)).toEqual(new Set(Array.from({ length: pages }, (_, index) => index + 1)));
        expect(fetched.length - pages, 'pages fetched again after the hand-back').toBeLessThanOrEqual(1);
        process.stdout.write(
          `SIGTERM: worker exited ${Math.round(stopMs)} ms after the signal (grace ${graceMs} ms); run finished on the second worker ${Math.round(handBackMs)} ms after it\n`,
        );
      });
    },
    2 * HEARTBEAT_TIMEOUT_MS,
  );
});

/** The evaluation's heartbeat timeout (workflows/policies.ts). */
const EVALUATION_HEARTBEAT_TIMEOUT_MS = 60_000;

/** Enough findings that their evaluation takes seconds (about 25 µs a finding on an idle core), well past a short grace. */
const BIG_PAGES = 150;
const BIG_PER_PAGE = 2_000;

/** A config whose one control collects BIG_PAGES x BIG_PER_PAGE findings at once and then evaluates them for seconds. */
function bigEvaluationControl(controlId: string, graceMs: number) {
  const taskQueue = `isms-test-${randomUUID()}`;
  const { file } = writeConfig({
    temporal: { taskQueue, shutdownGraceTime: `${graceMs}ms` },
    controls: [
      {
        id: controlId,
        title: controlId,
        reference: 'A.8.8',
        owner: 'security@example.com',
        schedule: { every: '1 day' },
        sources: [{ name: 'big-scan', connector: 'paged-findings', config: { pages: BIG_PAGES, perPage: BIG_PER_PAGE, scannedAt: '2026-11-20T00:00:00Z' } }],
        checks: [{ check: 'vulnerability-sla' }],
      },
    ],
  });
  return { file, taskQueue };
}

describe('`isms worker` stopped with SIGTERM mid-evaluation', () => {
  it(
    'cancels an evaluation that outlives the grace time, exits promptly and hands it back: a second worker evaluates it, one check run',
    async () => {
      const graceMs = 500;
      const control = bigEvaluationControl('sigterm-evaluation', graceMs);
      await withStoreAndClient(control.file, async (runtime, client) => {
        const first = await startIsmsWorker(control.file);
        let firstLog = '';
        first.stderr!.on('data', (chunk: string) => (firstLog += chunk));
        const handle = await client.workflow.start('controlRun', {
          taskQueue: control.taskQueue,
          workflowId: `control:sigterm-evaluation:${Date.now()}`,
          args: [{ controlId: 'sigterm-evaluation', trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
        });
        await untilActivityStarted(handle, 'evaluateControl');
        const exited = once(first, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
        const stoppedAt = performance.now();
        first.kill('SIGTERM');
        const [code, signal] = await exited;
        const stopMs = performance.now() - stoppedAt;

        expect({ code, signal }).toEqual({ code: 0, signal: null });
        expect(stopMs, 'the worker exits once the grace time is over, not when the evaluation would have ended').toBeLessThan(graceMs + 3_000);
        expect(firstLog).toContain('evaluation cancelled; nothing of its check run was written');
        expect(await runtime.register.checkRunOf(handle.workflowId), 'the stopped worker wrote no check run').toBeUndefined();

        const second = await startIsmsWorker(control.file);
        const summary = (await handle.result()) as { status: string; checks: unknown[]; gaps: unknown[] };
        const handBackMs = performance.now() - stoppedAt;
        second.kill('SIGTERM');
        await once(second, 'exit');

        expect(summary.gaps).toEqual([]);
        expect(summary.checks).toEqual([{ checkId: 'vulnerability-sla', status: 'pass', deviations: 0 }]);
        const started = lastAttemptOf(await handle.fetchHistory(), 'evaluateControl');
        expect(started.attempt, 'the second worker ran the evaluation again').toBe(2);
        expect(started.identity).toContain(`${second.pid}@`);
        expect(started.lastFailure?.message, 'the first attempt was cancelled by the stopping worker').toMatch(/^Worker is shutting down/);
        expect(handBackMs, 'handed back at once, not after the heartbeat timeout').toBeLessThan(EVALUATION_HEARTBEAT_TIMEOUT_MS);
        expect((await runtime.register.checkRunOf(handle.workflowId))?.results).toEqual(summary.checks);
        process.stdout.write(
          `SIGTERM mid-evaluation: worker exited ${Math.round(stopMs)} ms after the signal (grace ${graceMs} ms); run finished on the second worker ${Math.round(handBackMs)} ms after it\n`,
        );
      });
    },
    3 * EVALUATION_HEARTBEAT_TIMEOUT_MS,
  );
});

describe('`isms worker` given a second signal while it drains', () => {
  it(
    'ends at once (exit 130 for SIGINT), saying its in-flight activities are handed back; the server gives the collection to another worker after its heartbeat timeout',
    async () => {
      const control = slowControl('second-signal', 30, 30_000, 3_000);
      await withStoreAndClient(control.file, async (runtime, client) => {
        const first = await startIsmsWorker(control.file);
        let firstLog = '';
        first.stderr!.on('data', (chunk: string) => (firstLog += chunk));
        const handle = await client.workflow.start('controlRun', {
          taskQueue: control.taskQueue,
          workflowId: `control:second-signal:${Date.now()}`,
          args: [{ controlId: 'second-signal', trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
        });
        for (let tries = 0; tries < 200 && pagesFetched(control.fetchLog).length < 2; tries++) await sleep(50);
        const exited = once(first, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
        first.kill('SIGINT');
        await sleep(500);
        expect(first.exitCode, 'the first signal leaves the collection its grace time').toBeNull();
        const secondSignalAt = performance.now();
        first.kill('SIGINT');
        const [code, signal] = await exited;
        const exitMs = performance.now() - secondSignalAt;

        expect({ code, signal }).toEqual({ code: 130, signal: null });
        expect(exitMs, 'the second signal ends the worker at once, not after the 30 s grace').toBeLessThan(2_000);
        expect(firstLog).toContain('stopping at once: in-flight activities are handed back to the server');
        const pagesAtExit = pagesFetched(control.fetchLog).length;
        expect(pagesAtExit, 'the collection was left unfinished').toBeLessThan(30);

        const second = await startIsmsWorker(control.file);
        const summary = (await handle.result()) as { gaps: unknown[] };
        second.kill('SIGTERM');
        await once(second, 'exit');
        expect(summary.gaps).toEqual([]);
        const rows = await runtime.store.list({ controlId: 'second-signal' });
        expect(rows).toHaveLength(1);
        expect(rows[0]!.recordCount).toBe(1 + 30 * 2);
        expect(rows[0]!.provenance, 'the second worker resumed from the last heartbeated page').toMatchObject({ resumed: true, attempt: 2 });
      });
    },
    2 * HEARTBEAT_TIMEOUT_MS,
  );
});
