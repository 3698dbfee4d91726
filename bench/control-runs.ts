import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { stringify } from 'yaml';
import { createActivities } from '../activities/index.ts';
import { testRegistries } from '../test/support/test-connectors.ts';
import { startDevServer } from '../worker/dev-server.ts';
import { createLogger, configureTemporalRuntime } from '../worker/logger.ts';
import { runControl } from '../worker/run-control.ts';
import { openRuntime, type Runtime } from '../worker/runtime.ts';
import { createWorker, workflowsPath } from '../worker/worker.ts';
import type { CollectionPlan, ControlRunSummary, EvaluationSummary, EvidenceRef, ReconcileSummary } from '../core/contracts.ts';
import { emit, measure, peakRssMb, ratioOf, round, runBenchmark, runPhase, say, scaled, scratchDir, type BenchArgs, type BenchResult } from './common.ts';

/**
 * 200 control runs on a local Temporal dev server through a real Worker: the controlRun workflow with one paged test
 * source (collect into the evidence store, evaluate two vulnerability checks, reconcile the register, notify). Half
 * run one after another (latency per run), half ten at a time (runs per second). Every run's history is fetched to
 * count its events and bytes: records never enter history, so both stay small. The floor is the same activities
 * called in the same order without Temporal (MockActivityEnvironment), so ours minus floor is Temporal's overhead.
 */

const RUNS = 200;
const CONCURRENCY = 10;
const CONTROL = 'vuln-mgmt';

function writeConfig(dir: string): string {
  const file = path.join(dir, 'isms.yaml');
  const config = {
    dataDir: 'data',
    temporal: { taskQueue: `isms-bench-${process.pid}` },
    controls: [
      {
        id: CONTROL,
        title: 'Technical vulnerabilities are remediated on time',
        reference: 'A.8.8',
        owner: 'security@example.com',
        schedule: { cron: '0 6 * * *' },
        sources: [{ name: 'app-scan', connector: 'paged-findings', config: { asset: 'app', pages: 3, perPage: 20, scannedAt: '2025-12-01T00:00:00Z' } }],
        checks: [
          { check: 'vulnerability-sla', params: { days: { high: 30 } } },
          { check: 'scan-staleness', params: { maxAgeDays: 7 } },
        ],
      },
    ],
  };
  writeFileSync(file, stringify(config));
  return file;
}

/** The event types a controlRun's history holds, for --trace. */
const EVENT_NAMES: Record<number, string> = {
  1: 'WorkflowExecutionStarted',
  2: 'WorkflowExecutionCompleted',
  5: 'WorkflowTaskScheduled',
  6: 'WorkflowTaskStarted',
  7: 'WorkflowTaskCompleted',
  10: 'ActivityTaskScheduled',
  11: 'ActivityTaskStarted',
  12: 'ActivityTaskCompleted',
  13: 'ActivityTaskFailed',
};

/** A distinct occurrence per run (one second apart), so each run is its own workflow id. */
const occurrenceOf = (index: number) => new Date(Date.UTC(2026, 0, 15, 6, 0, 0) + index * 1000);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface RunsOutcome {
  runs: number;
  sequential: { runs: number; medianS: number; p95S: number; wallS: number };
  concurrent: { runs: number; concurrency: number; wallS: number; runsPerS: number };
  history: { maxEvents: number; medianEvents: number; maxBytes: number; medianBytes: number };
  statuses: Record<string, number>;
  setup: { devServerS: number; bundleS: number };
  peakRssMb: number;
}

