import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import { stringify } from 'yaml';
import { startMoto, type MotoServer } from '../test/support/moto.ts';
import { postgresBinaries, startPostgresCluster } from '../test/support/postgres-cluster.ts';
import { startWorkerProcess } from '../test/support/worker-launcher.ts';
import { startDevServer } from '../worker/dev-server.ts';
import { createLogger } from '../worker/logger.ts';
import { workflowsPath } from '../worker/worker.ts';
import { controlRun } from '../workflows/control-run.ts';
import type { ControlRunSummary } from '../core/contracts.ts';
import { emit, ratioOf, round, runBenchmark, say, scaled, scratchDir, type BenchArgs, type BenchResult, type Row } from './common.ts';

/**
 * Control runs per second through worker processes on a local Temporal dev server: one worker, and three (each with
 * its own data folder, as on three hosts) sharing one PostgreSQL catalog and one S3 bucket (moto, Object Lock on).
 * The floor is one worker on the embedded default, SQLite and blobs on its own disk. Every side gets the same
 * workload: the control of bench/control-runs.ts, runs started from this process and kept IN_FLIGHT at a time.
 * Everything (Temporal, PostgreSQL, moto, the workers and this client) shares the machine's cores.
 */

const RUNS = 100;
const WARM_UP = 6;
const IN_FLIGHT = 20;
const BUCKET = 'bench-hosts';
const S3_ENV = { AWS_ACCESS_KEY_ID: 'AKIAISMSBENCHHOSTS01', AWS_SECRET_ACCESS_KEY: 'bench-hosts-secret', AWS_REGION: 'us-east-1' };

interface Side {
  name: string;
  workers: number;
  /** PostgreSQL database URL and S3 endpoint; absent: the embedded default. */
  shared?: { catalogUrl: string; moto: MotoServer };
}

interface SideFigures {
  workers: number;
  runs: number;
  wallS: number;
  runsPerS: number;
  statuses: Record<string, number>;
  /** User + system CPU of the worker processes, from /proc, at the end of the timed runs. */
  workerCpuS: number | null;
}

