import { describe, expect, it } from 'vitest';
import { accountNeverUsed } from '../../checks/account-never-used.ts';
import type { Identity } from '../../evidence/records.ts';
import { AT, accessKey, daysBefore, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const JDOE = 'aws-iam:111122223333:jdoe';
const neverUsed = (overrides: Parameters<typeof identity>[0] = {}) => identity({ lastLoginAt: null, ...overrides });

const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: { subject: string; severity: string }[] }[] = [
  { name: 'never logged in, created 15 days ago', account: neverUsed({ createdAt: daysBefore(15) }), expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'created exactly 14 days ago is within the grace', account: neverUsed({ createdAt: daysBefore(14) }), expected: [] },
  { name: 'created 14 days and one second ago', account: neverUsed({ createdAt: daysBefore(14 + 1 / 86_400) }), expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'created 3 days ago (onboarding)', account: neverUsed({ createdAt: daysBefore(3) }), expected: [] },
  { name: '+02:00 creation exactly 14 days before a UTC evaluation time', account: neverUsed({ createdAt: '2025-05-18T02:00:00+02:00' }), expected: [] },
  { name: '+02:00 creation an hour beyond 14 days', account: neverUsed({ createdAt: '2025-05-18T01:00:00+02:00' }), expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'no creation date: cannot judge', account: neverUsed({ createdAt: null }), expected: [] },
  { name: "'unknown' last login is not never", account: identity({ lastLoginAt: 'unknown', createdAt: daysBefore(400) }), expected: [] },
  { name: 'logged in once', account: identity({ lastLoginAt: daysBefore(300), createdAt: daysBefore(400) }), expected: [] },
  { name: 'suspended', account: neverUsed({ status: 'suspended', createdAt: daysBefore(100) }), expected: [] },
  { name: 'disabled', account: neverUsed({ status: 'disabled', createdAt: daysBefore(100) }), expected: [] },
  { name: 'deleted', account: neverUsed({ status: 'deleted', createdAt: daysBefore(100) }), expected: [] },
  { name: 'privileged escalates to high', account: neverUsed({ privileged: true, createdAt: daysBefore(100) }), expected: [{ subject: JDOE, severity: 'high' }] },
  {
    name: 'API-only account whose key is used',
    account: neverUsed({ createdAt: daysBefore(100), credentials: [accessKey({ createdAt: daysBefore(100), lastUsedAt: daysBefore(1) })] }),
    expected: [],
  },
  {
    name: 'key use ignored when it does not count as activity',
    account: neverUsed({ createdAt: daysBefore(100), credentials: [accessKey({ createdAt: daysBefore(100), lastUsedAt: daysBefore(1) })] }),
    params: { credentialUseCountsAsActivity: false },
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'a key that was never used either',
    account: neverUsed({ createdAt: daysBefore(100), credentials: [accessKey({ createdAt: daysBefore(100), lastUsedAt: null })] }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: 'graceDays 0: created a second ago', account: neverUsed({ createdAt: daysBefore(1 / 86_400) }), params: { graceDays: 0 }, expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'graceDays 0: created at the evaluation moment', account: neverUsed({ createdAt: AT.toISOString() }), params: { graceDays: 0 }, expected: [] },
];

describe('account-never-used', () => {
  it.each(rows)('$name', ({ account, params, expected }) => {
    expect(outcome(runCheck(accountNeverUsed, { identities: [account], params }))).toEqual(expected);
  });

  it('names the system and account and carries the dates', () => {
    const [deviation] = runCheck(accountNeverUsed, { identities: [neverUsed({ createdAt: '2025-05-01T12:00:00Z' })] });
    expect(deviation).toMatchObject({
      checkId: 'account-never-used',
      title: 'Account never used: jdoe in aws-iam (111122223333)',
      detail: 'jdoe in aws-iam (111122223333) was created at 2025-05-01T12:00:00Z and has never been used in the 30 days since, beyond the 14-day grace period.',
      values: { system: 'aws-iam', tenant: '111122223333', account: 'jdoe', email: 'jdoe@example.com', lastLoginAt: null, createdAt: '2025-05-01T12:00:00Z', accountAgeDays: 30, graceDays: 14 },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });
});
