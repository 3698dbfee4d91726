import { setTimeout as sleep } from 'node:timers/promises';
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  ListAccessKeysCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import type { Identity } from '../../core/records.ts';
import type { ConnectorContext } from '../contract.ts';
import { NotFoundError, UnavailableError } from '../errors.ts';
import type { AwsIamConfig } from './config.ts';
import {
  AccessKeyLastUsed,
  AccessKeysPage,
  AttachedPoliciesPage,
  describesUser,
  GroupsPage,
  ListUsersPage,
  listedIdentity,
  credentialReportEntries,
  LoginProfile,
  MfaDevicesPage,
  PolicyNamesPage,
  ReportContent,
  reportDigest,
  ReportGeneration,
  reportIdentity,
  reportSlotsOf,
  type AccessKeyListing,
  type AccessKeyState,
  type Grant,
  type ListedUser,
  type MappingOptions,
  type ReportEntry,
  type UserAccess,
  type UserTag,
  UserTagsPage,
} from './mapping.ts';
import { sendGetCredentialReport } from './report-content.ts';
import { parseResponse } from '../kit/validate.ts';
import { allPages, call, pages, type Session } from './session.ts';

export type AccountSettings = Pick<AwsIamConfig, 'perUserDetails' | 'privilegedPolicies' | 'reportPollIntervalMs' | 'reportTimeoutMs' | 'userTags'>;

/** IAM's largest page: fewer round trips, and IAM may still return less. */
const PAGE_SIZE = 1000;

/** Facts about one account's pull, kept in the evidence's provenance. */
export interface AccountProvenance {
  credentialReport: { sha256: string; bytes: number; rows: number; generatedAt: string | null; polls: number };
  listUsersPages: number;
  users: number;
  usersMissingFromReport: number;
  usersDeletedSinceReport: number;
  perUserDetails: boolean;
}

/**
 * Yields the identities of one account: every credential report row (the root user, users, and users deleted
 * since the report), then the users created since the report. ListUsers says who exists now; per-user calls
 * add what the report lacks (groups, policies, real key ids).
 *
 * At 100k users the report is ~25 MB of CSV: its rows are read and yielded one at a time, and of ListUsers
 * only the users themselves are kept (a few small strings each), which the join with the report needs whole.
 */
export async function* collectAccount(
  session: Session,
  settings: AccountSettings,
  ctx: ConnectorContext,
  record: (facts: AccountProvenance) => void,
): AsyncGenerator<Identity> {
  const { content, generatedAt, polls } = await credentialReport(session, settings, ctx);
  const options: MappingOptions = { tenant: session.accountId, privilegedPolicies: settings.privilegedPolicies };
  const groupGrants = new Map<string, Promise<Grant[]>>();
  let described = 0;
  let users: ListedUsers | undefined;
  let rows = 0;
  let deleted = 0;
  for await (const entry of credentialReportEntries(content, session.where('GetCredentialReport'), ctx.signal)) {
    // Listed once the header and the first row are read: a report that is not IAM's fails before any listing.
    users ??= await listUsers(session);
    rows++;
    ctx.signal.throwIfAborted();
    if (entry.isRoot) {
      yield reportIdentity(entry, { status: 'active' }, options);
      continue;
    }
    const listed = users.byArn.get(entry.arn);
    if (!listed) {
      deleted++;
      yield reportIdentity(entry, { status: 'deleted' }, options);
      continue;
    }
    const { user } = listed;
    // A user re-created under the same name since the report is described by ListUsers below, not by this row.
    if (!describesUser(entry, user)) continue;
    if (!listed.described) described++;
    listed.described = true;
    const tagged = await tagsFor(session, settings, user.name);
    if (!tagged) {
      yield reportIdentity(entry, { status: 'deleted', listed: user }, options);
      continue;
    }
    if (!settings.perUserDetails) {
      yield reportIdentity(entry, { status: 'active', listed: user, ...tagged }, options);
      continue;
    }
    const details = await reportedUserDetails(session, entry, user, groupGrants);
    yield reportIdentity(entry, details ? { status: 'active', listed: user, ...details, ...tagged } : { status: 'deleted', listed: user }, options);
  }
  users ??= await listUsers(session);

  let missing = 0;
  for (const { user, described: byReport } of users.byArn.values()) {
    if (byReport) continue;
    ctx.signal.throwIfAborted();
    missing++;
    const details = await newUserDetails(session, user, groupGrants);
    const tagged = details && (await tagsFor(session, settings, user.name));
    if (details && tagged) yield listedIdentity(user, { ...details, ...tagged }, options);
  }

  if (!settings.perUserDetails && described > 0) {
    ctx.warn(
      `${session.where('per-user details')}: perUserDetails is off, so groups and policies of ${described} users were not read; ` +
        'they are recorded as not privileged (only the root user is)',
    );
  }
  record({
    credentialReport: { ...reportDigest(content), rows, generatedAt, polls },
    listUsersPages: users.pages,
    users: users.byArn.size,
    usersMissingFromReport: missing,
    usersDeletedSinceReport: deleted,
    perUserDetails: settings.perUserDetails,
  });
}

