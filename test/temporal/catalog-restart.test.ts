// @module-tag postgres
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { controlRun } from '../../workflows/control-run.ts';
import { runIsms } from '../support/cli.ts';
import { historyJson } from '../support/histories.ts';
import { postgresBinaries, startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.ts';
import { writeConfig } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { startWorkerProcess as launchWorkerProcess, type WorkerProcess } from '../support/worker-launcher.ts';

/**
 * PostgreSQL lost mid-run and back (issue 14): a worker process runs control runs on a real Temporal dev server with
 * its catalog on a cluster of this file's own, which is shut down while a run is inside its catalog writes, kept
 * down for longer than the first retry interval, and started again on the same port. Every run completes, nothing
 * is written twice or in part, and the worker lives through it.
 */

const PASSWORD = `pw-${randomUUID()}`;
const CONTROLS = 4;
const OCCURRENCES = 3;
const PAGES = 4;
const PER_PAGE = 100;
/** Every finding of the fixture connector is past its SLA: one deviation each, in every check run. */
const FINDINGS = PAGES * PER_PAGE;
/** Longer than the catalog's first retry interval (1 s, workflows/policies.ts) and the collection's (500 ms, below). */
const DOWN_MS = 3_000;

interface HistoryEvent {
  eventId: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId: string; lastFailure?: { message: string; applicationFailureInfo?: { type?: string } } };
}

/** The failures of earlier attempts that a history's activities were retried after (proto3 JSON of the history). */
function retriedFailures(history: string): { activity?: string; type?: string; message: string }[] {
  const events = (JSON.parse(history) as { events: HistoryEvent[] }).events;
  const activityOf = new Map(events.map((event) => [event.eventId, event.activityTaskScheduledEventAttributes?.activityType?.name]));
  return events.flatMap((event) => {
    const started = event.activityTaskStartedEventAttributes;
    if (!started?.lastFailure) return [];
    return [
      { activity: activityOf.get(started.scheduledEventId), type: started.lastFailure.applicationFailureInfo?.type, message: started.lastFailure.message },
    ];
  });
}

let cluster: PostgresCluster;
let connection: Connection;
let client: Client;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  const bin = postgresBinaries();
  if (!bin) throw new Error('this test needs the PostgreSQL server binaries (apt-get install postgresql, or PG_BIN)');
  // Commits that an immediate shutdown cannot lose, as on a production server: an acknowledged commit stays.
  cluster = await startPostgresCluster(bin, { durableCommits: true });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: 'default' });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
  await connection?.close();
  await cluster?.stop();
});

/** A database of its own on the cluster; the URL carries a password (trust auth ignores it) that must never be printed. */
async function database(name: string): Promise<{ url: string; location: string }> {
  const admin = new pg.Client(cluster.url);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(cluster.url);
  url.username = 'isms';
  url.password = PASSWORD;
  url.pathname = `/${name}`;
  return { url: url.toString(), location: `PostgreSQL database "${name}" on ${url.host}` };
}

function restartConfig(prefix: string) {
  const written = writeConfig({
    catalog: { url: { env: 'RESTART_CATALOG_URL' } },
    controls: Array.from({ length: CONTROLS }, (_, index) => ({
      id: `${prefix}-${index}`,
      title: `Vulnerabilities on app-${index} are remediated`,
      reference: 'A.8.8',
      owner: 'security@example.com',
      schedule: { every: '1 day' },
      sources: [{ name: 'scan', connector: 'paged-findings', config: { asset: `app-${index}`, pages: PAGES, perPage: PER_PAGE } }],
      checks: [{ check: 'vulnerability-sla' }],
      collection: { maximumAttempts: 10, initialRetryInterval: '500ms' },
    })),
  });
  cleanups.push(() => rmSync(written.dir, { recursive: true, force: true }));
  return written;
}

/** A worker in its own process, so that an unhandled error while PostgreSQL is down would end it for all to see. */
function startWorkerProcess(configFile: string, env: Record<string, string>): Promise<WorkerProcess> {
  return launchWorkerProcess({ configFile, address: inject('temporalAddress'), bundlePath: inject('workflowBundlePath'), env, started: children });
}

/**
 * Looks at the catalog from outside, as often as it can, through the outage: every check run it sees must already
 * hold all its deviations, and it reports the statement of the transaction holding the catalog's write lock.
 */
