import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorDetailOf, toIdentity, UsersPage, type DirectoryUser } from '../../../connectors/google-workspace/mapping.ts';
import { Identity } from '../../../core/records.ts';

const recordedPage = UsersPage.parse(JSON.parse(readFileSync(new URL('../../fixtures/google-workspace/users-page.json', import.meta.url), 'utf8')));
const users = new Map((recordedPage.users ?? []).map((user) => [user.primaryEmail, user]));
const identityOf = (email: string) => {
  const user = users.get(email);
  if (user === undefined) throw new Error(`fixture has no ${email}`);
  return toIdentity(user, 'my_customer');
};

describe('google-workspace toIdentity on a recorded-shape users.list page', () => {
  it('maps every field of an active super admin', () => {
    expect(identityOf('liz@example.com')).toEqual({
      kind: 'identity',
      source: 'google-workspace',
      tenant: 'C03az79cb',
      id: '104372345234567890123',
      username: 'liz@example.com',
      email: 'liz@example.com',
      displayName: 'Liz Smith',
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2025-05-02T08:14:33.000Z',
      createdAt: '2019-04-05T17:30:04.000Z',
      credentials: [],
      groups: [],
      raw: {
        aliases: ['helpdesk@example.com', 'liz@example.test-google-a.com'],
        orgUnitPath: '/IT',
        suspended: false,
        suspensionReason: null,
        archived: false,
        isAdmin: true,
        isDelegatedAdmin: false,
        isEnforcedIn2Sv: true,
      },
    });
  });

  it.each([
    { email: 'new.starter@example.com', field: 'lastLoginAt', expected: null, why: 'the epoch means never logged in' },
    { email: 'new.starter@example.com', field: 'mfaEnabled', expected: false, why: 'not enrolled in 2SV' },
    { email: 'sam.leaver@example.com', field: 'status', expected: 'suspended', why: 'suspended' },
    { email: 'ari.archived@example.com', field: 'status', expected: 'disabled', why: 'archived' },
    { email: 'dana.helpdesk@example.com', field: 'privileged', expected: true, why: 'a delegated admin is privileged' },
    { email: 'new.starter@example.com', field: 'privileged', expected: false, why: 'neither admin nor delegated admin' },
    { email: 'Chris.Upper@Example.COM', field: 'email', expected: 'chris.upper@example.com', why: 'email is lower-cased for joins' },
    { email: 'Chris.Upper@Example.COM', field: 'username', expected: 'Chris.Upper@Example.COM', why: 'username keeps the primary email as Google has it' },
  ])('$why: $field = $expected', ({ email, field, expected }) => {
    expect(identityOf(email)[field as keyof Identity]).toEqual(expected);
  });

  it('keeps the suspension reason and 2SV enforcement in raw', () => {
    expect(identityOf('sam.leaver@example.com').raw).toMatchObject({
      suspended: true,
      suspensionReason: 'ADMIN',
      isEnforcedIn2Sv: false,
      orgUnitPath: '/Leavers',
    });
  });

  it('keeps aliases as Google returns them, without inventing any', () => {
    expect(identityOf('Chris.Upper@Example.COM').raw?.['aliases']).toEqual(['C.Upper@Example.com']);
    expect(identityOf('new.starter@example.com').raw?.['aliases']).toEqual([]);
  });

  it('records missing optional fields as unknown or null, never as a guess', () => {
    const identity = identityOf('minimal@example.com');
    expect(identity).toMatchObject({
      tenant: 'my_customer',
      displayName: null,
      status: 'active',
      privileged: false,
      mfaEnabled: 'unknown',
      lastLoginAt: 'unknown',
      createdAt: null,
      raw: {
        aliases: [],
        orgUnitPath: null,
        suspended: null,
        suspensionReason: null,
        archived: null,
        isAdmin: null,
        isDelegatedAdmin: null,
        isEnforcedIn2Sv: null,
      },
    });
  });

  it('yields records that satisfy the Identity schema for every recorded user', () => {
    for (const user of recordedPage.users ?? []) expect(Identity.safeParse(toIdentity(user, 'my_customer')).success).toBe(true);
  });

  it('lets archival outrank suspension', () => {
    const user: DirectoryUser = { id: '1', primaryEmail: 'both@example.com', archived: true, suspended: true, suspensionReason: 'ADMIN' };
    expect(toIdentity(user, 'my_customer').status).toBe('disabled');
  });

  it('treats any spelling of the epoch as never logged in', () => {
    const user: DirectoryUser = { id: '1', primaryEmail: 'x@example.com', lastLoginTime: '1970-01-01T00:00:00Z' };
    expect(toIdentity(user, 'my_customer').lastLoginAt).toBeNull();
  });

  it('removes an alias listed both as editable and non-editable only once', () => {
    const user: DirectoryUser = {
      id: '1',
      primaryEmail: 'x@example.com',
      aliases: ['a@example.com'],
      nonEditableAliases: ['a@example.com', 'x@example.test-google-a.com'],
    };
    expect(toIdentity(user, 'my_customer').raw?.['aliases']).toEqual(['a@example.com', 'x@example.test-google-a.com']);
  });
});

describe('google-workspace UsersPage schema', () => {
  it('accepts an empty directory, which has no users field', () => {
    expect(UsersPage.parse({ kind: 'admin#directory#users', etag: '"x"' }).users).toBeUndefined();
  });

  it.each([
    { body: { kind: 'admin#directory#users', users: [{ id: '1' }] }, path: ['users', 0, 'primaryEmail'] },
    {
      body: { kind: 'admin#directory#users', users: [{ id: '1', primaryEmail: 'a@example.com', lastLoginTime: 'yesterday' }] },
      path: ['users', 0, 'lastLoginTime'],
    },
    { body: { kind: 'admin#directory#groups', users: [] }, path: ['kind'] },
    { body: { kind: 'admin#directory#users', nextPageToken: 42 }, path: ['nextPageToken'] },
  ])('rejects a page with a bad $path', ({ body, path }) => {
    const result = UsersPage.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });
});

describe('google-workspace errorDetailOf', () => {
  it('reads the reason from a Directory API error body', () => {
    const body = {
      error: {
        code: 403,
        message: 'Rate Limit Exceeded',
        errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'Rate Limit Exceeded' }],
        status: 'PERMISSION_DENIED',
      },
    };
    expect(errorDetailOf(body)).toEqual({ reason: 'userRateLimitExceeded', message: 'Rate Limit Exceeded' });
  });

  it('reads an OAuth token endpoint error', () => {
    expect(errorDetailOf({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' })).toEqual({
      reason: 'invalid_grant',
      message: 'Invalid JWT Signature.',
    });
  });

  it('says nothing about a body it does not recognise', () => {
    expect(errorDetailOf('<html>Bad Gateway</html>')).toEqual({ reason: undefined, message: undefined });
  });
});
