import { createHash } from 'node:crypto';
import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { Identity } from '../../core/records.ts';
import { csvRecordLines, streamCsvRecords, type CsvRecord } from '../csv.ts';
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
const REPORT_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+)$/;

/** What a cell parser returns for a cell it cannot read; null is a value (no time, unknown). */
const UNREADABLE = Symbol('unreadable');
type Cell<T> = T | typeof UNREADABLE;

const TIME_EXPECTED = 'an ISO 8601 time, N/A, no_information or not_supported';
const FLAG_EXPECTED = 'true or false';
const FLAG_OR_UNKNOWN_EXPECTED = 'true, false or not_supported';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let at = from; at < from + count; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * IAM writes every time as `2014-09-01T22:28:48+00:00`: for such a time, in range, the ISO form is the same
 * text with `.000Z`, without Date. Anything else (another offset, fractions, a day V8 would roll over into the
 * next month, hour 24) goes through Date, so both ways give the same result for every input.
 */
function utcReportTime(value: string): string | undefined {
  if (value.length !== 25 || !value.endsWith('+00:00')) return undefined;
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return undefined;
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  return `${value.slice(0, 19)}.000Z`;
}

function reportTime(value: string): Cell<string | null> {
  if (NO_TIME.has(value)) return null;
  const utc = utcReportTime(value);
  if (utc !== undefined) return utc;
  return ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : UNREADABLE;
}

const reportFlag = (value: string): Cell<boolean> => (value === 'true' ? true : value === 'false' ? false : UNREADABLE);
/** The root row says not_supported for password_enabled: the report cannot tell whether root has a password. */
const reportFlagOrUnknown = (value: string): Cell<boolean | null> =>
  value === 'true' ? true : value === 'false' ? false : value === 'not_supported' ? null : UNREADABLE;

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

/** IAM's header exactly: a row's cells then map to the columns by position, and `raw` is one object literal. */
function rawOfIamRow(c: readonly string[]): Record<string, string> {
  return {
    user: c[0]!,
    arn: c[1]!,
    user_creation_time: c[2]!,
    password_enabled: c[3]!,
    password_last_used: c[4]!,
    password_last_changed: c[5]!,
    password_next_rotation: c[6]!,
    mfa_active: c[7]!,
    access_key_1_active: c[8]!,
    access_key_1_last_rotated: c[9]!,
    access_key_1_last_used_date: c[10]!,
    access_key_1_last_used_region: c[11]!,
    access_key_1_last_used_service: c[12]!,
    access_key_2_active: c[13]!,
    access_key_2_last_rotated: c[14]!,
    access_key_2_last_used_date: c[15]!,
    access_key_2_last_used_region: c[16]!,
    access_key_2_last_used_service: c[17]!,
    cert_1_active: c[18]!,
    cert_1_last_rotated: c[19]!,
    cert_2_active: c[20]!,
    cert_2_last_rotated: c[21]!,
  } satisfies Record<ReportColumn, string>;
}

/** An inactive slot with no rotation time holds no credential at all. */
function slotOf(slot: string, active: boolean, createdAt: string | null, lastUsedAt: string | null, into: ReportSlot[]) {
  if (active || createdAt !== null) into.push({ slot, active, createdAt, lastUsedAt });
}

/**
 * Reads the credential report row by row: the header once, then each row's cells with small typed parsers in
 * column order. A header that is not IAM's 22 columns, or a row that does not fit them, is a
 * MalformedResponseError naming the line and column, so the auditor's evidence is never a guess.
 */
class CredentialReportReader {
  readonly #where: string;
  #header: string[] | undefined;
  /** IAM's 22 columns and nothing more: cells are read by position (the common case, and the fast one). */
  #exact = false;
  #line = 0;
  #cells: readonly string[] = [];

  constructor(where: string) {
    this.#where = where;
  }

  /** Takes the next record: the header first, then rows; returns the entry of a row. */
  read(record: CsvRecord): ReportEntry | undefined {
    if (this.#header === undefined) {
      this.#checkHeader(record);
      return undefined;
    }
    return this.#entry(record, this.#header);
  }

