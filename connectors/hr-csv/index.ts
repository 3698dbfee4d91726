import { resolve } from 'node:path';
import { z } from 'zod';
import { defineConnector } from '../contract.ts';
import { MalformedResponseError } from '../errors.ts';
import { DateFormat, Timezone } from '../dates.ts';
import { ColumnMapping, checkHeader, personMapper, type MappingRules } from './mapping.ts';
import { CsvEncoding, readCsvRows, type CsvFileDigest } from './reader.ts';

/** Rows between heartbeats: each heartbeat reports how many rows are done, and a retry skips that many. */
export const HEARTBEAT_EVERY_ROWS = 10_000;

/** Leavers without a termination date named one by one in the warning; the rest are counted. */
const UNDATED_LEAVERS_NAMED = 10;

const StatusList = z.array(z.string().trim().min(1)).min(1);

export const HrCsvConfig = z
  .strictObject({
    /** The export, relative to the config file's folder. */
    path: z.string().min(1),
    delimiter: z.string().min(1).default(','),
    encoding: z.enum(CsvEncoding).default('utf8'),
    columns: ColumnMapping,
    leaverStatuses: StatusList.default(['terminated', 'inactive', 'leaver', 'left']),
    activeStatuses: StatusList.default(['active', 'on leave', 'leave', 'onboarding']),
    dateFormat: DateFormat.default('iso'),
    /** The zone the export's bare dates are days of; a termination date takes effect at the start of its day there. */
    timezone: Timezone.default('UTC'),
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
  });
export type HrCsvConfig = z.infer<typeof HrCsvConfig>;

function rowsAlreadyCollected(cursor: string | undefined, file: string): number {
  if (cursor === undefined) return 0;
  if (!/^\d+$/.test(cursor)) throw new MalformedResponseError(`hr-csv: ${file}: resume cursor "${cursor}" is not a row count`);
  return Number(cursor);
}

export const hrCsv = defineConnector({
  name: 'hr-csv',
  kinds: ['hr-person'],
  version: '1',
  config: HrCsvConfig,
  async *collect(config, ctx) {
    const file = config.path;
    const absolutePath = resolve(ctx.baseDir, config.path);
    const rules: MappingRules = { ...config, file };
    const toPerson = personMapper(rules);
    const skip = rowsAlreadyCollected(ctx.resumeCursor, file);
    ctx.provenance({
      source: 'csv export',
      columns: config.columns,
      dateFormat: config.dateFormat,
      timezone: config.timezone,
      ...(skip > 0 ? { resumedAfterRows: skip } : {}),
    });

    // Rows before the cursor are read again, not yielded: a duplicate id or a leaver without a date
    // anywhere in the file must still be seen.
    const firstLineOf = new Map<string, number>();
    const undatedLeavers: string[] = [];
    let undatedCount = 0;
    let rows = 0;
    let digest: CsvFileDigest | undefined;
    const csvRows = readCsvRows({
      file,
      absolutePath,
      delimiter: config.delimiter,
      encoding: config.encoding,
      signal: ctx.signal,
      onHeader: (header) => checkHeader(header, rules),
      onDigest: (read) => {
        digest = read;
      },
    });
    for await (const row of csvRows) {
      rows += 1;
      const person = toPerson(row);
      const earlier = firstLineOf.get(person.employeeId);
      if (earlier !== undefined) {
        throw new MalformedResponseError(
          `hr-csv: ${file}: line ${row.line}: column "${config.columns.employeeId}": employee id "${person.employeeId}" is already on line ${earlier}`,
        );
      }
      firstLineOf.set(person.employeeId, row.line);
      if (person.status === 'leaver' && person.terminationDate === null) {
        undatedCount += 1;
        if (undatedLeavers.length < UNDATED_LEAVERS_NAMED) undatedLeavers.push(`${person.employeeId} (line ${row.line})`);
      }
      if (rows <= skip) continue;
      yield person;
      if (rows % HEARTBEAT_EVERY_ROWS === 0) await ctx.heartbeat(String(rows));
    }

    if (rows < skip) {
      throw new MalformedResponseError(`hr-csv: ${file}: has ${rows} rows but an earlier attempt already collected ${skip}: the file changed during the collection`);
    }
    if (undatedCount > 0) {
      const more = undatedCount > undatedLeavers.length ? ` and ${undatedCount - undatedLeavers.length} more` : '';
      ctx.warn(
        `hr-csv: ${file}: ${undatedCount} leaver(s) have no termination date, so no revocation deadline can be checked for them: employee ${undatedLeavers.join(', ')}${more}`,
      );
    }
    ctx.provenance({ file: { path: file, absolutePath, sha256: digest?.sha256, bytes: digest?.bytes, rows } });
  },
});
