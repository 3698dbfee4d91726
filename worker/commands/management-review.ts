import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { completeObligation, describeOutcome, MANAGEMENT_REVIEW_ACTIVITY, type ObligationOutcome } from '../../activities/obligations.ts';
import { parseLocalDate } from '../../core/calendar-occurrences.ts';
import { ConfigError } from '../../core/errors.ts';
import {
  DECISION_STATUSES,
  ManagementReviewRefusal,
  ManagementReviewStore,
  type DecisionStatus,
  type ManagementReview,
} from '../../evidence/management-review.ts';
import { calendarOf, occurrenceWorkflows } from '../calendar.ts';
import { renderManagementReview } from '../management-review.ts';
import {
  gatherManagementReview,
  keepManagementReviewMinutes,
  keepManagementReviewPack,
  MANAGEMENT_REVIEW_CONTROL_ID,
  packHtmlOf,
  storedPacks,
} from '../management-review-data.ts';
import type { Runtime } from '../runtime.ts';
import { table, withTemporal, type CliContext } from './context.ts';
import { instantOf } from './report.ts';

/**
 * `isms management-review`: the pack of a period (kept as evidence), the decisions the review takes, their status
 * over time, and closing the review, which keeps its minutes and completes the calendar's management-review
 * occurrence with the pack and the minutes as evidence.
 */
