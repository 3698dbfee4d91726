// @module-tag moto
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsIdentityCenter } from '../../../connectors/aws-identity-center/index.ts';
import { ConfigError } from '../../../core/errors.ts';
import { MalformedResponseError, PermissionError } from '../../../connectors/errors.ts';
import { configOf, pull, startWorld, type IdentityCenterWorld } from './setup.ts';

let world: IdentityCenterWorld;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const parse = (overrides: Record<string, unknown> = {}) => awsIdentityCenter.config.parse(configOf(world.proxy.endpoint, overrides));

describe('aws-identity-center against moto', () => {
  it('records each person with the accounts they reach, through which permission set, and privilege from the sets', async () => {
    const { records, error, warnings, provenance } = await pull(parse());
    expect(error).toBeUndefined();
    const byName = Object.fromEntries(records.map((record) => [record.username, record]));
    expect(Object.keys(byName).sort()).toEqual(['ada', 'grace', 'joan', 'ken', 'linus', 'margaret', 'svc-ci']);
    const account = world.seeded.accountId;
    expect(byName['grace']).toMatchObject({
      source: 'aws-identity-center',
      tenant: world.seeded.identityStoreId,
      id: world.seeded.userIds.get('grace'),
      email: 'grace@example.com',
      displayName: 'Grace Hopper',
      status: 'active',
      privileged: true,
      groups: ['admins', 'engineers'],
      raw: {
        accounts: [account],
        access: [
          { accountId: account, permissionSet: 'Administrator', via: 'group admins', privileged: true },
          { accountId: account, permissionSet: 'ReadOnly', via: 'group engineers', privileged: false },
        ],
        privilegedBy: ['Administrator: the managed policy AdministratorAccess'],
      },
    });
    expect(byName['ada']?.email).toBe('ada@example.com');
    expect(byName['ken']).toMatchObject({
      privileged: true,
      raw: { access: [{ permissionSet: 'BreakGlass', via: 'user', privileged: true }], privilegedBy: ['BreakGlass: an inline policy allowing *'] },
    });
    expect(byName['linus']).toMatchObject({ privileged: false, raw: { access: [{ permissionSet: 'ReadOnly', via: 'group engineers' }] } });
    // PowerUserAccess is not in the default privileged list; a group without assignment reaches nothing.
    expect(byName['svc-ci']).toMatchObject({ privileged: false, raw: { access: [{ permissionSet: 'Deployer', via: 'user' }] } });
    expect(byName['margaret']).toMatchObject({ privileged: false, groups: ['auditors'], raw: { accounts: [], access: [] } });
    // The APIs do not say: unknown, never null ("never signed in") and never a guessed date.
    for (const record of records) expect([record.lastLoginAt, record.mfaEnabled]).toEqual(['unknown', 'unknown']);
    expect(warnings.join('\n')).toMatch(/do not say when a user last signed in .*'unknown'/);
    expect(provenance).toMatchObject({
      users: 7,
      permissionSets: 4,
      privilegedPermissionSets: ['Administrator', 'BreakGlass'],
      instanceArn: world.seeded.instanceArn,
      retries: 0,
    });
  });

  it('counts a permission set privileged by a policy added to privilegedPolicies', async () => {
    const { records } = await pull(parse({ privilegedPolicies: ['AdministratorAccess', 'PowerUserAccess'] }));
    expect(records.find((record) => record.username === 'svc-ci')?.privileged).toBe(true);
  });

  it('finds the account by GetCallerIdentity when the config names none', async () => {
    const { records, error, provenance } = await pull(parse({ account: {}, endpoint: world.moto.endpoint }));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(7);
    expect(provenance['account']).toBe(world.seeded.accountId);
  });

  it('refuses an instanceArn the account does not have, naming the instances it has', async () => {
    const { error, records } = await pull(parse({ instanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' }));
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`found: ${world.seeded.instanceArn}`);
  });

  it('says which permission a refused call needs', async () => {
    world.proxy.reset();
    world.proxy.faults.inject({ kind: 'permission', operation: 'ListAccountAssignments', times: Infinity });
    const { error } = await pull(parse());
    world.proxy.reset();
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as Error).message).toMatch(
      /^aws-identity-center: account 123456789012 \(management\): ListAccountAssignments permission set \w+ account 123456789012: AccessDeniedException .*the worker needs sso:ListAccountAssignments$/,
    );
  });

  it('resumes after the last user kept by id, so a user deleted before the retry shifts nothing', async () => {
    world.proxy.reset();
    const baseline = await pull(parse());
    const cursor = baseline.heartbeats.find((beat) => beat !== undefined)!;
    const kept = baseline.records.slice(0, 2);
    // The first user kept is deleted between the attempts: a cursor by position would now skip a user not yet kept.
    world.proxy.rewrite('ListUsers', (json) => ({ ...json, Users: (json['Users'] as { UserId: string }[]).filter((user) => user.UserId !== kept[0]!.id) }));
    const resumed = await pull(parse(), { resumeCursor: cursor });
    world.proxy.reset();
    expect(resumed.error).toBeUndefined();
    expect(JSON.parse(cursor)).toEqual({ after: kept[1]!.id });
    expect([...kept, ...resumed.records].map((record) => record.id).sort()).toEqual(baseline.records.map((record) => record.id).sort());
  });

  it('refuses a cursor it did not write', async () => {
    const { error, records } = await pull(parse(), { resumeCursor: '3' });
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toMatch(/^aws-identity-center: the resume cursor is not a user id/);
  });
});
