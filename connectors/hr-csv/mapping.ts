import { z } from 'zod';
import type { HrPerson } from '../../evidence/records.ts';
import { MalformedResponseError } from '../errors.ts';
import { parseHrDate, type DateFormat } from '../dates.ts';
import type { CsvRow } from './reader.ts';

/** Our fields, each mapped to the header of the export's column that holds it. */
export const ColumnMapping = z.strictObject({
  employeeId: z.string().trim().min(1),
  email: z.string().trim().min(1).optional(),
  /** One column holding every other address or login of the person, separated by `;`, `,` or spaces. */
  aliases: z.string().trim().min(1).optional(),
  displayName: z.string().trim().min(1).optional(),
  status: z.string().trim().min(1).optional(),
  terminationDate: z.string().trim().min(1).optional(),
  lastWorkingDay: z.string().trim().min(1).optional(),
  manager: z.string().trim().min(1).optional(),
});
export type ColumnMapping = z.infer<typeof ColumnMapping>;
type Field = keyof ColumnMapping;

export interface MappingRules {
  readonly file: string;
  readonly columns: ColumnMapping;
  readonly leaverStatuses: readonly string[];
  readonly activeStatuses: readonly string[];
  readonly dateFormat: DateFormat;
  readonly timezone: string;
}

/** Checks that every mapped column is in the header exactly once; the header names, trimmed, become the cell keys. */
export function checkHeader(header: readonly string[], rules: MappingRules): string[] {
  const names = header.map((name) => name.trim());
  for (const [field, wanted] of Object.entries(rules.columns) as [Field, string | undefined][]) {
    if (wanted === undefined) continue;
    const positions = names.flatMap((name, index) => (name === wanted ? [index + 1] : []));
    if (positions.length === 0) {
      throw new MalformedResponseError(
        `hr-csv: ${rules.file}: header "${wanted}" (columns.${field}) is missing; the header has ${names.map((name) => `"${name}"`).join(', ')}`,
      );
    }
    if (positions.length > 1) {
      throw new MalformedResponseError(`hr-csv: ${rules.file}: header "${wanted}" (columns.${field}) appears ${positions.length} times, in columns ${positions.join(', ')}`);
    }
  }
  return names;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function rowSchema(rules: MappingRules) {
  const leaver = new Set(rules.leaverStatuses.map(folded));
  const active = new Set(rules.activeStatuses.map(folded));
  const text = z.string().optional().transform((value) => {
    const trimmed = value?.trim() ?? '';
    return trimmed === '' ? null : trimmed;
  });
  const date = text.transform((value, ctx) => {
    if (value === null) return null;
    const timestamp = parseHrDate(value, rules.dateFormat, rules.timezone);
    if (timestamp === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a date in the ${rules.dateFormat} format` });
      return z.NEVER;
    }
    return timestamp;
  });
  return z.object({
    employeeId: text.pipe(z.string('the employee id is empty')),
    email: text.transform((value, ctx) => {
      if (value === null) return null;
      if (!EMAIL.test(value)) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not an email address` });
        return z.NEVER;
      }
      return value.toLowerCase();
    }),
    aliases: text.transform((value) => (value === null ? [] : value.toLowerCase().split(/[;,\s]+/).filter((alias) => alias !== ''))),
    displayName: text,
    status: text.transform((value, ctx): 'active' | 'leaver' | undefined => {
      if (rules.columns.status === undefined) return undefined;
      const status = folded(value ?? '');
      if (leaver.has(status)) return 'leaver';
      if (active.has(status)) return 'active';
      ctx.addIssue({
        code: 'custom',
        message: `unknown status "${value ?? ''}": expected a leaver status (${rules.leaverStatuses.join(', ')}) or an active status (${rules.activeStatuses.join(', ')})`,
      });
      return z.NEVER;
    }),
    terminationDate: date,
    lastWorkingDay: date,
    // A manager is named by email in most exports; lower-casing it lets checks join it like any other address.
    manager: text.transform((value) => (value !== null && EMAIL.test(value) ? value.toLowerCase() : value)),
  });
}

function folded(status: string): string {
  return status.trim().toLowerCase();
}

/** Turns one exported row into an HrPerson, or throws naming the file, line and column at fault. */
export function personMapper(rules: MappingRules): (row: CsvRow) => HrPerson {
  const schema = rowSchema(rules);
  const mapped = Object.entries(rules.columns) as [Field, string | undefined][];
  return (row) => {
    const cells: Partial<Record<Field, string>> = {};
    const raw: Record<string, string> = {};
    for (const [field, header] of mapped) {
      if (header === undefined) continue;
      cells[field] = row.cells[header];
      raw[header] = row.cells[header] ?? '';
    }
    const parsed = schema.safeParse(cells);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0] as Field | undefined;
      const column = field === undefined ? '' : ` column "${rules.columns[field] ?? field}":`;
      throw new MalformedResponseError(`hr-csv: ${rules.file}: line ${row.line}:${column} ${issue?.message ?? 'invalid row'}`);
    }
    const person = parsed.data;
    const employeeId = person.employeeId;
    return {
      kind: 'hr-person',
      source: 'hr-csv',
      employeeId,
      email: person.email,
      aliases: [...new Set(person.aliases)].filter((alias) => alias !== person.email),
      displayName: person.displayName,
      // Without a status column the termination date is the only sign of a leaver; whether it has passed is the check's call.
      status: person.status ?? (person.terminationDate === null ? 'active' : 'leaver'),
      terminationDate: person.terminationDate,
      lastWorkingDay: person.lastWorkingDay,
      manager: person.manager,
      raw: { line: row.line, cells: raw },
    };
  };
}
