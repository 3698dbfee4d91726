import { loadConfig } from '../../config/load.ts';
import { syncCalendarSchedules } from '../calendar-schedules.ts';
import { syncReviewSchedules } from '../review-schedules.ts';
import { defaultRegistries } from '../runtime.ts';
import { listSchedules, syncSchedules } from '../schedules.ts';
import { table, type CliContext } from './context.ts';

/** `isms schedules sync|list`: the Temporal Schedules of controls, reviews and calendar activities. */
export function registerScheduleCommands(context: CliContext): void {
  const { program, configFile, print, withClient } = context;

  const schedules = program.command('schedules').description('Temporal Schedules, one per control');
  schedules
    .command('sync')
    .option('--dry-run', 'print the changes without making them')
    .action(async (options: { dryRun?: boolean }) => {
      const loaded = await loadConfig(configFile(), defaultRegistries);
      await withClient(async (client) => {
        const changes = [
          ...(await syncSchedules(client, loaded, { dryRun: options.dryRun })),
          ...(await syncReviewSchedules(client, loaded, { dryRun: options.dryRun })),
        ];
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
        print(
          table(
            listings.map((entry) => ({ ...entry, paused: entry.paused ? 'paused' : '', next: entry.nextRuns[0] ?? '' })),
            ['scheduleId', 'kind', 'paused', 'next', 'note'],
          ),
        );
      });
    });
}
