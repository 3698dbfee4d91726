import { z } from 'zod';
import type { TrainingRecord } from '../../core/records.ts';
import { csvRowParser, dateCell, emailCell, textCell, type CsvRow } from '../csv.ts';
import type { DateFormat } from '../dates.ts';

/** Our fields, each mapped to the header of the export's column that holds it. */
export const TrainingColumns = z
  .strictObject({
    email: z.string().trim().min(1).describe("The header of the learner's email address column; records join HR people by it (or by employee id)."),
    course: z.string().trim().min(1).describe('The header of the course name column.'),
    completed: z.string().trim().min(1).describe('The header of the completion date column; an empty cell means not completed.'),
    assigned: z.string().trim().min(1).optional().describe('The header of the column with when the learner was enrolled in (assigned) the course.'),
    employeeId: z.string().trim().min(1).optional().describe('The header of the employee id column; a learner joins the HR person of the same id first.'),
    displayName: z.string().trim().min(1).optional().describe("The header of the learner's name column."),
    status: z.string().trim().min(1).optional().describe("The header of the platform's enrollment status column, kept with the record."),
  })
  .describe('Which column of the export holds what: each value is a header of the CSV file.');
export type TrainingColumns = z.infer<typeof TrainingColumns>;

export interface TrainingRules {
  readonly file: string;
  readonly columns: TrainingColumns;
  readonly dateFormat: DateFormat;
  readonly timezone: string;
}

function rowSchema(rules: TrainingRules) {
  const date = dateCell(rules.dateFormat, rules.timezone);
  return z.object({
    email: emailCell.pipe(z.string('the email address is empty')),
    course: textCell.pipe(z.string('the course is empty')),
    completed: date,
    assigned: date,
    employeeId: textCell,
    displayName: textCell,
    status: textCell,
  });
}

/** Turns one exported row into a TrainingRecord, or throws naming the file, line and column at fault. */
export function trainingMapper(rules: TrainingRules): (row: CsvRow) => TrainingRecord {
  const parse = csvRowParser({ connector: 'training-csv', file: rules.file }, rules.columns, rowSchema(rules));
  return (row) => {
    const { fields } = parse(row);
    return {
      kind: 'training-record',
      source: 'training-csv',
      person: fields.email,
      employeeId: fields.employeeId,
      displayName: fields.displayName,
      course: fields.course,
      assignedAt: fields.assigned,
      completedAt: fields.completed,
      status: fields.status,
      raw: { line: row.line },
    };
  };
}
