#!/usr/bin/env -S node --max-semi-space-size=16
import { CatalogUnavailableError } from '../evidence/catalog.ts';
import { Command } from 'commander';
import { ConfigError } from '../core/errors.ts';
import { TemporalUnavailableError } from './connection.ts';
import { configureTemporalRuntime } from './logger.ts';
import { registerCalendarCommands } from './commands/calendar.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerConfigCommands } from './commands/config.ts';
import { cliContext, EXIT, type CliContext } from './commands/context.ts';
import { registerEvidenceCommands } from './commands/evidence.ts';
import { registerLeaverCommands } from './commands/leavers.ts';
import { registerManagementReviewCommands } from './commands/management-review.ts';
import { registerNonconformityCommands } from './commands/nc.ts';
import { registerOscalCommands } from './commands/oscal.ts';
import { registerReportCommands } from './commands/report.ts';
import { registerReviewCommands } from './commands/review.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerScheduleCommands } from './commands/schedules.ts';
import { registerSoaCommands } from './commands/soa.ts';
import { registerSoaReviewCommand } from './commands/soa-review.ts';
import { registerDevCommand, registerWorkerCommand } from './commands/worker.ts';

const program = new Command('isms')
  .description('Keeps an ISO 27001 ISMS alive between audits: scheduled evidence, checks and a nonconformity register.')
  .option('-c, --config <file>', 'config file (default: $ISMS_CONFIG, config/isms.yaml, else config/isms.example.yaml)')
  .showHelpAfterError();

/** Every command group, one line each, in the order `isms --help` lists them. */
const registrations: ((context: CliContext) => void)[] = [
  registerReviewCommands,
  registerCalendarCommands,
  registerReportCommands,
  registerOscalCommands,
  registerSoaCommands,
  registerSoaReviewCommand,
  registerManagementReviewCommands,
  registerConfigCommands,
  registerEvidenceCommands,
  registerCatalogCommands,
  registerNonconformityCommands,
  registerLeaverCommands,
  registerWorkerCommand,
  registerScheduleCommands,
  registerRunCommand,
  registerDevCommand,
];

const context = cliContext(program);
const { log } = context;
for (const register of registrations) register(context);
// The SDK and its core log through pino too; their INFO chatter (worker state changes) is noise at the default level.
configureTemporalRuntime(log.child({}, { level: process.env.LOG_LEVEL ?? 'warn' }));

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
