import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import {
  listedIdentity,
  parseCredentialReport,
  REPORT_COLUMNS,
  reportIdentity,
  reportSlotsOf,
  type ListedUser,
  type ReportEntry,
} from '../../../connectors/aws-iam/mapping.ts';
import { Identity } from '../../../core/records.ts';
import { REPORT_HEADER as HEADER, userRow } from '../../support/iam-report.ts';

const WHERE = 'aws-iam: account 111111111111: GetCredentialReport';
const fixture = readFileSync(new URL('../../fixtures/aws-iam/credential-report.csv', import.meta.url));
const options = { tenant: '111111111111', privilegedPolicies: ['AdministratorAccess', 'IAMFullAccess'] };

function entries(csv: string | Buffer = fixture): ReportEntry[] {
  return parseCredentialReport(typeof csv === 'string' ? Buffer.from(csv) : csv, WHERE).entries;
}

function entry(name: string): ReportEntry {
  const found = entries().find((candidate) => candidate.name === name);
  if (!found) throw new Error(`fixture has no row ${name}`);
  return found;
}

describe('parseCredentialReport', () => {
  it('reads every row of a 22-column report, the root row included, and hashes the bytes', () => {
    const report = parseCredentialReport(fixture, WHERE);
    expect(report.entries.map((row) => row.name)).toEqual(['<root_account>', 'alice', 'legacy', 'build-bot', 'nobody']);
    expect(report.bytes).toBe(fixture.byteLength);
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.entries[0]?.isRoot).toBe(true);
    expect(report.entries[0]?.raw.password_enabled).toBe('not_supported');
  });

  it.each([
    [
      'an ISO time with offset',
      { password_enabled: 'true', password_last_used: '2024-05-01T10:00:00+00:00' },
      { passwordLastUsedAt: '2024-05-01T10:00:00.000Z' },
    ],
    [
      'an ISO time in another offset',
      { password_enabled: 'true', password_last_used: '2024-05-01T12:00:00+02:00' },
      { passwordLastUsedAt: '2024-05-01T10:00:00.000Z' },
    ],
    ['no_information (used before IAM tracked use)', { password_enabled: 'true', password_last_used: 'no_information' }, { passwordLastUsedAt: null }],
    ['N/A (no password)', { password_last_used: 'N/A' }, { passwordEnabled: false, passwordLastUsedAt: null }],
    ['not_supported (moto writes it for users without password)', { password_last_used: 'not_supported' }, { passwordLastUsedAt: null }],
    ['password_enabled not_supported (root)', { password_enabled: 'not_supported' }, { passwordEnabled: null }],
    ['mfa_active true', { mfa_active: 'true' }, { mfaActive: true }],
  ])('maps %s', (_case, cells, expected) => {
    const [row] = entries(`${HEADER}\n${userRow(cells)}\n`);
    expect(row).toMatchObject(expected);
  });

  it.each([
    ['no key at all', {}, []],
    [
      'an inactive key that exists',
      { access_key_1_active: 'false', access_key_1_last_rotated: '2022-01-01T00:00:00+00:00' },
      [{ slot: 'access_key_1', active: false, createdAt: '2022-01-01T00:00:00.000Z', lastUsedAt: null }],
    ],
    [
      'two keys, the second used',
      {
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2022-01-01T00:00:00+00:00',
        access_key_2_active: 'true',
        access_key_2_last_rotated: '2022-02-01T00:00:00+00:00',
        access_key_2_last_used_date: '2022-03-01T00:00:00+00:00',
      },
      [
        { slot: 'access_key_1', active: true, createdAt: '2022-01-01T00:00:00.000Z', lastUsedAt: null },
        { slot: 'access_key_2', active: true, createdAt: '2022-02-01T00:00:00.000Z', lastUsedAt: '2022-03-01T00:00:00.000Z' },
      ],
    ],
  ])('reads access key slots: %s', (_case, cells, expected) => {
    const [row] = entries(`${HEADER}\n${userRow(cells)}\n`);
    expect(row?.accessKeys).toEqual(expected);
  });

  it.each([
    ['a header that is not IAM’s', HEADER.replace('mfa_active', 'mfa'), 'line 1, column 8: expected header mfa_active, found "mfa"'],
    ['a header with columns missing', REPORT_COLUMNS.slice(0, 20).join(','), 'line 1, column 21: expected header cert_2_active, found nothing'],
    [
      'a boolean that is not one',
      `${HEADER}\n${userRow({})}\n${userRow({ mfa_active: 'yes' })}`,
      'line 3, column 8 (mfa_active): expected true or false, found "yes"',
    ],
    [
      'a time that is not one',
      `${HEADER}\n${userRow({ access_key_1_last_rotated: '01/02/2022' })}`,
      'line 2, column 10 (access_key_1_last_rotated): expected an ISO 8601 time',
    ],
    [
      'a row that is not a user',
      `${HEADER}\n${userRow({ arn: 'arn:aws:iam::111111111111:role/x' })}`,
      'line 2, column 2 (arn): expected an IAM user or root ARN',
    ],
    ['a row with a column missing', `${HEADER}\n${userRow({}).split(',').slice(0, 21).join(',')}`, 'line 2: expected 22 columns, found 21'],
    ['an unterminated quote', `${HEADER}\n"zed,${userRow({}).slice(4)}`, 'credential report is not valid CSV'],
    ['an empty report', '', 'credential report is empty'],
  ])('rejects %s, naming where', (_case, csv, message) => {
    const run = () => entries(csv);
    expect(run).toThrow(MalformedResponseError);
    expect(run).toThrow(`${WHERE}: `);
    expect(run).toThrow(message);
  });
});

