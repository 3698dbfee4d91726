import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { addMonthsClamped, parseLocalDate } from '../../core/calendar-occurrences.ts';
import { ConfigError } from '../../core/errors.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { renderIcs } from '../calendar-ics.ts';
import { calendarRows, statusOf, type OccurrenceStatus } from '../calendar-report.ts';
import { calendarView, completeOccurrence, coverageOf, openOccurrence, reassignOccurrence, recordChange } from '../calendar.ts';
import { table, type CliContext, withTemporal } from './context.ts';

const LIST_STATUSES = ['open', 'overdue', 'done'] as const;
type ListStatus = (typeof LIST_STATUSES)[number];
const STATUSES_OF: Record<ListStatus, readonly OccurrenceStatus[]> = { open: ['open'], overdue: ['overdue', 'missed'], done: ['done', 'done-late'] };
const AFFECTS = ['scope', 'risk', 'soa', 'policy', 'controls', 'suppliers', 'assets'];

/**
 * `isms calendar` (occurrences, ICS export, expected vs actual), `isms activity` (list, open, complete, reassign)
 * and `isms change record`. Commands that send an Update host a worker while they run, as `isms run` does;
 * `--no-worker` leaves the work to a deployed one.
 */
export function registerCalendarCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

  const calendar = program
    .command('calendar')
    .description('the maintenance calendar: occurrences with owner, due date and status; --ics exports RFC 5545')
    .option('--from <date>', 'first due date (default: today)')
    .option('--to <date>', 'due before this date (default: 12 months after --from)')
    .option('--json', 'JSON output')
    .option('--ics <file>', 'write the occurrences as iCalendar (stable UIDs: re-importing updates)')
    .action(async (options: { from?: string; to?: string; json?: boolean; ics?: string }) => {
      await withRuntime(async (runtime) => {
        const now = Date.now();
        const range = rangeOf(options, now, 12);
        const rows = await calendarView(runtime, range, now);
        if (options.ics) {
          await writeFile(
            options.ics,
            renderIcs(rows, { now, name: `ISMS maintenance calendar${runtime.config.config.organisation ? ` (${runtime.config.config.organisation})` : ''}` }),
          );
          print(`${options.ics}: ${rows.length} occurrences`);
          return;
        }
        if (options.json) return print(rows);
        print(table(rows, ['occurrenceId', 'activity', 'owner', 'due', 'status']));
      });
    });

  calendar
    .command('coverage')
    .description('expected vs actual: per control and activity, the expected occurrences in the period and which produced evidence (exit 1 on gaps)')
    .option('--from <date>', 'period start (default: 12 months ago)')
    .option('--to <date>', 'period end, exclusive (default: now)')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, command: Command) => {
      // `calendar` has the same options; Commander hands them to whichever command comes first on the line.
      const options = command.optsWithGlobals<{ from?: string; to?: string; json?: boolean }>();
      await withRuntime(async (runtime) => {
        const now = Date.now();
        const to = options.to ? dateOf(options.to, '--to') : now;
        const from = options.from ? dateOf(options.from, '--from') : Date.parse(addMonthsIso(new Date(to).toISOString().slice(0, 10), -12));
        const summaries = await coverageOf(runtime, { from, to }, now);
        if (options.json) print(summaries);
        else {
          print(
            table(
              summaries.map((summary) => ({
                kind: summary.kind,
                id: summary.id,
                expected: summary.error ? '?' : summary.expected,
                satisfied: summary.satisfied,
                gaps: summary.error ? `cannot tell: ${summary.error}` : summary.gaps.map((at) => at.slice(0, 10)).join(' '),
              })),
              ['kind', 'id', 'expected', 'satisfied', 'gaps'],
            ),
          );
        }
        if (summaries.some((summary) => summary.gaps.length > 0)) process.exitCode = 1;
      });
    });

  const activity = program.command('activity').description('occurrences of calendar activities: list, open, complete, reassign');
  activity
    .command('list')
    .addOption(new Option('--status <status>', 'only these').choices(LIST_STATUSES))
    .option('--json', 'JSON output')
    .action(async (options: { status?: ListStatus; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const now = Date.now();
        const recorded = await new CalendarStore(runtime.store.catalog).list();
        const rows = calendarRows([], recorded, now).filter((row) => !options.status || STATUSES_OF[options.status].includes(row.status));
        if (options.json) return print(rows);
        print(table(rows, ['occurrenceId', 'activity', 'owner', 'due', 'status', 'nonconformityId']));
      });
    });

  activity
    .command('open <activityId>')
    .description('start an occurrence now, before its schedule would (default: the next one due)')
    .option('--due <date>', 'the due date of the occurrence to open')
    .action(async (activityId: string, options: { due?: string }) => {
      await withRuntime(async (runtime) => {
        const occurrence = await withTemporal(runtime, false, (client) => openOccurrence(client, runtime.config, activityId, { dueDate: options.due }), {
          withoutWorker: 'tell',
        });
        print(`${occurrence.occurrenceId}: open, due ${occurrence.due}, owner ${occurrence.owner}`);
      });
    });

  activity
    .command('complete <occurrenceId>')
    .description('complete an occurrence; files are stored as evidence (with sha256) before the workflow hears of them')
    .requiredOption('--by <person>', 'who performed it')
    .option('--note <text>')
    .option('--at <date>', 'when it was performed (default: now)')
    .option('--evidence <file...>', 'evidence files, FILE or "NAME=FILE" (NAME as the calendar expects it)')
    .option('--link <url...>', 'evidence links, URL or "NAME=URL"')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .option('--json', 'JSON output')
    .action(
      async (
        occurrenceId: string,
        options: { by: string; note?: string; at?: string; evidence?: string[]; link?: string[]; worker: boolean; json?: boolean },
      ) => {
        await withRuntime(async (runtime) => {
          if (options.at !== undefined) dateOf(options.at, '--at');
          const receipt = await withTemporal(runtime, options.worker, (client) =>
            completeOccurrence(client, runtime, occurrenceId, {
              by: options.by,
              note: options.note,
              at: options.at,
              files: options.evidence,
              links: options.link,
            }),
          );
          if (options.json) return print(receipt);
          print(
            `${receipt.occurrenceId}: done${receipt.late ? ' (late)' : ''} by ${receipt.completedBy}${receipt.settledNonconformity ? `; ${receipt.settledNonconformity} is no longer observed (verify and close)` : ''}`,
          );
        });
      },
    );

  activity
    .command('reassign <occurrenceId>')
    .requiredOption('--owner <person>', 'the new owner')
    .requiredOption('--by <person>', 'who reassigns it')
    .option('--no-worker', 'do not host a worker: a deployed worker serves the task queue')
    .action(async (occurrenceId: string, options: { owner: string; by: string; worker: boolean }) => {
      await withRuntime(async (runtime) => {
        const result = await withTemporal(runtime, options.worker, (client) =>
          reassignOccurrence(client, occurrenceId, { owner: options.owner, by: options.by }),
        );
        print(`${occurrenceId}: owner ${result.owner}`);
      });
    });

  activity
    .command('show <occurrenceId>')
    .description('an occurrence with its notices, completion and nonconformity (JSON)')
    .action(async (occurrenceId: string) => {
      await withRuntime(async (runtime) => {
        const store = new CalendarStore(runtime.store.catalog);
        const occurrence = await store.get(occurrenceId);
        if (!occurrence) throw new ConfigError(`no occurrence ${occurrenceId}`);
        print({ ...occurrence, displayStatus: statusOf(occurrence, Date.now()), events: await store.events(occurrenceId) });
      });
    });

  const change = program.command('change').description('changes to the ISMS and their reviews (clause 6.3)');
  change
    .command('record')
    .description('record a change and start its review ("does this change affect our ISMS?") due in N days')
    .requiredOption('--title <text>')
    .requiredOption('--affects <list>', `comma-separated: ${AFFECTS.join(', ')}`)
    .option('--description <text>')
    .option(
      '--risks <ids>',
      'comma-separated ids of the risk register entries the change affects (with --affects risk); the risk-change-unreviewed check expects each reviewed after the change',
    )
    .option('--by <person>', 'who records it', process.env.USER ?? 'unknown')
    .option('--due-in <days>', 'review due in this many days (default: calendar.changeReview.dueInDays)')
    .action(async (options: { title: string; affects: string; description?: string; risks?: string; by: string; dueIn?: string }) => {
      const affects = options.affects
        .split(',')
        .map((item) => item.trim().toLowerCase())
        .filter(Boolean);
      const unknown = affects.filter((item) => !AFFECTS.includes(item));
      if (affects.length === 0 || unknown.length > 0) throw new ConfigError(`--affects: ${unknown.join(', ') || '(empty)'}: expected ${AFFECTS.join(', ')}`);
      const risks =
        options.risks === undefined
          ? []
          : [
              ...new Set(
                options.risks
                  .split(',')
                  .map((item) => item.trim())
                  .filter(Boolean),
              ),
            ];
      if (risks.length > 0 && !affects.includes('risk')) throw new ConfigError('--risks names risks the change affects: --affects must include risk');
      const dueInDays = options.dueIn === undefined ? undefined : Number(options.dueIn);
      if (dueInDays !== undefined && !(Number.isInteger(dueInDays) && dueInDays > 0))
        throw new ConfigError(`--due-in ${options.dueIn}: a whole number of days`);
      await withRuntime(async (runtime) => {
        const recorded = await withTemporal(
          runtime,
          false,
          (client) => recordChange(client, runtime, { title: options.title, description: options.description, affects, risks, by: options.by, dueInDays }),
          { withoutWorker: 'tell' },
        );
        print(`${recorded.change.id}: recorded; review ${recorded.occurrence.occurrenceId} due ${recorded.occurrence.due}, owner ${recorded.occurrence.owner}`);
      });
    });
  change
    .command('list')
    .option('--json', 'JSON output')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const changes = await new CalendarStore(runtime.store.catalog).changes();
        if (options.json) return print(changes);
        print(
          table(
            changes.map((entry) => ({ ...entry, affects: entry.affects.join(','), risks: entry.risks.join(',') })),
            ['id', 'title', 'affects', 'risks', 'recordedAt', 'recordedBy', 'occurrenceId'],
          ),
        );
      });
    });
}

function dateOf(text: string, option: string): number {
  const time = parseLocalDate(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(time)) throw new ConfigError(`${option} ${text}: not a date (YYYY-MM-DD or ISO 8601)`);
  return time;
}

function addMonthsIso(date: string, months: number): string {
  const moved = addMonthsClamped(parseLocalDate(date)!, months);
  return `${String(moved.year).padStart(4, '0')}-${String(moved.month).padStart(2, '0')}-${String(moved.day).padStart(2, '0')}T00:00:00Z`;
}

function rangeOf(options: { from?: string; to?: string }, now: number, months: number): { from: number; to: number } {
  const from = options.from ? dateOf(options.from, '--from') : Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
  const to = options.to ? dateOf(options.to, '--to') : Date.parse(addMonthsIso(new Date(from).toISOString().slice(0, 10), months));
  if (to <= from) throw new ConfigError('--to must be after --from');
  return { from, to };
}
