import { describe, expect, it } from 'vitest';
import {
  inlinePolicyPrivilege,
  permissionSetPrivilege,
  toIdentity,
  type Directory,
  type PermissionSet,
} from '../../../connectors/aws-identity-center/mapping.ts';
import { MalformedResponseError } from '../../../connectors/errors.ts';

const policy = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('inlinePolicyPrivilege', () => {
  it.each([
    ['Action *', policy({ Effect: 'Allow', Action: '*', Resource: '*' }), 'an inline policy allowing *'],
    ['Action [*:*]', policy({ Effect: 'Allow', Action: ['s3:GetObject', '*:*'], Resource: '*' }), 'an inline policy allowing *:*'],
    ['iam:*', policy({ Effect: 'Allow', Action: ['IAM:*'], Resource: '*' }), 'an inline policy allowing IAM:*'],
    ['NotAction', policy({ Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }), 'an inline policy allowing every action but those in NotAction'],
    ['a single statement object', JSON.stringify({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }), 'an inline policy allowing *'],
  ])('counts %s as privileged', (_case, document, reason) => {
    expect(inlinePolicyPrivilege(document, 'where')).toBe(reason);
  });

  it.each([
    ['no inline policy', ''],
    ['a narrow Allow', policy({ Effect: 'Allow', Action: ['s3:GetObject', 'ec2:Describe*'], Resource: '*' })],
    ['a Deny of *', policy({ Effect: 'Deny', Action: '*', Resource: '*' })],
  ])('does not count %s', (_case, document) => {
    expect(inlinePolicyPrivilege(document, 'where')).toBeUndefined();
  });

  it('refuses a document that is not JSON as malformed, without quoting it', () => {
    const call = () => inlinePolicyPrivilege('{"Statement": [secret-text', 'aws-identity-center: account 1: GetInlinePolicyForPermissionSet permission set X');
    expect(call).toThrow(MalformedResponseError);
    expect(call).toThrow(
      /^aws-identity-center: account 1: GetInlinePolicyForPermissionSet permission set X: field InlinePolicy: not a JSON policy document \(26 characters\)$/,
    );
  });

  it('a managed policy in the list is named before an inline one', () => {
    expect(permissionSetPrivilege(['ReadOnlyAccess', 'IAMFullAccess'], 'an inline policy allowing *', ['AdministratorAccess', 'IAMFullAccess'])).toBe(
      'the managed policy IAMFullAccess',
    );
    expect(permissionSetPrivilege(['PowerUserAccess'], undefined, ['AdministratorAccess'])).toBeUndefined();
  });
});

describe('toIdentity', () => {
  const set = (arn: string, name: string, privilegedBy?: string): [string, PermissionSet] => [arn, { arn, name, managedPolicies: [], privilegedBy }];
  const directory: Directory = {
    identityStoreId: 'd-1234567890',
    instanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
    permissionSets: new Map([set('ps-admin', 'Admin', 'the managed policy AdministratorAccess'), set('ps-read', 'ReadOnly')]),
    assignments: new Map([
      ['u-1', [{ accountId: '222222222222', permissionSetArn: 'ps-read' }]],
      [
        'g-ops',
        [
          { accountId: '333333333333', permissionSetArn: 'ps-admin' },
          { accountId: '222222222222', permissionSetArn: 'ps-admin' },
        ],
      ],
    ]),
    groupNames: new Map([['g-ops', 'ops']]),
  };

  it('reaches every account of the user and of their groups, privileged where a set is', () => {
    const identity = toIdentity(
      {
        UserId: 'u-1',
        UserName: 'ada',
        Emails: [{ Value: 'other@example.com' }, { Value: 'Ada@Example.com', Primary: true }],
        CreatedAt: new Date('2024-01-02T03:04:05Z'),
      },
      ['g-ops', 'g-gone'],
      directory,
    );
    expect(identity).toMatchObject({
      email: 'ada@example.com',
      displayName: null,
      privileged: true,
      createdAt: '2024-01-02T03:04:05.000Z',
      groups: ['g-gone', 'ops'],
      lastLoginAt: 'unknown',
      mfaEnabled: 'unknown',
      raw: {
        accounts: ['222222222222', '333333333333'],
        access: [
          { accountId: '222222222222', permissionSet: 'Admin', via: 'group ops', privileged: true },
          { accountId: '222222222222', permissionSet: 'ReadOnly', via: 'user', privileged: false },
          { accountId: '333333333333', permissionSet: 'Admin', via: 'group ops', privileged: true },
        ],
        privilegedBy: ['Admin: the managed policy AdministratorAccess'],
      },
    });
  });

  it('a DISABLED user is disabled; without groups or assignments it reaches nothing', () => {
    const identity = toIdentity({ UserId: 'u-9', UserName: 'old', UserStatus: 'DISABLED', Name: { GivenName: 'Old', FamilyName: 'Hand' } }, [], directory);
    expect(identity).toMatchObject({ status: 'disabled', privileged: false, displayName: 'Old Hand', createdAt: null, raw: { accounts: [], access: [] } });
  });
});