  /** After the last record: a report without even a header is not one. */
  finish(): void {
    if (this.#header === undefined) throw new MalformedResponseError(`${this.#where}: credential report is empty`);
  }

  #checkHeader({ cells, line }: CsvRecord) {
    REPORT_COLUMNS.forEach((column, index) => {
      const found = cells[index];
      if (found !== column) {
        const shown = found === undefined ? 'nothing' : JSON.stringify(found);
        throw new MalformedResponseError(`${this.#where}: credential report line ${line}, column ${index + 1}: expected header ${column}, found ${shown}`);
      }
    });
    this.#header = cells;
    this.#exact = cells.length === REPORT_COLUMNS.length;
  }

  #entry({ cells, line }: CsvRecord, header: readonly string[]): ReportEntry {
    if (cells.length !== header.length) {
      throw new MalformedResponseError(`${this.#where}: credential report line ${line}: expected ${header.length} columns, found ${cells.length}`);
    }
    let raw: Record<string, string>;
    if (this.#exact) {
      raw = rawOfIamRow(cells);
      this.#cells = cells;
    } else {
      // Extra columns stay in raw; where a name repeats, the last column of that name is the one read, as before.
      raw = {};
      for (let index = 0; index < header.length; index++) raw[header[index]!] = cells[index] ?? '';
      this.#cells = REPORT_COLUMNS.map((column) => raw[column]!);
    }
    this.#line = line;
    const c = this.#cells;

    const user = c[0]!;
    if (user.length === 0) throw this.#unreadable(0, 'expected a user name');
    const arn = c[1]!;
    if (!REPORT_ARN.test(arn)) throw this.#unreadable(1, 'expected an IAM user or root ARN');
    const createdAt = this.#time(2);
    const passwordEnabled = this.#cell(3, reportFlagOrUnknown, FLAG_OR_UNKNOWN_EXPECTED);
    const passwordLastUsedAt = this.#time(4);
    const passwordChangedAt = this.#time(5);
    this.#time(6);
    const mfaActive = this.#flag(7);
    const key1Active = this.#flag(8);
    const key1CreatedAt = this.#time(9);
    const key1LastUsedAt = this.#time(10);
    const key2Active = this.#flag(13);
    const key2CreatedAt = this.#time(14);
    const key2LastUsedAt = this.#time(15);
    const cert1Active = this.#flag(18);
    const cert1CreatedAt = this.#time(19);
    const cert2Active = this.#flag(20);
    const cert2CreatedAt = this.#time(21);

    const accessKeys: ReportSlot[] = [];
    slotOf('access_key_1', key1Active, key1CreatedAt, key1LastUsedAt, accessKeys);
    slotOf('access_key_2', key2Active, key2CreatedAt, key2LastUsedAt, accessKeys);
    const certificates: ReportSlot[] = [];
    slotOf('cert_1', cert1Active, cert1CreatedAt, null, certificates);
    slotOf('cert_2', cert2Active, cert2CreatedAt, null, certificates);
    return {
      name: user,
      arn,
      isRoot: user === ROOT_USER,
      createdAt,
      passwordEnabled,
      passwordLastUsedAt,
      passwordChangedAt,
      mfaActive,
      accessKeys,
      certificates,
      raw,
    };
  }

  #time(index: number): string | null {
    return this.#cell(index, reportTime, TIME_EXPECTED);
  }

  #flag(index: number): boolean {
    return this.#cell(index, reportFlag, FLAG_EXPECTED);
  }

  #cell<T>(index: number, parse: (value: string) => Cell<T>, expected: string): T {
    const value = this.#cells[index]!;
    const out = parse(value);
    if (out === UNREADABLE) throw this.#unreadable(index, `expected ${expected}, found ${JSON.stringify(value)}`);
    return out;
  }

  #unreadable(index: number, message: string): MalformedResponseError {
    return new MalformedResponseError(`${this.#where}: credential report line ${this.#line}, column ${index + 1} (${REPORT_COLUMNS[index]}): ${message}`);
  }
}

