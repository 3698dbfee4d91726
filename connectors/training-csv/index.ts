import { z } from 'zod';
import { defineConnector } from '../contract.ts';
import { collectCsvRecords, CsvEncoding } from '../csv.ts';
import { DateFormat, Timezone } from '../dates.ts';
import { TrainingColumns, trainingMapper } from './mapping.ts';

/**
 * A learning platform's export of enrollments (KnowBe4's training campaign user CSV and the like): one row per
 * person and course, with when it was assigned and completed. Which people must have done which course is the
 * training check's question; this connector only reads what the platform says.
 */

export const TrainingCsvConfig = z
  .strictObject({
    path: z.string().min(1).describe("The CSV export, relative to the config file's folder."),
    delimiter: z.string().min(1).default(',').describe('The character between cells.'),
    encoding: z.enum(CsvEncoding).default('utf8').describe("The file's character encoding."),
    columns: TrainingColumns,
    dateFormat: DateFormat.default('iso').describe(
      'How the export writes dates: ISO 8601 (2026-09-30, or a timestamp) or day, month and year in one of these orders.',
    ),
    timezone: Timezone.default('UTC').describe("The zone of the export's wall-clock times and bare dates."),
  })
  .describe(
    "Training records from a learning platform's enrollment export (KnowBe4 and the like), one row per person and course: the column mapping says which column holds what.",
  );
export type TrainingCsvConfig = z.infer<typeof TrainingCsvConfig>;

export const trainingCsv = defineConnector({
  name: 'training-csv',
  kinds: ['training-record'],
  version: '1',
  config: TrainingCsvConfig,
  async *collect(config, ctx) {
    const file = config.path;
    ctx.provenance({ source: 'csv export', columns: config.columns, dateFormat: config.dateFormat, timezone: config.timezone });
    yield* collectCsvRecords({
      connector: 'training-csv',
      path: file,
      delimiter: config.delimiter,
      encoding: config.encoding,
      columns: config.columns,
      ctx,
      toRecord: trainingMapper({ file, columns: config.columns, dateFormat: config.dateFormat, timezone: config.timezone }),
      // A person may take a course more than once (a yearly refresher), and platforms export overlapping campaigns
      // twice: rows are not unique by content, only by where they are.
      key: { column: config.columns.email, noun: 'row', of: (record) => String(record.raw?.['line']) },
    });
  },
});
