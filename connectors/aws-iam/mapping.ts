import { createHash } from 'node:crypto';
import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { Identity } from '../../evidence/records.ts';
import { MalformedResponseError } from '../errors.ts';

/**
 * The only place that knows IAM's field names: the credential report's columns and the SDK's output shapes.
 * Everything here turns them into neutral shapes (ListedUser, ReportEntry, ...) and those into Identity records.
 */

export const SOURCE = 'aws-iam';

// ---------------------------------------------------------------- credential report

export const REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;
type ReportColumn = (typeof REPORT_COLUMNS)[number];

const ROOT_USER = '<root_account>';
/** Report cells that stand where a time would be: no such credential, never used, or not tracked for this row. */
const NO_TIME = new Set(['N/A', 'no_information', 'not_supported']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function cell<T>(expected: string, read: (value: string) => T | undefined) {
  return z.string().transform((value, ctx) => {
    const out = read(value);
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, found ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return out;
  });
}

const reportTime = cell('an ISO 8601 time, N/A, no_information or not_supported', (value) => {
  if (NO_TIME.has(value)) return null;
  return ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
});
const reportFlag = cell('true or false', (value) => (value === 'true' ? true : value === 'false' ? false : undefined));
/** The root row says not_supported for password_enabled: the report cannot tell whether root has a password. */
const reportFlagOrUnknown = cell('true, false or not_supported', (value) =>
  value === 'true' ? true : value === 'false' ? false : value === 'not_supported' ? null : undefined,
);
const reportText = z.string();

const ReportRow = z.object({
  user: z.string().min(1, 'expected a user name'),
  arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+)$/, 'expected an IAM user or root ARN'),
  user_creation_time: reportTime,
  password_enabled: reportFlagOrUnknown,
  password_last_used: reportTime,
  password_last_changed: reportTime,
  password_next_rotation: reportTime,
  mfa_active: reportFlag,
  access_key_1_active: reportFlag,
  access_key_1_last_rotated: reportTime,
  access_key_1_last_used_date: reportTime,
  access_key_1_last_used_region: reportText,
  access_key_1_last_used_service: reportText,
  access_key_2_active: reportFlag,
  access_key_2_last_rotated: reportTime,
  access_key_2_last_used_date: reportTime,
  access_key_2_last_used_region: reportText,
  access_key_2_last_used_service: reportText,
  cert_1_active: reportFlag,
  cert_1_last_rotated: reportTime,
  cert_2_active: reportFlag,
  cert_2_last_rotated: reportTime,
} satisfies Record<ReportColumn, z.ZodType>);

const CsvRecords = z.array(z.object({ record: z.array(z.string()), info: z.object({ lines: z.number().int() }) }));

/** A credential the report describes in one of its numbered slots (access_key_1, cert_2, ...). */
export interface ReportSlot {
  slot: string;
  active: boolean;
  createdAt: string | null;
  lastUsedAt: string | null;
}

/** One row of the credential report, in our words; `raw` keeps the row exactly as IAM wrote it. */
export interface ReportEntry {
  name: string;
  arn: string;
  isRoot: boolean;
  createdAt: string | null;
  /** null when the report cannot tell (root). */
  passwordEnabled: boolean | null;
  passwordLastUsedAt: string | null;
  passwordChangedAt: string | null;
  mfaActive: boolean;
  accessKeys: ReportSlot[];
  certificates: ReportSlot[];
  raw: Record<string, string>;
}

export interface CredentialReport {
  entries: ReportEntry[];
  sha256: string;
  bytes: number;
}

/**
 * Parses the credential report CSV. A header that is not IAM's 22 columns, or a row that does not fit them,
 * is a MalformedResponseError naming the line and column, so the auditor's evidence is never a guess.
 */
