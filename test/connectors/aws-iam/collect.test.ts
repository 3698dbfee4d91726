import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { awsIam } from '../../../connectors/aws-iam/index.ts';
import { AuthError, MalformedResponseError, PermissionError, ThrottledError, UnavailableError } from '../../../connectors/errors.ts';
import { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { credentialReportCsv, FAKE_ERRORS, FakeIam, type FakeAccount } from '../../support/fake-iam.ts';

const MAIN = '111111111111';
const OTHER = '222222222222';
const ACCESS_KEY_ID = 'AKIAISMSCOLLECTOR01';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz-not-leaked';
const ROLE = `arn:aws:iam::${OTHER}:role/isms-reader`;
const EXTERNAL_ID = 'isms-ext-7f3a';
const env = { IAM_KEY_ID: ACCESS_KEY_ID, IAM_SECRET: SECRET };
const FIXTURE = readFileSync(new URL('../../fixtures/aws-iam/credential-report.csv', import.meta.url), 'utf8');

function mainAccount(): FakeAccount {
  return {
    id: MAIN,
    createdAt: '2019-04-01T08:00:00Z',
    rootMfa: true,
    rootPasswordLastUsedAt: '2024-03-10T09:15:00Z',
    groups: {
      admins: { attachedPolicies: ['AdministratorAccess'] },
      auditors: { attachedPolicies: ['SecurityAudit', 'ReadOnlyAccess'], inlinePolicies: ['deny-delete'] },
      iam: { inlinePolicies: ['IAMFullAccess'] },
    },
    users: [
      {
        name: 'alice',
        createdAt: '2021-01-01T00:00:00Z',
        password: { changedAt: '2021-01-02T00:00:00Z', lastUsedAt: '2024-05-01T10:00:00Z' },
        mfaDevices: [`arn:aws:iam::${MAIN}:mfa/alice`],
        groups: ['admins', 'auditors', 'iam'],
        accessKeys: [
          {
            id: 'AKIAALICE00000000001',
            status: 'Active',
            createdAt: '2021-02-01T00:00:00Z',
            lastUsed: { at: '2024-06-01T00:00:00Z', region: 'eu-west-1', service: 's3' },
          },
        ],
      },
      {
        name: 'bob',
        createdAt: '2021-03-01T00:00:00Z',
        groups: ['auditors'],
        attachedPolicies: ['ReadOnlyAccess'],
        tags: [
          { key: 'email', value: 'bob.builder@example.com' },
          { key: 'cost-center', value: '4711' },
          { key: 'team', value: 'platform' },
        ],
      },
      {
        name: 'build-bot',
        path: '/ci/',
        createdAt: '2022-07-15T12:30:00Z',
        inlinePolicies: ['deploy'],
        accessKeys: [
          {
            id: 'AKIABOT0000000000002',
            status: 'Inactive',
            createdAt: '2023-01-10T08:00:00Z',
            lastUsed: { at: '2023-02-01T09:30:00Z', region: 'ap-southeast-2', service: 'sts' },
          },
          { id: 'AKIABOT0000000000001', status: 'Active', createdAt: '2022-07-15T12:31:00Z' },
        ],
      },
      { name: 'carol', createdAt: '2022-01-01T00:00:00Z', attachedPolicies: ['IAMFullAccess'] },
      { name: 'dan', createdAt: '2023-01-01T00:00:00Z' },
    ],
  };
}

function otherAccount(): FakeAccount {
  return {
    id: OTHER,
    createdAt: '2020-01-01T00:00:00Z',
    users: [{ name: 'ops', createdAt: '2022-02-02T00:00:00Z', password: { changedAt: '2022-02-02T00:00:00Z' } }],
  };
}

const fake = new FakeIam({
  accounts: [],
  credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, account: MAIN },
  roles: [{ arn: ROLE, externalId: EXTERNAL_ID }],
  // Short pages: IAM may return fewer than MaxItems and still be truncated.
  maxPageSize: 2,
});
let endpoint = '';

beforeAll(async () => {
  endpoint = await fake.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset([mainAccount(), otherAccount()]);
});

function config(overrides: Record<string, unknown> = {}) {
  return awsIam.config.parse({
    endpoint,
    credentials: { accessKeyId: { env: 'IAM_KEY_ID' }, secretAccessKey: { env: 'IAM_SECRET' } },
    accounts: [{ id: MAIN, label: 'main' }],
    maxAttempts: 2,
    reportPollIntervalMs: 5,
    ...overrides,
  });
}