describe('reportIdentity', () => {
  const all = () => entries().map((row) => reportIdentity(row, { status: 'active' }, options));

  it('yields records that satisfy the Identity schema', () => {
    for (const identity of all()) expect(() => Identity.parse(identity)).not.toThrow();
  });

  it('maps the root row: privileged, its key, its last sign-in, and no password credential the report cannot vouch for', () => {
    const root = reportIdentity(entry('<root_account>'), { status: 'active' }, options);
    expect(root).toMatchObject({
      kind: 'identity',
      source: 'aws-iam',
      tenant: '111111111111',
      id: 'arn:aws:iam::111111111111:root',
      username: '<root_account>',
      email: null,
      displayName: null,
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2024-03-10T09:15:00.000Z',
      createdAt: '2019-04-01T08:00:00.000Z',
      groups: [],
      credentials: [{ kind: 'access-key', id: 'access_key_1', active: true, createdAt: '2019-04-02T10:00:00.000Z', lastUsedAt: '2019-05-01T12:00:00.000Z' }],
    });
    expect(root.raw).toMatchObject({
      isRoot: true,
      privilegedVia: ['root user'],
      credentialReport: { user: '<root_account>', password_enabled: 'not_supported' },
    });
  });

  it('maps a console user: password, key, MFA, the latest of password and key use', () => {
    const alice = reportIdentity(entry('alice'), { status: 'active' }, options);
    expect(alice).toMatchObject({
      username: 'alice',
      id: 'arn:aws:iam::111111111111:user/alice',
      mfaEnabled: true,
      privileged: false,
      lastLoginAt: '2024-06-01T00:00:00.000Z',
    });
    expect(alice.credentials).toEqual([
      { kind: 'password', id: 'password', active: true, createdAt: '2021-01-02T00:00:00.000Z', lastUsedAt: '2024-05-01T10:00:00.000Z' },
      { kind: 'access-key', id: 'access_key_1', active: true, createdAt: '2021-02-01T00:00:00.000Z', lastUsedAt: '2024-06-01T00:00:00.000Z' },
    ]);
  });

  it('treats no_information as never for the last sign-in', () => {
    const legacy = reportIdentity(entry('legacy'), { status: 'active' }, options);
    expect(legacy.lastLoginAt).toBeNull();
    expect(legacy.credentials).toEqual([{ kind: 'password', id: 'password', active: true, createdAt: '2013-06-01T00:00:00.000Z', lastUsedAt: null }]);
  });

  it('maps keys and certificates of a machine user, including an inactive key’s past use', () => {
    const bot = reportIdentity(entry('build-bot'), { status: 'active' }, options);
    expect(bot.lastLoginAt).toBe('2023-02-01T09:30:00.000Z');
    expect(bot.credentials).toEqual([
      { kind: 'access-key', id: 'access_key_1', active: true, createdAt: '2022-07-15T12:31:00.000Z', lastUsedAt: null },
      { kind: 'access-key', id: 'access_key_2', active: false, createdAt: '2023-01-10T08:00:00.000Z', lastUsedAt: '2023-02-01T09:30:00.000Z' },
      { kind: 'certificate', id: 'cert_1', active: true, createdAt: '2022-08-01T00:00:00.000Z', lastUsedAt: null },
    ]);
  });

  it('records a user without password, active key or certificate as disabled: it cannot authenticate', () => {
    const nobody = reportIdentity(entry('nobody'), { status: 'active' }, options);
    expect(nobody).toMatchObject({ status: 'disabled', interactiveSignIn: false, credentials: [], lastLoginAt: null, mfaEnabled: false, privileged: false });
    expect(nobody.raw?.disabledBecause).toBe('no console password, active access key or active signing certificate');
  });

  it.each([
    [
      'no password, only an inactive key',
      { access_key_1_active: 'false', access_key_1_last_rotated: '2022-01-01T00:00:00+00:00', access_key_1_last_used_date: '2022-06-01T00:00:00+00:00' },
      'disabled',
      false,
    ],
    [
      'no password, an inactive key and an inactive certificate',
      { access_key_1_last_rotated: '2022-01-01T00:00:00+00:00', cert_1_last_rotated: '2022-01-01T00:00:00+00:00' },
      'disabled',
      false,
    ],
    ['no password, an active key', { access_key_1_active: 'true', access_key_1_last_rotated: '2022-01-01T00:00:00+00:00' }, 'active', false],
    ['no password, an active signing certificate', { cert_1_active: 'true', cert_1_last_rotated: '2022-01-01T00:00:00+00:00' }, 'active', false],
    ['a console password only', { password_enabled: 'true', password_last_changed: '2022-01-01T00:00:00+00:00' }, 'active', true],
  ])('judges sign-in from the credentials: %s', (_case, cells, status, interactiveSignIn) => {
    const [row] = entries(`${HEADER}\n${userRow(cells)}\n`);
    expect(reportIdentity(row!, { status: 'active' }, options)).toMatchObject({ status, interactiveSignIn });
  });

  it("judges the keys ListAccessKeys shows now, not the report's: a key deactivated since disables a key-only user", () => {
    const bot = entry('build-bot');
    const keys = [{ id: 'AKIABOT0000000000001', active: false, createdAt: '2022-07-15T12:31:00.412Z', lastUsedAt: null }];
    const noCertificate = { ...bot, certificates: [] };
    expect(reportIdentity(noCertificate, { status: 'active', keys }, options).status).toBe('disabled');
    expect(reportIdentity(bot, { status: 'active', keys }, options).status).toBe('active');
  });

  it('keeps the root user active and able to sign in, whatever the report says of its password', () => {
    expect(reportIdentity(entry('<root_account>'), { status: 'active' }, options)).toMatchObject({ status: 'active', interactiveSignIn: true });
  });

  it("keeps the user's tags in raw.tags when they were read, and leaves raw.tags out otherwise", () => {
    const tags = [{ Key: 'email', Value: 'alice@example.com' }];
    expect(reportIdentity(entry('alice'), { status: 'active', tags }, options).raw?.tags).toEqual(tags);
    expect(reportIdentity(entry('alice'), { status: 'active' }, options).raw).not.toHaveProperty('tags');
  });

  it.each([
    ['AdministratorAccess attached to the user', [{ policy: 'AdministratorAccess', via: 'attached' }], true],
    ['AdministratorAccess through a group', [{ policy: 'AdministratorAccess', via: 'group admins, attached' }], true],
    ['an inline policy named IAMFullAccess', [{ policy: 'IAMFullAccess', via: 'inline' }], true],
    ['only read-only policies', [{ policy: 'ReadOnlyAccess', via: 'attached' }], false],
    ['no policies', [], false],
  ])('judges privilege from %s', (_case, grants, privileged) => {
    const identity = reportIdentity(entry('alice'), { status: 'active', access: { groups: ['admins'], grants } }, options);
    expect(identity.privileged).toBe(privileged);
    expect(identity.groups).toEqual(['admins']);
    expect(identity.raw?.privilegedVia).toHaveLength(privileged ? 1 : 0);
  });

  it('honours the configured privileged policies', () => {
    const identity = reportIdentity(
      entry('alice'),
      { status: 'active', access: { groups: [], grants: [{ policy: 'PowerUserAccess', via: 'attached' }] } },
      {
        ...options,
        privilegedPolicies: ['PowerUserAccess'],
      },
    );
    expect(identity.privileged).toBe(true);
  });

  it('uses the real key ids and current status when ListAccessKeys gave them', () => {
    const bot = entry('build-bot');
    const keys = [
      { id: 'AKIABOT0000000000001', active: true, createdAt: '2022-07-15T12:31:00.412Z', lastUsedAt: null },
      { id: 'AKIABOT0000000000002', active: true, createdAt: '2023-01-10T08:00:00.000Z', lastUsedAt: '2023-02-01T09:30:00.000Z' },
    ];
    const identity = reportIdentity(bot, { status: 'active', keys }, options);
    expect(identity.credentials.filter((c) => c.kind === 'access-key').map((c) => [c.id, c.active])).toEqual([
      ['AKIABOT0000000000001', true],
      ['AKIABOT0000000000002', true],
    ]);
  });

  it('marks a row whose user no longer exists as deleted', () => {
    expect(reportIdentity(entry('alice'), { status: 'deleted' }, options).status).toBe('deleted');
  });
});