/** Who exists now, by ARN (the report's key), in ListUsers order; `described` once a report row describes the user. */
interface ListedUsers {
  byArn: Map<string, { user: ListedUser; described: boolean }>;
  pages: number;
}

async function listUsers(session: Session): Promise<ListedUsers> {
  const byArn: ListedUsers['byArn'] = new Map();
  let count = 0;
  for await (const users of pages(session, 'ListUsers', ListUsersPage, (Marker, options) =>
    session.iam.send(new ListUsersCommand({ Marker, MaxItems: PAGE_SIZE }), options),
  )) {
    count++;
    for (const user of users) byArn.set(user.arn, { user, described: false });
  }
  return { byArn, pages: count };
}

/**
 * GenerateCredentialReport starts a report (or reuses one under 4 hours old) and reports its state; polling
 * it until COMPLETE is how AWS says to wait. A report that is not ready in time is a passing fault.
 */
async function credentialReport(session: Session, settings: AccountSettings, ctx: ConnectorContext) {
  const started = ctx.now().getTime();
  let polls = 0;
  for (;;) {
    polls++;
    const generation = await call(session, 'GenerateCredentialReport', (options) => session.iam.send(new GenerateCredentialReportCommand({}), options));
    const state = parseResponse(ReportGeneration, generation, session.where('GenerateCredentialReport'));
    if (state === 'COMPLETE') break;
    if (ctx.now().getTime() - started + settings.reportPollIntervalMs > settings.reportTimeoutMs) {
      throw new UnavailableError(
        `${session.where('GenerateCredentialReport')}: the credential report was still ${state} after ${polls} polls; the limit is ${settings.reportTimeoutMs} ms`,
      );
    }
    await sleep(settings.reportPollIntervalMs, undefined, { signal: ctx.signal });
  }
  const where = session.where('GetCredentialReport');
  const out = parseResponse(ReportContent, await call(session, 'GetCredentialReport', (options) => sendGetCredentialReport(session.iam, options)), where);
  return { content: out.content, generatedAt: out.generatedAt, polls };
}

/** Resolves to undefined when IAM says the entity does not exist (NoSuchEntity). */
async function unlessNoSuchEntity<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

async function userAccess(session: Session, userName: string, groupGrants: Map<string, Promise<Grant[]>>): Promise<UserAccess> {
  const of = `for user ${userName}`;
  const [groups, attached, inline] = await Promise.all([
    allPages(session, `ListGroupsForUser ${of}`, GroupsPage, (Marker, options) =>
      session.iam.send(new ListGroupsForUserCommand({ UserName: userName, Marker }), options),
    ),
    allPages(session, `ListAttachedUserPolicies ${of}`, AttachedPoliciesPage, (Marker, options) =>
      session.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }), options),
    ),
    allPages(session, `ListUserPolicies ${of}`, PolicyNamesPage, (Marker, options) =>
      session.iam.send(new ListUserPoliciesCommand({ UserName: userName, Marker }), options),
    ),
  ]);
  const viaGroups = await Promise.all(groups.map((group) => grantsOfGroup(session, group, groupGrants)));
  return {
    groups,
    grants: [...attached.map((policy) => ({ policy, via: 'attached' })), ...inline.map((policy) => ({ policy, via: 'inline' })), ...viaGroups.flat()],
  };
}

