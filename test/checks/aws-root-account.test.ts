import { describe, expect, it } from 'vitest';
import { awsRootAccount, isAwsRoot } from '../../checks/aws-root-account.ts';
import type { Identity } from '../../core/records.ts';
import { accessKey, daysBefore, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const ROOT = 'aws-iam:111122223333:111122223333';
const root = (overrides: Parameters<typeof identity>[0] = {}) =>
  identity({ username: '<root_account>', id: '111122223333', email: null, privileged: true, mfaEnabled: true, ...overrides });

const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: { subject: string; severity: string }[] }[] = [
  { name: 'root with MFA and no keys', account: root(), expected: [] },
  {
    name: 'root with an active access key',
    account: root({ credentials: [accessKey()] }),
    expected: [{ subject: `${ROOT}:access-keys`, severity: 'critical' }],
  },
  { name: 'root with an inactive access key only', account: root({ credentials: [accessKey({ active: false })] }), expected: [] },
  { name: 'root with an active certificate but no key', account: root({ credentials: [accessKey({ kind: 'certificate' })] }), expected: [] },
  { name: 'root without MFA', account: root({ mfaEnabled: false }), expected: [{ subject: `${ROOT}:mfa`, severity: 'critical' }] },
  {
    name: 'root without MFA and with an active key',
    account: root({ mfaEnabled: false, credentials: [accessKey({ id: 'AKIA1' }), accessKey({ id: 'AKIA2', active: false })] }),
    expected: [
      { subject: `${ROOT}:access-keys`, severity: 'critical' },
      { subject: `${ROOT}:mfa`, severity: 'critical' },
    ],
  },
  { name: "root MFA 'unknown' is not missing by default", account: root({ mfaEnabled: 'unknown' }), expected: [] },
  {
    name: "root MFA 'unknown' counted as missing",
    account: root({ mfaEnabled: 'unknown' }),
    params: { unknownCountsAsMissing: true },
    expected: [{ subject: `${ROOT}:mfa`, severity: 'critical' }],
  },
  {
    name: 'root marked in raw',
    account: root({ username: 'root', raw: { isRoot: true }, mfaEnabled: false }),
    expected: [{ subject: `${ROOT}:mfa`, severity: 'critical' }],
  },
  {
    name: 'root known by its ARN',
    account: root({ username: 'root', raw: { arn: 'arn:aws:iam::111122223333:root' }, mfaEnabled: false }),
    expected: [{ subject: `${ROOT}:mfa`, severity: 'critical' }],
  },
  {
    name: 'root row of the credential report in raw',
    account: root({ username: 'account-root', raw: { user: '<root_account>' }, mfaEnabled: false }),
    expected: [{ subject: `${ROOT}:mfa`, severity: 'critical' }],
  },
  {
    name: 'an IAM user named root is not the root user',
    account: root({ username: 'root', raw: { arn: 'arn:aws:iam::111122223333:user/root' }, mfaEnabled: false }),
    expected: [],
  },
  { name: 'an ordinary admin with a key and no MFA', account: identity({ privileged: true, mfaEnabled: false, credentials: [accessKey()] }), expected: [] },
  { name: 'deleted root (closed account)', account: root({ status: 'deleted', mfaEnabled: false, credentials: [accessKey()] }), expected: [] },
];

describe('aws-root-account', () => {
  it.each(rows)('$name', ({ account, params, expected }) => {
    expect(outcome(runCheck(awsRootAccount, { identities: [account], params }))).toEqual(expected);
  });

  it('names the AWS account and every active key in one deviation', () => {
    const [deviation, ...rest] = runCheck(awsRootAccount, {
      identities: [
        root({
          credentials: [
            accessKey({ id: 'AKIAROOT1', createdAt: daysBefore(700), lastUsedAt: null }),
            accessKey({ id: 'AKIAROOT2', createdAt: daysBefore(20), lastUsedAt: daysBefore(2) }),
            accessKey({ id: 'AKIAOLD', active: false }),
          ],
        }),
      ],
    });
    expect(rest).toEqual([]);
    expect(deviation).toMatchObject({
      checkId: 'aws-root-account',
      title: 'AWS root user has active access keys: <root_account> in aws-iam (111122223333)',
      detail: 'The root user of AWS account 111122223333 (aws-iam) has 2 active access key(s): AKIAROOT1, AKIAROOT2.',
      values: {
        system: 'aws-iam',
        tenant: '111122223333',
        account: '<root_account>',
        accessKeys: [
          { id: 'AKIAROOT1', createdAt: daysBefore(700), lastUsedAt: null },
          { id: 'AKIAROOT2', createdAt: daysBefore(20), lastUsedAt: daysBefore(2) },
        ],
      },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('recognises the root user only by the signs IAM gives', () => {
    expect(isAwsRoot(root())).toBe(true);
    expect(isAwsRoot(identity({ username: 'root' }))).toBe(false);
    expect(isAwsRoot(identity({ raw: { arn: 'arn:aws-us-gov:iam::111122223333:root' } }))).toBe(true);
    expect(isAwsRoot(identity({ raw: { isRoot: 'yes' } }))).toBe(false);
  });
});
