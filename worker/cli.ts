#!/usr/bin/env -S node --max-semi-space-size=16
import { CatalogUnavailableError } from '../evidence/catalog-postgres.ts';
import { Command, Option } from 'commander';
import { Client, type Connection } from '@temporalio/client';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { ConfigError } from '../config/errors.ts';
import { renderConfigJsonSchema } from '../config/json-schema.ts';
import { loadConfig } from '../config/load.ts';
import { LeaverClock } from '../evidence/leaver-clock.ts';
import { NonconformityStatus } from '../evidence/register.ts';
import type { ControlRunSummary } from '../workflows/contracts.ts';
import { connectClient, connectWorker, DEFAULT_TEMPORAL_PORT, temporalSettings, TemporalUnavailableError } from './connection.ts';
import { startDevServer } from './dev-server.ts';
import { configureTemporalRuntime } from './logger.ts';
import { exitCodeOf, manualWorkflowIdOf, occurrenceOf, requireControl, runControl, runControlHosted } from './run-control.ts';
import { runsInFlight } from './runs-in-flight.ts';
import { defaultRegistries } from './runtime.ts';
import { cliContext, EXIT, table } from './commands/context.ts';
import { listSchedules, syncSchedules } from './schedules.ts';
import { syncReviewSchedules } from './review-schedules.ts';
import { registerReviewCommands } from './commands/review.ts';
import { registerCalendarCommands } from './commands/calendar.ts';
import { registerReportCommands } from './commands/report.ts';
import { registerBundleCommands, verifyBundleCommand } from './commands/evidence-bundle.ts';
import { registerOscalCommands } from './commands/oscal.ts';
import { registerSoaCommands } from './commands/soa.ts';
import { registerManagementReviewCommands } from './commands/management-review.ts';
import { registerSoaReviewCommand } from './commands/soa-review.ts';
import { openCurrentOccurrences, syncCalendarSchedules } from './calendar-schedules.ts';
import { createWorker, workflowsPath } from './worker.ts';

const program = new Command('isms')
  .description('Keeps an ISO 27001 ISMS alive between audits: scheduled evidence, checks and a nonconformity register.')
  .option('-c, --config <file>', 'config file (default: $ISMS_CONFIG, config/isms.yaml, else config/isms.example.yaml)')
  .showHelpAfterError();

const context = cliContext(program);
const { log, configFile, print, withRuntime, withClient } = context;
registerReviewCommands(context);
registerCalendarCommands(context);
registerReportCommands(context);
registerOscalCommands(context);
registerSoaCommands(context);
registerSoaReviewCommand(context);
registerManagementReviewCommands(context);
// The SDK and its core log through pino too; their INFO chatter (worker state changes) is noise at the default level.
configureTemporalRuntime(log.child({}, { level: process.env.LOG_LEVEL ?? 'warn' }));

const config = program.command('config').description('inspect the configuration');
config
  .command('check')
  .description('validate the config; prints every error with its YAML path and line (exit 2)')
  .action(async () => {
    const loaded = await loadConfig(configFile(), defaultRegistries);
    print(`${loaded.file}: ok (${loaded.controls.size} controls, data in ${loaded.dataDir})`);
  });
config
  .command('schema')
  .description('print the JSON Schema of isms.yaml, for editors (the YAML language server) and validators')
  .option('--out <file>', 'write it to this file instead')
  .action(async (options: { out?: string }) => {
    const schema = renderConfigJsonSchema(defaultRegistries);
    if (options.out === undefined) return void process.stdout.write(schema);
    await writeFile(options.out, schema);
    print(`${options.out}: JSON Schema of isms.yaml written`);
  });

const evidence = program.command('evidence').description('read and verify the evidence store');
evidence
  .command('list')
  .option('--control <id>', 'only this control')
  .option('--limit <n>', 'newest n rows', '50')
  .option('--json', 'JSON output')
  .action(async (options: { control?: string; limit: string; json?: boolean }) => {
    await withRuntime(async ({ store }) => {
      const rows = await store.list({ controlId: options.control, limit: Number(options.limit) });
      if (options.json) return print(rows);
      print(table(rows.map((row) => ({ ...row, sha256: row.sha256.slice(0, 12) })), ['id', 'controlId', 'sourceName', 'collectedAt', 'recordCount', 'sha256']));
    });
  });