function hostConfig(dir: string, side: Side, controlId: string, taskQueue: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'isms.yaml');
  const shared = side.shared && {
    catalog: { url: { env: 'BENCH_CATALOG_URL' } },
    evidence: {
      blobs: {
        kind: 's3',
        bucket: BUCKET,
        prefix: `${controlId}/`,
        region: 'us-east-1',
        endpoint: side.shared.moto.endpoint,
        forcePathStyle: true,
        objectLock: { mode: 'GOVERNANCE', retainDays: 1 },
      },
    },
  };
  const config = {
    dataDir: 'data',
    temporal: { taskQueue },
    ...shared,
    controls: [
      {
        id: controlId,
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

/** User + system CPU seconds of a live process, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
function processCpuS(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const occurrenceOf = (index: number) => new Date(Date.UTC(2026, 0, 15, 6, 0, 0) + index * 1000).toISOString();

async function runSide(side: Side, context: { address: string; bundlePath: string; client: Client; dir: string; runs: number }): Promise<SideFigures> {
  const controlId = `bench-${side.name}`;
  const taskQueue = `isms-bench-hosts-${side.name}-${process.pid}`;
  const env: Record<string, string> = side.shared ? { ...S3_ENV, BENCH_CATALOG_URL: side.shared.catalogUrl } : {};
  const workers: ChildProcess[] = [];
  try {
    await Promise.all(
      Array.from({ length: side.workers }, (_, index) =>
        startWorkerProcess({
          configFile: hostConfig(path.join(context.dir, side.name, `host-${index}`), side, controlId, taskQueue),
          address: context.address,
          bundlePath: context.bundlePath,
          env,
          started: workers,
        }),
      ),
    );
    const execute = (index: number) =>
      context.client.workflow.execute(controlRun, {
        taskQueue,
        workflowId: `control:${controlId}:${occurrenceOf(index)}`,
        args: [{ controlId, trigger: 'manual', occurrence: occurrenceOf(index) }],
      });
    // Every worker JIT-compiles and opens its connections before the clock starts.
    await Promise.all(Array.from({ length: WARM_UP }, (_, index) => execute(index)));
    const cpuBefore = workers.map((worker) => processCpuS(worker.pid));
    const summaries: ControlRunSummary[] = [];
    let next = WARM_UP;
    const last = WARM_UP + context.runs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < last) summaries.push(await execute(next++));
      }),
    );
    const wallS = (performance.now() - started) / 1000;
    const cpuAfter = workers.map((worker) => processCpuS(worker.pid));
    const cpu = cpuAfter.every((value, index) => value !== null && cpuBefore[index] !== null)
      ? cpuAfter.reduce<number>((sum, value, index) => sum + value! - cpuBefore[index]!, 0)
      : null;
    const statuses: Record<string, number> = {};
    for (const summary of summaries) statuses[summary.status] = (statuses[summary.status] ?? 0) + 1;
    const gaps = summaries.filter((summary) => summary.gaps.length > 0).length;
    if (gaps > 0) throw new Error(`${gaps} of ${summaries.length} runs on ${side.name} had evidence gaps`);
    return {
      workers: side.workers,
      runs: summaries.length,
      wallS: round(wallS),
      runsPerS: round(summaries.length / wallS, 2),
      statuses,
      workerCpuS: cpu === null ? null : round(cpu, 2),
    };
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((worker) => (worker.exitCode === null ? once(worker, 'exit') : undefined)));
  }
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(args: BenchArgs): Promise<void> {
  const runs = scaled(RUNS, args.scale);
  say(
    `control-runs-hosts: ${runs} control runs, ${IN_FLIGHT} in flight, through worker processes: the embedded default, and PostgreSQL + S3 (moto) with one and three workers`,
  );
  const bin = postgresBinaries();
  if (!bin) throw new Error('control-runs-hosts needs PostgreSQL: apt-get install postgresql, or set PG_BIN');
  const log = createLogger({ level: 'silent' });
  const scratch = scratchDir('control-runs-hosts');
  const stops: (() => Promise<void>)[] = [];
  try {
    const server = await startDevServer({ log });
    stops.push(() => server.stop());
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    const bundlePath = path.join(scratch.dir, 'workflows.js');
    writeFileSync(bundlePath, bundle.code);
    const cluster = await startPostgresCluster(bin);
    stops.push(() => cluster.stop());
    const moto = await startMoto();
    stops.push(() => moto.stop());
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: S3_ENV.AWS_SECRET_ACCESS_KEY },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
    s3.destroy();
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });
    const context = { address: server.address, bundlePath, client, dir: scratch.dir, runs };
    const sides: Side[] = [
      { name: 'embedded', workers: 1 },
      { name: 'shared1', workers: 1, shared: { catalogUrl: await createDatabase(cluster.url, 'bench_hosts_one'), moto } },
      { name: 'shared3', workers: 3, shared: { catalogUrl: await createDatabase(cluster.url, 'bench_hosts_three'), moto } },
    ];
    const figures: Record<string, SideFigures> = {};
    for (const side of sides) {
      figures[side.name] = await runSide(side, context);
      const side_ = figures[side.name]!;
      say(
        `  ${side.name.padEnd(8)} ${side.workers} worker(s): ${side_.runs} runs in ${side_.wallS.toFixed(1)} s, ${side_.runsPerS} runs/s, worker CPU ${side_.workerCpuS ?? '?'} s; statuses ${JSON.stringify(side_.statuses)}`,
      );
    }
    const floor = figures.embedded!;
    const row = (side: SideFigures, what: string): Row => ({
      benchmark: 'control-runs-hosts',
      workload: `${runs} runs ${IN_FLIGHT} at a time, ${what}`,
      ours: side.runsPerS,
      floor: floor.runsPerS,
      unit: 'runs/s',
      ratio: ratioOf(side.runsPerS, floor.runsPerS),
      peakRssMb: null,
      targets: [],
      note: `floor: one worker on SQLite + filesystem; worker CPU ${side.workerCpuS ?? '?'} s against the floor's ${floor.workerCpuS ?? '?'} s`,
    });
    const result: BenchResult = {
      benchmark: 'control-runs-hosts',
      scale: args.scale,
      rows: [row(figures.shared1!, 'one worker on PostgreSQL + S3 (moto)'), row(figures.shared3!, 'three worker processes on PostgreSQL + S3 (moto)')],
      figures,
    };
    emit(result);
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => say(`  cleanup: ${(error as Error).message}`));
    scratch.remove();
  }
}

await runBenchmark(main, {});
