import { z } from 'zod';
import type { Identity } from '../../core/records.ts';
import { cellShape, csvRowParser, dateCell, emailCell, folded, textCell, type CsvRow } from '../csv.ts';
import type { DateFormat } from '../dates.ts';

const Header = z.string().trim().min(1);

/** Our Identity fields, each mapped to the header of the export's column that holds it. */
export const IdentityColumns = z
  .strictObject({
    id: Header.describe("The system's own, stable id of the account; it becomes part of every nonconformity's fingerprint."),
    username: Header.describe('The username or login the system knows the account by.'),
    email: Header.optional().describe("The account's email address; accounts join HR people by it."),
    displayName: Header.optional().describe("The account holder's name."),
    status: Header.optional().describe('Without it every listed account counts as active: an export lists the accounts that exist.'),
    privileged: Header.optional().describe('A yes/no column saying whether the account is an administrator.'),
    role: Header.optional().describe("The account's roles, separated by `;` or `,`; those named in `privilegedRoles` make it privileged."),
    mfa: Header.optional().describe('A yes/no column; without it MFA enrolment is unknown.'),
    lastLogin: Header.optional().describe('Without it the last login is unknown; an empty cell, or one of `neverLoggedIn`, means never.'),
    created: Header.optional().describe('When the account was created.'),
    groups: Header.optional().describe('Groups separated by `;` or `,`.'),
  })
  .describe('Which column of the export holds what: each value is a header of the CSV file.');
export type IdentityColumns = z.infer<typeof IdentityColumns>;

export interface IdentityRules {
  readonly file: string;
  readonly system: string;
  readonly columns: IdentityColumns;
  readonly activeStatuses: readonly string[];
  readonly disabledStatuses: readonly string[];
  readonly privilegedRoles: readonly string[];
  readonly neverLoggedIn: readonly string[];
  readonly dateFormat: DateFormat;
  readonly timezone: string;
}

const TRUE_WORDS = ['true', 'yes', '1', 'enabled'];
const FALSE_WORDS = ['false', 'no', '0', 'disabled'];
const TRUE = new Set(TRUE_WORDS);
const FALSE = new Set(FALSE_WORDS);

/** A yes/no cell in any of the spellings exports use; an empty cell is null (the export does not say). */
const yesNoCell = textCell.transform((value, ctx): boolean | null => {
  if (value === null) return null;
  const word = folded(value);
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  ctx.addIssue({ code: 'custom', message: `${cellShape(value)} is not a yes/no value (one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')})` });
  return z.NEVER;
});

/** Names separated by `;` or `,`, trimmed, each once. */
const listCell = textCell.transform((value) =>
  value === null ? [] : [...new Set(value.split(/[;,]/).map((name) => name.trim()))].filter((name) => name !== ''),
);

/**
 * A disabled status keeps the system's own distinction where the record has one: a suspension or a lock is
 * meant to be lifted, a deactivation is not. Checks treat all of them as unable to sign in.
 */
function disabledStateOf(word: string): Exclude<Identity['status'], 'active'> {
  if (word === 'suspended' || word === 'locked') return 'suspended';
  if (word === 'deleted') return 'deleted';
  return 'disabled';
}

function rowSchema(rules: IdentityRules) {
  const active = new Set(rules.activeStatuses.map(folded));
  const disabled = new Set(rules.disabledStatuses.map(folded));
  const never = new Set(rules.neverLoggedIn.map(folded));
  return z.object({
    id: textCell.pipe(z.string('the account id is empty')),
    username: textCell.pipe(z.string('the username is empty')),
    email: emailCell,
    displayName: textCell,
    status: textCell.transform((value, ctx): Identity['status'] => {
      if (rules.columns.status === undefined) return 'active';
      const word = folded(value ?? '');
      if (active.has(word)) return 'active';
      if (disabled.has(word)) return disabledStateOf(word);
      ctx.addIssue({
        code: 'custom',
        message: `unknown status (${cellShape(value ?? '')}): expected an active status (${rules.activeStatuses.join(', ')}) or a disabled status (${rules.disabledStatuses.join(', ')})`,
      });
      return z.NEVER;
    }),
    privileged: yesNoCell,
    role: listCell,
    mfa: yesNoCell,
    lastLogin: z
      .string()
      .optional()
      .transform((value) => (value !== undefined && never.has(folded(value)) ? undefined : value))
      .pipe(dateCell(rules.dateFormat, rules.timezone)),
    created: dateCell(rules.dateFormat, rules.timezone),
    groups: listCell,
  });
}

/** Turns one exported row into an Identity of `rules.system`, or throws naming the file, line and column at fault. */
export function identityMapper(rules: IdentityRules): (row: CsvRow) => Identity {
  const parse = csvRowParser({ connector: 'identity-csv', file: rules.file }, rules.columns, rowSchema(rules));
  const privilegedRoles = new Set(rules.privilegedRoles.map(folded));
  const { columns } = rules;
  return (row) => {
    const { fields: account, cells } = parse(row);
    return {
      kind: 'identity',
      source: 'identity-csv',
      tenant: rules.system,
      id: account.id,
      username: account.username,
      email: account.email,
      displayName: account.displayName,
      status: account.status,
      privileged: account.privileged === true || account.role.some((role) => privilegedRoles.has(folded(role))),
      // An export without the column, or a blank cell, says nothing about MFA: unknown, never a guess either way.
      mfaEnabled: columns.mfa === undefined ? 'unknown' : (account.mfa ?? 'unknown'),
      lastLoginAt: columns.lastLogin === undefined ? 'unknown' : account.lastLogin,
      createdAt: account.created,
      credentials: [],
      groups: [...new Set([...account.groups, ...account.role])],
      raw: { line: row.line, cells },
    };
  };
}
