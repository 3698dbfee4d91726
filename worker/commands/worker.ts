import path from 'node:path';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { openCurrentOccurrences, syncCalendarSchedules } from '../calendar-schedules.ts';
import { connectWorker, DEFAULT_TEMPORAL_PORT, temporalSettings } from '../connection.ts';
import { startDevServer } from '../dev-server.ts';
import { syncReviewSchedules } from '../review-schedules.ts';
import { runControl } from '../run-control.ts';
import { runsInFlight } from '../runs-in-flight.ts';
import { syncSchedules } from '../schedules.ts';
import { createWorker, stopOnSignals, workflowsPath } from '../worker.ts';
import { table, type CliContext } from './context.ts';
import { describeRun } from './run.ts';

/** `isms worker`: the Temporal worker of a deployment. */
export function registerWorkerCommand(context: CliContext): void {
  const { program, log, withRuntime } = context;

  program
    .command('worker')
    .description('run the Temporal worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*)')
    .action(async () => {
      await withRuntime(async (runtime) => {
        const settings = temporalSettings();
        const connection = await connectWorker(settings);
        const worker = await createWorker(runtime, connection, { namespace: settings.namespace });
        stopOnSignals(log, () => worker.shutdown());
        log.info({ address: settings.address, namespace: settings.namespace, taskQueue: runtime.config.config.temporal.taskQueue }, 'worker running');
        await worker.run();
        await connection.close();
      });
    });
}

/** `isms dev`: the embedded default: a dev server, a worker, the schedules and one run of every control. */
export function registerDevCommand(context: CliContext): void {
  const { program, log, print, withRuntime } = context;
  const quietBundlerLogger = quietBundlerLoggerOf(log);

  program
    .command('dev')
    .description('embedded default: local Temporal dev server + worker, sync schedules, run every control once, stay up until Ctrl-C')
    .option('--port <port>', 'Temporal frontend port (default: 7233 when free, else a free one)')
    .option('--ui', 'also serve the Temporal Web UI')
    .option('--once', 'stop after the first run of every control')
    .action(async (options: { port?: string; ui?: boolean; once?: boolean }) => {
      await withRuntime(async (runtime) => {
        const started = Date.now();
        const server = await startDevServer({
          dbFile: path.join(runtime.config.dataDir, 'temporal.db'),
          port: options.port ? Number(options.port) : undefined,
          preferredPort: DEFAULT_TEMPORAL_PORT,
          ui: options.ui,
          log,
        });
        let worker: Worker | undefined;
        try {
          const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
          worker = await createWorker(runtime, server.env.nativeConnection, { namespace: server.namespace, workflowBundle });
          const running = worker.run();
          const client = server.env.client;
          const changes = [...(await syncSchedules(client, runtime.config)), ...(await syncReviewSchedules(client, runtime.config))];
          changes.push(...(await syncCalendarSchedules(client, runtime.config)));
          print(
            `Temporal dev server at ${server.address}${server.address.endsWith(`:${DEFAULT_TEMPORAL_PORT}`) ? '' : ` (other isms commands reach it with TEMPORAL_ADDRESS=${server.address})`}; schedules: ${changes.map((change) => `${change.scheduleId} ${change.action}`).join(', ')}`,
          );
          const opened = await openCurrentOccurrences(client, runtime.config);
          print(
            `calendar: ${opened.length} occurrence${opened.length === 1 ? '' : 's'} opened now${opened.length ? ` (${opened.join(', ')})` : ''}; \`isms calendar\` lists them all`,
          );
          const summaries = await Promise.all([...runtime.config.controls.keys()].map((controlId) => runControl(client, runtime.config, controlId)));
          for (const summary of summaries) print(describeRun(summary));
          const verify = await runtime.store.verify({ runInFlight: runsInFlight(runtime.register, async () => client) });
          const open = await runtime.register.list({ status: 'open' });
          print(`\nOpen nonconformities:\n${table(open, ['id', 'severity', 'controlId', 'title'])}\n`);
          print(
            `evidence: ${verify.checked} rows, ${verify.ok ? 'verified' : `${verify.problems.length} problems`}; open nonconformities: ${(await runtime.register.list({ status: 'open' })).length}; took ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
          if (options.once) {
            worker.shutdown();
          } else {
            print('Worker running on its schedules. Ctrl-C stops it.');
            stopOnSignals(log, () => worker?.shutdown());
          }
          await running;
        } finally {
          await server.stop();
        }
      });
    });
}

/** The workflow bundler says little that matters: its warnings and errors only, through the CLI's logger. */
function quietBundlerLoggerOf(log: Logger) {
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string, meta?: unknown) => log.warn(meta ?? {}, message),
    error: (message: string, meta?: unknown) => log.error(meta ?? {}, message),
    log: () => undefined,
  };
}