function notCsv(error: unknown, where: string): unknown {
  if (error instanceof CsvError) return new MalformedResponseError(`${where}: credential report is not valid CSV: ${error.message}`, { cause: error });
  return error;
}

export function reportDigest(content: Uint8Array): { sha256: string; bytes: number } {
  return { sha256: createHash('sha256').update(content).digest('hex'), bytes: content.byteLength };
}

/**
 * Streams the entries of the credential report from its CSV bytes, each as soon as its row is read, so no
 * more than a chunk of rows is ever held (the bytes themselves are the SDK's).
 */
export async function* credentialReportEntries(content: Uint8Array, where: string, signal?: AbortSignal): AsyncGenerator<ReportEntry> {
  const reader = new CredentialReportReader(where);
  try {
    for await (const record of streamCsvRecords(content, signal ? { signal } : {})) {
      const entry = reader.read(record);
      if (entry) yield entry;
    }
  } catch (error) {
    throw notCsv(error, where);
  }
  reader.finish();
}

/** The whole credential report at once, for a small report; collection streams it with credentialReportEntries. */
export function parseCredentialReport(content: Uint8Array, where: string): CredentialReport {
  let parsed: { record: string[]; info: { lines: number; empty_lines: number } }[];
  try {
    // With `info`, csv-parse returns {record, info} per record; its types only know the plain form.
    parsed = parseCsv(Buffer.from(content), { info: true, bom: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof parsed;
  } catch (error) {
    throw notCsv(error, where);
  }
  const reader = new CredentialReportReader(where);
  const entries: ReportEntry[] = [];
  const lineOf = csvRecordLines();
  for (const { record, info } of parsed) {
    const entry = reader.read({ line: lineOf(record, info), cells: record });
    if (entry) entries.push(entry);
  }
  reader.finish();
  return { entries, ...reportDigest(content) };
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
  if (page.IsTruncated === true && page.Marker === undefined)
    ctx.addIssue({ code: 'custom', message: 'IsTruncated is true but there is no Marker', path: ['Marker'] });
  return { items, next: page.IsTruncated === true ? page.Marker : undefined };
}

const twoDigits = (value: number) => (value < 10 ? `0${value}` : `${value}`);

/**
 * toISOString's text, built from the UTC fields: Date's own toISOString costs ~1 µs, and ListUsers brings two
 * dates a user (0.2 s of CPU at 100k users). Years outside 0-9999 (and invalid dates) go to toISOString itself.
 */
export function iso(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return date.toISOString();
  const ms = date.getUTCMilliseconds();
  return (
    `${year < 1000 ? String(year).padStart(4, '0') : year}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())}` +
    `T${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}.${ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : ms}Z`
  );
}

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
    const users = page.Users.map((user): ListedUser => ({
      name: user.UserName,
      arn: user.Arn,
      userId: user.UserId,
      path: user.Path,
      createdAt: iso(user.CreateDate),
      passwordLastUsedAt: user.PasswordLastUsed ? iso(user.PasswordLastUsed) : null,
    }));
    return toPage(page, users, ctx);
  });

export const GroupsPage = z.object({ ...Paging, Groups: z.array(z.object({ GroupName: z.string().min(1) })) }).transform((page, ctx) =>
  toPage(
    page,
    page.Groups.map((group) => group.GroupName),
    ctx,
  ),
);

export const AttachedPoliciesPage = z.object({ ...Paging, AttachedPolicies: z.array(z.object({ PolicyName: z.string().min(1) })) }).transform((page, ctx) =>
  toPage(
    page,
    page.AttachedPolicies.map((policy) => policy.PolicyName),
    ctx,
  ),
);

export const PolicyNamesPage = z.object({ ...Paging, PolicyNames: z.array(z.string().min(1)) }).transform((page, ctx) => toPage(page, page.PolicyNames, ctx));

/** An access key as ListAccessKeys shows it now; lastUsedAt is filled from the report or GetAccessKeyLastUsed. */
export interface AccessKeyListing {
  id: string;
  active: boolean;
  createdAt: string;
}

