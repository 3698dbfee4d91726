import { writeFile } from 'node:fs/promises';
import { Option } from 'commander';
import { reviewCsv, reviewHtml } from '../../activities/review-report.ts';
import { reviewListsOf } from '../../activities/review-lists.ts';
import { ConfigError } from '../../core/errors.ts';
import { resolveReview } from '../../config/review.ts';
import { AccessReviewStore, ReviewRefusal, type ReviewEntry } from '../../evidence/access-reviews.ts';
import { REVIEW_DECISIONS, type ReviewDecision } from '../../core/access-review-contracts.ts';
import { decideReview, openReview, waitForReviewLists } from '../review.ts';
import { EXIT, table, type CliContext, withTemporal } from './context.ts';

/**
 * `isms review`: open an access review campaign, list and show campaigns (with CSV and HTML exports), and record
 * decisions. `open` and `decide` host a worker while they run, as `isms run` does, so they work with or without a
 * deployed worker; `--no-worker` leaves the work to the deployed one.
 */
export function registerReviewCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;
  const review = program.command('review').description('access review campaigns (A.5.18): open, list, show, decide');

  review
    .command('open <controlId>')
    .description("open the current period's campaign of a control (or attach to the one already open) and wait for its review lists")
    .option('--period <label>', 'the period to open, e.g. 2026-Q4 (default: the period of now)')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .option('--json', 'JSON output')
    .action(async (controlId: string, options: { period?: string; worker: boolean; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        // A control without a review is a config error, told before any connection is tried.
        resolveReview(runtime.config, controlId);
        const progress = await withTemporal(runtime, options.worker, async (client) => {
          const opened = await openReview(client, runtime.config, controlId, { period: options.period });
          return waitForReviewLists(client, opened.campaignId);
        });
        const reviews = new AccessReviewStore(runtime.store.catalog);
        const campaign = await reviews.get(progress.campaignId);
        if (options.json) return print({ progress, campaign });
        print(campaign ? describeCampaign(campaign, await reviews.entries(campaign.id)) : `${progress.campaignId}: ${progress.phase}`);
      });
    });

  review
    .command('list')
    .description('campaigns, newest first')
    .option('--control <id>', 'only this control')
    .option('--json', 'JSON output')
    .action(async (options: { control?: string; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const campaigns = await new AccessReviewStore(runtime.store.catalog).list({ controlId: options.control });
        if (options.json) return print(campaigns);
        print(table(campaigns, ['id', 'status', 'openedAt', 'dueAt', 'entryCount', 'undecided']));
      });
    });

  review
    .command('show <campaignId>')
    .description('a campaign with its entries and decisions; --csv/--html write its review lists as they stand now')
    .option('--csv <file>', 'write the entries as CSV')
    .option('--html <file>', 'write the review lists as a self-contained HTML page')
    .option('--json', 'JSON output')
    .action(async (campaignId: string, options: { csv?: string; html?: string; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const reviews = new AccessReviewStore(runtime.store.catalog);
        const campaign = await reviews.get(campaignId);
        if (!campaign) throw new ConfigError(`no access review campaign ${campaignId} (see isms review list)`);
        const entries = await reviews.entries(campaignId);
        if (options.csv) await writeFile(options.csv, reviewCsv(entries));
        if (options.html) await writeFile(options.html, reviewHtml(campaign, entries));
        if (options.json) return print({ ...campaign, entries, decisions: await reviews.decisionHistory(campaignId) });
        print(describeCampaign(campaign, entries));
        print(
          table(
            entries.map((entry) => ({
              entry: entry.entryNo,
              system: entry.system,
              account: entry.username,
              owner: entry.flags.owner ? `${entry.flags.owner.employeeId}${entry.flags.owner.joinedBy ? ` by ${entry.flags.owner.joinedBy}` : ''}` : '',
              flags: flagsOf(entry).join(' '),
              decision: entry.decision ?? '',
              by: entry.decidedBy ?? '',
              verified: entry.verification ?? '',
            })),
            ['entry', 'system', 'account', 'owner', 'flags', 'decision', 'by', 'verified'],
          ),
        );
      });
    });

  review
    .command('decide <campaignId> <entry...>')
    .description('record a decision on entries: numbers, ranges such as 3-7, or <source>:<username>')
    .addOption(new Option('--decision <decision>', 'what to do with the access').choices(REVIEW_DECISIONS).makeOptionMandatory())
    .requiredOption('--by <person>', 'who decides')
    .option('--reason <text>', 'why (required for defer)')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .action(async (campaignId: string, entries: string[], options: { decision: ReviewDecision; by: string; reason?: string; worker: boolean }) => {
      await withRuntime(async (runtime) => {
        try {
          // The decision that completes the lists closes the campaign: that happens on this worker, not on the next one to start.
          const result = await withTemporal(
            runtime,
            options.worker,
            (client) => decideReview(client, campaignId, { entries, decision: options.decision, by: options.by, reason: options.reason }),
            {
              settle: [campaignId],
            },
          );
          print(
            `${campaignId}: ${result.decision} recorded on entr${result.entries.length === 1 ? 'y' : 'ies'} ${result.entries.join(', ')}; ${result.undecided} undecided`,
          );
        } catch (error) {
          if (!(error instanceof ReviewRefusal)) throw error;
          process.stderr.write(`${campaignId}: decision refused: ${error.message}\n`);
          process.exitCode = EXIT.usage;
        }
      });
    });
}

function flagsOf(entry: ReviewEntry): string[] {
  return [
    entry.privileged ? 'privileged' : '',
    entry.mfa === false ? 'no-mfa' : '',
    entry.flags.inactive ? 'inactive' : '',
    entry.flags.neverUsed ? 'never-used' : '',
    entry.flags.leaver ? 'leaver' : '',
    entry.flags.orphan ? 'orphan' : '',
    entry.flags.serviceAccount ? 'service-account' : '',
  ].filter(Boolean);
}

function describeCampaign(
  campaign: {
    id: string;
    status: string;
    openedAt: string;
    dueAt: string;
    entryCount: number;
    undecided: number;
    missingSources: string[];
    reportEvidenceIds: string[];
  },
  entries: readonly ReviewEntry[],
): string {
  return [
    `${campaign.id}: ${campaign.status}, opened ${campaign.openedAt}, due ${campaign.dueAt}; ${campaign.entryCount} entries, ${campaign.undecided} undecided`,
    ...reviewListsOf(entries).map(
      (list) =>
        `  ${list.system} (reviewer ${list.reviewer}): ${list.entries.length} accounts, ${list.entries.filter((entry) => entry.decision === null).length} undecided`,
    ),
    ...(campaign.missingSources.length > 0 ? [`  not reviewed (evidence gap): ${campaign.missingSources.join(', ')}`] : []),
    `  exports kept as evidence: ${campaign.reportEvidenceIds.join(', ') || 'none yet'}`,
  ].join('\n');
}
