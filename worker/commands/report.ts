import { writeFile } from 'node:fs/promises';
import { fromZoned, parseLocalDate } from '../../core/calendar-occurrences.ts';
import { ConfigError } from '../../core/errors.ts';
import { renderAuditReport } from '../audit-report.ts';
import { gatherAuditReport } from '../audit-report-data.ts';
import type { CliContext } from './context.ts';
import { frameworkOption } from './soa.ts';

/** `isms report`: the audit-readiness report of a period as one self-contained HTML file, or its data as JSON. */
export function registerReportCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

  program
    .command('report')
    .description(
      'the audit-readiness report of a period: coverage heatmap, control status, nonconformity log, remediation times, leaver clock, calendar and audit dates, as one self-contained HTML file',
    )
    .requiredOption('--from <date>', 'start of the period (inclusive): YYYY-MM-DD (midnight in the config time zone) or ISO 8601')
    .requiredOption('--to <date>', 'end of the period (exclusive), e.g. 2027-01-01')
    .option('--out <file>', 'the HTML file to write')
    .option('--json', 'print the gathered data as JSON instead of writing HTML')
    .option('--framework <framework>', "label and group the controls by this framework's ids: iso27001:2022 (default), soc2, nist-csf-2.0", 'iso27001:2022')
    .action(async (options: { from: string; to: string; out?: string; json?: boolean; framework: string }) => {
      if (!options.out && !options.json) throw new ConfigError('report: --out <file.html> is required (or --json to print the data)');
      const framework = frameworkOption(options.framework);
      await withRuntime(async (runtime) => {
        const zone = runtime.config.config.timezone;
        const range = { from: instantOf(options.from, '--from', zone), to: instantOf(options.to, '--to', zone) };
        if (range.to <= range.from) throw new ConfigError('--to must be after --from');
        const data = await gatherAuditReport(runtime, range, Date.now(), framework);
        if (options.json) return print(data);
        await writeFile(options.out!, renderAuditReport(data));
        const cells = data.heatmap.rows.flatMap((row) => row.cells);
        print(
          `${options.out}: ${data.heatmap.rows.length} controls and activities x ${data.heatmap.columns.length} ${data.heatmap.unit}s; ` +
            `cells missing: ${cells.filter((cell) => cell.state === 'none').length}, partial: ${cells.filter((cell) => cell.state === 'some').length}; ` +
            `nonconformities in the period: ${data.nonconformities.length}; open findings past SLA: ${data.remediation.openPastSla}`,
        );
      });
    });
}

export function instantOf(text: string, option: string, zone: string): number {
  const date = parseLocalDate(text);
  const instant = date ? fromZoned({ ...date, hour: 0, minute: 0, second: 0 }, zone) : Date.parse(text);
  if (Number.isNaN(instant)) throw new ConfigError(`${option} ${text}: not a date (YYYY-MM-DD or ISO 8601)`);
  return instant;
}