export const AccessKeysPage = z
  .object({
    ...Paging,
    AccessKeyMetadata: z.array(z.object({ AccessKeyId: z.string().min(1), Status: z.enum(['Active', 'Inactive', 'Expired']), CreateDate: z.date() })),
  })
  .transform((page, ctx) =>
    toPage(
      page,
      page.AccessKeyMetadata.map((key): AccessKeyListing => ({ id: key.AccessKeyId, active: key.Status === 'Active', createdAt: iso(key.CreateDate) })),
      ctx,
    ),
  );

/** A user's tags as ListUserTags gives them; kept in `raw.tags` in AWS's own Key/Value shape. */
export interface UserTag {
  Key: string;
  Value: string;
}

export const UserTagsPage = z.object({ ...Paging, Tags: z.array(z.object({ Key: z.string().min(1), Value: z.string() })) }).transform((page, ctx) =>
  toPage(
    page,
    page.Tags.map((tag): UserTag => ({ Key: tag.Key, Value: tag.Value })),
    ctx,
  ),
);

export const MfaDevicesPage = z.object({ ...Paging, MFADevices: z.array(z.object({ SerialNumber: z.string().min(1) })) }).transform((page, ctx) =>
  toPage(
    page,
    page.MFADevices.map((device) => device.SerialNumber),
    ctx,
  ),
);

/** A never-used key has no LastUsedDate (and N/A as service and region). */
export const AccessKeyLastUsed = z
  .object({ AccessKeyLastUsed: z.object({ LastUsedDate: z.date().optional() }) })
  .transform((out) => (out.AccessKeyLastUsed.LastUsedDate ? iso(out.AccessKeyLastUsed.LastUsedDate) : null));

export const LoginProfile = z
  .object({ LoginProfile: z.object({ CreateDate: z.date() }) })
  .transform((out) => ({ createdAt: iso(out.LoginProfile.CreateDate) }));

export const ReportGeneration = z.object({ State: z.enum(['STARTED', 'INPROGRESS', 'COMPLETE']) }).transform((out) => out.State);

export const ReportContent = z
  .object({ Content: z.instanceof(Uint8Array), ReportFormat: z.literal('text/csv').optional(), GeneratedTime: z.date().optional() })
  .transform((out) => ({ content: out.Content, generatedAt: out.GeneratedTime ? iso(out.GeneratedTime) : null }));

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

/**
 * Every time this module hands on is toISOString's `YYYY-MM-DDTHH:mm:ss.sssZ` (years 0-9999): two such times
 * compare in time order as text, and fall in the same second when their first 19 characters match, which
 * spares a Date.parse per time on every row. Other forms (given by callers) go through Date.parse.
 */
function isIsoUtc(time: string): boolean {
  return time.length === 24 && time.charCodeAt(23) === 90 /* Z */ && time.charCodeAt(19) === 46 /* . */ && time.charCodeAt(10) === 84; /* T */
}

function sameSecond(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  if (isIsoUtc(a) && isIsoUtc(b)) return a.startsWith(b.slice(0, 19));
  return Math.floor(Date.parse(a) / 1000) === Math.floor(Date.parse(b) / 1000);
}

function isLater(time: string, than: string): boolean {
  return isIsoUtc(time) && isIsoUtc(than) ? time > than : Date.parse(time) > Date.parse(than);
}

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
  for (const time of times) if (time !== null && (out === null || isLater(time, out))) out = time;
  return out;
}

function privilege(access: UserAccess | undefined, privilegedPolicies: readonly string[]) {
  if (!access) return { privileged: false, privilegedVia: null };
  const privilegedVia = access.grants.filter((grant) => privilegedPolicies.includes(grant.policy)).map((grant) => `${grant.policy} (${grant.via})`);
  return { privileged: privilegedVia.length > 0, privilegedVia };
}

type Credential = Identity['credentials'][number];

const NO_USABLE_CREDENTIAL = 'no console password, active access key or active signing certificate';

/**
 * IAM users have no disabled state of their own: a user without a console password and without an active access key
 * (or signing certificate) cannot authenticate at all, so it is recorded 'disabled', and the access checks leave it
 * alone. The root user can always recover its password, so it stays 'active'.
 */