export function parseCredentialReport(content: Uint8Array, where: string): CredentialReport {
  const sha256 = createHash('sha256').update(content).digest('hex');
  let parsed: unknown;
  try {
    parsed = parseCsv(Buffer.from(content), { info: true, bom: true, relax_column_count: true, skip_empty_lines: true });
  } catch (error) {
    if (error instanceof CsvError) throw new MalformedResponseError(`${where}: credential report is not valid CSV: ${error.message}`, { cause: error });
    throw error;
  }
  const records = CsvRecords.parse(parsed);
  const [header, ...rows] = records;
  if (!header) throw new MalformedResponseError(`${where}: credential report is empty`);
  REPORT_COLUMNS.forEach((column, index) => {
    const found = header.record[index];
    if (found !== column) {
      const shown = found === undefined ? 'nothing' : JSON.stringify(found);
      throw new MalformedResponseError(`${where}: credential report line ${header.info.lines}, column ${index + 1}: expected header ${column}, found ${shown}`);
    }
  });
  const entries = rows.map(({ record, info }) => {
    if (record.length !== header.record.length) {
      throw new MalformedResponseError(`${where}: credential report line ${info.lines}: expected ${header.record.length} columns, found ${record.length}`);
    }
    const raw: Record<string, string> = {};
    header.record.forEach((column, index) => (raw[column] = record[index] ?? ''));
    const row = ReportRow.safeParse(raw);
    if (!row.success) {
      const issue = row.error.issues[0];
      const column = String(issue?.path[0] ?? '');
      throw new MalformedResponseError(
        `${where}: credential report line ${info.lines}, column ${header.record.indexOf(column) + 1} (${column}): ${issue?.message ?? 'invalid'}`,
      );
    }
    return toReportEntry(row.data, raw);
  });
  return { entries, sha256, bytes: content.byteLength };
}

function toReportEntry(row: z.infer<typeof ReportRow>, raw: Record<string, string>): ReportEntry {
  const slots = (entries: [string, boolean, string | null, string | null][]): ReportSlot[] =>
    entries
      // An inactive slot with no rotation time holds no credential at all.
      .filter(([, active, createdAt]) => active || createdAt !== null)
      .map(([slot, active, createdAt, lastUsedAt]) => ({ slot, active, createdAt, lastUsedAt }));
  return {
    name: row.user,
    arn: row.arn,
    isRoot: row.user === ROOT_USER,
    createdAt: row.user_creation_time,
    passwordEnabled: row.password_enabled,
    passwordLastUsedAt: row.password_last_used,
    passwordChangedAt: row.password_last_changed,
    mfaActive: row.mfa_active,
    accessKeys: slots([
      ['access_key_1', row.access_key_1_active, row.access_key_1_last_rotated, row.access_key_1_last_used_date],
      ['access_key_2', row.access_key_2_active, row.access_key_2_last_rotated, row.access_key_2_last_used_date],
    ]),
    certificates: slots([
      ['cert_1', row.cert_1_active, row.cert_1_last_rotated, null],
      ['cert_2', row.cert_2_active, row.cert_2_last_rotated, null],
    ]),
    raw,
  };
}

// ---------------------------------------------------------------- SDK outputs

const Paging = { IsTruncated: z.boolean().optional(), Marker: z.string().min(1).optional() };
interface PageOf<T> {
  items: T[];
  /** The marker of the next page; undefined on the last page. */
  next: string | undefined;
}

/** IAM pages on IsTruncated, never on the item count: a short page may still be followed by more. */
function toPage<T>(page: { IsTruncated?: boolean | undefined; Marker?: string | undefined }, items: T[], ctx: z.RefinementCtx): PageOf<T> {
  if (page.IsTruncated === true && page.Marker === undefined) ctx.addIssue({ code: 'custom', message: 'IsTruncated is true but there is no Marker', path: ['Marker'] });
  return { items, next: page.IsTruncated === true ? page.Marker : undefined };
}

const iso = (date: Date) => date.toISOString();

export interface ListedUser {
  name: string;
  arn: string;
  userId: string;
  path: string;
  createdAt: string;
  passwordLastUsedAt: string | null;
}

export const ListUsersPage = z
  .object({
    ...Paging,
    Users: z.array(
      z.object({
        UserName: z.string().min(1),
        UserId: z.string().min(1),
        Arn: z.string().startsWith('arn:'),
        Path: z.string(),
        CreateDate: z.date(),
        PasswordLastUsed: z.date().optional(),
      }),
    ),
  })
  .transform((page, ctx) => {
    const users = page.Users.map(
      (user): ListedUser => ({
        name: user.UserName,
        arn: user.Arn,
        userId: user.UserId,
        path: user.Path,
        createdAt: iso(user.CreateDate),
        passwordLastUsedAt: user.PasswordLastUsed ? iso(user.PasswordLastUsed) : null,
      }),
    );
    return toPage(page, users, ctx);
  });

export const GroupsPage = z
  .object({ ...Paging, Groups: z.array(z.object({ GroupName: z.string().min(1) })) })
  .transform((page, ctx) => toPage(page, page.Groups.map((group) => group.GroupName), ctx));

