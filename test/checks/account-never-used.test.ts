import { describe, expect, it } from 'vitest';
import { accountNeverUsed } from '../../checks/account-never-used.ts';
import type { Identity } from '../../core/records.ts';
import { AT, accessKey, daysBefore, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const JDOE = 'aws-iam:111122223333:jdoe';
const neverUsed = (overrides: Parameters<typeof identity>[0] = {}) => identity({ lastLoginAt: null, ...overrides });

const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: { subject: string; severity: string }[] }[] = [
  { name: 'never logged in, created 15 days ago', account: neverUsed({ createdAt: daysBefore(15) }), expected: [{ subject: JDOE, severity: 'medium' }] },
  { name: 'created exactly 14 days ago is within the grace', account: neverUsed({ createdAt: daysBefore(14) }), expected: [] },
  {
    name: 'created 14 days and one second ago',
    account: neverUsed({ createdAt: daysBefore(14 + 1 / 86_400) }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: 'created 3 days ago (onboarding)', account: neverUsed({ createdAt: daysBefore(3) }), expected: [] },
  { name: '+02:00 creation exactly 14 days before a UTC evaluation time', account: neverUsed({ createdAt: '2025-05-18T02:00:00+02:00' }), expected: [] },
  {
    name: '+02:00 creation an hour beyond 14 days',
    account: neverUsed({ createdAt: '2025-05-18T01:00:00+02:00' }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  { name: 'no creation date and no credential: cannot judge', account: neverUsed({ createdAt: null }), expected: [] },
  { name: "'unknown' last login is not never", account: identity({ lastLoginAt: 'unknown', createdAt: daysBefore(400) }), expected: [] },
  { name: 'logged in once', account: identity({ lastLoginAt: daysBefore(300), createdAt: daysBefore(400) }), expected: [] },
  { name: 'suspended', account: neverUsed({ status: 'suspended', createdAt: daysBefore(100) }), expected: [] },
  { name: 'disabled', account: neverUsed({ status: 'disabled', createdAt: daysBefore(100) }), expected: [] },
  { name: 'deleted', account: neverUsed({ status: 'deleted', createdAt: daysBefore(100) }), expected: [] },
  {
    name: 'privileged escalates to high',
    account: neverUsed({ privileged: true, createdAt: daysBefore(100) }),
    expected: [{ subject: JDOE, severity: 'high' }],
  },
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
  // The grace runs from the newest usable credential's issue when the source knows it.
  {
    name: 'created long ago, its only key issued 3 days ago and never used',
    account: neverUsed({ createdAt: daysBefore(900), credentials: [accessKey({ createdAt: daysBefore(3), lastUsedAt: null })] }),
    expected: [],
  },
  {
    name: 'created long ago, its only key issued exactly 14 days ago',
    account: neverUsed({ createdAt: daysBefore(900), credentials: [accessKey({ createdAt: daysBefore(14), lastUsedAt: null })] }),
    expected: [],
  },
  {
    name: 'created long ago, its only key issued 15 days ago',
    account: neverUsed({ createdAt: daysBefore(900), credentials: [accessKey({ createdAt: daysBefore(15), lastUsedAt: null })] }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'the newest of several credentials counts',
    account: neverUsed({
      createdAt: daysBefore(900),
      credentials: [
        { kind: 'password', id: 'password', active: true, createdAt: daysBefore(600), lastUsedAt: null },
        accessKey({ id: 'AKIAEXAMPLE000000002', createdAt: daysBefore(5), lastUsedAt: null }),
      ],
    }),
    expected: [],
  },
  {
    name: 'an inactive credential issued recently gives no reason to wait',
    account: neverUsed({
      createdAt: daysBefore(900),
      credentials: [
        accessKey({ createdAt: daysBefore(600), lastUsedAt: null }),
        accessKey({ id: 'AKIAEXAMPLE000000002', active: false, createdAt: daysBefore(2), lastUsedAt: null }),
      ],
    }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'a credential issue date the source does not know: the grace runs from creation',
    account: neverUsed({ createdAt: daysBefore(900), credentials: [accessKey({ createdAt: null, lastUsedAt: null })] }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'no creation date, but a key issued 20 days ago',
    account: neverUsed({ createdAt: null, credentials: [accessKey({ createdAt: daysBefore(20), lastUsedAt: null })] }),
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
  {
    name: 'graceDays 0: created a second ago',
    account: neverUsed({ createdAt: daysBefore(1 / 86_400) }),
    params: { graceDays: 0 },
    expected: [{ subject: JDOE, severity: 'medium' }],
  },
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
      detail:
        'jdoe in aws-iam (111122223333) was created at 2025-05-01T12:00:00Z and has never been used in the 30 days since, beyond the 14-day grace period.',
      values: {
        system: 'aws-iam',
        tenant: '111122223333',
        account: 'jdoe',
        email: 'jdoe@example.com',
        lastLoginAt: null,
        createdAt: '2025-05-01T12:00:00Z',
        accountAgeDays: 30,
        graceStartedAt: '2025-05-01T12:00:00Z',
        graceFrom: 'account creation',
        graceDays: 14,
      },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('says when the grace ran from the newest credential', () => {
    const [deviation] = runCheck(accountNeverUsed, {
      identities: [
        neverUsed({
          createdAt: '2023-01-01T00:00:00.000Z',
          credentials: [accessKey({ id: 'AKIANEW', createdAt: '2025-05-01T00:00:00.000Z', lastUsedAt: null })],
        }),
      ],
    });
    expect(deviation?.detail).toBe(
      'jdoe in aws-iam (111122223333) was created at 2023-01-01T00:00:00.000Z; its newest credential, access-key AKIANEW, was issued at 2025-05-01T00:00:00.000Z, and it has never been used in the 31 days since, beyond the 14-day grace period.',
    );
    expect(deviation?.values).toMatchObject({ accountAgeDays: 882, graceStartedAt: '2025-05-01T00:00:00.000Z', graceFrom: 'access-key AKIANEW' });
  });
});