/** Group policies are read once per account, however many members the group has. */
function grantsOfGroup(session: Session, group: string, cache: Map<string, Promise<Grant[]>>): Promise<Grant[]> {
  let grants = cache.get(group);
  if (!grants) {
    const of = `for group ${group}`;
    grants = Promise.all([
      allPages(session, `ListAttachedGroupPolicies ${of}`, AttachedPoliciesPage, (Marker, options) =>
        session.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: group, Marker }), options),
      ),
      allPages(session, `ListGroupPolicies ${of}`, PolicyNamesPage, (Marker, options) =>
        session.iam.send(new ListGroupPoliciesCommand({ GroupName: group, Marker }), options),
      ),
    ]).then(
      ([attached, inline]) => [
        ...attached.map((policy) => ({ policy, via: `group ${group}, attached` })),
        ...inline.map((policy) => ({ policy, via: `group ${group}, inline` })),
      ],
      // A group deleted between ListGroupsForUser and now grants nothing any more.
      (error: unknown) => {
        if (error instanceof NotFoundError) return [];
        throw error;
      },
    );
    cache.set(group, grants);
  }
  return grants;
}

/** The user's tags, only when the source's join reads one (least privilege: iam:ListUserTags); null when the user was deleted while we read it. */
async function tagsFor(session: Session, settings: AccountSettings, userName: string): Promise<{ tags?: UserTag[] } | null> {
  if (!settings.userTags) return {};
  const tags = await unlessNoSuchEntity(
    allPages(session, `ListUserTags for user ${userName}`, UserTagsPage, (Marker, options) =>
      session.iam.send(new ListUserTagsCommand({ UserName: userName, Marker }), options),
    ),
  );
  return tags ? { tags } : null;
}

function listAccessKeys(session: Session, userName: string): Promise<AccessKeyListing[]> {
  return allPages(session, `ListAccessKeys for user ${userName}`, AccessKeysPage, (Marker, options) =>
    session.iam.send(new ListAccessKeysCommand({ UserName: userName, Marker }), options),
  );
}

async function lastUsed(session: Session, key: AccessKeyListing): Promise<AccessKeyState> {
  const operation = `GetAccessKeyLastUsed for key ${key.id}`;
  const out = await call(session, operation, (options) => session.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.id }), options));
  return { ...key, lastUsedAt: parseResponse(AccessKeyLastUsed, out, session.where(operation)) };
}

/**
 * What the report lacks for a user it describes: groups, policies, and the real key ids (with the current
 * status; a key created since the report gets its last use from GetAccessKeyLastUsed). Undefined when the
 * user was deleted while we read it.
 */
async function reportedUserDetails(session: Session, entry: ReportEntry, user: ListedUser, groupGrants: Map<string, Promise<Grant[]>>) {
  return unlessNoSuchEntity(
    (async () => {
      const [access, listing] = await Promise.all([userAccess(session, user.name, groupGrants), listAccessKeys(session, user.name)]);
      const slots = reportSlotsOf(entry, listing);
      const keys = await Promise.all(
        listing.map((key, index) => {
          const slot = slots[index];
          return slot ? { ...key, lastUsedAt: slot.lastUsedAt } : lastUsed(session, key);
        }),
      );
      return { access, keys };
    })(),
  );
}

/** Everything about a user the report does not know yet. Undefined when the user was deleted while we read it. */
async function newUserDetails(session: Session, user: ListedUser, groupGrants: Map<string, Promise<Grant[]>>) {
  const of = `for user ${user.name}`;
  return unlessNoSuchEntity(
    (async () => {
      const [access, listing, mfaDevices, profile] = await Promise.all([
        userAccess(session, user.name, groupGrants),
        listAccessKeys(session, user.name),
        allPages(session, `ListMFADevices ${of}`, MfaDevicesPage, (Marker, options) =>
          session.iam.send(new ListMFADevicesCommand({ UserName: user.name, Marker }), options),
        ),
        // No login profile (NoSuchEntity, 404) means no console password.
        unlessNoSuchEntity(call(session, `GetLoginProfile ${of}`, (options) => session.iam.send(new GetLoginProfileCommand({ UserName: user.name }), options))),
      ]);
      const keys = await Promise.all(listing.map((key) => lastUsed(session, key)));
      const loginProfile = profile === undefined ? null : parseResponse(LoginProfile, profile, session.where(`GetLoginProfile ${of}`));
      return { access, keys, mfaDevices, loginProfile };
    })(),
  );
}
