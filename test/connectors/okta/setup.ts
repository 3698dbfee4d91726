import { okta, OktaConfig } from '../../../connectors/okta/index.ts';
import type { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import type { FakeOkta, FakeOktaUser } from '../../support/fake-okta.ts';

export const API_TOKEN = '00aBcDeFgHiJkLmNoPqRsTuVwXyZ0do0not0leak01';
export const TOKEN_ENV = { OKTA_API_TOKEN: API_TOKEN };

const active = [{ factorType: 'push', provider: 'OKTA', status: 'ACTIVE' as const }];
/** Seven users across Okta's lifecycle, ids in listing order, and one deprovisioned. */
export function organisation(): FakeOktaUser[] {
  return [
    {
      id: '00u001',
      status: 'ACTIVE',
      login: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Admin',
      created: '2024-01-02T08:00:00.000Z',
      lastLogin: '2025-06-01T09:30:00.000Z',
      factors: active,
      roles: [{ type: 'SUPER_ADMIN', assignmentType: 'USER' }],
      groups: ['Everyone', 'Admins'],
    },
    {
      id: '00u002',
      status: 'ACTIVE',
      login: 'bob@example.com',
      firstName: 'Bob',
      created: '2024-02-02T08:00:00.000Z',
      lastLogin: '2025-06-02T09:30:00.000Z',
      factors: [{ factorType: 'token:software:totp', provider: 'GOOGLE', status: 'ACTIVE' }],
      groups: ['Everyone'],
    },
    { id: '00u003', status: 'ACTIVE', login: 'carol@example.com', created: '2024-03-02T08:00:00.000Z', lastLogin: null, factors: [], groups: ['Everyone'] },
    {
      id: '00u004',
      status: 'LOCKED_OUT',
      login: 'dan@example.com',
      created: '2024-03-03T08:00:00.000Z',
      lastLogin: '2025-01-01T00:00:00.000Z',
      factors: [{ factorType: 'push', provider: 'OKTA', status: 'PENDING_ACTIVATION' }],
      roles: [{ type: 'READ_ONLY_ADMIN', assignmentType: 'GROUP' }],
    },
    {
      id: '00u005',
      status: 'SUSPENDED',
      login: 'erin@example.com',
      created: '2024-04-02T08:00:00.000Z',
      lastLogin: '2024-12-01T00:00:00.000Z',
      factors: [{ factorType: 'question', provider: 'OKTA', status: 'ACTIVE' }],
    },
    { id: '00u006', status: 'STAGED', login: 'new.hire@example.com', created: '2025-06-20T08:00:00.000Z', lastLogin: null },
    { id: '00u007', status: 'PROVISIONED', login: 'pending@example.com', created: '2025-06-21T08:00:00.000Z', lastLogin: null, factors: active },
    {
      id: '00u008',
      status: 'DEPROVISIONED',
      login: 'leaver@example.com',
      created: '2023-01-01T08:00:00.000Z',
      lastLogin: '2024-11-30T17:00:00.000Z',
      factors: active,
      groups: ['Everyone'],
    },
  ];
}
export const EVERYONE = organisation().map((user) => user.login);

export function resetFake(fake: FakeOkta): void {
  Object.assign(fake.state, { users: organisation(), inject: [], tokens: new Set([API_TOKEN]) });
  fake.requests.length = 0;
}

export function configFor(fake: FakeOkta, overrides: Record<string, unknown> = {}): OktaConfig {
  return OktaConfig.parse({ orgUrl: fake.orgUrl, token: { env: 'OKTA_API_TOKEN' }, pageSize: 3, ...overrides });
}

export async function collect(fake: FakeOkta, overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: TOKEN_ENV, ...context });
  const records = await collectAll(okta.collect(configFor(fake, overrides), recorded.ctx));
  return { ...recorded, records };
}

export async function collectToFailure(fake: FakeOkta, overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: TOKEN_ENV, ...context });
  const records: Identity[] = [];
  try {
    for await (const record of okta.collect(configFor(fake, overrides), recorded.ctx)) records.push(record);
  } catch (error) {
    return { ...recorded, records, error: error as Error };
  }
  throw new Error('the collection was expected to fail');
}

export const usernames = (records: readonly Identity[]) => records.map((record) => record.username);