evidence
  .command('show <id>')
  .option('--records', 'also print the records (NDJSON)')
  .action(async (id: string, options: { records?: boolean }) => {
    await withRuntime(async ({ store }) => {
      const row = await store.get(id);
      if (!row) throw new ConfigError(`no evidence ${id}`);
      print(row);
      if (options.records) for await (const record of store.records(id)) process.stdout.write(`${JSON.stringify(record)}\n`);
    });
  });
evidence
  .command('verify')
  .description('check every blob against its hash, the catalog against its hash chain and journal, and the staging folder for files no run in flight will finish (exit 1 on any problem)')
  .option('--bundle <dir>', 'verify an exported auditor bundle instead of the store')
  .option('--against <path>', 'with --bundle: a data folder (its live catalog) or a checkpoint file the bundle must agree with')
  .option('--public-key <pem>', "with --bundle: check manifest.json.sig with this public key")
  .option('--json', 'JSON output')
  .action(async (options: { bundle?: string; against?: string; publicKey?: string; json?: boolean }) => {
    if (options.bundle) return verifyBundleCommand(context, options.bundle, options);
    const report = await withRuntime(async ({ store, register }) => {
      let connection: Promise<Connection> | undefined;
      const connect = async () => {
        const settings = temporalSettings();
        connection ??= connectClient(settings).catch((error: Error) => {
          throw new Error(`cannot connect to ${settings.address}: ${error.message}`);
        });
        return new Client({ connection: await connection, namespace: settings.namespace });
      };
      try {
        return await store.verify({ runInFlight: runsInFlight(register, connect) });
      } finally {
        await (await connection?.catch(() => undefined))?.close();
      }
    });
    if (options.json) print(report);
    else if (report.ok) print(`ok: ${report.checked} evidence rows verified`);
    else print(`FAILED: ${report.problems.length} problems in ${report.checked} rows\n${table(report.problems, ['evidenceId', 'problem', 'detail'])}`);
    if (!report.ok) process.exitCode = EXIT.findings;
  });
registerBundleCommands(context, evidence);

const nc = program.command('nc').description('the nonconformity register');
nc.command('list')
  .addOption(new Option('--status <status>', 'only this status').choices(NonconformityStatus.options))
  .option('--control <id>', 'only this control')
  .option('--json', 'JSON output')
  .action(async (options: { status?: NonconformityStatus; control?: string; json?: boolean }) => {
    await withRuntime(async ({ register }) => {
      const rows = await register.list({ status: options.status, controlId: options.control });
      if (options.json) return print(rows);
      print(table(rows, ['id', 'status', 'severity', 'controlId', 'checkId', 'title', 'lastObserved']));
    });
  });
nc.command('show <id>')
  .option('--json', 'JSON output')
  .action(async (id: string, options: { json?: boolean }) => {
    await withRuntime(async ({ register }) => {
      const found = await register.get(id);
      if (!found) throw new ConfigError(`no nonconformity ${id}`);
      const history = await register.historyOf(id);
      if (options.json) return print({ ...found, history });
      print({ ...found, history });
    });
  });
nc.command('update <id>')
  .description('move a nonconformity along its lifecycle (open, root-cause, corrective-action, verified, closed)')
  .addOption(new Option('--status <status>', 'new status').choices(NonconformityStatus.options).makeOptionMandatory())
  .requiredOption('--by <person>', 'who makes the change')
  .option('--note <text>')
  .option('--root-cause <text>')
  .option('--corrective-action <text>')
  .option('--due <date>', 'due date of the corrective action')
  .action(async (id: string, options: { status: NonconformityStatus; by: string; note?: string; rootCause?: string; correctiveAction?: string; due?: string }) => {
    await withRuntime(async ({ register }) => {
      const updated = await register.transition(id, options.status, {
        actor: options.by,
        at: new Date().toISOString(),
        note: options.note,
        rootCause: options.rootCause,
        correctiveAction: options.correctiveAction,
        dueDate: options.due,
      });
      print(`${updated.id}: ${updated.status}`);
    });
  });

