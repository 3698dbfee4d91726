import { z } from 'zod';
import { defineConnector } from '../contract.ts';
import { collectCsvRecords, CsvEncoding, namedAndCounted } from '../csv.ts';
import { DateFormat, Timezone } from '../dates.ts';
import { ColumnMapping, personMapper, type MappingRules } from './mapping.ts';

export { HEARTBEAT_EVERY_ROWS } from '../csv.ts';

/** Leavers without a termination date named one by one in the warning; the rest are counted. */
const UNDATED_LEAVERS_NAMED = 10;

const StatusList = z.array(z.string().trim().min(1)).min(1);

export const HrCsvConfig = z
  .strictObject({
    path: z.string().min(1).describe("The CSV export, relative to the config file's folder."),
    delimiter: z.string().min(1).default(',').describe('The character between cells.'),
    encoding: z.enum(CsvEncoding).default('utf8').describe("The file's character encoding."),
    columns: ColumnMapping,
    leaverStatuses: StatusList.default(['terminated', 'inactive', 'leaver', 'left']).describe('Status cells (case-insensitive) that mark a leaver.'),
    activeStatuses: StatusList.default(['active', 'on leave', 'leave', 'onboarding']).describe(
      'Status cells (case-insensitive) that mark a current employee; a status in neither list fails the collection, naming its line.',
    ),
    dateFormat: DateFormat.default('iso').describe(
      'How the export writes dates: ISO 8601 (2026-09-30, or a timestamp) or day, month and year in one of these orders.',
    ),
    timezone: Timezone.default('UTC').describe("The zone the export's bare dates are days of; a termination date takes effect at the start of its day there."),
  })
  .superRefine((config, ctx) => {
    if (config.columns.status === undefined && config.columns.terminationDate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'map at least one of status and terminationDate, or no one can ever be a leaver' });
    }
    const active = new Set(config.activeStatuses.map((status) => status.toLowerCase()));
    const both = config.leaverStatuses.filter((status) => active.has(status.toLowerCase()));
    if (both.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['leaverStatuses'], message: `${both.map((status) => `"${status}"`).join(', ')} is also an active status` });
    }
  })
  .describe('People from an HRIS CSV export, for the leaver and orphan-account checks: the column mapping says which column holds what.');
export type HrCsvConfig = z.infer<typeof HrCsvConfig>;

export const hrCsv = defineConnector({
  name: 'hr-csv',
  kinds: ['hr-person'],
  version: '1',
  config: HrCsvConfig,
  async *collect(config, ctx) {
    const file = config.path;
    const rules: MappingRules = { ...config, file };
    ctx.provenance({ source: 'csv export', columns: config.columns, dateFormat: config.dateFormat, timezone: config.timezone });

    const undatedLeavers: string[] = [];
    let undatedCount = 0;
    yield* collectCsvRecords({
      connector: 'hr-csv',
      path: file,
      delimiter: config.delimiter,
      encoding: config.encoding,
      columns: config.columns,
      ctx,
      toRecord: personMapper(rules),
      key: { column: config.columns.employeeId, noun: 'employee id', of: (person) => person.employeeId },
      observe(person, row) {
        if (person.status !== 'leaver' || person.terminationDate !== null) return;
        undatedCount += 1;
        if (undatedLeavers.length < UNDATED_LEAVERS_NAMED) undatedLeavers.push(`${person.employeeId} (line ${row.line})`);
      },
    });

    if (undatedCount > 0) {
      ctx.warn(
        `hr-csv: ${file}: ${undatedCount} leaver(s) have no termination date, so no revocation deadline can be checked for them: employee ${namedAndCounted(undatedLeavers, undatedCount)}`,
      );
    }
  },
});