describe('reportSlotsOf', () => {
  const row = (cells: Parameters<typeof userRow>[0]) => entries(`${HEADER}\n${userRow(cells)}\n`)[0]!;
  const twoKeysSameSecond = row({
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2024-01-01T00:00:00+00:00',
    access_key_1_last_used_date: '2024-02-01T00:00:00+00:00',
    access_key_2_active: 'true',
    access_key_2_last_rotated: '2024-01-01T00:00:00+00:00',
    access_key_2_last_used_date: '2024-03-01T00:00:00+00:00',
  });

  it('matches keys created in the same second to the slots in creation order', () => {
    const keys = [
      { id: 'LATER', active: true, createdAt: '2024-01-01T00:00:00.900Z' },
      { id: 'EARLIER', active: true, createdAt: '2024-01-01T00:00:00.100Z' },
    ];
    expect(reportSlotsOf(twoKeysSameSecond, keys).map((slot) => slot?.slot)).toEqual(['access_key_2', 'access_key_1']);
  });

  it('leaves a key newer than the report without a slot', () => {
    const keys = [{ id: 'NEW', active: true, createdAt: '2025-01-01T00:00:00Z' }];
    expect(reportSlotsOf(twoKeysSameSecond, keys)).toEqual([undefined]);
  });
});