program
  .command('leavers')
  .description("the leaver clock: per leaver and system, the last run that found the account usable and the first that found it revoked")
  .option('--json', 'JSON output')
  .action(async (options: { json?: boolean }) => {
    await withRuntime(async ({ store }) => {
      const rows = await new LeaverClock(store.catalog).list();
      if (options.json) return print(rows);
      print(
        table(
          rows.map((row) => ({
            ...row,
            revoked: row.revokedObservedAt === null ? `not yet (usable at ${row.lastSeenActiveAt})` : `after ${row.revokedAfterHours.atLeast}-${row.revokedAfterHours.atMost} h`,
          })),
          ['employeeId', 'tenant', 'account', 'terminationDate', 'revoked'],
        ),
      );
    });
  });

program
  .command('worker')
  .description('run the Temporal worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*)')
  .action(async () => {
    await withRuntime(async (runtime) => {
      const settings = temporalSettings();
      const connection = await connectWorker(settings);
      const worker = await createWorker(runtime, connection, { namespace: settings.namespace });
      stopOnSignals(() => worker.shutdown());
      log.info({ address: settings.address, namespace: settings.namespace, taskQueue: runtime.config.config.temporal.taskQueue }, 'worker running');
      await worker.run();
      await connection.close();
    });
  });

const schedules = program.command('schedules').description('Temporal Schedules, one per control');
schedules
  .command('sync')
  .option('--dry-run', 'print the changes without making them')
  .action(async (options: { dryRun?: boolean }) => {
    const loaded = await loadConfig(configFile(), defaultRegistries);
    await withClient(async (client) => {
      const changes = [...(await syncSchedules(client, loaded, { dryRun: options.dryRun })), ...(await syncReviewSchedules(client, loaded, { dryRun: options.dryRun }))];
      changes.push(...(await syncCalendarSchedules(client, loaded, { dryRun: options.dryRun })));
      print(table(changes, ['action', 'scheduleId', 'detail']));
      if (options.dryRun) print('(dry run: nothing changed)');
    });
  });
schedules
  .command('list')
  .option('--json', 'JSON output')
  .action(async (options: { json?: boolean }) => {
    await withClient(async (client) => {
      const listings = await listSchedules(client);
      if (options.json) return print(listings);
      print(table(listings.map((entry) => ({ ...entry, paused: entry.paused ? 'paused' : '', next: entry.nextRuns[0] ?? '' })), ['scheduleId', 'kind', 'paused', 'next', 'note']));
    });
  });

program
  .command('run <controlId>')
  .description('run a control now and wait: exit 0 pass, 1 nonconformities observed, 3 evidence gap or error')
  .option('--json', 'print the run summary as JSON')
  .option('--occurrence <iso>', 'the occurrence to run (default: now); running one twice attaches to the first run')
  .option('--no-worker', "host no worker: a deployed worker on the config's task queue runs the control, with its own config")
  .action(async (controlId: string, options: { json?: boolean; occurrence?: string; worker: boolean }) => {
    await withRuntime(async (runtime) => {
      requireControl(runtime.config, controlId);
      const occurrence = options.occurrence ? new Date(options.occurrence) : new Date();
      if (Number.isNaN(occurrence.getTime())) throw new ConfigError(`--occurrence ${options.occurrence}: not a date`);
      let summary: ControlRunSummary;
      if (options.worker) {
        summary = await runControlHosted(runtime, temporalSettings(), controlId, occurrence);
      } else {
        const workflowId = manualWorkflowIdOf(controlId, occurrenceOf(occurrence));
        process.stderr.write(`${workflowId}: starting on task queue ${runtime.config.config.temporal.taskQueue}; a deployed worker runs it, with that worker's config and data folder\n`);
        summary = await withClient((client) => runControl(client, runtime.config, controlId, occurrence));
      }
      print(options.json ? summary : describeRun(summary));
      process.exitCode = exitCodeOf(summary);
    });
  });

