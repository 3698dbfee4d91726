import { LeaverClock } from '../../evidence/leaver-clock.ts';
import { table, type CliContext } from './context.ts';

/** `isms leavers`: the leaver clock. */
export function registerLeaverCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

  program
    .command('leavers')
    .description('the leaver clock: per leaver and system, the last run that found the account usable and the first that found it revoked')
    .option('--json', 'JSON output')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(async ({ store }) => {
        const rows = await new LeaverClock(store.catalog).list();
        if (options.json) return print(rows);
        print(
          table(
            rows.map((row) => ({
              ...row,
              revoked:
                row.revokedObservedAt === null
                  ? `not yet (usable at ${row.lastSeenActiveAt})`
                  : `after ${row.revokedAfterHours.atLeast}-${row.revokedAfterHours.atMost} h`,
            })),
            ['employeeId', 'tenant', 'account', 'terminationDate', 'revoked'],
          ),
        );
      });
    });
}