async function ours(args: BenchArgs): Promise<void> {
  const runs = scaled(RUNS, args.scale);
  const log = createLogger({ level: 'silent' });
  configureTemporalRuntime(createLogger({ level: 'warn' }));
  const scratch = scratchDir('control-runs');
  const server = await measure(() => startDevServer({ log }));
  let runtime: Runtime | undefined;
  try {
    const bundle = await measure(() => bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } }));
    runtime = await openRuntime(writeConfig(scratch.dir), log, testRegistries);
    const native = await NativeConnection.connect({ address: server.value.address });
    const worker = await createWorker(runtime, native, { namespace: server.value.namespace, workflowBundle: { code: bundle.value.code } });
    const connection = await Connection.connect({ address: server.value.address });
    const client = new Client({ connection, namespace: server.value.namespace });
    const loaded = runtime.config;
    const sequentialRuns = Math.ceil(runs / 2);
    const latencies: number[] = [];
    const summaries: ControlRunSummary[] = [];
    const { sequentialS, concurrentS } = await worker.runUntil(async () => {
      const sequentialStart = performance.now();
      for (let index = 0; index < sequentialRuns; index++) {
        const started = performance.now();
        summaries.push(await runControl(client, loaded, CONTROL, occurrenceOf(index)));
        latencies.push((performance.now() - started) / 1000);
      }
      const sequentialS = (performance.now() - sequentialStart) / 1000;
      const concurrentStart = performance.now();
      let next = sequentialRuns;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < runs) summaries.push(await runControl(client, loaded, CONTROL, occurrenceOf(next++)));
        }),
      );
      return { sequentialS, concurrentS: (performance.now() - concurrentStart) / 1000 };
    });
    const events: number[] = [];
    const bytes: number[] = [];
    for (const summary of summaries) {
      const history = await client.workflow.getHandle(summary.runId).fetchHistory();
      events.push(history.events?.length ?? 0);
      bytes.push(Buffer.byteLength(JSON.stringify(history)));
    }
    if (args.options.trace === 'true' && summaries[Math.min(5, sequentialRuns - 1)]) {
      // Where a run's time goes, event by event: --trace true.
      const history = await client.workflow.getHandle(summaries[Math.min(5, sequentialRuns - 1)]!.runId).fetchHistory();
      let previous: number | undefined;
      for (const event of history.events ?? []) {
        const at = Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
        say(
          `    +${previous === undefined ? 0 : (at - previous).toFixed(1)} ms  ${EVENT_NAMES[Number(event.eventType)] ?? `event type ${String(event.eventType)}`}`,
        );
        previous = at;
      }
    }
    const statuses: Record<string, number> = {};
    for (const summary of summaries) statuses[summary.status] = (statuses[summary.status] ?? 0) + 1;
    await connection.close();
    await native.close();
    const concurrentRuns = runs - sequentialRuns;
    emit({
      runs: summaries.length,
      sequential: { runs: sequentialRuns, medianS: round(percentile(latencies, 50)), p95S: round(percentile(latencies, 95)), wallS: round(sequentialS) },
      concurrent: { runs: concurrentRuns, concurrency: CONCURRENCY, wallS: round(concurrentS), runsPerS: round(concurrentRuns / concurrentS, 1) },
      history: { maxEvents: Math.max(...events), medianEvents: percentile(events, 50), maxBytes: Math.max(...bytes), medianBytes: percentile(bytes, 50) },
      statuses,
      setup: { devServerS: server.wallS, bundleS: bundle.wallS },
      peakRssMb: peakRssMb(),
    } satisfies RunsOutcome);
  } finally {
    runtime?.close();
    await server.value.stop();
    scratch.remove();
  }
}

interface FloorOutcome {
  runs: number;
  medianS: number;
  p95S: number;
  peakRssMb: number;
}

/** The activities of one controlRun, in the workflow's order, without Temporal. */
async function floor(args: BenchArgs): Promise<void> {
  const runs = Math.ceil(scaled(RUNS, args.scale) / 2);
  const log = createLogger({ level: 'silent' });
  const scratch = scratchDir('control-runs-floor');
  const runtime = await openRuntime(writeConfig(scratch.dir), log, testRegistries);
  try {
    const activities = createActivities(runtime);
    const latencies: number[] = [];
    for (let index = 0; index < runs; index++) {
      const occurrence = occurrenceOf(index).toISOString();
      const runId = `control:${CONTROL}:${occurrence}`;
      const started = performance.now();
      const env = new MockActivityEnvironment();
      const plan = (await env.run(activities.planControlRun, CONTROL)) as CollectionPlan;
      const refs = (await Promise.all(
        plan.sources.map((sourceName) => env.run(activities.collectEvidence, { runId, controlId: CONTROL, sourceName, occurrence })),
      )) as EvidenceRef[];
      const verdict = (await env.run(activities.evaluateControl, { runId, controlId: CONTROL, occurrence, refs, gaps: [] })) as EvaluationSummary;
      const reconcile = (await env.run(activities.reconcileNonconformities, {
        runId,
        controlId: CONTROL,
        checkRunId: verdict.checkRunId,
        occurrence,
        gaps: [],
      })) as ReconcileSummary;
      await env.run(activities.notify, { runId, controlId: CONTROL, status: verdict.status, reconcile, gaps: [] });
      latencies.push((performance.now() - started) / 1000);
    }
    emit({ runs, medianS: round(percentile(latencies, 50)), p95S: round(percentile(latencies, 95)), peakRssMb: peakRssMb() } satisfies FloorOutcome);
  } finally {
    runtime.close();
    scratch.remove();
  }
}

