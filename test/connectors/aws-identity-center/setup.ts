import { awsIdentityCenter, type AwsIdentityCenterConfig } from '../../../connectors/aws-identity-center/index.ts';
import type { ConnectorContext } from '../../../connectors/contract.ts';
import type { Identity } from '../../../core/records.ts';
import { testContext } from '../../support/connector-context.ts';
import { startIdentityCenterProxy, type IdentityCenterProxy } from '../../support/identity-center-proxy.ts';
import { MOTO_ACCOUNT, seedIdentityCenter, type IdentityCenterSeed, type SeededIdentityCenter } from '../../support/identity-center-seed.ts';
import { startMoto, type MotoServer } from '../../support/moto.ts';

export const REGION = 'eu-west-1';
export const SECRET_ENV = { IDC_KEY_ID: 'AKIAIDCREADER0000001', IDC_SECRET: 'idc/Secret+Key+For+The+Contract+0000001' };

/**
 * Seven people: ada administers through the admins group, grace too and also reads through engineers, linus and joan
 * read, ken holds the break-glass set (an inline policy allowing *) directly, margaret is only in a group with no
 * assignment, and svc-ci has PowerUserAccess, which is not privileged by default.
 */
export const FIXTURE: IdentityCenterSeed = {
  users: [
    { userName: 'ada', displayName: 'Ada Lovelace', email: 'Ada@Example.com' },
    { userName: 'grace', displayName: 'Grace Hopper', email: 'grace@example.com' },
    { userName: 'linus', displayName: 'Linus Torvalds', email: 'linus@example.com' },
    { userName: 'joan', displayName: 'Joan Clarke', email: 'joan@example.com' },
    { userName: 'ken', displayName: 'Ken Thompson', email: 'ken@example.com' },
    { userName: 'margaret', displayName: 'Margaret Hamilton', email: 'margaret@example.com' },
    { userName: 'svc-ci', displayName: 'CI Deployer', email: 'ci@example.com' },
  ],
  groups: [
    { name: 'admins', members: ['ada', 'grace'] },
    { name: 'engineers', members: ['grace', 'linus', 'joan'] },
    { name: 'auditors', members: ['margaret'] },
  ],
  permissionSets: [
    { name: 'Administrator', managed: ['AdministratorAccess'] },
    { name: 'ReadOnly', managed: ['ReadOnlyAccess'] },
    { name: 'BreakGlass', inline: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } },
    { name: 'Deployer', managed: ['PowerUserAccess'] },
  ],
  assignments: [
    { permissionSet: 'Administrator', group: 'admins' },
    { permissionSet: 'ReadOnly', group: 'engineers' },
    { permissionSet: 'BreakGlass', user: 'ken' },
    { permissionSet: 'Deployer', user: 'svc-ci' },
  ],
};

export interface IdentityCenterWorld {
  moto: MotoServer;
  proxy: IdentityCenterProxy;
  seeded: SeededIdentityCenter;
  close(): Promise<void>;
}

export async function startWorld(seed: IdentityCenterSeed = FIXTURE): Promise<IdentityCenterWorld> {
  const moto = await startMoto();
  try {
    const seeded = await seedIdentityCenter(moto.endpoint, REGION, seed);
    const proxy = await startIdentityCenterProxy(moto.endpoint);
    return {
      moto,
      proxy,
      seeded,
      close: async () => {
        await proxy.close();
        await moto.stop();
      },
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}

/** Small pages, so the fixture takes several pages of every listing and reports several cursors. */
export function configOf(endpoint: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    account: { id: MOTO_ACCOUNT, label: 'management' },
    region: REGION,
    endpoint,
    credentials: { accessKeyId: { env: 'IDC_KEY_ID' }, secretAccessKey: { env: 'IDC_SECRET' } },
    maxAttempts: 3,
    pageSize: 2,
    ...overrides,
  };
}

export async function pull(config: AwsIdentityCenterConfig, overrides: Partial<Omit<ConnectorContext, 'heartbeat' | 'provenance' | 'warn'>> = {}) {
  const test = testContext({ env: SECRET_ENV, ...overrides });
  const records: Identity[] = [];
  let error: unknown;
  try {
    for await (const record of awsIdentityCenter.collect(config, test.ctx)) records.push(record);
  } catch (caught) {
    error = caught;
  }
  return { ...test, records, error };
}