function signInOf(status: 'active' | 'deleted', credentials: readonly Credential[], isRoot: boolean) {
  const password = isRoot || credentials.some((credential) => credential.kind === 'password' && credential.active);
  if (status === 'active' && !isRoot && !credentials.some((credential) => credential.active)) {
    return { status: 'disabled' as const, interactiveSignIn: false, disabledBecause: NO_USABLE_CREDENTIAL };
  }
  return { status, interactiveSignIn: password, disabledBecause: undefined };
}

/**
 * A user as the credential report describes it; one without any usable credential is 'disabled' (signInOf). A row
 * whose user no longer exists is 'deleted'. `keys`, when given, are the keys ListAccessKeys shows now; `tags`, the
 * user's tags when the source's join reads one.
 */
export function reportIdentity(
  entry: ReportEntry,
  facts: { status: 'active' | 'deleted'; listed?: ListedUser; access?: UserAccess; keys?: AccessKeyState[]; tags?: UserTag[] },
  options: MappingOptions,
): Identity {
  const credentials: Credential[] = [];
  if (entry.passwordEnabled === true) {
    credentials.push({ kind: 'password', id: 'password', active: true, createdAt: entry.passwordChangedAt, lastUsedAt: entry.passwordLastUsedAt });
  }
  if (facts.keys) {
    for (const key of facts.keys)
      credentials.push({ kind: 'access-key', id: key.id, active: key.active, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt });
  } else {
    for (const slot of entry.accessKeys)
      credentials.push({ kind: 'access-key', id: slot.slot, active: slot.active, createdAt: slot.createdAt, lastUsedAt: slot.lastUsedAt });
  }
  for (const slot of entry.certificates)
    credentials.push({ kind: 'certificate', id: slot.slot, active: slot.active, createdAt: slot.createdAt, lastUsedAt: null });

  const { privileged, privilegedVia } = entry.isRoot ? { privileged: true, privilegedVia: ['root user'] } : privilege(facts.access, options.privilegedPolicies);
  const signIn = signInOf(facts.status, credentials, entry.isRoot);
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: options.tenant,
    id: entry.arn,
    username: entry.name,
    email: null,
    displayName: null,
    status: signIn.status,
    interactiveSignIn: signIn.interactiveSignIn,
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
      ...(facts.tags ? { tags: facts.tags } : {}),
      ...(signIn.disabledBecause ? { disabledBecause: signIn.disabledBecause } : {}),
    },
  };
}

/** A user missing from the report (created since it was generated), described by per-user calls alone. */
export function listedIdentity(
  user: ListedUser,
  facts: { access: UserAccess; keys: AccessKeyState[]; loginProfile: { createdAt: string } | null; mfaDevices: string[]; tags?: UserTag[] },
  options: MappingOptions,
): Identity {
  const credentials: Credential[] = [];
  if (facts.loginProfile) {
    credentials.push({ kind: 'password', id: 'password', active: true, createdAt: facts.loginProfile.createdAt, lastUsedAt: user.passwordLastUsedAt });
  }
  for (const key of facts.keys) credentials.push({ kind: 'access-key', id: key.id, active: key.active, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt });
  const { privileged, privilegedVia } = privilege(facts.access, options.privilegedPolicies);
  const signIn = signInOf('active', credentials, false);
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: options.tenant,
    id: user.arn,
    username: user.name,
    email: null,
    displayName: null,
    status: signIn.status,
    interactiveSignIn: signIn.interactiveSignIn,
    privileged,
    mfaEnabled: facts.mfaDevices.length > 0,
    lastLoginAt: latest([user.passwordLastUsedAt, ...facts.keys.map((key) => key.lastUsedAt)]),
    createdAt: user.createdAt,
    credentials,
    groups: facts.access.groups,
    raw: {
      credentialReport: null,
      userId: user.userId,
      path: user.path,
      grants: facts.access.grants,
      privilegedVia,
      ...(facts.tags ? { tags: facts.tags } : {}),
      ...(signIn.disabledBecause ? { disabledBecause: signIn.disabledBecause } : {}),
    },
  };
}
