import { Option } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { NonconformityStatus } from '../../core/nonconformity.ts';
import { table, type CliContext } from './context.ts';

/** `isms nc list|show|update`: the nonconformity register. */
export function registerNonconformityCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

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
    .action(
      async (id: string, options: { status: NonconformityStatus; by: string; note?: string; rootCause?: string; correctiveAction?: string; due?: string }) => {
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
      },
    );
}