describe('listedIdentity', () => {
  const user: ListedUser = {
    name: 'erin',
    arn: 'arn:aws:iam::111111111111:user/erin',
    userId: 'AIDAERIN',
    path: '/',
    createdAt: '2025-01-01T00:00:00.000Z',
    passwordLastUsedAt: '2025-01-03T00:00:00.000Z',
  };

  it('maps a user the report does not know from the per-user calls', () => {
    const identity = listedIdentity(
      user,
      {
        access: { groups: ['admins'], grants: [{ policy: 'AdministratorAccess', via: 'group admins, attached' }] },
        keys: [{ id: 'AKIAERIN', active: true, createdAt: '2025-01-02T00:00:00.000Z', lastUsedAt: '2025-01-04T00:00:00.000Z' }],
        loginProfile: { createdAt: '2025-01-01T01:00:00.000Z' },
        mfaDevices: ['arn:aws:iam::111111111111:mfa/erin'],
      },
      options,
    );
    expect(Identity.parse(identity)).toEqual(identity);
    expect(identity).toMatchObject({
      id: user.arn,
      username: 'erin',
      status: 'active',
      interactiveSignIn: true,
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2025-01-04T00:00:00.000Z',
      createdAt: '2025-01-01T00:00:00.000Z',
      groups: ['admins'],
      credentials: [
        { kind: 'password', id: 'password', active: true, createdAt: '2025-01-01T01:00:00.000Z', lastUsedAt: '2025-01-03T00:00:00.000Z' },
        { kind: 'access-key', id: 'AKIAERIN', active: true, createdAt: '2025-01-02T00:00:00.000Z', lastUsedAt: '2025-01-04T00:00:00.000Z' },
      ],
      raw: { credentialReport: null, userId: 'AIDAERIN' },
    });
  });

  it('maps a user without login profile, keys or MFA device: disabled', () => {
    const identity = listedIdentity(
      { ...user, passwordLastUsedAt: null },
      { access: { groups: [], grants: [] }, keys: [], loginProfile: null, mfaDevices: [] },
      options,
    );
    expect(identity).toMatchObject({ status: 'disabled', interactiveSignIn: false, credentials: [], mfaEnabled: false, privileged: false, lastLoginAt: null });
  });

  it('maps a key-only user: active, without interactive sign-in, with its tags', () => {
    const tags = [{ Key: 'owner', Value: 'erin@example.com' }];
    const identity = listedIdentity(
      user,
      {
        access: { groups: [], grants: [] },
        keys: [{ id: 'AKIAERIN', active: true, createdAt: '2025-01-02T00:00:00.000Z', lastUsedAt: null }],
        loginProfile: null,
        mfaDevices: [],
        tags,
      },
      options,
    );
    expect(identity).toMatchObject({ status: 'active', interactiveSignIn: false, raw: { tags } });
  });
});