function watchCatalog(url: string) {
  const halfWritten = new Set<string>();
  let snapshots = 0;
  let checkRunsSeen = 0;
  let writing: string | undefined;
  let stopped = false;
  const loop = (async () => {
    let watcher: pg.Client | undefined;
    while (!stopped) {
      try {
        if (!watcher) {
          const connecting = new pg.Client(url);
          connecting.on('error', () => undefined);
          await connecting.connect();
          watcher = connecting;
        }
        const runs = await watcher.query<{ id: string; deviations: number }>(
          'SELECT cr.id, COUNT(d.fingerprint)::int AS deviations FROM check_runs cr LEFT JOIN deviations d ON d.check_run_id = cr.id GROUP BY cr.id',
        );
        for (const run of runs.rows) if (run.deviations !== FINDINGS) halfWritten.add(`${run.id}: ${run.deviations} of ${FINDINGS} deviations`);
        checkRunsSeen = Math.max(checkRunsSeen, runs.rows.length);
        snapshots++;
        const writer = await watcher.query<{ query: string }>(
          `SELECT a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`,
        );
        writing = writer.rows[0]?.query;
      } catch {
        writing = undefined;
        await watcher?.end().catch(() => undefined);
        watcher = undefined;
        await sleep(100);
      }
      await sleep(10);
    }
    await watcher?.end().catch(() => undefined);
  })();
  return {
    get writing() {
      return writing;
    },
    async stop() {
      stopped = true;
      await loop;
      return { halfWritten: [...halfWritten], snapshots, checkRunsSeen };
    },
  };
}