export const AttachedPoliciesPage = z
  .object({ ...Paging, AttachedPolicies: z.array(z.object({ PolicyName: z.string().min(1) })) })
  .transform((page, ctx) => toPage(page, page.AttachedPolicies.map((policy) => policy.PolicyName), ctx));

export const PolicyNamesPage = z.object({ ...Paging, PolicyNames: z.array(z.string().min(1)) }).transform((page, ctx) => toPage(page, page.PolicyNames, ctx));

/** An access key as ListAccessKeys shows it now; lastUsedAt is filled from the report or GetAccessKeyLastUsed. */
export interface AccessKeyListing {
  id: string;
  active: boolean;
  createdAt: string;
}

export const AccessKeysPage = z
  .object({ ...Paging, AccessKeyMetadata: z.array(z.object({ AccessKeyId: z.string().min(1), Status: z.enum(['Active', 'Inactive', 'Expired']), CreateDate: z.date() })) })
  .transform((page, ctx) =>
    toPage(page, page.AccessKeyMetadata.map((key): AccessKeyListing => ({ id: key.AccessKeyId, active: key.Status === 'Active', createdAt: iso(key.CreateDate) })), ctx),
  );

export const MfaDevicesPage = z
  .object({ ...Paging, MFADevices: z.array(z.object({ SerialNumber: z.string().min(1) })) })
  .transform((page, ctx) => toPage(page, page.MFADevices.map((device) => device.SerialNumber), ctx));

/** A never-used key has no LastUsedDate (and N/A as service and region). */
export const AccessKeyLastUsed = z
  .object({ AccessKeyLastUsed: z.object({ LastUsedDate: z.date().optional() }) })
  .transform((out) => (out.AccessKeyLastUsed.LastUsedDate ? iso(out.AccessKeyLastUsed.LastUsedDate) : null));

export const LoginProfile = z.object({ LoginProfile: z.object({ CreateDate: z.date() }) }).transform((out) => ({ createdAt: iso(out.LoginProfile.CreateDate) }));

export const ReportGeneration = z.object({ State: z.enum(['STARTED', 'INPROGRESS', 'COMPLETE']) }).transform((out) => out.State);

export const ReportContent = z
  .object({ Content: z.instanceof(Uint8Array), ReportFormat: z.literal('text/csv').optional(), GeneratedTime: z.date().optional() })
  .transform((out) => ({ content: out.Content, generatedAt: out.GeneratedTime ? iso(out.GeneratedTime) : null }));

export const AssumedRole = z
  .object({
    Credentials: z.object({ AccessKeyId: z.string().min(1), SecretAccessKey: z.string().min(1), SessionToken: z.string().min(1), Expiration: z.date() }),
  })
  .transform(({ Credentials: c }) => ({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration }));

export const CallerIdentity = z.object({ Account: z.string().regex(/^\d{12}$/) }).transform((out) => out.Account);

// ---------------------------------------------------------------- identities

/** A policy reaching the user, and how: attached, inline, or through a group. */
export interface Grant {
  policy: string;
  via: string;
}

/** What the per-user calls add to the report: groups and the policies reaching the user. */
export interface UserAccess {
  groups: string[];
  grants: Grant[];
}

/** Access keys as they stand now, with the last use taken from the report slot or GetAccessKeyLastUsed. */
export interface AccessKeyState extends AccessKeyListing {
  lastUsedAt: string | null;
}

export interface MappingOptions {
  tenant: string;
  privilegedPolicies: readonly string[];
}

const sameSecond = (a: string | null, b: string | null) => a !== null && b !== null && Math.floor(Date.parse(a) / 1000) === Math.floor(Date.parse(b) / 1000);

/**
 * The report numbers keys by slot, oldest first; a key's creation time is its slot's last_rotated (keys are
 * never rotated in place), which is how a slot is matched to the key ListAccessKeys names. Two keys created
 * in the same second take the slots in creation order. Returns, per key, its slot or undefined (a key newer
 * than the report).
 */
export function reportSlotsOf(entry: ReportEntry, keys: readonly AccessKeyListing[]): (ReportSlot | undefined)[] {
  const free = [...entry.accessKeys];
  const byAge = [...keys].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const matched = new Map<AccessKeyListing, ReportSlot>();
  for (const key of byAge) {
    const index = free.findIndex((slot) => sameSecond(slot.createdAt, key.createdAt));
    if (index >= 0) matched.set(key, free.splice(index, 1)[0]!);
  }
  return keys.map((key) => matched.get(key));
}

