import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { untilActivityStarted, writeConfig } from '../support/temporal.ts';
import { lastAttemptOf } from '../support/histories.ts';
import { controlRun } from '../../workflows/control-run.ts';
import { startWorkerProcess as launchWorkerProcess } from '../support/worker-launcher.ts';

const children: ChildProcess[] = [];

async function startWorkerProcess(configFile: string): Promise<ChildProcess> {
  return (await launchWorkerProcess({ configFile, address: inject('temporalAddress'), bundlePath: inject('workflowBundlePath'), started: children })).child;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('a worker killed with SIGKILL mid-collection', () => {
  it('is replaced by another that resumes from the last checkpoint: one evidence row, no lost or doubled records', async () => {
    const { file, taskQueue } = writeConfig({
      controls: [
        {
          id: 'crash-test',
          title: 'Crash test',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { every: '1 day' },
          sources: [{ name: 'slow-scan', connector: 'paged-findings', config: { pages: 8, perPage: 3, delayMs: 400, scannedAt: '2026-11-20T00:00:00Z' } }],
          checks: [{ check: 'vulnerability-sla' }],
          collection: { heartbeatTimeout: '2s', maximumAttempts: 5, initialRetryInterval: '200ms' },
        },
      ],
    });
    const runtime = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection, namespace: 'default' });
    try {
      const first = await startWorkerProcess(file);
      const handle = await client.workflow.start(controlRun, {
        taskQueue,
        workflowId: `control:crash-test:${Date.now()}`,
        args: [{ controlId: 'crash-test', trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
      });

      let cursor: string | undefined;
      for (let tries = 0; tries < 100 && cursor === undefined; tries++) {
        await sleep(100);
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const details = pending[0]?.heartbeatDetails?.payloads?.[0]?.data;
        if (details) {
          const progress = JSON.parse(Buffer.from(details).toString()) as { cursor?: string };
          if (progress.cursor !== undefined && Number(progress.cursor) >= 2) cursor = progress.cursor;
        }
      }
      expect(cursor, 'the first worker reported progress before it was killed').toBeDefined();
      first.kill('SIGKILL');
      await once(first, 'exit');

      const second = await startWorkerProcess(file);
      const summary = await handle.result();
      second.kill('SIGTERM');

      expect(summary.gaps).toEqual([]);
      const rows = await runtime.store.list({ controlId: 'crash-test' });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.recordCount).toBe(1 + 8 * 3);
      expect(rows[0]!.provenance).toMatchObject({ resumed: true, attempt: 2 });
      const ids: string[] = [];
      for await (const record of runtime.store.records(rows[0]!.id))
        ids.push(record.kind === 'finding' ? record.id : `${record.kind}:${JSON.stringify(record)}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(25);
    } finally {
      await connection.close();
      runtime.close();
    }
  });
});

/** The pages the paged source fetched, in order, across attempts. */
function pagesFetched(fetchLog: string): number[] {
  return existsSync(fetchLog) ? readFileSync(fetchLog, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

async function untilFetched(fetchLog: string, pages: number): Promise<void> {
  for (let tries = 0; tries < 200 && pagesFetched(fetchLog).length < pages; tries++) await sleep(50);
  expect(pagesFetched(fetchLog).length, `the source fetched ${pages} pages`).toBeGreaterThanOrEqual(pages);
}

/** A control with one slow paged source that logs each page it fetches. */
function slowControl(id: string, source: Record<string, unknown>, collection: Record<string, unknown>) {
  const fetchLog = path.join(mkdtempSync(path.join(tmpdir(), 'isms-fetched-')), 'fetched.log');
  const written = writeConfig({
    controls: [
      {
        id,
        title: id,
        reference: 'A.8.8',
        owner: 'security@example.com',
        schedule: { every: '1 day' },
        sources: [{ name: 'slow-scan', connector: 'paged-findings', config: { perPage: 2, scannedAt: '2026-11-20T00:00:00Z', fetchLog, ...source } }],
        checks: [{ check: 'vulnerability-sla' }],
        collection: { maximumAttempts: 5, initialRetryInterval: '200ms', ...collection },
      },
    ],
  });
  return { ...written, fetchLog };
}

async function startRun(client: Client, taskQueue: string, controlId: string): Promise<WorkflowHandle<typeof controlRun>> {
  return client.workflow.start(controlRun, {
    taskQueue,
    workflowId: `control:${controlId}:${Date.now()}`,
    args: [{ controlId, trigger: 'manual', occurrence: '2026-11-25T00:00:00.000Z' }],
  });
}

/** The store of the config's data folder and a Temporal client, for the length of `work`. */
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

describe('heartbeats', () => {
  it('reach Temporal with every page: a retry after SIGKILL fetches at most the page in flight again, not the SDK default of 0.8 x heartbeatTimeout of pages', async () => {
    // With the SDK's default throttle the server would hold page 1's cursor for 0.8 x 6 s = 4.8 s: past the kill at page 8.
    const { file, taskQueue, fetchLog } = slowControl('heartbeat-throttle', { pages: 14, delayMs: 400 }, { heartbeatTimeout: '6s' });
    await withStoreAndClient(file, async (runtime, client) => {
      const first = await startWorkerProcess(file);
      const handle = await startRun(client, taskQueue, 'heartbeat-throttle');
      await untilFetched(fetchLog, 8);
      first.kill('SIGKILL');
      await once(first, 'exit');
      const beforeKill = pagesFetched(fetchLog).length;

      const second = await startWorkerProcess(file);
      const summary = await handle.result();
      second.kill('SIGTERM');

      expect(summary.gaps).toEqual([]);
      const fetched = pagesFetched(fetchLog);
      const resumedAt = fetched[beforeKill]!;
      expect(fetched.slice(beforeKill)).toEqual(Array.from({ length: 14 - resumedAt + 1 }, (_, index) => resumedAt + index));
      expect(beforeKill - (resumedAt - 1), 'pages fetched again after the kill').toBeLessThanOrEqual(1);
      const rows = await runtime.store.list({ controlId: 'heartbeat-throttle' });
      expect(rows[0]!.recordCount).toBe(1 + 14 * 2);
      expect(rows[0]!.provenance).toMatchObject({ resumed: true, attempt: 2 });
    });
  });
});

describe('a worker stopped with SIGTERM mid-collection', () => {
  it('lets the in-flight collection finish within the grace period: one attempt, no retry', async () => {
    const { file, taskQueue, fetchLog } = slowControl('graceful-stop', { pages: 8, delayMs: 300 }, { heartbeatTimeout: '10s' });
    await withStoreAndClient(file, async (runtime, client) => {
      const first = await startWorkerProcess(file);
      const handle = await startRun(client, taskQueue, 'graceful-stop');
      await untilFetched(fetchLog, 2);
      first.kill('SIGTERM');
      await once(first, 'exit');
      // The stopped worker finished the pull and committed it before it exited.
      const rows = await runtime.store.list({ controlId: 'graceful-stop' });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.provenance).toMatchObject({ attempt: 1, resumed: false });

      const second = await startWorkerProcess(file);
      const summary = await handle.result();
      second.kill('SIGTERM');
      expect(summary.gaps).toEqual([]);
      expect(summary.evidence.map((ref) => ref.id)).toEqual([rows[0]!.id]);
      expect(pagesFetched(fetchLog)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });
});

/** The evaluation's heartbeat timeout and its start-to-close timeout before it had one (workflows/policies.ts). */
const EVALUATION_HEARTBEAT_TIMEOUT_MS = 60_000;
const FORMER_EVALUATION_TIMEOUT_MS = 5 * 60_000;

describe('a worker killed with SIGKILL mid-evaluation', () => {
  it(
    'has the evaluation retried on another worker after about its heartbeat timeout, not its start-to-close timeout: one check run',
    async () => {
      // 300,000 findings collected at once, then evaluated for seconds (about 25 µs a finding on an idle core).
      const { file, taskQueue } = slowControl('kill-evaluation', { pages: 150, perPage: 2_000 }, {});
      await withStoreAndClient(file, async (runtime, client) => {
        const first = await startWorkerProcess(file);
        const handle = await startRun(client, taskQueue, 'kill-evaluation');
        await untilActivityStarted(handle, 'evaluateControl');
        const killedAt = performance.now();
        first.kill('SIGKILL');
        await once(first, 'exit');
        expect(await runtime.register.checkRunOf(handle.workflowId), 'killed before it wrote its check run').toBeUndefined();

        const second = await startWorkerProcess(file);
        const summary = await handle.result();
        const retriedMs = performance.now() - killedAt;
        second.kill('SIGTERM');
        await once(second, 'exit');

        expect(summary.gaps).toEqual([]);
        expect(summary.checks).toEqual([{ checkId: 'vulnerability-sla', status: 'pass', deviations: 0 }]);
        const started = lastAttemptOf(await handle.fetchHistory(), 'evaluateControl');
        expect(started.attempt).toBe(2);
        expect(started.identity).toBe(`worker-process-${second.pid}`);
        expect(started.lastFailure?.timeoutFailureInfo?.timeoutType, 'the lost attempt timed out on its heartbeat').toBe(
          temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
        );
        // The server gives up on the killed attempt a heartbeat timeout after its last heartbeat (at most 5 s before the
        // kill); the retry then evaluates everything again.
        expect(retriedMs, `SIGKILL to result: ${Math.round(retriedMs)} ms`).toBeGreaterThan(EVALUATION_HEARTBEAT_TIMEOUT_MS - 6_000);
        expect(retriedMs).toBeLessThan(EVALUATION_HEARTBEAT_TIMEOUT_MS + 60_000);
        expect((await runtime.register.checkRunOf(handle.workflowId))?.results).toEqual(summary.checks);
        process.stdout.write(`SIGKILL mid-evaluation: run finished on the second worker ${Math.round(retriedMs)} ms after the kill\n`);
      });
    },
    FORMER_EVALUATION_TIMEOUT_MS,
  );
});
