import { CreateGroupCommand, CreateGroupMembershipCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  AttachManagedPolicyToPermissionSetCommand,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  ListInstancesCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';

/**
 * Seeds moto's Identity Center through the real SDK's write calls: users, groups and memberships in the identity
 * store of moto's one instance, permission sets with AWS managed and inline policies, provisioned and assigned in
 * moto's account. moto 5.2 provisions a permission set to the caller's account only (it ignores TargetId), keeps no
 * UserStatus or CreatedAt, and does not page ListInstances or ListAccountsForProvisionedPermissionSet: what depends
 * on those is tested on the mapping.
 */
export interface IdentityCenterSeed {
  users: { userName: string; displayName: string; email: string }[];
  groups: { name: string; members: string[] }[];
  permissionSets: { name: string; managed?: string[]; inline?: Record<string, unknown> }[];
  assignments: { permissionSet: string; user?: string; group?: string }[];
}

export interface SeededIdentityCenter {
  instanceArn: string;
  identityStoreId: string;
  /** moto's account, which holds the instance and every assignment. */
  accountId: string;
  userIds: Map<string, string>;
}

export const MOTO_ACCOUNT = '123456789012';
const CREDENTIALS = { accessKeyId: 'AKIAMOTOSEED00000001', secretAccessKey: 'moto-seed-secret' };

export async function seedIdentityCenter(endpoint: string, region: string, seed: IdentityCenterSeed): Promise<SeededIdentityCenter> {
  const settings = { endpoint, region, credentials: CREDENTIALS };
  const store = new IdentitystoreClient(settings);
  const admin = new SSOAdminClient(settings);
  try {
    const instance = (await admin.send(new ListInstancesCommand({}))).Instances?.[0];
    if (instance?.InstanceArn === undefined || instance.IdentityStoreId === undefined) throw new Error('moto has no Identity Center instance');
    const { InstanceArn, IdentityStoreId } = instance;
    const userIds = new Map<string, string>();
    for (const user of seed.users) {
      const [given, ...family] = user.displayName.split(' ');
      const created = await store.send(
        new CreateUserCommand({
          IdentityStoreId,
          UserName: user.userName,
          DisplayName: user.displayName,
          Name: { GivenName: given, FamilyName: family.join(' ') || given },
          Emails: [{ Value: user.email, Primary: true, Type: 'work' }],
        }),
      );
      userIds.set(user.userName, created.UserId!);
    }
    const groupIds = new Map<string, string>();
    for (const group of seed.groups) {
      const created = await store.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: group.name }));
      groupIds.set(group.name, created.GroupId!);
      for (const member of group.members) {
        await store.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: created.GroupId!, MemberId: { UserId: userIds.get(member)! } }));
      }
    }
    const setArns = new Map<string, string>();
    for (const set of seed.permissionSets) {
      const created = await admin.send(new CreatePermissionSetCommand({ InstanceArn, Name: set.name, SessionDuration: 'PT8H' }));
      const PermissionSetArn = created.PermissionSet!.PermissionSetArn!;
      setArns.set(set.name, PermissionSetArn);
      for (const policy of set.managed ?? []) {
        await admin.send(
          new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn, ManagedPolicyArn: `arn:aws:iam::aws:policy/${policy}` }),
        );
      }
      if (set.inline !== undefined)
        await admin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn, InlinePolicy: JSON.stringify(set.inline) }));
      await admin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }));
    }
    for (const assignment of seed.assignments) {
      const principal =
        assignment.user !== undefined
          ? { PrincipalType: 'USER' as const, PrincipalId: userIds.get(assignment.user)! }
          : { PrincipalType: 'GROUP' as const, PrincipalId: groupIds.get(assignment.group!)! };
      await admin.send(
        new CreateAccountAssignmentCommand({
          InstanceArn,
          PermissionSetArn: setArns.get(assignment.permissionSet)!,
          TargetType: 'AWS_ACCOUNT',
          TargetId: MOTO_ACCOUNT,
          ...principal,
        }),
      );
    }
    return { instanceArn: InstanceArn, identityStoreId: IdentityStoreId, accountId: MOTO_ACCOUNT, userIds };
  } finally {
    store.destroy();
    admin.destroy();
  }
}