/** A user created after the report was generated, or re-created under the same name, is not described by its row. */
export function describesUser(entry: ReportEntry, user: ListedUser): boolean {
  return entry.arn === user.arn && sameSecond(entry.createdAt, user.createdAt);
}

function latest(times: readonly (string | null)[]): string | null {
  let out: string | null = null;
  for (const time of times) if (time !== null && (out === null || Date.parse(time) > Date.parse(out))) out = time;
  return out;
}

function privilege(access: UserAccess | undefined, privilegedPolicies: readonly string[]) {
  if (!access) return { privileged: false, privilegedVia: null };
  const privilegedVia = access.grants.filter((grant) => privilegedPolicies.includes(grant.policy)).map((grant) => `${grant.policy} (${grant.via})`);
  return { privileged: privilegedVia.length > 0, privilegedVia };
}

type Credential = Identity['credentials'][number];

/**
 * A user as the credential report describes it. IAM users have no disabled state: a user without a password
 * and without active keys cannot sign in but is still 'active'; checks judge the credentials. A row whose
 * user no longer exists is 'deleted'. `keys`, when given, are the keys ListAccessKeys shows now.
 */
export function reportIdentity(
  entry: ReportEntry,
  facts: { status: 'active' | 'deleted'; listed?: ListedUser; access?: UserAccess; keys?: AccessKeyState[] },
  options: MappingOptions,
): Identity {
  const credentials: Credential[] = [];
  if (entry.passwordEnabled === true) {
    credentials.push({ kind: 'password', id: 'password', active: true, createdAt: entry.passwordChangedAt, lastUsedAt: entry.passwordLastUsedAt });
  }
  if (facts.keys) {
    for (const key of facts.keys) credentials.push({ kind: 'access-key', id: key.id, active: key.active, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt });
  } else {
    for (const slot of entry.accessKeys) credentials.push({ kind: 'access-key', id: slot.slot, active: slot.active, createdAt: slot.createdAt, lastUsedAt: slot.lastUsedAt });
  }
  for (const slot of entry.certificates) credentials.push({ kind: 'certificate', id: slot.slot, active: slot.active, createdAt: slot.createdAt, lastUsedAt: null });

  const { privileged, privilegedVia } = entry.isRoot ? { privileged: true, privilegedVia: ['root user'] } : privilege(facts.access, options.privilegedPolicies);
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: options.tenant,
    id: entry.arn,
    username: entry.name,
    email: null,
    displayName: null,
    status: facts.status,
    privileged,
    mfaEnabled: entry.mfaActive,
    // The report's last uses count even for keys deleted since: they were sign-ins all the same.
    lastLoginAt: latest([entry.passwordLastUsedAt, ...entry.accessKeys.map((slot) => slot.lastUsedAt), ...credentials.map((c) => c.lastUsedAt)]),
    createdAt: facts.listed?.createdAt ?? entry.createdAt,
    credentials,
    groups: facts.access?.groups ?? [],
    raw: {
      isRoot: entry.isRoot,
      credentialReport: entry.raw,
      userId: facts.listed?.userId ?? null,
      path: facts.listed?.path ?? null,
      grants: facts.access?.grants ?? null,
      privilegedVia,
    },
  };
}

/** A user missing from the report (created since it was generated), described by per-user calls alone. */
export function listedIdentity(
  user: ListedUser,
  facts: { access: UserAccess; keys: AccessKeyState[]; loginProfile: { createdAt: string } | null; mfaDevices: string[] },
  options: MappingOptions,
): Identity {
  const credentials: Credential[] = [];
  if (facts.loginProfile) {
    credentials.push({ kind: 'password', id: 'password', active: true, createdAt: facts.loginProfile.createdAt, lastUsedAt: user.passwordLastUsedAt });
  }
  for (const key of facts.keys) credentials.push({ kind: 'access-key', id: key.id, active: key.active, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt });
  const { privileged, privilegedVia } = privilege(facts.access, options.privilegedPolicies);
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: options.tenant,
    id: user.arn,
    username: user.name,
    email: null,
    displayName: null,
    status: 'active',
    privileged,
    mfaEnabled: facts.mfaDevices.length > 0,
    lastLoginAt: latest([user.passwordLastUsedAt, ...facts.keys.map((key) => key.lastUsedAt)]),
    createdAt: user.createdAt,
    credentials,
    groups: facts.access.groups,
    raw: { credentialReport: null, userId: user.userId, path: user.path, grants: facts.access.grants, privilegedVia },
  };
}