export function registerManagementReviewCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;
  // A refusal of the review's state is the person's to correct: a usage error, like a bad option.
  const refused = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ManagementReviewRefusal) throw new ConfigError(error.message);
      throw error;
    }
  };

  const review = program
    .command('management-review')
    .description(
      'the management review pack of a period (ISO/IEC 27001 9.3): previous decisions, changes, nonconformities, monitoring, audits, risks, suppliers, training, improvement, with trend charts; kept as evidence',
    )
    .option('--from <date>', 'start of the period (inclusive): YYYY-MM-DD (midnight in the config time zone) or ISO 8601')
    .option('--to <date>', 'end of the period (exclusive), e.g. 2027-01-01')
    .option('--out <file>', 'the HTML file to write (the pack is kept as evidence)')
    .option('--json', 'print the gathered data as JSON instead (nothing is kept)')
    .action(async (options: { from?: string; to?: string; out?: string; json?: boolean }) => {
      if (options.from === undefined) throw new ConfigError('management-review: --from <date> is required');
      if (options.to === undefined) throw new ConfigError('management-review: --to <date> is required');
      if (!options.out && !options.json) throw new ConfigError('management-review: --out <file.html> is required (or --json to print the data)');
      await withRuntime(async (runtime) => {
        const zone = runtime.config.config.timezone;
        const range = { from: instantOf(options.from!, '--from', zone), to: instantOf(options.to!, '--to', zone) };
        if (range.to <= range.from) throw new ConfigError('--to must be after --from');
        const pack = await gatherManagementReview(runtime, range, Date.now());
        if (options.json) return print(pack);
        const html = renderManagementReview(pack);
        await writeFile(options.out!, html);
        const kept = await keepManagementReviewPack(runtime.store, pack, html);
        print(
          `${options.out}: management review pack of ${options.from} to ${options.to}; kept as evidence ${kept.json.id} (JSON) and ${kept.html.id} (HTML); ` +
            `previous decisions open: ${pack.previousActions.counts.open}; nonconformities opened ${pack.nonconformities.opened}, closed ${pack.nonconformities.closed}`,
        );
      });
    });

  review
    .command('decide')
    .description('record a decision of the management review being prepared (opened on the latest kept pack, or --pack)')
    .requiredOption('--text <text>', 'what was decided')
    .requiredOption('--owner <person>', 'who carries it out')
    .requiredOption('--due <date>', 'by when: YYYY-MM-DD')
    .requiredOption('--by <person>', 'who records it')
    .option('--pack <evidenceId>', 'the kept pack the review discusses (default: the latest)')
    .action(async (options: { text: string; owner: string; due: string; by: string; pack?: string }) => {
      if (options.text.trim() === '') throw new ConfigError('--text: the decision is empty');
      if (!parseLocalDate(options.due)) throw new ConfigError(`--due ${options.due}: not a date (YYYY-MM-DD)`);
      await withRuntime((runtime) =>
        refused(async () => {
          const reviews = new ManagementReviewStore(runtime.store.catalog);
          const now = new Date().toISOString();
          const open = (await reviews.openReview()) ?? (await reviews.open({ ...(await packToDiscuss(runtime, options.pack)), at: now, by: options.by }));
          if (options.pack !== undefined && open.packEvidenceId !== options.pack)
            throw new ConfigError(`--pack ${options.pack}: management review ${open.id} is open on pack ${open.packEvidenceId}; close it first`);
          const decision = await reviews.decide({
            reviewId: open.id,
            text: options.text.trim(),
            owner: options.owner,
            dueDate: options.due,
            at: now,
            by: options.by,
          });
          print(`${decision.id}: recorded on ${open.id} (pack ${open.packEvidenceId}), owner ${decision.owner}, due ${decision.dueDate}`);
        }),
      );
    });

  review
    .command('decision <decisionId>')
    .description('move a decision to done, dropped or back to open; the next pack shows its status')
    .requiredOption('--status <status>', DECISION_STATUSES.join(', '))
    .requiredOption('--by <person>', 'who says so')
    .option('--note <text>', 'why, or what was done')
    .action(async (decisionId: string, options: { status: string; by: string; note?: string }) => {
      if (!(DECISION_STATUSES as readonly string[]).includes(options.status))
        throw new ConfigError(`--status ${options.status}: not one of ${DECISION_STATUSES.join(', ')}`);
      await withRuntime((runtime) =>
        refused(async () => {
          const decision = await new ManagementReviewStore(runtime.store.catalog).setStatus(decisionId, options.status as DecisionStatus, {
            at: new Date().toISOString(),
            by: options.by,
            note: options.note,
          });
          print(`${decision.id}: ${decision.status}`);
        }),
      );
    });

  review
    .command('close')
    .description(
      "hold the open review: keep its minutes (decisions and the pack) as evidence and complete the calendar's management-review occurrence with them",
    )
    .requiredOption('--by <person>', 'who chaired or records the review')
    .option('--at <date>', 'when the review was held (default: now)')
    .option('--note <text>')
    .option('--occurrence <occurrenceId>', 'the management-review occurrence it completes (default: the one due nearest to --at that is not done)')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ by: string; at?: string; note?: string; occurrence?: string; worker: boolean; json?: boolean }>();
      await withRuntime((runtime) =>
        refused(async () => {
          const heldAt = new Date(options.at === undefined ? Date.now() : instantOf(options.at, '--at', runtime.config.config.timezone));
          const result = await closeReview(runtime, {
            by: options.by,
            at: heldAt.toISOString(),
            note: options.note,
            occurrenceId: options.occurrence,
            hostWorker: options.worker,
          });
          if (options.json) return print(result);
          print(
            `${result.review.id}: held ${result.review.heldAt} by ${result.review.heldBy}; ${result.decisions} decision(s); minutes kept as evidence ${result.review.minutesEvidenceId}`,
          );
          print(describeOutcome(result.calendar, 'the minutes and the pack'));
        }),
      );
    });

  review
    .command('list')
    .description('management reviews, their packs, decisions and the occurrences they completed')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ json?: boolean }>();
      await withRuntime(async (runtime) => {
        const reviews = new ManagementReviewStore(runtime.store.catalog);
        const rows = await Promise.all((await reviews.list()).map(async (entry) => ({ ...entry, decisions: await reviews.decisions(entry.id) })));
        if (options.json) return print(rows);
        print(
          table(
            rows.map((entry) => ({
              id: entry.id,
              pack: entry.packEvidenceId,
              held: entry.heldAt ?? '(open)',
              decisions: entry.decisions.map((decision) => `${decision.id} ${decision.status}`).join(', '),
              occurrence: entry.occurrenceId ?? '',
            })),
            ['id', 'pack', 'held', 'decisions', 'occurrence'],
          ),
        );
      });
    });
}

