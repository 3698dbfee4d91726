import { describe, expect, it } from 'vitest';
import { accountNeverUsed, inactiveAccount, mfaMissing, orphanAccount, staleCredentials } from '../../checks/index.ts';
import type { AnyCheck } from '../../checks/kit/contract.ts';
import { reportIdentity } from '../../connectors/aws-iam/mapping.ts';
import { reportEntry } from '../support/iam-report.ts';
import { AT, daysBefore } from '../support/records.ts';
import { runCheck } from './run-check.ts';

/**
 * IAM users as the connector maps them from credential report rows, judged by the access checks: the cases where
 * judging an IAM user like a directory account went wrong (a user nobody can sign in as raised as inactive, key-only
 * users raised for MFA, a fresh key on an old user raised as never used).
 */

/** The report's form of a time `days` before AT. */
const reported = (days: number) => `${daysBefore(days).slice(0, 19)}+00:00`;
const options = { tenant: '111111111111', privilegedPolicies: ['AdministratorAccess'] };
const admin = { groups: ['admins'], grants: [{ policy: 'AdministratorAccess', via: 'group admins, attached' }] };

const checks: readonly AnyCheck[] = [inactiveAccount, accountNeverUsed, mfaMissing, staleCredentials, orphanAccount];

const rows: { name: string; cells: Parameters<typeof reportEntry>[0]; privileged?: boolean; raised: string[] }[] = [
  {
    name: 'no console password and only an inactive access key, last used 200 days ago: not an active account',
    cells: { user_creation_time: reported(900), access_key_1_last_rotated: reported(400), access_key_1_last_used_date: reported(200) },
    raised: [],
  },
  { name: 'no console password and no key at all: not an active account', cells: { user_creation_time: reported(900) }, raised: [] },
  {
    name: 'a key-only user without MFA, key in use: nothing for MFA to protect',
    cells: {
      user_creation_time: reported(900),
      access_key_1_active: 'true',
      access_key_1_last_rotated: reported(30),
      access_key_1_last_used_date: reported(1),
    },
    raised: ['orphan-account'],
  },
  {
    name: 'a privileged key-only user without MFA: still not mfa-missing',
    cells: {
      user_creation_time: reported(900),
      access_key_1_active: 'true',
      access_key_1_last_rotated: reported(30),
      access_key_1_last_used_date: reported(1),
    },
    privileged: true,
    raised: ['orphan-account'],
  },
  {
    name: 'a key-only user whose key is old and idle: stale-credentials judges it',
    cells: {
      user_creation_time: reported(900),
      access_key_1_active: 'true',
      access_key_1_last_rotated: reported(200),
      access_key_1_last_used_date: reported(100),
    },
    raised: ['inactive-account', 'stale-credentials', 'orphan-account'],
  },
  {
    name: 'a console user without MFA is mfa-missing',
    cells: { user_creation_time: reported(900), password_enabled: 'true', password_last_changed: reported(60), password_last_used: reported(2) },
    raised: ['mfa-missing', 'orphan-account'],
  },
  {
    name: 'created long ago, its only credential (a key) issued 3 days ago and not used yet: within the grace',
    cells: { user_creation_time: reported(900), access_key_1_active: 'true', access_key_1_last_rotated: reported(3) },
    raised: ['orphan-account'],
  },
  {
    name: 'created long ago, its only key issued 20 days ago and never used: never used',
    cells: { user_creation_time: reported(900), access_key_1_active: 'true', access_key_1_last_rotated: reported(20) },
    raised: ['account-never-used', 'orphan-account'],
  },
  {
    name: 'created long ago, a console password set 3 days ago and never used: within the grace',
    cells: { user_creation_time: reported(900), password_enabled: 'true', password_last_changed: reported(3), mfa_active: 'true' },
    raised: ['orphan-account'],
  },
];

describe('IAM users judged by how their credentials work', () => {
  it.each(rows)('$name', ({ cells, privileged, raised }) => {
    const identity = reportIdentity(reportEntry(cells), { status: 'active', ...(privileged ? { access: admin } : {}) }, options);
    expect(identity.privileged).toBe(privileged === true);
    expect(checks.flatMap((check) => runCheck(check, { identities: [identity], at: AT }).map((deviation) => deviation.checkId))).toEqual(raised);
  });
});