describe('PostgreSQL lost mid-run and back', () => {
  it.each([
    // A collection whose snapshot is finished waits for the catalog inside its attempt (and says so) rather than failing it.
    { mode: 'fast', step: 'collection commit', statement: /journal_waiting|INTO evidence|FROM evidence/, activity: undefined },
    { mode: 'fast', step: 'evaluation', statement: /INSERT INTO deviations/, activity: 'evaluateControl' },
    // Reconciling is a local activity: its retries stay in the worker and leave no trace in the history.
    { mode: 'immediate', step: 'reconcile', statement: /nonconformit/, activity: undefined },
  ] as const)(
    '$mode shutdown during the $step writes: every run completes once, no half-written rows, the chain verifies, the worker lives',
    async ({ mode, step, statement, activity }) => {
      const name = `restart_${mode}_${step.replaceAll(' ', '_')}`;
      const { url, location } = await database(name);
      const prefix = `rs${randomUUID().slice(0, 6)}`;
      const { file, taskQueue } = restartConfig(prefix);
      const env = { RESTART_CATALOG_URL: url };
      const worker = await startWorkerProcess(file, env);
      const watch = watchCatalog(url);

      const handles = await Promise.all(
        Array.from({ length: CONTROLS * OCCURRENCES }, (_, index) => {
          const controlId = `${prefix}-${index % CONTROLS}`;
          const occurrence = new Date(Date.UTC(2026, 10, 1 + Math.floor(index / CONTROLS), 6)).toISOString();
          return client.workflow.start(controlRun, {
            taskQueue,
            workflowId: `control:${controlId}:${occurrence}`,
            args: [{ controlId, trigger: 'manual', occurrence }],
          });
        }),
      );
      let settled = false;
      const results = Promise.all(handles.map((handle) => handle.result())).finally(() => (settled = true));

      // The server goes away while a run's transaction is inside the step's statements.
      let interrupted: string | undefined;
      while (!settled && interrupted === undefined) {
        const writing = watch.writing;
        if (writing !== undefined && statement.test(writing)) interrupted = writing;
        else await sleep(5);
      }
      expect(interrupted, `no ${statement} statement was seen holding the write lock before the runs ended`).toBeDefined();
      await cluster.pause(mode);
      try {
        await sleep(DOWN_MS);
        expect(worker.child.exitCode, `the worker exited; its output ends: ${worker.output().slice(-3000)}`).toBeNull();
      } finally {
        await cluster.resume();
      }

      const summaries = await results;
      const seen = await watch.stop();
      expect(worker.child.exitCode, `the worker exited; its output ends: ${worker.output().slice(-3000)}`).toBeNull();

      expect(summaries.map((summary) => [summary.status, summary.gaps])).toEqual(summaries.map(() => ['fail', []]));
      // The outage landed mid-run: an activity attempt failed on the unreachable catalog and was retried, or (the commit
      // of a finished snapshot) waited for it.
      const histories = await Promise.all(handles.map(async (handle) => historyJson(await handle.fetchHistory())));
      const catalogFailures = histories.flatMap(retriedFailures).filter((failure) => failure.type === 'CatalogUnavailableError');
      if (step === 'collection commit') expect(worker.output()).toContain('the catalog is unreachable; the collected snapshot waits for it');
      else expect(catalogFailures.map((failure) => failure.activity)).toEqual(expect.arrayContaining(activity ? [activity] : [expect.any(String)]));
      for (const failure of catalogFailures) expect(failure.message).toContain(`catalog ${location} is unreachable`);
      for (const history of histories) expect(history).not.toContain(PASSWORD);

      // The auditor's view: the same config, read in this process, which resolves the catalog URL from its own environment.
      process.env.RESTART_CATALOG_URL = url;
      cleanups.push(() => void delete process.env.RESTART_CATALOG_URL);
      const auditor = await openRuntime(file, createLogger({ level: 'silent' }), testRegistries);
      cleanups.push(() => auditor.close());
      // Each run's evidence is in the catalog once, and the chain (rows, blobs, journal) verifies: a writer that lost the
      // catalog between a row's commit and its journal line left the line to its retry, which wrote it.
      const rows = await auditor.store.list();
      expect(rows.map((row) => row.runId).sort()).toEqual(summaries.map((summary) => summary.runId).sort());
      expect(new Set(rows.map((row) => row.recordCount))).toEqual(new Set([1 + FINDINGS]));
      const report = await auditor.store.verify();
      expect(report.problems).toEqual([]);
      expect(report.checked).toBe(rows.length);

      // One check run per run, each whole and reconciled; no check run was ever seen without all its deviations.
      const checkRuns = await auditor.store.catalog.all<{ run_id: string; deviations: number; reconciled_at: string | null }>(
        `SELECT cr.run_id, cr.reconciled_at, (SELECT COUNT(*) FROM deviations d WHERE d.check_run_id = cr.id) AS deviations FROM check_runs cr`,
      );
      expect(checkRuns.map((run) => run.run_id).sort()).toEqual(summaries.map((summary) => summary.runId).sort());
      expect(new Set(checkRuns.map((run) => run.deviations))).toEqual(new Set([FINDINGS]));
      expect(checkRuns.filter((run) => run.reconciled_at === null)).toEqual([]);
      expect(seen.halfWritten).toEqual([]);
      expect(seen.checkRunsSeen).toBeGreaterThan(0);

      // Each finding is one nonconformity of its control, observed once per run.
      const nonconformities = await auditor.register.list();
      expect(nonconformities).toHaveLength(CONTROLS * FINDINGS);
      expect(new Set(nonconformities.map((nc) => nc.fingerprint)).size).toBe(nonconformities.length);
      expect(new Set(nonconformities.map((nc) => nc.occurrences))).toEqual(new Set([OCCURRENCES]));

      // The catalog still takes runs after its outage, and the chain stays whole.
      await client.workflow.execute(controlRun, {
        taskQueue,
        workflowId: `control:${prefix}-0:2026-12-01T06:00:00.000Z`,
        args: [{ controlId: `${prefix}-0`, trigger: 'manual', occurrence: '2026-12-01T06:00:00.000Z' }],
      });
      const after = await auditor.store.verify();
      expect(after.problems).toEqual([]);
      expect(after.checked).toBe(rows.length + 1);

      // The worker said which catalog it lost (as text, or inside a JSON log line), and never its password.
      expect([location, JSON.stringify(location).slice(1, -1)].some((named) => worker.output().includes(named))).toBe(true);
      expect(worker.output()).not.toContain(PASSWORD);
      worker.child.kill('SIGTERM');
      expect((await once(worker.child, 'exit'))[0]).toBe(0);
    },
    240_000,
  );

  it('PostgreSQL lost while the worker idles between runs: its pooled connections die without ending it, and the next run completes', async () => {
    const { url } = await database('restart_idle');
    const prefix = `rs${randomUUID().slice(0, 6)}`;
    const { file, taskQueue } = restartConfig(prefix);
    const worker = await startWorkerProcess(file, { RESTART_CATALOG_URL: url });
    const runOn = (day: number) =>
      client.workflow.execute(controlRun, {
        taskQueue,
        workflowId: `control:${prefix}-0:2026-11-0${day}T06:00:00.000Z`,
        args: [{ controlId: `${prefix}-0`, trigger: 'manual', occurrence: `2026-11-0${day}T06:00:00.000Z` }],
      });
    expect((await runOn(1)).status).toBe('fail');
    // Within the pool's idle timeout (10 s): the run's connections are still open, idle, when the server ends them.
    await cluster.pause('fast');
    try {
      await sleep(500);
      expect(worker.child.exitCode, `the worker exited; its output ends: ${worker.output().slice(-3000)}`).toBeNull();
    } finally {
      await cluster.resume();
    }
    const next = await runOn(2);
    expect([next.status, next.gaps, next.nonconformities.stillObserved.length]).toEqual(['fail', [], FINDINGS]);
    expect(worker.child.exitCode, `the worker exited; its output ends: ${worker.output().slice(-3000)}`).toBeNull();
    worker.child.kill('SIGTERM');
    expect((await once(worker.child, 'exit'))[0]).toBe(0);
  });

  it('a worker started while PostgreSQL is down exits 3, naming host and database but never the password', async () => {
    const { url, location } = await database('restart_start');
    const { dir, file } = writeConfig({ catalog: { url: { env: 'RESTART_CATALOG_URL' } } });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await cluster.pause('fast');
    try {
      const result = await runIsms(['worker', '--config', file], { env: { RESTART_CATALOG_URL: url, TEMPORAL_ADDRESS: inject('temporalAddress') } });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`catalog ${location} is unreachable`);
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    } finally {
      await cluster.resume();
    }
  });
});
