import { describe, expect, it } from 'vitest';
import { staleCredentials } from '../../checks/stale-credentials.ts';
import type { Identity } from '../../core/records.ts';
import { accessKey, daysBefore, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, runCheck } from './run-check.ts';

const KEY = 'aws-iam:111122223333:jdoe:access-key:AKIAEXAMPLE000000001';
const withKeys = (...keys: ReturnType<typeof accessKey>[]) => identity({ credentials: keys });

type Expected = { subject: string; severity: string; reasons: string[] };
const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: Expected[] }[] = [
  {
    name: 'key 91 days old, used yesterday',
    account: withKeys(accessKey({ createdAt: daysBefore(91) })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['too-old'] }],
  },
  { name: 'key exactly 90 days old', account: withKeys(accessKey({ createdAt: daysBefore(90) })), expected: [] },
  {
    name: 'key 90 days and one second old',
    account: withKeys(accessKey({ createdAt: daysBefore(90 + 1 / 86_400) })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['too-old'] }],
  },
  {
    name: 'key last used 46 days ago',
    account: withKeys(accessKey({ createdAt: daysBefore(60), lastUsedAt: daysBefore(46) })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['unused'] }],
  },
  { name: 'key last used exactly 45 days ago', account: withKeys(accessKey({ createdAt: daysBefore(60), lastUsedAt: daysBefore(45) })), expected: [] },
  {
    name: 'key never used, created 46 days ago',
    account: withKeys(accessKey({ createdAt: daysBefore(46), lastUsedAt: null })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['unused'] }],
  },
  { name: 'key never used, created exactly 45 days ago', account: withKeys(accessKey({ createdAt: daysBefore(45), lastUsedAt: null })), expected: [] },
  { name: 'key rotated yesterday and not yet used', account: withKeys(accessKey({ createdAt: daysBefore(1), lastUsedAt: null })), expected: [] },
  {
    name: 'key old and never used: one deviation with both reasons',
    account: withKeys(accessKey({ createdAt: daysBefore(100), lastUsedAt: null })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['too-old', 'unused'] }],
  },
  { name: 'inactive old unused key', account: withKeys(accessKey({ active: false, createdAt: daysBefore(400), lastUsedAt: daysBefore(300) })), expected: [] },
  {
    name: 'an old password is not an access key',
    account: withKeys(accessKey({ kind: 'password', createdAt: daysBefore(400), lastUsedAt: daysBefore(300) })),
    expected: [],
  },
  { name: 'no dates at all: cannot judge', account: withKeys(accessKey({ createdAt: null, lastUsedAt: null })), expected: [] },
  {
    name: 'no creation date, last used 50 days ago',
    account: withKeys(accessKey({ createdAt: null, lastUsedAt: daysBefore(50) })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['unused'] }],
  },
  {
    name: '+02:00 creation exactly 90 days before a UTC evaluation time',
    account: withKeys(accessKey({ createdAt: '2025-03-03T02:00:00+02:00' })),
    expected: [],
  },
  {
    name: '+02:00 creation a minute beyond 90 days',
    account: withKeys(accessKey({ createdAt: '2025-03-03T01:59:00+02:00' })),
    expected: [{ subject: KEY, severity: 'medium', reasons: ['too-old'] }],
  },
  { name: 'disabled account', account: identity({ status: 'disabled', credentials: [accessKey({ createdAt: daysBefore(400) })] }), expected: [] },
  { name: 'suspended account', account: identity({ status: 'suspended', credentials: [accessKey({ createdAt: daysBefore(400) })] }), expected: [] },
  { name: 'deleted account', account: identity({ status: 'deleted', credentials: [accessKey({ createdAt: daysBefore(400) })] }), expected: [] },
  {
    name: 'privileged escalates to high',
    account: identity({ privileged: true, credentials: [accessKey({ createdAt: daysBefore(91) })] }),
    expected: [{ subject: KEY, severity: 'high', reasons: ['too-old'] }],
  },
  {
    name: 'one deviation per stale key',
    account: withKeys(
      accessKey({ id: 'AKIA1', createdAt: daysBefore(200) }),
      accessKey({ id: 'AKIA2', createdAt: daysBefore(2) }),
      accessKey({ id: 'AKIA3', createdAt: daysBefore(50), lastUsedAt: null }),
    ),
    expected: [
      { subject: 'aws-iam:111122223333:jdoe:access-key:AKIA1', severity: 'medium', reasons: ['too-old'] },
      { subject: 'aws-iam:111122223333:jdoe:access-key:AKIA3', severity: 'medium', reasons: ['unused'] },
    ],
  },
  {
    name: 'maxKeyAgeDays 30',
    account: withKeys(accessKey({ createdAt: daysBefore(31) })),
    params: { maxKeyAgeDays: 30 },
    expected: [{ subject: KEY, severity: 'medium', reasons: ['too-old'] }],
  },
  {
    name: 'maxUnusedDays 90: 60 days unused is within',
    account: withKeys(accessKey({ createdAt: daysBefore(80), lastUsedAt: daysBefore(60) })),
    params: { maxUnusedDays: 90 },
    expected: [],
  },
];

describe('stale-credentials', () => {
  it.each(rows)('$name', ({ account, params, expected }) => {
    const deviations = runCheck(staleCredentials, { identities: [account], params });
    expect(deviations.map(({ subject, severity, values }) => ({ subject, severity, reasons: values['reasons'] }))).toEqual(expected);
  });

  it('names the key, system and account, with the key dates', () => {
    const [deviation] = runCheck(staleCredentials, {
      identities: [withKeys(accessKey({ createdAt: '2025-01-01T00:00:00Z', lastUsedAt: '2025-03-01T00:00:00Z' }))],
    });
    expect(deviation).toEqual({
      checkId: 'stale-credentials',
      subject: KEY,
      title: 'Stale access key AKIAEXAMPLE000000001 of jdoe in aws-iam (111122223333)',
      severity: 'medium',
      detail:
        'Active access key AKIAEXAMPLE000000001 of jdoe in aws-iam (111122223333) is 151 days old (limit 90) and was last used 92 days ago at 2025-03-01T00:00:00Z (limit 45).',
      values: {
        system: 'aws-iam',
        tenant: '111122223333',
        accountId: 'jdoe',
        account: 'jdoe',
        email: 'jdoe@example.com',
        status: 'active',
        privileged: false,
        keyId: 'AKIAEXAMPLE000000001',
        keyCreatedAt: '2025-01-01T00:00:00Z',
        keyLastUsedAt: '2025-03-01T00:00:00Z',
        keyAgeDays: 151,
        daysSinceKeyUse: 92,
        reasons: ['too-old', 'unused'],
        maxKeyAgeDays: 90,
        maxUnusedDays: 45,
      },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('says a never-used key was never used', () => {
    const [deviation] = runCheck(staleCredentials, { identities: [withKeys(accessKey({ createdAt: daysBefore(60), lastUsedAt: null }))] });
    expect(deviation?.detail).toBe(
      'Active access key AKIAEXAMPLE000000001 of jdoe in aws-iam (111122223333) has never been used in the 60 days since its creation (limit 45).',
    );
    expect(deviation?.values).toMatchObject({ keyLastUsedAt: null, daysSinceKeyUse: null, keyAgeDays: 60 });
  });
});