program
  .command('dev')
  .description('embedded default: local Temporal dev server + worker, sync schedules, run every control once, stay up until Ctrl-C')
  .option('--port <port>', 'Temporal frontend port (default: 7233 when free, else a free one)')
  .option('--ui', 'also serve the Temporal Web UI')
  .option('--once', 'stop after the first run of every control')
  .action(async (options: { port?: string; ui?: boolean; once?: boolean }) => {
    await withRuntime(async (runtime) => {
      const started = Date.now();
      const server = await startDevServer({ dbFile: path.join(runtime.config.dataDir, 'temporal.db'), port: options.port ? Number(options.port) : undefined, preferredPort: DEFAULT_TEMPORAL_PORT, ui: options.ui, log });
      let worker: Worker | undefined;
      try {
        const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
        worker = await createWorker(runtime, server.env.nativeConnection, { namespace: server.namespace, workflowBundle });
        const running = worker.run();
        const client = server.env.client;
        const changes = [...(await syncSchedules(client, runtime.config)), ...(await syncReviewSchedules(client, runtime.config))];
        changes.push(...(await syncCalendarSchedules(client, runtime.config)));
        print(`Temporal dev server at ${server.address}${server.address.endsWith(`:${DEFAULT_TEMPORAL_PORT}`) ? '' : ` (other isms commands reach it with TEMPORAL_ADDRESS=${server.address})`}; schedules: ${changes.map((change) => `${change.scheduleId} ${change.action}`).join(', ')}`);
        const opened = await openCurrentOccurrences(client, runtime.config);
        print(`calendar: ${opened.length} occurrence${opened.length === 1 ? '' : 's'} opened now${opened.length ? ` (${opened.join(', ')})` : ''}; \`isms calendar\` lists them all`);
        const summaries = await Promise.all([...runtime.config.controls.keys()].map((controlId) => runControl(client, runtime.config, controlId)));
        for (const summary of summaries) print(describeRun(summary));
        const verify = await runtime.store.verify({ runInFlight: runsInFlight(runtime.register, async () => client) });
        const open = await runtime.register.list({ status: 'open' });
        print(`\nOpen nonconformities:\n${table(open, ['id', 'severity', 'controlId', 'title'])}\n`);
        print(`evidence: ${verify.checked} rows, ${verify.ok ? 'verified' : `${verify.problems.length} problems`}; open nonconformities: ${(await runtime.register.list({ status: 'open' })).length}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (options.once) {
          worker.shutdown();
        } else {
          print('Worker running on its schedules. Ctrl-C stops it.');
          stopOnSignals(() => worker?.shutdown());
        }
        await running;
      } finally {
        await server.stop();
      }
    });
  });

function describeRun(summary: ControlRunSummary): string {
  const nc = summary.nonconformities;
  const lines = [
    `${summary.controlId}: ${summary.status.toUpperCase()} (${summary.runId})`,
    ...summary.evidence.map((ref) => `  evidence ${ref.id} ${ref.sourceName}: ${ref.recordCount} records, sha256 ${ref.sha256.slice(0, 16)}…`),
    ...summary.gaps.map((gap) => `  evidence gap ${gap.sourceName}: ${gap.errorType}: ${gap.reason}`),
    ...summary.checks.map((check) => `  check ${check.checkId}: ${check.status}${check.deviations ? ` (${check.deviations} deviations)` : ''}${check.message ? ` — ${check.message}` : ''}`),
    `  nonconformities: ${nc.opened.length} opened, ${nc.reopened.length} reopened, ${nc.stillObserved.length} still observed, ${nc.noLongerObserved.length} no longer observed`,
  ];
  return lines.join('\n');
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => log.warn(meta ?? {}, message),
  error: (message: string, meta?: unknown) => log.error(meta ?? {}, message),
  log: () => undefined,
};

function stopOnSignals(stop: () => unknown): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping');
      void stop();
    });
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT.usage;
  } else if (error instanceof TemporalUnavailableError || error instanceof CatalogUnavailableError) {
    log.debug({ err: error.cause }, 'Temporal unavailable');
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT.error;
  } else {
    log.error({ err: error }, 'failed');
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = EXIT.error;
  }
}
