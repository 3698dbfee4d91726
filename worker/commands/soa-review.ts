import type { Command } from 'commander';
import { completeObligation, describeOutcome, type ObligationOutcome } from '../../activities/obligations.ts';
import { ConfigError } from '../../core/errors.ts';
import { calendarOf, occurrenceWorkflows } from '../calendar.ts';
import { SOA_REVIEW_ACTIVITY, storedSoas } from '../soa-data.ts';
import { withTemporal, type CliContext } from './context.ts';
import { instantOf } from './report.ts';

/**
 * `isms soa review`: a person has reviewed the latest kept Statement of Applicability; the calendar's soa-review
 * occurrence is completed with that SoA (its HTML or CSV as generated, and its JSON) as evidence, through the
 * occurrence workflow's own Update. One obligation, one record: the SoA kept when it was generated is the record.
 */
export function registerSoaReviewCommand(context: CliContext): void {
  const { program, print, withRuntime } = context;
  const soa = program.commands.find((command) => command.name() === 'soa');
  if (!soa) throw new Error('isms soa review: register the soa command first');
  soa
    .command('review')
    .description("record that the latest kept SoA was reviewed: completes the calendar's soa-review occurrence with it as evidence")
    .requiredOption('--by <person>', 'who reviewed it')
    .option('--at <date>', 'when it was reviewed (default: now)')
    .option('--note <text>')
    .option('--occurrence <occurrenceId>', 'the soa-review occurrence it completes (default: the one due nearest to --at that is not done)')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ by: string; at?: string; note?: string; occurrence?: string; worker: boolean; json?: boolean }>();
      await withRuntime(async (runtime) => {
        const reviewedAt = new Date(options.at === undefined ? Date.now() : instantOf(options.at, '--at', runtime.config.config.timezone)).toISOString();
        const [latest] = await storedSoas(runtime.store);
        if (!latest) throw new ConfigError('soa review: no SoA is kept yet; `isms soa --out FILE` generates and keeps one');
        const rendered = (await runtime.store.findCommitted(latest.runId, 'soa.html')) ?? (await runtime.store.findCommitted(latest.runId, 'soa.csv'));
        const evidence = rendered
          ? [{ evidenceId: rendered.id }, { name: 'statement of applicability (JSON)', evidenceId: latest.id }]
          : [{ evidenceId: latest.id }];
        const outcome: ObligationOutcome = calendarOf(runtime).activities.has(SOA_REVIEW_ACTIVITY)
          ? await withTemporal(runtime, options.worker, (client) =>
              completeObligation(
                { config: runtime.config, store: runtime.store, occurrences: occurrenceWorkflows(client, runtime.config) },
                {
                  activityId: SOA_REVIEW_ACTIVITY,
                  ...(options.occurrence ? { occurrenceId: options.occurrence } : {}),
                  performedAt: reviewedAt,
                  by: options.by,
                  note: `reviewed the SoA generated ${latest.collectedAt} (evidence ${latest.id})${options.note ? `; ${options.note}` : ''}`,
                  evidence,
                },
              ),
            )
          : { outcome: 'no-activity', activityId: SOA_REVIEW_ACTIVITY };
        if (options.json) return print({ soa: latest.id, ...outcome });
        print(`SoA ${latest.id} (${latest.collectedAt}) reviewed by ${options.by}`);
        print(describeOutcome(outcome, 'it'));
      });
    });
}
