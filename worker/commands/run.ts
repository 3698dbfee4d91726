import { ConfigError } from '../../core/errors.ts';
import type { ControlRunSummary } from '../../core/contracts.ts';
import { temporalSettings } from '../connection.ts';
import { exitCodeOf, manualWorkflowIdOf, occurrenceOf, requireControl, runControl, runControlHosted } from '../run-control.ts';
import type { CliContext } from './context.ts';

/** `isms run <controlId>`: one occurrence of a control, now. */
export function registerRunCommand(context: CliContext): void {
  const { program, print, withRuntime, withClient } = context;

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
          process.stderr.write(
            `${workflowId}: starting on task queue ${runtime.config.config.temporal.taskQueue}; a deployed worker runs it, with that worker's config and data folder\n`,
          );
          summary = await withClient((client) => runControl(client, runtime.config, controlId, occurrence));
        }
        print(options.json ? summary : describeRun(summary));
        process.exitCode = exitCodeOf(summary);
      });
    });
}

export function describeRun(summary: ControlRunSummary): string {
  const nc = summary.nonconformities;
  const lines = [
    `${summary.controlId}: ${summary.status.toUpperCase()} (${summary.runId})`,
    ...summary.evidence.map((ref) => `  evidence ${ref.id} ${ref.sourceName}: ${ref.recordCount} records, sha256 ${ref.sha256.slice(0, 16)}…`),
    ...summary.gaps.map((gap) => `  evidence gap ${gap.sourceName}: ${gap.errorType}: ${gap.reason}`),
    ...summary.checks.map(
      (check) =>
        `  check ${check.checkId}: ${check.status}${check.deviations ? ` (${check.deviations} deviations)` : ''}${check.message ? ` — ${check.message}` : ''}`,
    ),
    `  nonconformities: ${nc.opened.length} opened, ${nc.reopened.length} reopened, ${nc.stillObserved.length} still observed, ${nc.noLongerObserved.length} no longer observed`,
  ];
  return lines.join('\n');
}
