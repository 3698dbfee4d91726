import { z } from 'zod';
import type { HrPerson } from '../../core/records.ts';
import { parseIsoDate, startOfDay } from '../dates.ts';

/** The BambooHR fields the custom report asks for; `id` comes back whether asked or not. */
export const REPORT_FIELDS = [
  'id',
  'employeeNumber',
  'firstName',
  'lastName',
  'displayName',
  'workEmail',
  'homeEmail',
  'status',
  'employmentHistoryStatus',
  'terminationDate',
  'hireDate',
  'supervisorEmail',
  'lastChanged',
] as const;

const STANDARD_FIELDS = new Set<string>(REPORT_FIELDS);

export const REPORT_TITLE = 'isms-worker leavers';

/** The body of `POST /v1/reports/custom`: the named fields of every employee, current and former. */
export function customReportRequest(extraFields: readonly string[]): { title: string; fields: string[] } {
  return { title: REPORT_TITLE, fields: [...new Set<string>([...REPORT_FIELDS, ...extraFields])] };
}

/** BambooHR sends every value as a string, and an empty one as null or "". */
const Text = z.string().nullish();

/** BambooHR writes "no date" as "0000-00-00" (or null, or ""). */
const ReportDate = z
  .string()
  .nullish()
  .refine((text) => text === null || text === undefined || text === '' || text === '0000-00-00' || parseIsoDate(text) !== undefined, {
    error: (issue) => `expected a date as YYYY-MM-DD or "0000-00-00", got ${JSON.stringify(issue.input)}`,
  });

const ReportEmployee = z.looseObject({
  id: z
    .union([z.string(), z.number().int()], { error: 'expected the employee id as a string of digits' })
    .transform(String)
    .pipe(z.string().regex(/^\d+$/, 'expected the employee id as a string of digits')),
  employeeNumber: Text,
  firstName: Text,
  lastName: Text,
  displayName: Text,
  workEmail: Text,
  homeEmail: Text,
  status: z.enum(['Active', 'Inactive']),
  employmentHistoryStatus: Text,
  terminationDate: ReportDate,
  hireDate: ReportDate,
  supervisorEmail: Text,
  lastChanged: Text,
});
export type ReportEmployee = z.infer<typeof ReportEmployee>;

/** The report's list of the fields it holds: read first, since a field the API user may not see is left out, not refused. */
export const ReportFields = z.object({
  fields: z.array(z.looseObject({ id: z.string(), type: z.string().optional(), name: z.string().optional() })),
});

export const CustomReport = ReportFields.extend({
  title: z.string().optional(),
  employees: z.array(ReportEmployee),
});
export type CustomReport = z.infer<typeof CustomReport>;

function present(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

function address(value: string | null | undefined): string | null {
  return present(value)?.toLowerCase() ?? null;
}

/** "0000-00-00", like null and "", is no date: it is not on the calendar. */
function reportDate(value: string | null | undefined, timezone: string): string | null {
  const date = parseIsoDate(value ?? '');
  return date === undefined ? null : startOfDay(date, timezone);
}

export function toHrPerson(employee: ReportEmployee, timezone: string, extraFields: readonly string[]): HrPerson {
  const email = address(employee.workEmail);
  const homeEmail = address(employee.homeEmail);
  const fullName = [present(employee.firstName), present(employee.lastName)].filter((part) => part !== null).join(' ');
  const extras = Object.fromEntries(extraFields.filter((field) => !STANDARD_FIELDS.has(field)).map((field) => [field, employee[field] ?? null]));
  return {
    kind: 'hr-person',
    source: 'bamboohr',
    employeeId: employee.id,
    email,
    // Contractors and guests are often invited by their personal address; a leaver's guest account must match too.
    aliases: homeEmail !== null && homeEmail !== email ? [homeEmail] : [],
    displayName: present(employee.displayName) ?? (fullName === '' ? null : fullName),
    status: employee.status === 'Inactive' ? 'leaver' : 'active',
    terminationDate: reportDate(employee.terminationDate, timezone),
    // BambooHR has no standard last-working-day field.
    lastWorkingDay: null,
    manager: address(employee.supervisorEmail),
    hireDate: reportDate(employee.hireDate, timezone),
    raw: {
      employeeNumber: present(employee.employeeNumber),
      employmentHistoryStatus: present(employee.employmentHistoryStatus),
      hireDate: employee.hireDate === '0000-00-00' ? null : present(employee.hireDate),
      lastChanged: present(employee.lastChanged),
      ...extras,
    },
  };
}
