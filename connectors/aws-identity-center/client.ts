import { IdentitystoreClient, ListGroupMembershipsForMemberCommand, ListGroupsCommand, ListUsersCommand } from '@aws-sdk/client-identitystore';
import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import type { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import type { ConnectorContext } from '../contract.ts';
import { awsFailure } from '../kit/aws-errors.ts';
import { awsClientConfig, countSdkRetries, openAwsAccount, type AwsAccountAccess, type AwsCredentialProvider } from '../kit/aws.ts';
import type { RetryTally } from '../kit/retries.ts';
import { nextPageToken, parseResponse } from '../kit/validate.ts';
import type { AwsIdentityCenterConfig } from './config.ts';
import {
  AccountsPage,
  AssignmentsPage,
  GroupsPage,
  InlinePolicyAnswer,
  inlinePolicyPrivilege,
  InstancesPage,
  ManagedPoliciesPage,
  MembershipsPage,
  PermissionSetDescription,
  permissionSetPrivilege,
  PermissionSetsPage,
  SOURCE,
  UsersPage,
  type Directory,
  type IdcUser,
  type PermissionSet,
} from './mapping.ts';

type Send = (options: { abortSignal: AbortSignal }) => Promise<unknown>;

/** The two SDK clients of the account that holds the Identity Center instance, and how messages name that account. */
export class IdentityCenter {
  readonly #account: AwsAccountAccess;
  readonly #store: IdentitystoreClient;
  readonly #admin: SSOAdminClient;
  readonly #signal: AbortSignal;
  /** Requests per call, for the provenance. */
  readonly requests: Record<string, number> = {};

  private constructor(account: AwsAccountAccess, store: IdentitystoreClient, admin: SSOAdminClient, signal: AbortSignal) {
    this.#account = account;
    this.#store = store;
    this.#admin = admin;
    this.#signal = signal;
  }

  static async open(
    config: AwsIdentityCenterConfig,
    credentials: AwsCredentialProvider | undefined,
    tally: RetryTally,
    ctx: ConnectorContext,
  ): Promise<IdentityCenter> {
    const account = await openAwsAccount(config.account, 0, config.region, {
      source: SOURCE,
      sessionName: 'isms-worker-identity-center',
      stsEndpoint: config.endpoint,
      maxAttempts: config.maxAttempts,
      credentials,
      tally,
      signal: ctx.signal,
    });
    const settings = awsClientConfig({ region: config.region, endpoint: config.endpoint, maxAttempts: config.maxAttempts, credentials: account.credentials });
    const store = new IdentitystoreClient(settings);
    const admin = new SSOAdminClient(settings);
    countSdkRetries(store, tally, account.where);
    countSdkRetries(admin, tally, account.where);
    return new IdentityCenter(account, store, admin, ctx.signal);
  }

  get accountId(): string {
    return this.#account.accountId;
  }

  where(operation: string): string {
    return this.#account.where(operation);
  }

  close(): void {
    this.#store.destroy();
    this.#admin.destroy();
    this.#account.close();
  }

  async #call<S extends z.ZodType>(schema: S, operation: string, where: string, needs: string, send: Send): Promise<z.output<S>> {
    this.requests[operation] = (this.requests[operation] ?? 0) + 1;
    let answer: unknown;
    try {
      answer = await send({ abortSignal: this.#signal });
    } catch (error) {
      throw awsFailure(error, this.where(where), { needs });
    }
    return parseResponse(schema, answer, this.where(where));
  }

  /** Every page of a NextToken listing; `what` names the call (and its subject) in errors, with the page number. */
  async #all<S extends z.ZodType<{ NextToken?: string | undefined }>>(
    schema: S,
    operation: string,
    what: string,
    needs: string,
    send: (token: string | undefined) => Send,
  ): Promise<z.output<S>[]> {
    const out: z.output<S>[] = [];
    let token: string | undefined;
    for (let page = 1; ; page++) {
      const where = page === 1 ? what : `${what} page ${page}`;
      const answer = await this.#call(schema, operation, where, needs, send(token));
      out.push(answer);
      const next = nextPageToken(answer.NextToken, token, this.where(where), 'NextToken');
      if (next === undefined) return out;
      token = next;
    }
  }

  /** The instance named in the config, or the only one the account has. */
  async instance(instanceArn: string | undefined): Promise<{ instanceArn: string; identityStoreId: string }> {
    const pages = await this.#all(
      InstancesPage,
      'ListInstances',
      'ListInstances',
      'sso:ListInstances',
      (NextToken) => (options) => this.#admin.send(new ListInstancesCommand({ NextToken }), options),
    );
    const instances = pages.flatMap((page) => page.Instances);
    const chosen = instanceArn === undefined ? (instances.length === 1 ? instances[0] : undefined) : instances.find((each) => each.InstanceArn === instanceArn);
    if (chosen === undefined) {
      const found = instances.map((each) => each.InstanceArn).join(', ') || 'none';
      throw new ConfigError(
        `${this.where('ListInstances')}: ${instanceArn === undefined ? 'set instanceArn to one of the instances' : `no instance ${instanceArn}`} (found: ${found})`,
      );
    }
    return { instanceArn: chosen.InstanceArn, identityStoreId: chosen.IdentityStoreId };
  }

  /** Every permission set with its policies judged, and every account assignment, by principal. */
  async directory(instance: { instanceArn: string; identityStoreId: string }, privilegedPolicies: readonly string[], pageSize: number): Promise<Directory> {
    const { instanceArn: InstanceArn, identityStoreId: IdentityStoreId } = instance;
    const arns = (
      await this.#all(
        PermissionSetsPage,
        'ListPermissionSets',
        'ListPermissionSets',
        'sso:ListPermissionSets',
        (NextToken) => (options) => this.#admin.send(new ListPermissionSetsCommand({ InstanceArn, NextToken, MaxResults: pageSize }), options),
      )
    ).flatMap((page) => page.PermissionSets);
    const permissionSets = new Map<string, PermissionSet>();
    const assignments = new Map<string, { accountId: string; permissionSetArn: string }[]>();
    for (const PermissionSetArn of arns) {
      const about = `permission set ${PermissionSetArn}`;
      const { PermissionSet: described } = await this.#call(
        PermissionSetDescription,
        'DescribePermissionSet',
        `DescribePermissionSet ${about}`,
        'sso:DescribePermissionSet',
        (options) => this.#admin.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn }), options),
      );
      const named = `permission set ${described.Name}`;
      const managed = (
        await this.#all(
          ManagedPoliciesPage,
          'ListManagedPoliciesInPermissionSet',
          `ListManagedPoliciesInPermissionSet ${named}`,
          'sso:ListManagedPoliciesInPermissionSet',
          (NextToken) => (options) =>
            this.#admin.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn, PermissionSetArn, NextToken, MaxResults: pageSize }), options),
        )
      ).flatMap((page) => page.AttachedManagedPolicies.map((policy) => policy.Name));
      const inlineWhere = `GetInlinePolicyForPermissionSet ${named}`;
      const { InlinePolicy } = await this.#call(
        InlinePolicyAnswer,
        'GetInlinePolicyForPermissionSet',
        inlineWhere,
        'sso:GetInlinePolicyForPermissionSet',
        (options) => this.#admin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn, PermissionSetArn }), options),
      );
      const inline = inlinePolicyPrivilege(InlinePolicy ?? '', this.where(inlineWhere));
      permissionSets.set(PermissionSetArn, {
        arn: PermissionSetArn,
        name: described.Name,
        managedPolicies: managed,
        privilegedBy: permissionSetPrivilege(managed, inline, privilegedPolicies),
      });

      const accounts = (
        await this.#all(
          AccountsPage,
          'ListAccountsForProvisionedPermissionSet',
          `ListAccountsForProvisionedPermissionSet ${named}`,
          'sso:ListAccountsForProvisionedPermissionSet',
          (NextToken) => (options) =>
            this.#admin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn, PermissionSetArn, NextToken, MaxResults: pageSize }), options),
        )
      ).flatMap((page) => page.AccountIds);
      for (const AccountId of accounts) {
        const pages = await this.#all(
          AssignmentsPage,
          'ListAccountAssignments',
          `ListAccountAssignments ${named} account ${AccountId}`,
          'sso:ListAccountAssignments',
          (NextToken) => (options) =>
            this.#admin.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId, PermissionSetArn, NextToken, MaxResults: pageSize }), options),
        );
        for (const assignment of pages.flatMap((page) => page.AccountAssignments)) {
          const held = assignments.get(assignment.PrincipalId) ?? [];
          held.push({ accountId: assignment.AccountId, permissionSetArn: assignment.PermissionSetArn });
          assignments.set(assignment.PrincipalId, held);
        }
      }
    }
    const groups = (
      await this.#all(
        GroupsPage,
        'ListGroups',
        'ListGroups',
        'identitystore:ListGroups',
        (NextToken) => (options) => this.#store.send(new ListGroupsCommand({ IdentityStoreId, NextToken, MaxResults: pageSize }), options),
      )
    ).flatMap((page) => page.Groups);
    const groupNames = new Map(groups.map((group) => [group.GroupId, group.DisplayName ?? group.GroupId]));
    return { identityStoreId: IdentityStoreId, instanceArn: InstanceArn, permissionSets, assignments, groupNames };
  }

  async users(identityStoreId: string, pageSize: number): Promise<IdcUser[]> {
    const pages = await this.#all(
      UsersPage,
      'ListUsers',
      'ListUsers',
      'identitystore:ListUsers',
      (NextToken) => (options) => this.#store.send(new ListUsersCommand({ IdentityStoreId: identityStoreId, NextToken, MaxResults: pageSize }), options),
    );
    return pages.flatMap((page) => page.Users);
  }

  async groupsOf(identityStoreId: string, user: IdcUser, pageSize: number): Promise<string[]> {
    const pages = await this.#all(
      MembershipsPage,
      'ListGroupMembershipsForMember',
      `ListGroupMembershipsForMember user ${user.UserName}`,
      'identitystore:ListGroupMembershipsForMember',
      (NextToken) => (options) =>
        this.#store.send(
          new ListGroupMembershipsForMemberCommand({ IdentityStoreId: identityStoreId, MemberId: { UserId: user.UserId }, NextToken, MaxResults: pageSize }),
          options,
        ),
    );
    return pages.flatMap((page) => page.GroupMemberships.map((membership) => membership.GroupId));
  }
}