const twoAccounts = { accounts: [{ id: MAIN }, { roleArn: ROLE, externalId: EXTERNAL_ID, label: 'other' }] };

async function collect(overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const test = testContext({ env, ...context });
  const records = await collectAll(awsIam.collect(config(overrides), test.ctx));
  return { records, ...test };
}

async function failure(overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}): Promise<Error> {
  try {
    await collect(overrides, context);
  } catch (error) {
    return error as Error;
  }
  throw new Error('collection succeeded but was expected to fail');
}

const byName = (records: Identity[], tenant: string, username: string) => {
  const found = records.find((record) => record.tenant === tenant && record.username === username);
  if (!found) throw new Error(`no identity ${username} in ${tenant}`);
  return found;
};

describe('aws-iam against the fake IAM', () => {
  it('maps every user of the credential report with the per-user details', async () => {
    const { records } = await collect();
    for (const record of records) expect(Identity.parse(record)).toEqual(record);
    expect(records.map((record) => record.username)).toEqual(['<root_account>', 'alice', 'bob', 'build-bot', 'carol', 'dan']);

    expect(byName(records, MAIN, '<root_account>')).toMatchObject({
      id: `arn:aws:iam::${MAIN}:root`,
      tenant: MAIN,
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2024-03-10T09:15:00.000Z',
      createdAt: '2019-04-01T08:00:00.000Z',
      credentials: [],
    });
    const alice = byName(records, MAIN, 'alice');
    expect(alice).toMatchObject({
      source: 'aws-iam',
      id: `arn:aws:iam::${MAIN}:user/alice`,
      email: null,
      displayName: null,
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2024-06-01T00:00:00.000Z',
      createdAt: '2021-01-01T00:00:00.000Z',
      groups: ['admins', 'auditors', 'iam'],
      credentials: [
        { kind: 'password', id: 'password', active: true, createdAt: '2021-01-02T00:00:00.000Z', lastUsedAt: '2024-05-01T10:00:00.000Z' },
        { kind: 'access-key', id: 'AKIAALICE00000000001', active: true, createdAt: '2021-02-01T00:00:00.000Z', lastUsedAt: '2024-06-01T00:00:00.000Z' },
      ],
    });
    expect(alice.raw).toMatchObject({
      credentialReport: { user: 'alice', mfa_active: 'true', access_key_1_last_used_service: 's3' },
      path: '/',
      privilegedVia: ['AdministratorAccess (group admins, attached)', 'IAMFullAccess (group iam, inline)'],
    });
    expect(byName(records, MAIN, 'bob')).toMatchObject({ privileged: false, mfaEnabled: false, lastLoginAt: null, credentials: [], groups: ['auditors'] });
    expect(byName(records, MAIN, 'carol')).toMatchObject({ privileged: true });
    // No console password and no access key: nobody can sign in as dan, so dan is not an active account.
    expect(byName(records, MAIN, 'dan')).toMatchObject({ status: 'disabled', interactiveSignIn: false, privileged: false, credentials: [], lastLoginAt: null });
    expect(alice.interactiveSignIn).toBe(true);
    expect(byName(records, MAIN, 'build-bot')).toMatchObject({ status: 'active', interactiveSignIn: false });
  });

  it('gives report key slots their real ids and matches them by creation time', async () => {
    const { records } = await collect();
    const bot = byName(records, MAIN, 'build-bot');
    expect(bot.id).toBe(`arn:aws:iam::${MAIN}:user/ci/build-bot`);
    expect(bot.lastLoginAt).toBe('2023-02-01T09:30:00.000Z');
    expect(bot.credentials).toEqual([
      { kind: 'access-key', id: 'AKIABOT0000000000002', active: false, createdAt: '2023-01-10T08:00:00.000Z', lastUsedAt: '2023-02-01T09:30:00.000Z' },
      { kind: 'access-key', id: 'AKIABOT0000000000001', active: true, createdAt: '2022-07-15T12:31:00.000Z', lastUsedAt: null },
    ]);
    // The report had the last uses: no per-key calls were needed.
    expect(fake.count('GetAccessKeyLastUsed')).toBe(0);
  });

  it('pages ListUsers on IsTruncated even when a page is shorter than MaxItems', async () => {
    await collect();
    const listUsers = fake.requests.filter((request) => request.action === 'ListUsers');
    expect(listUsers.map((request) => request.params.MaxItems)).toEqual(['1000', '1000', '1000']);
    expect(listUsers[0]?.params.Marker).toBeUndefined();
    expect(listUsers.slice(1).every((request) => typeof request.params.Marker === 'string')).toBe(true);
    // alice's three groups come in two pages as well.
    expect(fake.requests.filter((request) => request.action === 'ListGroupsForUser' && request.params.UserName === 'alice')).toHaveLength(2);
  });

  it('reads each group’s policies once however many members it has', async () => {
    await collect();
    expect(fake.requests.filter((request) => request.action === 'ListAttachedGroupPolicies' && request.params.GroupName === 'auditors')).toHaveLength(1);
  });

  it('polls GenerateCredentialReport until COMPLETE and records the report in provenance', async () => {
    fake.reset([{ ...mainAccount(), reportPollsBeforeComplete: 3 }]);
    const { provenance } = await collect();
    expect(fake.count('GenerateCredentialReport')).toBe(4);
    const csv = credentialReportCsv(mainAccount());
    const { createHash } = await import('node:crypto');
    expect(provenance.accounts).toEqual({
      [MAIN]: {
        credentialReport: {
          sha256: createHash('sha256').update(csv).digest('hex'),
          bytes: Buffer.byteLength(csv),
          rows: 6,
          generatedAt: expect.any(String),
          polls: 4,
        },
        listUsersPages: 3,
        users: 5,
        usersMissingFromReport: 0,
        usersDeletedSinceReport: 0,
        perUserDetails: true,
      },
    });
  });

  it('fails with UnavailableError when the report is not ready in time', async () => {
    fake.reset([{ ...mainAccount(), reportPollsBeforeComplete: Number.POSITIVE_INFINITY }]);
    const error = await failure({ reportPollIntervalMs: 10, reportTimeoutMs: 60 });
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryable).toBe(true);
    expect(error.message).toMatch(
      /^aws-iam: account 111111111111 \(main\): GenerateCredentialReport: the credential report was still INPROGRESS after \d+ polls; the limit is 60 ms$/,
    );
  });

  it('stops polling when the collection is cancelled', async () => {
    fake.reset([{ ...mainAccount(), reportPollsBeforeComplete: Number.POSITIVE_INFINITY }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failure({ reportPollIntervalMs: 20, reportTimeoutMs: 60_000 }, { signal: controller.signal });
    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('adds users created since the report and marks users deleted since as deleted', async () => {
    await collect(); // generates the report, which IAM then keeps for hours
    const account = fake.accounts.get(MAIN)!;
    account.users = account.users.filter((user) => user.name !== 'dan' && user.name !== 'carol');
    account.users.push(
      { name: 'carol', createdAt: '2025-01-01T00:00:00Z' }, // re-created under the same name: the old row no longer describes her
      {
        name: 'erin',
        createdAt: '2025-02-01T00:00:00Z',
        password: { changedAt: '2025-02-01T01:00:00Z', lastUsedAt: '2025-02-03T00:00:00Z' },
        mfaDevices: [`arn:aws:iam::${MAIN}:mfa/erin`],
        groups: ['admins'],
        accessKeys: [
          {
            id: 'AKIAERIN000000000001',
            status: 'Active',
            createdAt: '2025-02-02T00:00:00Z',
            lastUsed: { at: '2025-02-04T00:00:00Z', region: 'us-east-1', service: 'iam' },
          },
        ],
      },
    );
    fake.requests.length = 0;

    const { records, provenance } = await collect();
    expect(fake.count('GenerateCredentialReport')).toBe(1);
    expect(records.map((record) => `${record.username}:${record.status}`)).toEqual([
      '<root_account>:active',
      'alice:active',
      // Without a console password or an access key, bob and the re-created carol cannot sign in.
      'bob:disabled',
      'build-bot:active',
      'dan:deleted',
      'carol:disabled',
      'erin:active',
    ]);
    expect(byName(records, MAIN, 'carol')).toMatchObject({ createdAt: '2025-01-01T00:00:00.000Z', privileged: false, raw: { credentialReport: null } });
    expect(byName(records, MAIN, 'erin')).toMatchObject({
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2025-02-04T00:00:00.000Z',
      groups: ['admins'],
      credentials: [
        { kind: 'password', id: 'password', active: true, createdAt: '2025-02-01T01:00:00.000Z', lastUsedAt: '2025-02-03T00:00:00.000Z' },
        { kind: 'access-key', id: 'AKIAERIN000000000001', active: true, createdAt: '2025-02-02T00:00:00.000Z', lastUsedAt: '2025-02-04T00:00:00.000Z' },
      ],
    });
    expect(fake.requests.filter((request) => request.action === 'GetLoginProfile').map((request) => request.params.UserName)).toEqual(['carol', 'erin']);
    expect(provenance.accounts).toMatchObject({ [MAIN]: { usersMissingFromReport: 2, usersDeletedSinceReport: 1 } });
  });

  it('maps a report with IAM’s edge values served by the fake (fixture)', async () => {
    fake.reset([
      {
        id: MAIN,
        createdAt: '2019-04-01T08:00:00Z',
        reportCsv: FIXTURE,
        users: [
          { name: 'alice', createdAt: '2021-01-01T00:00:00Z' },
          { name: 'legacy', createdAt: '2013-06-01T00:00:00Z' },
          { name: 'build-bot', path: '/ci/', createdAt: '2022-07-15T12:30:00Z' },
          { name: 'nobody', createdAt: '2023-03-03T03:03:03Z' },
        ],
      },
    ]);
    const { records } = await collect({ perUserDetails: false });
    expect(records.map((record) => [record.username, record.lastLoginAt])).toEqual([
      ['<root_account>', '2024-03-10T09:15:00.000Z'],
      ['alice', '2024-06-01T00:00:00.000Z'],
      ['legacy', null],
      ['build-bot', '2023-02-01T09:30:00.000Z'],
      ['nobody', null],
    ]);
  });

  it('without perUserDetails reads no per-user data and says what that costs', async () => {
    const { records, warnings } = await collect({ perUserDetails: false });
    expect(
      fake.requests.map((request) => request.action).filter((action) => !['GenerateCredentialReport', 'GetCredentialReport', 'ListUsers'].includes(action)),
    ).toEqual([]);
    expect(byName(records, MAIN, 'alice')).toMatchObject({ privileged: false, groups: [], credentials: [{ id: 'password' }, { id: 'access_key_1' }] });
    expect(byName(records, MAIN, '<root_account>').privileged).toBe(true);
    expect(warnings).toEqual([
      expect.stringContaining('aws-iam: account 111111111111 (main): per-user details: perUserDetails is off, so groups and policies of 5 users were not read'),
    ]);
  });

  it('reads no user tags unless the join asks for a tag (least privilege)', async () => {
    const { records } = await collect();
    expect(fake.count('ListUserTags')).toBe(0);
    expect(byName(records, MAIN, 'bob').raw).not.toHaveProperty('tags');
  });

  it("reads every user's tags with ListUserTags, paged, for a join by tag, with or without per-user details", async () => {
    for (const perUserDetails of [true, false]) {
      fake.reset([mainAccount(), otherAccount()]);
      const { records } = await collect({ userTags: true, perUserDetails });
      // Once per existing user (two pages for bob's three tags), never for the root user.
      expect(fake.requests.filter((request) => request.action === 'ListUserTags').map((request) => request.params.UserName)).toEqual([
        'alice',
        'bob',
        'bob',
        'build-bot',
        'carol',
        'dan',
      ]);
      expect(byName(records, MAIN, 'bob').raw?.tags).toEqual([
        { Key: 'email', Value: 'bob.builder@example.com' },
        { Key: 'cost-center', Value: '4711' },
        { Key: 'team', Value: 'platform' },
      ]);
      expect(byName(records, MAIN, 'alice').raw?.tags).toEqual([]);
      expect(byName(records, MAIN, '<root_account>').raw).not.toHaveProperty('tags');
    }
  });

  it('reads the tags of a user created since the report too', async () => {
    const account = mainAccount();
    fake.reset([account, otherAccount()]);
    await collect({ userTags: true, accounts: [{ id: MAIN }], perUserDetails: false });
    account.users.push({
      name: 'erin',
      createdAt: '2025-01-01T00:00:00Z',
      accessKeys: [{ id: 'AKIAERIN000000000001', status: 'Active', createdAt: '2025-01-01T00:00:00Z' }],
      tags: [{ key: 'email', value: 'erin@example.com' }],
    });
    const { records } = await collect({ userTags: true, accounts: [{ id: MAIN }] });
    expect(byName(records, MAIN, 'erin')).toMatchObject({
      status: 'active',
      interactiveSignIn: false,
      raw: { credentialReport: null, tags: [{ Key: 'email', Value: 'erin@example.com' }] },
    });
  });

  it('refuses the collection with a PermissionError naming ListUserTags when the role may not read tags', async () => {
    fake.inject({ action: 'ListUserTags', error: FAKE_ERRORS.accessDenied });
    const error = await failure({ userTags: true });
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toMatch(/ListUserTags for user alice/);
  });

  it('collects several accounts, assuming a role with the external id, and heartbeats after each', async () => {
    const { records, heartbeats, provenance } = await collect(twoAccounts);
    expect(records.filter((record) => record.tenant === OTHER).map((record) => record.id)).toEqual([
      `arn:aws:iam::${OTHER}:root`,
      `arn:aws:iam::${OTHER}:user/ops`,
    ]);
    expect(records.filter((record) => record.tenant === MAIN)).toHaveLength(6);
    expect(heartbeats).toEqual(['1', '2']);
    const assume = fake.requests.filter((request) => request.action === 'AssumeRole');
    expect(assume).toHaveLength(1);
    expect(assume[0]?.params).toMatchObject({ RoleArn: ROLE, ExternalId: EXTERNAL_ID, Version: '2011-06-15' });
    // Every IAM call for the second account was signed with the assumed role's keys, not the worker's.
    expect(fake.requests.filter((request) => request.action !== 'AssumeRole' && request.account === OTHER).length).toBeGreaterThan(0);
    expect(Object.keys(provenance.accounts as object)).toEqual([MAIN, OTHER]);
  });

  it('asks STS which account the default credentials reach when no id is configured', async () => {
    const { records } = await collect({ accounts: [{}] });
    expect(fake.count('GetCallerIdentity')).toBe(1);
    expect(new Set(records.map((record) => record.tenant))).toEqual(new Set([MAIN]));
  });

  it('resumes from the cursor: the accounts before it are not read again', async () => {
    const { records, heartbeats } = await collect(twoAccounts, { resumeCursor: '1' });
    expect(new Set(records.map((record) => record.tenant))).toEqual(new Set([OTHER]));
    expect(fake.requests.every((request) => request.account === OTHER || request.action === 'AssumeRole')).toBe(true);
    expect(heartbeats).toEqual(['2']);
  });

  it('resumes past the last account with nothing left to do, and refuses a cursor it did not write', async () => {
    const done = await collect(twoAccounts, { resumeCursor: '2' });
    expect(done.records).toEqual([]);
    expect(fake.requests).toEqual([]);
    await expect(collect(twoAccounts, { resumeCursor: '3' })).rejects.toThrow(ConfigError);
    await expect(collect(twoAccounts, { resumeCursor: 'page-7' })).rejects.toThrow('aws-iam: resume cursor "page-7" is not an account index between 0 and 2');
  });
});

describe('aws-iam failures', () => {
  it('gives up on throttling after maxAttempts with a retryable ThrottledError', async () => {
    fake.inject({ action: 'ListUsers', error: FAKE_ERRORS.throttling });
    const error = await failure({ maxAttempts: 2 });
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryable).toBe(true);
    expect(error.message).toBe('aws-iam: account 111111111111 (main): ListUsers: Throttling (HTTP 400, after 2 attempts): Rate exceeded');
    expect(fake.count('ListUsers')).toBe(2);
  });

  it('maps a vanished report (ReportNotPresent, HTTP 410) to a retryable UnavailableError', async () => {
    fake.inject({ action: 'GetCredentialReport', error: { code: 'ReportNotPresent', status: 410, message: 'Credential report not present.' } });
    const error = await failure();
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toContain('GetCredentialReport: ReportNotPresent (HTTP 410)');
  });

  it('fails with AuthError, once, when the secret key is wrong, and never shows the secret', async () => {
    const wrong = `${SECRET}-rotated`;
    const error = await failure({}, { env: { ...env, IAM_SECRET: wrong } });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('GenerateCredentialReport: SignatureDoesNotMatch (HTTP 403)');
    expect(fake.count('GenerateCredentialReport')).toBe(1);
    const shown = `${error.message}\n${inspect(error, { depth: 8 })}\n${JSON.stringify(error)}`;
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(SECRET.slice(0, 16));
  });

  it('fails with AuthError for an access key IAM does not know', async () => {
    const error = await failure({}, { env: { ...env, IAM_KEY_ID: 'AKIAUNKNOWN000000000' } });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('InvalidClientTokenId');
  });

  it('maps a refused AssumeRole (wrong external id) to PermissionError naming the call', async () => {
    const error = await failure({ accounts: [{ roleArn: ROLE, externalId: 'wrong-external-id' }] });
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`aws-iam: account ${OTHER}: AssumeRole ${ROLE}: AccessDenied (HTTP 403)`);
  });

  it.each([
    [
      'XML that does not parse',
      { body: '<ListUsersResponse><ListUsersResult><Users><member>' },
      'ListUsers: unreadable response (HTTP 200): @aws-sdk XML parse error: missing closing tag </member>.',
    ],
    [
      'a timestamp that is not one',
      { rewrite: (xml: string) => xml.replace('<CreateDate>2021-01-01T00:00:00Z</CreateDate>', '<CreateDate>yesterday</CreateDate>') },
      'ListUsers: unreadable response (HTTP 200): Invalid RFC3339 timestamp format yesterday',
    ],
    [
      'a user without Arn',
      { rewrite: (xml: string) => xml.replace(/<Arn>[^<]*bob<\/Arn>/, '') },
      'ListUsers: field Users[1].Arn: Invalid input: expected string, received undefined',
    ],
    [
      'IsTruncated without Marker',
      { rewrite: (xml: string) => xml.replace(/<Marker>[^<]*<\/Marker>/, '') },
      'ListUsers: field Marker: IsTruncated is true but there is no Marker',
    ],
    [
      'a report whose header is cut short',
      {
        action: 'GetCredentialReport',
        rewrite: (xml: string) => xml.replace(/<Content>[^<]*<\/Content>/, `<Content>${Buffer.from('user,arn\nx,y').toString('base64')}</Content>`),
      },
      'GetCredentialReport: credential report line 1, column 3: expected header user_creation_time, found nothing',
    ],
  ])('fails with MalformedResponseError on %s, naming the field', async (_case, fault, message) => {
    fake.inject({ action: 'ListUsers', times: 1, ...fault });
    const error = await failure();
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`aws-iam: account 111111111111 (main): ${message}`);
  });

  it('names the line and column of a bad credential report row', async () => {
    const csv = credentialReportCsv(mainAccount()).replace(',true,2021-02-01', ',maybe,2021-02-01');
    fake.reset([{ ...mainAccount(), reportCsv: csv }]);
    const error = await failure();
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      'aws-iam: account 111111111111 (main): GetCredentialReport: credential report line 3, column 9 (access_key_1_active): expected true or false, found "maybe"',
    );
  });
});

describe('aws-iam config', () => {
  it('defaults to one account on the default credential chain', () => {
    const parsed = awsIam.config.parse({});
    expect(parsed).toEqual({
      accounts: [{ region: 'us-east-1' }],
      maxAttempts: 5,
      reportPollIntervalMs: 2000,
      reportTimeoutMs: 120_000,
      perUserDetails: true,
      privilegedPolicies: ['AdministratorAccess', 'IAMFullAccess'],
      userTags: false,
    });
  });

  it.each([
    ['an account id that is not 12 digits', { accounts: [{ id: '12345' }] }, 'accounts.0.id'],
    ['an external id without role', { accounts: [{ id: MAIN, externalId: 'x-1' }] }, 'accounts.0.externalId'],
    ['a role in another account than the id', { accounts: [{ id: MAIN, roleArn: ROLE }] }, 'accounts.0.roleArn'],
    ['two accounts on the same worker credentials', { accounts: [{ id: MAIN }, { id: OTHER }] }, 'accounts'],
    ['a secret written in the config', { credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET } }, 'credentials.accessKeyId'],
    ['an endpoint that is not a URL', { endpoint: 'localhost' }, 'endpoint'],
  ])('rejects %s', (_case, input, path) => {
    const parsed = awsIam.config.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
