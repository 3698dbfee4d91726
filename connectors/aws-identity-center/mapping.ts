import { z } from 'zod';
import type { Identity } from '../../core/records.ts';
import { MalformedResponseError } from '../errors.ts';

export const SOURCE = 'aws-identity-center';

const token = z.string().optional();
const date = z.date().refine((value) => !Number.isNaN(value.getTime()), 'expected a valid timestamp');

// ---------------------------------------------------------------- sso-admin pages

export const InstancesPage = z.object({
  Instances: z.array(
    z.object({ InstanceArn: z.string().min(1), IdentityStoreId: z.string().min(1), Status: z.string().optional(), OwnerAccountId: z.string().optional() }),
  ),
  NextToken: token,
});
export const PermissionSetsPage = z.object({ PermissionSets: z.array(z.string().min(1)), NextToken: token });
export const PermissionSetDescription = z.object({
  PermissionSet: z.object({ PermissionSetArn: z.string().min(1), Name: z.string().min(1), SessionDuration: z.string().optional() }),
});
export const ManagedPoliciesPage = z.object({
  AttachedManagedPolicies: z.array(z.object({ Name: z.string().min(1), Arn: z.string().min(1) })),
  NextToken: token,
});
/** An empty string when the permission set has no inline policy. */
export const InlinePolicyAnswer = z.object({ InlinePolicy: z.string().optional() });
export const AccountsPage = z.object({ AccountIds: z.array(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id')), NextToken: token });
export const AssignmentsPage = z.object({
  AccountAssignments: z.array(
    z.object({ AccountId: z.string().min(1), PermissionSetArn: z.string().min(1), PrincipalType: z.enum(['USER', 'GROUP']), PrincipalId: z.string().min(1) }),
  ),
  NextToken: token,
});

// ---------------------------------------------------------------- identitystore pages

export const IdcUser = z.object({
  UserId: z.string().min(1),
  UserName: z.string().min(1),
  DisplayName: z.string().nullish(),
  Name: z.object({ Formatted: z.string().nullish(), GivenName: z.string().nullish(), FamilyName: z.string().nullish() }).nullish(),
  Emails: z.array(z.object({ Value: z.string().nullish(), Primary: z.boolean().nullish() })).nullish(),
  /** ENABLED or DISABLED; absent from older answers, where every user could sign in. */
  UserStatus: z.string().nullish(),
  CreatedAt: date.nullish(),
});
export type IdcUser = z.infer<typeof IdcUser>;
export const UsersPage = z.object({ Users: z.array(IdcUser), NextToken: token });
export const GroupsPage = z.object({ Groups: z.array(z.object({ GroupId: z.string().min(1), DisplayName: z.string().nullish() })), NextToken: token });
export const MembershipsPage = z.object({ GroupMemberships: z.array(z.object({ GroupId: z.string().min(1) })), NextToken: token });

// ---------------------------------------------------------------- privilege

export interface PermissionSet {
  arn: string;
  name: string;
  managedPolicies: string[];
  /** Why the permission set is privileged, or undefined when it is not. */
  privilegedBy: string | undefined;
}

const PolicyDocument = z.object({
  Statement: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]),
});

/**
 * Whether an inline policy grants everything: an Allow of `*` (or `*:*`), of `iam:*` (whoever has it can grant
 * themselves the rest), or an Allow with NotAction, which grants every action but the few it names.
 */
export function inlinePolicyPrivilege(document: string, where: string): string | undefined {
  if (document.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new MalformedResponseError(`${where}: field InlinePolicy: not a JSON policy document (${document.length} characters)`);
  }
  const policy = PolicyDocument.safeParse(parsed);
  if (!policy.success) throw new MalformedResponseError(`${where}: field InlinePolicy: a policy document without Statement`);
  const statements = Array.isArray(policy.data.Statement) ? policy.data.Statement : [policy.data.Statement];
  for (const statement of statements) {
    if (statement['Effect'] !== 'Allow') continue;
    if (statement['NotAction'] !== undefined) return 'an inline policy allowing every action but those in NotAction';
    const actions = ([] as unknown[]).concat(statement['Action'] ?? []);
    const broad = actions.find((action) => typeof action === 'string' && ['*', '*:*', 'iam:*'].includes(action.toLowerCase()));
    if (broad !== undefined) return `an inline policy allowing ${String(broad)}`;
  }
  return undefined;
}

export function permissionSetPrivilege(
  managedPolicies: readonly string[],
  inline: string | undefined,
  privilegedPolicies: readonly string[],
): string | undefined {
  const managed = managedPolicies.find((name) => privilegedPolicies.includes(name));
  return managed !== undefined ? `the managed policy ${managed}` : inline;
}

// ---------------------------------------------------------------- records

/** One way a person reaches an account: the permission set, and whether it is assigned to them or to a group of theirs. */
export interface Reach {
  accountId: string;
  permissionSet: string;
  permissionSetArn: string;
  via: string;
  privileged: boolean;
}

export interface Directory {
  identityStoreId: string;
  instanceArn: string;
  permissionSets: ReadonlyMap<string, PermissionSet>;
  /** Assignments by principal id (a user or a group). */
  assignments: ReadonlyMap<string, readonly { accountId: string; permissionSetArn: string }[]>;
  groupNames: ReadonlyMap<string, string>;
}

/** Every account the user reaches, directly and through each group, with the permission set that grants it. */
export function reachOf(userId: string, groupIds: readonly string[], directory: Directory): Reach[] {
  const out: Reach[] = [];
  for (const [principal, via] of [[userId, 'user'] as const, ...groupIds.map((id) => [id, `group ${directory.groupNames.get(id) ?? id}`] as const)]) {
    for (const assignment of directory.assignments.get(principal) ?? []) {
      const set = directory.permissionSets.get(assignment.permissionSetArn);
      out.push({
        accountId: assignment.accountId,
        permissionSet: set?.name ?? assignment.permissionSetArn,
        permissionSetArn: assignment.permissionSetArn,
        via,
        privileged: set?.privilegedBy !== undefined,
      });
    }
  }
  return out.sort((a, b) => a.accountId.localeCompare(b.accountId) || a.permissionSet.localeCompare(b.permissionSet) || a.via.localeCompare(b.via));
}

function emailOf(user: IdcUser): string | null {
  const emails = (user.Emails ?? []).filter((email) => typeof email.Value === 'string' && email.Value !== '');
  const chosen = emails.find((email) => email.Primary === true) ?? emails[0];
  return chosen?.Value ? chosen.Value.toLowerCase() : null;
}

function nameOf(user: IdcUser): string | null {
  const name = user.Name;
  return user.DisplayName || name?.Formatted || [name?.GivenName, name?.FamilyName].filter(Boolean).join(' ') || null;
}

/**
 * An Identity Center user as an identity. The identity store says nothing of sign-ins or MFA devices, so both are
 * 'unknown' (never a guess, never "never"); privilege is any account reached through a privileged permission set.
 */
export function toIdentity(user: IdcUser, groupIds: readonly string[], directory: Directory): Identity {
  const reach = reachOf(user.UserId, groupIds, directory);
  const privilegedBy = [
    ...new Set(
      reach
        .filter((each) => each.privileged)
        .map((each) => `${each.permissionSet}: ${directory.permissionSets.get(each.permissionSetArn)?.privilegedBy ?? ''}`),
    ),
  ];
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: directory.identityStoreId,
    id: user.UserId,
    username: user.UserName,
    email: emailOf(user),
    displayName: nameOf(user),
    status: user.UserStatus === 'DISABLED' ? 'disabled' : 'active',
    privileged: privilegedBy.length > 0,
    mfaEnabled: 'unknown',
    lastLoginAt: 'unknown',
    createdAt: user.CreatedAt ? user.CreatedAt.toISOString() : null,
    credentials: [],
    groups: groupIds.map((id) => directory.groupNames.get(id) ?? id).sort(),
    raw: {
      instanceArn: directory.instanceArn,
      userStatus: user.UserStatus ?? null,
      accounts: [...new Set(reach.map((each) => each.accountId))],
      access: reach.map(({ accountId, permissionSet, via, privileged }) => ({ accountId, permissionSet, via, privileged })),
      privilegedBy,
    },
  };
}
