import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GraphUser,
  latestSignIn,
  RegistrationPage,
  toIdentity,
  UserRegistration,
  UsersPage,
  type UserContext,
} from '../../../connectors/microsoft-graph/mapping.ts';
import { Identity } from '../../../core/records.ts';
import { mulberry32 } from '../../support/random.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/graph/${name}`, import.meta.url), 'utf8'));
const users = GraphUser.array().parse(fixture('users.json'));
const registrations = UserRegistration.array().parse(fixture('user-registration-details.json'));
const TENANT = '00000000-0000-4000-8000-00000000aaaa';

function userNamed(upn: string) {
  const user = users.find((candidate) => candidate.userPrincipalName.toLowerCase() === upn.toLowerCase());
  if (user === undefined) throw new Error(`fixture has no ${upn}`);
  return user;
}

function contextFor(userId: string, overrides: Partial<UserContext> = {}): UserContext {
  return { tenant: TENANT, signInActivityKnown: true, registration: registrations.find((row) => row.id === userId), ...overrides };
}

describe('toIdentity', () => {
  it('maps every field of a member with all three sign-in times and an MFA registration', () => {
    const alice = userNamed('Alice.Smith@contoso.onmicrosoft.com');
    expect(toIdentity(alice, contextFor(alice.id))).toEqual({
      kind: 'identity',
      source: 'microsoft-graph',
      tenant: TENANT,
      id: '6e7b768e-07e2-4810-8459-485f84f8f204',
      username: 'Alice.Smith@contoso.onmicrosoft.com',
      email: 'alice.smith@contoso.com',
      displayName: 'Alice Smith',
      status: 'active',
      privileged: false,
      mfaEnabled: true,
      lastLoginAt: '2025-10-03T22:40:12Z',
      createdAt: '2019-03-14T09:26:41Z',
      credentials: [],
      groups: [],
      raw: { userType: 'Member', mfaMethodsRegistered: ['microsoftAuthenticatorPush', 'softwareOneTimePasscode'] },
    });
  });

  it('maps a disabled account without mail whose sign-in times are empty in all three forms to never', () => {
    const bob = userNamed('bob@contoso.onmicrosoft.com');
    expect(bob.signInActivity).toEqual(
      expect.objectContaining({ lastSignInDateTime: '0001-01-01T00:00:00Z', lastNonInteractiveSignInDateTime: '', lastSuccessfulSignInDateTime: null }),
    );
    const identity = toIdentity(bob, contextFor(bob.id));
    expect(identity).toMatchObject({ status: 'disabled', email: null, lastLoginAt: null, mfaEnabled: false, privileged: false });
  });

  it('keeps a guest as a guest and maps a null signInActivity to never', () => {
    const guest = userNamed('partner_fabrikam.com#EXT#@contoso.onmicrosoft.com');
    const identity = toIdentity(guest, contextFor(guest.id));
    expect(identity).toMatchObject({
      username: 'partner_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      email: 'partner@fabrikam.com',
      status: 'active',
      lastLoginAt: null,
      raw: { userType: 'Guest', mfaMethodsRegistered: [] },
    });
  });

  it('maps an account older than createdDateTime to a null createdAt and reads a sign-in without lastSuccessfulSignInDateTime', () => {
    const carol = userNamed('carol@contoso.onmicrosoft.com');
    expect(toIdentity(carol, contextFor(carol.id))).toMatchObject({ createdAt: null, lastLoginAt: '2024-01-05T08:00:00Z', mfaEnabled: true });
  });

  it('takes privileged from isAdmin and keeps fractional seconds of the latest sign-in', () => {
    const dave = userNamed('dave.admin@contoso.onmicrosoft.com');
    expect(toIdentity(dave, contextFor(dave.id))).toMatchObject({ privileged: true, mfaEnabled: true, lastLoginAt: '2025-09-30T07:00:01.5977286Z' });
  });

  it('counts a non-interactive sign-in and maps null displayName and userType as null', () => {
    const svc = userNamed('svc-backup@contoso.onmicrosoft.com');
    expect(toIdentity(svc, contextFor(svc.id))).toMatchObject({
      displayName: null,
      email: null,
      privileged: true,
      mfaEnabled: false,
      lastLoginAt: '2025-10-04T03:00:00Z',
      raw: { userType: null, mfaMethodsRegistered: [] },
    });
  });

  it('records mfaEnabled unknown and privileged false for a user missing from the registration report', () => {
    const erin = userNamed('erin.new@contoso.onmicrosoft.com');
    const identity = toIdentity(erin, contextFor(erin.id));
    expect(identity).toMatchObject({ mfaEnabled: 'unknown', privileged: false, lastLoginAt: null });
    expect(identity.raw).toEqual({ userType: 'Member' });
  });

  it('records mfaEnabled unknown when the report was unavailable, and lastLoginAt unknown when sign-in activity was', () => {
    const dave = userNamed('dave.admin@contoso.onmicrosoft.com');
    const identity = toIdentity(dave, contextFor(dave.id, { registration: 'unavailable', signInActivityKnown: false }));
    expect(identity).toMatchObject({ mfaEnabled: 'unknown', privileged: false, lastLoginAt: 'unknown' });
  });

  it('yields records that satisfy the normalized Identity schema', () => {
    for (const user of users) expect(() => Identity.parse(toIdentity(user, contextFor(user.id)))).not.toThrow();
  });
});

