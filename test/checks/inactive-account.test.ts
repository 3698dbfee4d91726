import { describe, expect, it } from 'vitest';
import { inactiveAccount } from '../../checks/inactive-account.ts';
import type { Identity } from '../../core/records.ts';
import { AT, accessKey, daysBefore, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const JDOE = 'aws-iam:111122223333:jdoe';

const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: { subject: string; severity: string }[] }[] = [
  { name: 'last login 91 days ago', account: identity({ lastLoginAt: daysBefore(91) }), expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'last login exactly 90 days ago is within the limit', account: identity({ lastLoginAt: daysBefore(90) }), expected: [] },
  {
    name: 'last login 90 days and one second ago',
    account: identity({ lastLoginAt: daysBefore(90 + 1 / 86_400) }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: 'last login 30 days ago', account: identity({ lastLoginAt: daysBefore(30) }), expected: [] },
  { name: '+02:00 login exactly 90 days before a UTC evaluation time', account: identity({ lastLoginAt: '2025-03-03T02:00:00+02:00' }), expected: [] },
  {
    name: '+02:00 login one second beyond 90 days',
    account: identity({ lastLoginAt: '2025-03-03T01:59:59+02:00' }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: "never logged in (null) is account-never-used's case", account: identity({ lastLoginAt: null, createdAt: daysBefore(400) }), expected: [] },
  { name: "'unknown' is never judged", account: identity({ lastLoginAt: 'unknown', credentials: [accessKey({ lastUsedAt: daysBefore(300) })] }), expected: [] },
  { name: 'login in the future (clock skew)', account: identity({ lastLoginAt: '2025-06-02T00:00:00Z' }), expected: [] },
  { name: 'suspended', account: identity({ status: 'suspended', lastLoginAt: daysBefore(200) }), expected: [] },
  { name: 'disabled', account: identity({ status: 'disabled', lastLoginAt: daysBefore(200) }), expected: [] },
  { name: 'deleted', account: identity({ status: 'deleted', lastLoginAt: daysBefore(200) }), expected: [] },
  {
    name: 'privileged escalates to high',
    account: identity({ privileged: true, lastLoginAt: daysBefore(91) }),
    expected: [{ subject: JDOE, severity: 'high' }],
  },
  {
    name: 'CIS 45 days: 46 days is beyond',
    account: identity({ lastLoginAt: daysBefore(46) }),
    params: { maxInactiveDays: 45 },
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: 'CIS 45 days: exactly 45 is within', account: identity({ lastLoginAt: daysBefore(45) }), params: { maxInactiveDays: 45 }, expected: [] },
  {
    name: 'old login but an access key used last week: in use',
    account: identity({ lastLoginAt: daysBefore(200), credentials: [accessKey({ lastUsedAt: daysBefore(7) })] }),
    expected: [],
  },
  {
    name: 'old login and recent key use, when key use does not count',
    account: identity({ lastLoginAt: daysBefore(200), credentials: [accessKey({ lastUsedAt: daysBefore(7) })] }),
    params: { credentialUseCountsAsActivity: false },
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'API-only account (no login) whose key was last used 100 days ago',
    account: identity({ lastLoginAt: null, credentials: [accessKey({ createdAt: daysBefore(300), lastUsedAt: daysBefore(100) })] }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'a deactivated key used recently still shows the account in use',
    account: identity({ lastLoginAt: daysBefore(200), credentials: [accessKey({ active: false, lastUsedAt: daysBefore(3) })] }),
    expected: [],
  },
];

describe('inactive-account', () => {
  it.each(rows)('$name', ({ account, params, expected }) => {
    expect(outcome(runCheck(inactiveAccount, { identities: [account], params }))).toEqual(expected);
  });

  it('names the system and account and carries the login values', () => {
    const [deviation] = runCheck(inactiveAccount, { identities: [identity({ lastLoginAt: '2025-01-01T00:00:00Z' })] });
    expect(deviation).toMatchObject({
      checkId: 'inactive-account',
      title: 'Inactive account: jdoe in aws-iam (111122223333)',
      detail: `jdoe in aws-iam (111122223333) is active but last signed in at 2025-01-01T00:00:00Z, 151 days before ${AT.toISOString()}, beyond the 90-day inactivity limit.`,
      values: {
        system: 'aws-iam',
        tenant: '111122223333',
        account: 'jdoe',
        email: 'jdoe@example.com',
        lastLoginAt: '2025-01-01T00:00:00Z',
        lastCredentialUseAt: null,
        lastActivityAt: '2025-01-01T00:00:00Z',
        daysInactive: 151,
        maxInactiveDays: 90,
      },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('says when the last activity was a credential rather than a sign-in', () => {
    const [deviation] = runCheck(inactiveAccount, {
      identities: [identity({ lastLoginAt: daysBefore(300), credentials: [accessKey({ createdAt: daysBefore(400), lastUsedAt: daysBefore(120) })] })],
    });
    expect(deviation?.detail).toContain('last used a credential at');
    expect(deviation?.values).toMatchObject({
      lastLoginAt: daysBefore(300),
      lastCredentialUseAt: daysBefore(120),
      lastActivityAt: daysBefore(120),
      daysInactive: 120,
    });
  });
});
