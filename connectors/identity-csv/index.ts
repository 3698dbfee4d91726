import { z } from 'zod';
import { defineConnector } from '../contract.ts';
import { collectCsvRecords, CsvEncoding, folded, namedAndCounted } from '../csv.ts';
import { DateFormat, Timezone } from '../dates.ts';
import { IdentityColumns, identityMapper, type IdentityRules } from './mapping.ts';

/**
 * User lists of systems without an API (SaaS admin consoles, legacy applications, VPN appliances), exported as
 * CSV for an access review. Auditors accept such exports as evidence, so the file's sha256 is kept with it.
 */

export { HEARTBEAT_EVERY_ROWS } from '../csv.ts';

/** Accounts with an empty MFA cell named one by one in the warning; the rest are counted. */
const BLANK_MFA_NAMED = 10;

const WordList = z.array(z.string().trim().min(1));

export const IdentityCsvConfig = z
  .strictObject({
    path: z.string().min(1).describe("The CSV export, relative to the config file's folder."),
    system: z
      .string()
      .trim()
      .min(1)
      .describe('The system the accounts live in, e.g. "jira-cloud": the tenant of every record, and so part of every fingerprint.'),
    delimiter: z.string().min(1).default(',').describe('The character between cells.'),
    encoding: z.enum(CsvEncoding).default('utf8').describe("The file's character encoding."),
    columns: IdentityColumns,
    activeStatuses: WordList.min(1).default(['active', 'enabled', 'true', 'yes']).describe('Status cells (case-insensitive) of an account that can sign in.'),
    disabledStatuses: WordList.min(1)
      .default(['disabled', 'inactive', 'suspended', 'deactivated', 'false', 'no', 'locked'])
      .describe('Status cells (case-insensitive) of an account that cannot sign in; a status in neither list fails the collection, naming its line.'),
    privilegedRoles: WordList.default([]).describe('Roles (case-insensitive) that make an account privileged; needs `columns.role`.'),
    neverLoggedIn: WordList.default(['never', 'never logged in', 'never accessed', 'never signed in', 'never used']).describe(
      'Last-login cells (case-insensitive) that mean the account was never used, besides an empty cell.',
    ),
    dateFormat: DateFormat.default('iso').describe(
      'How the export writes dates: ISO 8601 (2026-09-30, or a timestamp) or day, month and year in one of these orders.',
    ),
    timezone: Timezone.default('UTC').describe("The zone of the export's wall-clock times and bare dates."),
  })
  .superRefine((config, ctx) => {
    const active = new Set(config.activeStatuses.map(folded));
    const both = config.disabledStatuses.filter((status) => active.has(folded(status)));
    if (both.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['disabledStatuses'], message: `${both.map((status) => `"${status}"`).join(', ')} is also an active status` });
    }
    if (config.columns.role !== undefined && config.privilegedRoles.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['privilegedRoles'], message: 'columns.role is mapped: name the roles that make an account privileged' });
    }
    if (config.columns.role === undefined && config.privilegedRoles.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['columns', 'role'], message: 'privilegedRoles are named: map the column that holds the roles' });
    }
  })
  .describe(
    'Accounts of a system without an API (SaaS admin consoles, legacy applications, VPN appliances), from a CSV user list exported for an access review.',
  );
export type IdentityCsvConfig = z.infer<typeof IdentityCsvConfig>;

export const identityCsv = defineConnector({
  name: 'identity-csv',
  kinds: ['identity'],
  version: '1',
  config: IdentityCsvConfig,
  async *collect(config, ctx) {
    const { path: file, system, columns } = config;
    const rules: IdentityRules = { ...config, file };
    ctx.provenance({ source: 'csv export', system, columns, dateFormat: config.dateFormat, timezone: config.timezone });

    const where = `identity-csv: ${file}`;
    if (columns.mfa === undefined) ctx.warn(`${where}: no MFA column is mapped, so MFA enrolment is unknown for every account in ${system}`);
    if (columns.lastLogin === undefined) {
      ctx.warn(`${where}: no last-login column is mapped, so when accounts in ${system} were last used is unknown and inactivity cannot be judged`);
    }
    if (columns.privileged === undefined && columns.role === undefined) {
      ctx.warn(`${where}: neither a privileged nor a role column is mapped, so every account in ${system} is recorded as unprivileged`);
    }

    const blankMfa: string[] = [];
    let blankMfaCount = 0;
    yield* collectCsvRecords({
      connector: 'identity-csv',
      path: file,
      delimiter: config.delimiter,
      encoding: config.encoding,
      columns,
      ctx,
      toRecord: identityMapper(rules),
      key: { column: columns.id, noun: 'account id', of: (account) => account.id },
      observe(account, row) {
        if (columns.mfa === undefined || account.mfaEnabled !== 'unknown') return;
        blankMfaCount += 1;
        if (blankMfa.length < BLANK_MFA_NAMED) blankMfa.push(`${account.username} (line ${row.line})`);
      },
    });

    if (blankMfaCount > 0) {
      ctx.warn(
        `${where}: ${blankMfaCount} account(s) have an empty "${columns.mfa}" cell, so their MFA enrolment is unknown: ${namedAndCounted(blankMfa, blankMfaCount)}`,
      );
    }
  },
});