describe('latestSignIn', () => {
  const at = (lastSignInDateTime: string | null, lastNonInteractiveSignInDateTime: string | null, lastSuccessfulSignInDateTime?: string | null) => ({
    lastSignInDateTime,
    lastNonInteractiveSignInDateTime,
    lastSuccessfulSignInDateTime,
  });
  it.each([
    ['every field null', at(null, null, null), null],
    ['every field an empty string', at('', '', ''), null],
    ['every field DateTime.MinValue', at('0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'), null],
    ['DateTime.MinValue with fractional seconds', at('0001-01-01T00:00:00.0000000Z', null, null), null],
    ['the three empty forms mixed', at('', '0001-01-01T00:00:00Z', null), null],
    ['only interactive', at('2025-01-02T03:04:05Z', '', null), '2025-01-02T03:04:05Z'],
    ['non-interactive later than interactive', at('2025-01-02T03:04:05Z', '2025-02-01T00:00:00Z', '0001-01-01T00:00:00Z'), '2025-02-01T00:00:00Z'],
    ['successful later than both', at('2025-01-02T03:04:05Z', '2025-01-01T00:00:00Z', '2025-03-01T00:00:00Z'), '2025-03-01T00:00:00Z'],
    ['lastSuccessfulSignInDateTime absent', at('2024-12-31T23:59:59Z', null), '2024-12-31T23:59:59Z'],
    ['compared as instants, not strings', at('2025-01-02T10:00:00+02:00', '2025-01-02T09:00:00Z', null), '2025-01-02T09:00:00Z'],
    ['fractional seconds against whole ones', at('2025-01-02T03:04:05Z', '2025-01-02T03:04:04.9Z', null), '2025-01-02T03:04:05Z'],
    ['a later whole second against an earlier fraction', at('2025-01-02T03:04:05.999Z', '2025-01-02T03:04:06Z', null), '2025-01-02T03:04:06Z'],
  ])('%s', (_case, activity, expected) => {
    expect(latestSignIn(activity)).toBe(expected);
  });

  it('picks the same instant as Date.parse over random UTC, offset and fractional forms', () => {
    const random = mulberry32(7);
    const forms = [
      (ms: number) => new Date(ms).toISOString(),
      (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      (ms: number) => new Date(ms).toISOString().replace('Z', '0000Z'),
      (ms: number) => new Date(ms + 7_200_000).toISOString().replace('Z', '+02:00'),
    ];
    for (let i = 0; i < 2_000; i++) {
      const stamps = [0, 1, 2].map(() =>
        forms[Math.floor(random() * forms.length)]!(Date.UTC(2024, 0, 1) + Math.floor(random() * 86_400_000 * 3) * (random() < 0.5 ? 1 : 1000)),
      );
      const expected = stamps.reduce((best, value) => (Date.parse(value) > Date.parse(best) ? value : best));
      expect(Date.parse(latestSignIn(at(stamps[0]!, stamps[1]!, stamps[2]!))!)).toBe(Date.parse(expected));
    }
  });

  it('treats an absent or null signInActivity as never', () => {
    expect(latestSignIn(undefined)).toBeNull();
    expect(latestSignIn(null)).toBeNull();
  });
});

describe('page schemas', () => {
  it('accept a users page with an absolute next link and reject a sign-in time that is not a timestamp', () => {
    const page = { '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken=X', value: [fixture('users.json')].flat().slice(0, 2) };
    expect(UsersPage.safeParse(page).success).toBe(true);
    const broken = structuredClone(page) as { value: { signInActivity: { lastSignInDateTime: string } }[] };
    broken.value[0]!.signInActivity.lastSignInDateTime = 'yesterday';
    const result = UsersPage.safeParse(broken);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['value', 0, 'signInActivity', 'lastSignInDateTime']);
  });

  it('reject a next link that is not https', () => {
    expect(UsersPage.safeParse({ value: [], '@odata.nextLink': 'http://graph.microsoft.com/v1.0/users?$skiptoken=X' }).success).toBe(false);
  });

  it('accept the recorded registration report rows and reject one without isMfaRegistered', () => {
    expect(RegistrationPage.safeParse({ value: fixture('user-registration-details.json') }).success).toBe(true);
    const result = RegistrationPage.safeParse({ value: [{ id: 'x', isAdmin: false }] });
    expect(result.error?.issues[0]?.path).toEqual(['value', 0, 'isMfaRegistered']);
  });
});