/** The pack a new review discusses: the one named, else the latest kept, with its period. */
async function packToDiscuss(runtime: Runtime, packId: string | undefined): Promise<{ packEvidenceId: string; period: { from: string; to: string } }> {
  const row = packId === undefined ? (await storedPacks(runtime.store))[0] : await runtime.store.get(packId);
  if (!row) {
    throw new ConfigError(
      packId === undefined
        ? 'no management review pack is kept yet: generate one with isms management-review --from DATE --to DATE --out FILE.html'
        : `--pack ${packId}: no such evidence`,
    );
  }
  if (row.controlId !== MANAGEMENT_REVIEW_CONTROL_ID || row.sourceName !== 'pack.json')
    throw new ConfigError(`--pack ${row.id}: not a kept management review pack (its JSON)`);
  const discussed = await new ManagementReviewStore(runtime.store.catalog).reviewOfPack(row.id);
  if (discussed?.heldAt) throw new ConfigError(`--pack ${row.id}: management review ${discussed.id} was held; generate a new pack for the next review`);
  const period = row.provenance['period'] as { from: string; to: string };
  return { packEvidenceId: row.id, period };
}

export interface ClosedReview {
  review: ManagementReview;
  decisions: number;
  calendar: ObligationOutcome;
}

/**
 * Holds the open review (or retries the calendar for a held one that has not completed its occurrence yet): keeps
 * the minutes, then completes the management-review occurrence through its workflow's Update.
 */
export async function closeReview(
  runtime: Runtime,
  input: { by: string; at: string; note?: string; occurrenceId?: string; hostWorker: boolean },
): Promise<ClosedReview> {
  const reviews = new ManagementReviewStore(runtime.store.catalog);
  const pending = (await reviews.openReview()) ?? (await reviews.list()).findLast((entry) => entry.heldAt !== null && entry.occurrenceId === null);
  if (!pending) throw new ConfigError('no management review is open: record its decisions first (isms management-review decide)');
  const decisions = await reviews.decisions(pending.id);
  if (decisions.length === 0) throw new ConfigError(`management review ${pending.id} has no decisions: record them first (isms management-review decide)`);
  const packJson = await runtime.store.get(pending.packEvidenceId);
  const packHtml = packJson && (await packHtmlOf(runtime.store, packJson));
  if (!packJson || !packHtml) throw new ConfigError(`management review ${pending.id}: its pack ${pending.packEvidenceId} is not in the evidence store`);

  const held = pending.heldAt
    ? pending
    : await reviews.hold(pending.id, {
        at: input.at,
        by: input.by,
        note: input.note,
        minutesEvidenceId: (
          await keepManagementReviewMinutes(runtime.store, { ...pending, heldAt: input.at, heldBy: input.by, note: input.note ?? null }, decisions, {
            json: packJson,
            html: packHtml,
          })
        ).id,
      });
  const record = {
    activityId: MANAGEMENT_REVIEW_ACTIVITY,
    ...(input.occurrenceId ? { occurrenceId: input.occurrenceId } : {}),
    performedAt: held.heldAt!,
    by: held.heldBy!,
    note: `management review ${held.id}: ${decisions.length} decision(s) on pack ${held.packEvidenceId}${held.note ? `; ${held.note}` : ''}`,
    evidence: [{ evidenceId: held.minutesEvidenceId! }, { name: 'management review pack', evidenceId: packHtml.id }],
  };
  const calendar: ObligationOutcome = calendarOf(runtime).activities.has(MANAGEMENT_REVIEW_ACTIVITY)
    ? await withTemporal(runtime, input.hostWorker, (client) =>
        completeObligation({ config: runtime.config, store: runtime.store, occurrences: occurrenceWorkflows(client, runtime.config) }, record),
      )
    : { outcome: 'no-activity', activityId: MANAGEMENT_REVIEW_ACTIVITY };
  if (calendar.outcome === 'completed' || calendar.outcome === 'already-done') await reviews.completedOccurrence(held.id, calendar.occurrenceId);
  return { review: (await reviews.get(held.id))!, decisions: decisions.length, calendar };
}