async function main(args: BenchArgs): Promise<void> {
  const runs = scaled(RUNS, args.scale);
  say(`control-runs: ${runs} control runs on a local Temporal dev server`);
  const floorRun = (await runPhase<FloorOutcome>(import.meta.url, 'floor', args)).result;
  say(`  floor (same activities, no Temporal): median ${(floorRun.medianS * 1000).toFixed(1)} ms per run, p95 ${(floorRun.p95S * 1000).toFixed(1)} ms`);
  const oursRun = (await runPhase<RunsOutcome>(import.meta.url, 'ours', args)).result;
  const overheadMs = round((oursRun.sequential.medianS - floorRun.medianS) * 1000, 1);
  say(`  dev server up in ${oursRun.setup.devServerS.toFixed(1)} s, workflows bundled in ${oursRun.setup.bundleS.toFixed(1)} s`);
  say(
    `  ours: ${oursRun.sequential.runs} runs one at a time: median ${(oursRun.sequential.medianS * 1000).toFixed(0)} ms, p95 ${(oursRun.sequential.p95S * 1000).toFixed(0)} ms ` +
      `(Temporal's overhead ${overheadMs} ms per run); ${oursRun.concurrent.runs} runs ${oursRun.concurrent.concurrency} at a time: ${oursRun.concurrent.runsPerS} runs/s`,
  );
  say(
    `  history per run: ${oursRun.history.medianEvents} events (max ${oursRun.history.maxEvents}), ${(oursRun.history.medianBytes / 1024).toFixed(1)} KB (max ${(oursRun.history.maxBytes / 1024).toFixed(1)} KB); statuses ${JSON.stringify(oursRun.statuses)}`,
  );
  const result: BenchResult = {
    benchmark: 'control-runs',
    scale: args.scale,
    rows: [
      {
        benchmark: 'control-runs',
        workload: `${oursRun.sequential.runs} runs one at a time, median latency per run`,
        ours: round(oursRun.sequential.medianS * 1000, 1),
        floor: round(floorRun.medianS * 1000, 1),
        unit: 'ms',
        ratio: ratioOf(oursRun.sequential.medianS, floorRun.medianS),
        peakRssMb: oursRun.peakRssMb,
        targets: [],
        note: `Temporal's overhead: ${overheadMs} ms per run (ours minus the same activities called directly)`,
      },
      {
        benchmark: 'control-runs',
        workload: `${oursRun.concurrent.runs} runs ${oursRun.concurrent.concurrency} at a time, throughput`,
        ours: oursRun.concurrent.runsPerS,
        floor: round(1 / floorRun.medianS, 1),
        unit: 'runs/s',
        ratio: ratioOf(oursRun.concurrent.runsPerS, round(1 / floorRun.medianS, 1)),
        peakRssMb: oursRun.peakRssMb,
        targets: [],
        note: 'floor column: runs/s of the activities called one after another without Temporal',
      },
      {
        benchmark: 'control-runs',
        workload: `history events per run (max of ${oursRun.runs})`,
        ours: oursRun.history.maxEvents,
        floor: null,
        unit: 'events',
        ratio: null,
        peakRssMb: null,
        targets: [{ on: 'ours', op: '<', limit: 100 }],
      },
      {
        benchmark: 'control-runs',
        workload: `history bytes per run (max of ${oursRun.runs})`,
        ours: round(oursRun.history.maxBytes / 1024, 1),
        floor: null,
        unit: 'KB',
        ratio: null,
        peakRssMb: null,
        targets: [{ on: 'ours', op: '<', limit: 64 }],
      },
    ],
    figures: { floor: floorRun, ours: oursRun },
  };
  emit(result);
}

await runBenchmark(main, { ours, floor });
