import { z } from 'zod';
import type { HrPerson } from '../../core/records.ts';
import { cellShape, csvRowParser, dateCell, emailCell, folded, isEmailAddress, textCell, type CsvRow } from '../csv.ts';
import type { DateFormat } from '../dates.ts';

/** Our fields, each mapped to the header of the export's column that holds it. */
export const ColumnMapping = z
  .strictObject({
    employeeId: z.string().trim().min(1).describe("The header of the column with the HR system's employee id."),
    email: z.string().trim().min(1).optional().describe('The header of the work email column; accounts join people by it.'),
    aliases: z.string().trim().min(1).optional().describe('One column holding every other address or login of the person, separated by `;`, `,` or spaces.'),
    displayName: z.string().trim().min(1).optional().describe('The header of the name column.'),
    status: z.string().trim().min(1).optional().describe('The header of the employment status column (see leaverStatuses and activeStatuses).'),
    terminationDate: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe('The header of the termination date column; without a status column a date makes the person a leaver.'),
    lastWorkingDay: z.string().trim().min(1).optional().describe('The header of the last working day column, kept with the person.'),
    manager: z.string().trim().min(1).optional().describe('The header of the manager column (an email address, or a name).'),
    hireDate: z.string().trim().min(1).optional().describe('The header of the hire date column; onboarding deadlines (training) count from it.'),
  })
  .describe('Which column of the export holds what: each value is a header of the CSV file. Map status, terminationDate or both.');
export type ColumnMapping = z.infer<typeof ColumnMapping>;

export interface MappingRules {
  readonly file: string;
  readonly columns: ColumnMapping;
  readonly leaverStatuses: readonly string[];
  readonly activeStatuses: readonly string[];
  readonly dateFormat: DateFormat;
  readonly timezone: string;
}

function rowSchema(rules: MappingRules) {
  const leaver = new Set(rules.leaverStatuses.map(folded));
  const active = new Set(rules.activeStatuses.map(folded));
  const date = dateCell(rules.dateFormat, rules.timezone);
  return z.object({
    employeeId: textCell.pipe(z.string('the employee id is empty')),
    email: emailCell,
    aliases: textCell.transform((value) =>
      value === null
        ? []
        : value
            .toLowerCase()
            .split(/[;,\s]+/)
            .filter((alias) => alias !== ''),
    ),
    displayName: textCell,
    status: textCell.transform((value, ctx): 'active' | 'leaver' | undefined => {
      if (rules.columns.status === undefined) return undefined;
      const status = folded(value ?? '');
      if (leaver.has(status)) return 'leaver';
      if (active.has(status)) return 'active';
      ctx.addIssue({
        code: 'custom',
        message: `unknown status (${cellShape(value ?? '')}): expected a leaver status (${rules.leaverStatuses.join(', ')}) or an active status (${rules.activeStatuses.join(', ')})`,
      });
      return z.NEVER;
    }),
    terminationDate: date,
    lastWorkingDay: date,
    hireDate: date,
    // A manager is named by email in most exports; lower-casing it lets checks join it like any other address.
    manager: textCell.transform((value) => (value !== null && isEmailAddress(value) ? value.toLowerCase() : value)),
  });
}

/** Turns one exported row into an HrPerson, or throws naming the file, line and column at fault. */
export function personMapper(rules: MappingRules): (row: CsvRow) => HrPerson {
  const parse = csvRowParser({ connector: 'hr-csv', file: rules.file }, rules.columns, rowSchema(rules));
  return (row) => {
    const { fields: person, cells } = parse(row);
    return {
      kind: 'hr-person',
      source: 'hr-csv',
      employeeId: person.employeeId,
      email: person.email,
      aliases: [...new Set(person.aliases)].filter((alias) => alias !== person.email),
      displayName: person.displayName,
      // Without a status column the termination date is the only sign of a leaver; whether it has passed is the check's call.
      status: person.status ?? (person.terminationDate === null ? 'active' : 'leaver'),
      terminationDate: person.terminationDate,
      lastWorkingDay: person.lastWorkingDay,
      manager: person.manager,
      ...(rules.columns.hireDate === undefined ? {} : { hireDate: person.hireDate }),
      raw: { line: row.line, cells },
    };
  };
}
