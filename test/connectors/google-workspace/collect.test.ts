import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { googleWorkspace } from '../../../connectors/google-workspace/index.ts';
import {
  AuthError,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../../../connectors/errors.ts';
import type { Identity } from '../../../core/records.ts';
import { testContext } from '../../support/connector-context.ts';
import {
  directoryErrors,
  GOOGLE_TOKEN_AUDIENCE,
  googleError,
  startFakeGoogleDirectory,
  testServiceAccountKey,
  USER_READONLY_SCOPE,
  type DirectoryUserJson,
  type FakeGoogleDirectory,
} from '../../support/fake-google-directory.ts';

const ADMIN = 'liz@example.com';
const STATIC_TOKEN = 'ya29.static-federated-token-7f3c9a1e5b';

const recorded = JSON.parse(readFileSync(new URL('../../fixtures/google-workspace/users-page.json', import.meta.url), 'utf8')) as {
  users: DirectoryUserJson[];
};
const generated: DirectoryUserJson[] = Array.from({ length: 4 }, (_, i) => ({
  id: `2000000000000000000${i}`,
  primaryEmail: `zz.user${i}@example.com`,
  name: { givenName: 'User', familyName: `${i}`, fullName: `User ${i}` },
  isAdmin: false,
  isDelegatedAdmin: false,
  lastLoginTime: '2025-05-01T00:00:00.000Z',
  creationTime: '2024-01-01T00:00:00.000Z',
  suspended: false,
  archived: false,
  orgUnitPath: '/',
  isEnrolledIn2Sv: true,
  isEnforcedIn2Sv: true,
}));
/** 11 users: with maxResults 3 that is four pages, the last one short. */
const directoryUsers = [...recorded.users, ...generated];
const byEmail = [...directoryUsers].sort((a, b) => a.primaryEmail.toLowerCase().localeCompare(b.primaryEmail.toLowerCase()));

const serviceAccount = testServiceAccountKey();
const impostor = testServiceAccountKey(serviceAccount.json.client_email);
const secretEnv = {
  GW_SA_KEY: JSON.stringify(serviceAccount.json),
  GW_IMPOSTOR_KEY: JSON.stringify(impostor.json),
  GW_TOKEN: STATIC_TOKEN,
  GW_UNKNOWN_TOKEN: 'ya29.revoked-token-0123456789',
};

let server: FakeGoogleDirectory;

beforeEach(async () => {
  server = await startFakeGoogleDirectory({
    users: directoryUsers,
    serviceAccounts: [{ clientEmail: serviceAccount.json.client_email, publicKey: serviceAccount.publicKey, delegatedScopes: [USER_READONLY_SCOPE] }],
    accessTokens: [{ token: STATIC_TOKEN, subject: ADMIN }],
  });
});

afterEach(async () => {
  await server.close();
});

function serviceAccountConfig(extra: Record<string, unknown> = {}) {
  return {
    serviceAccountKey: { env: 'GW_SA_KEY' },
    subject: ADMIN,
    rootUrl: server.rootUrl,
    tokenUrl: server.tokenUrl,
    maxResults: 3,
    retryBaseMs: 5,
    ...extra,
  };
}

function accessTokenConfig(extra: Record<string, unknown> = {}) {
  return { accessToken: { env: 'GW_TOKEN' }, rootUrl: server.rootUrl, maxResults: 3, retryBaseMs: 5, ...extra };
}

/** Runs the connector to the end or to its first error, keeping what it yielded and reported. */
async function run(config: Record<string, unknown>, overrides: Parameters<typeof testContext>[0] = {}) {
  const context = testContext({ env: secretEnv, ...overrides });
  const records: Identity[] = [];
  let error: unknown;
  try {
    for await (const record of googleWorkspace.collect(googleWorkspace.config.parse(config), context.ctx)) records.push(record);
  } catch (caught) {
    error = caught;
  }
  return { ...context, records, error };
}

describe('google-workspace collect with a service account (domain-wide delegation)', () => {
  it('exchanges a signed JWT at the token endpoint and pages through every user', async () => {
    const result = await run(serviceAccountConfig());

    expect(result.error).toBeUndefined();
    expect(result.records.map((record) => record.id)).toEqual(byEmail.map((user) => user.id));
    expect(server.tokenRequests).toHaveLength(1);
    expect(server.tokenRequests[0]).toMatchObject({
      status: 200,
      claims: { iss: serviceAccount.json.client_email, sub: ADMIN, scope: USER_READONLY_SCOPE, aud: GOOGLE_TOKEN_AUDIENCE },
    });
    expect(server.listRequests.map((request) => request.status)).toEqual([200, 200, 200, 200]);
    for (const request of server.listRequests) {
      expect(request.bearer).toBe(server.issuedTokens[0]);
      expect(request.query).toMatchObject({ customer: 'my_customer', maxResults: '3', projection: 'full', showDeleted: 'false', orderBy: 'email' });
    }
    // Each page asks for the token the previous page returned, and that token is the heartbeat cursor.
    expect(server.listRequests[0]?.query['pageToken']).toBeUndefined();
    expect(result.heartbeats).toHaveLength(3);
    expect(server.listRequests.slice(1).map((request) => request.query['pageToken'])).toEqual(result.heartbeats);
    expect(result.provenance).toMatchObject({
      api: 'Admin SDK Directory API directory_v1 users.list',
      endpoint: new URL(server.rootUrl).origin,
      customer: 'my_customer',
      projection: 'full',
      maxResults: 3,
      auth: 'service account with domain-wide delegation',
      serviceAccount: serviceAccount.json.client_email,
      subject: ADMIN,
      resumed: false,
      pages: 4,
      users: 11,
      retries: 0,
    });
    expect(result.warnings).toEqual([
      'google-workspace: 1 users came without isEnrolledIn2Sv; their mfaEnabled is recorded as unknown',
      'google-workspace: 1 users came without lastLoginTime; their lastLoginAt is recorded as unknown',
    ]);
  });

  it('maps the users it pulls, tenant from Google customerId', async () => {
    const result = await run(serviceAccountConfig());
    const upper = result.records.find((record) => record.id === '104372345234567890128');
    expect(upper).toMatchObject({
      tenant: 'C03az79cb',
      username: 'Chris.Upper@Example.COM',
      email: 'chris.upper@example.com',
      status: 'active',
      mfaEnabled: true,
    });
    expect(result.records.find((record) => record.id === '104372345234567890124')?.lastLoginAt).toBeNull();
  });

  it('asks for one domain instead of the customer when a domain is configured', async () => {
    const result = await run(serviceAccountConfig({ domain: 'example.com' }));
    expect(result.error).toBeUndefined();
    expect(result.records).toHaveLength(11);
    expect(server.listRequests[0]?.query).toMatchObject({ domain: 'example.com' });
    expect(server.listRequests[0]?.query['customer']).toBeUndefined();
    expect(result.provenance).toMatchObject({ domain: 'example.com' });
  });

  it('fails with AuthError, without retrying, when the token endpoint finds the JWT signature invalid', async () => {
    const result = await run(serviceAccountConfig({ serviceAccountKey: { env: 'GW_IMPOSTOR_KEY' } }));
    expect(result.error).toBeInstanceOf(AuthError);
    expect((result.error as AuthError).retryable).toBe(false);
    expect((result.error as Error).message).toBe(
      `google-workspace: users.list page 1: the token endpoint ${server.tokenUrl} refused a token for service account ${serviceAccount.json.client_email} acting as ${ADMIN} (400 invalid_grant: Invalid JWT Signature.)`,
    );
    expect(server.tokenRequests).toHaveLength(1);
    expect(server.listRequests).toHaveLength(0);
  });

  it('fails with AuthError when the subject is not a user of the domain', async () => {
    const result = await run(serviceAccountConfig({ subject: 'nobody@example.com' }));
    expect(result.error).toBeInstanceOf(AuthError);
    expect((result.error as Error).message).toContain('(400 invalid_grant: Invalid email or User ID)');
    expect(server.tokenRequests).toHaveLength(1);
  });

  it('fails with AuthError when the scope is not delegated to the service account', async () => {
    await server.close();
    server = await startFakeGoogleDirectory({
      users: directoryUsers,
      serviceAccounts: [
        {
          clientEmail: serviceAccount.json.client_email,
          publicKey: serviceAccount.publicKey,
          delegatedScopes: ['https://www.googleapis.com/auth/admin.directory.group.readonly'],
        },
      ],
    });
    const result = await run(serviceAccountConfig());
    expect(result.error).toBeInstanceOf(AuthError);
    expect((result.error as Error).message).toContain('(401 unauthorized_client: Client is unauthorized to retrieve access tokens');
  });

  it('retries a token endpoint outage and then collects', async () => {
    server.failToken({ status: 503, body: { error: 'temporarily_unavailable', error_description: 'Service unavailable' } }, 2);
    const result = await run(serviceAccountConfig());
    expect(result.error).toBeUndefined();
    expect(result.records).toHaveLength(11);
    expect(server.tokenRequests.map((request) => request.status)).toEqual([503, 503, 200]);
    // Ours, not gaxios's: its own retries would not be counted.
    expect(result.provenance).toMatchObject({ retries: 2 });
  });

  it('fails with PermissionError, without retrying, when the subject is not an administrator', async () => {
    const result = await run(serviceAccountConfig({ subject: 'new.starter@example.com' }));
    expect(result.error).toBeInstanceOf(PermissionError);
    expect((result.error as PermissionError).retryable).toBe(false);
    expect((result.error as Error).message).toMatch(
      /^google-workspace: users\.list page 1: service account .* acting as new\.starter@example\.com may not list users \(403 forbidden: Not Authorized to access this resource\/api\)/,
    );
    expect(server.listRequests).toHaveLength(1);
  });
});

describe('google-workspace collect with an access token', () => {
  it('sends the token as it is and needs no token endpoint', async () => {
    const result = await run(accessTokenConfig());
    expect(result.error).toBeUndefined();
    expect(result.records).toHaveLength(11);
    expect(server.tokenRequests).toHaveLength(0);
    expect(server.listRequests.every((request) => request.bearer === STATIC_TOKEN)).toBe(true);
    expect(result.provenance).toMatchObject({ auth: 'access token', pages: 4 });
    expect(result.provenance).not.toHaveProperty('serviceAccount');
  });

  it('fails with AuthError on 401, without retrying', async () => {
    const result = await run(accessTokenConfig({ accessToken: { env: 'GW_UNKNOWN_TOKEN' } }));
    expect(result.error).toBeInstanceOf(AuthError);
    expect((result.error as Error).message).toMatch(
      /^google-workspace: users\.list page 1: Google rejected the credentials of the configured access token \(401 authError: Request had invalid authentication credentials/,
    );
    expect(server.listRequests).toHaveLength(1);
  });
});

describe('google-workspace rate limits and transient faults', () => {
  it.each([
    { name: '403 userRateLimitExceeded', fault: directoryErrors.userRateLimitExceeded(), status: 403 },
    { name: '403 quotaExceeded', fault: directoryErrors.quotaExceeded(), status: 403 },
  ])('retries $name, a rate limit Google answers with 403, and then collects everything', async ({ fault, status }) => {
    server.failUsersList(fault, 2);
    const result = await run(accessTokenConfig());
    expect(result.error).toBeUndefined();
    expect(result.records).toHaveLength(11);
    expect(server.listRequests.map((request) => request.status)).toEqual([status, status, 200, 200, 200, 200]);
    expect(result.provenance).toMatchObject({ retries: 2 });
    const retryLogs = result.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => String(line['msg']).startsWith('google-workspace: users.list page 1: retried after rate limited (403'));
    expect(retryLogs.map((line) => line['retries'])).toEqual([1, 2]);
  });

  it('gives up with a retryable ThrottledError once maxRetries is spent', async () => {
    server.failUsersList(directoryErrors.userRateLimitExceeded(), 3);
    const result = await run(accessTokenConfig({ maxRetries: 2 }));
    expect(result.error).toBeInstanceOf(ThrottledError);
    expect((result.error as ThrottledError).retryable).toBe(true);
    expect((result.error as Error).message).toBe(
      'google-workspace: users.list page 1: rate limited (403 userRateLimitExceeded: Rate Limit Exceeded); still failing after 2 retries',
    );
    expect(server.listRequests).toHaveLength(3);
  });

  it('passes the wait Retry-After asks for on when it gives up', async () => {
    server.failUsersList(directoryErrors.rateLimitExceeded(2), 1);
    const exhausted = await run(accessTokenConfig({ maxRetries: 0 }));
    expect(exhausted.error).toBeInstanceOf(ThrottledError);
    expect((exhausted.error as ThrottledError).retryAfterMs).toBe(2000);
  });

  it('gives up with a retryable UnavailableError when the service keeps failing', async () => {
    server.failUsersList(directoryErrors.backendError(), 2);
    const result = await run(accessTokenConfig({ maxRetries: 1 }));
    expect(result.error).toBeInstanceOf(UnavailableError);
    expect((result.error as UnavailableError).retryable).toBe(true);
    expect((result.error as Error).message).toBe(
      'google-workspace: users.list page 1: Google failed (503 backendError: Service unavailable. Please try again); still failing after 1 retry',
    );
  });

  it('does not retry a 403 that is not a rate limit', async () => {
    server.failUsersList(directoryErrors.forbidden(), 1);
    const result = await run(accessTokenConfig());
    expect(result.error).toBeInstanceOf(PermissionError);
    expect(server.listRequests).toHaveLength(1);
  });
});

describe('google-workspace bad responses and requests', () => {
  it('rejects a body that is not a users list', async () => {
    server.corruptPage(1, () => ({ kind: 'admin#directory#groups', groups: [] }));
    const result = await run(accessTokenConfig());
    expect(result.error).toBeInstanceOf(MalformedResponseError);
    expect((result.error as Error).message).toMatch(/^google-workspace: users\.list page 1: field kind: /);
  });

  it('reports an unknown domain as NotFoundError', async () => {
    const result = await run(accessTokenConfig({ domain: 'other.example' }));
    expect(result.error).toBeInstanceOf(NotFoundError);
    expect((result.error as Error).message).toBe('google-workspace: users.list page 1: domain other.example was not found (404 notFound: Domain not found.)');
  });

  it('reports a customer Google cannot use as ConfigError', async () => {
    const result = await run(accessTokenConfig({ customer: 'example.com' }));
    expect(result.error).toBeInstanceOf(ConfigError);
    expect((result.error as Error).message).toBe(
      'google-workspace: users.list page 1: Google refused the request for customer example.com (400 badRequest: Bad Request)',
    );
  });
});

describe('google-workspace permanent refusals', () => {
  it.each([
    [405, 'methodNotAllowed', 'Method Not Allowed'],
    [409, 'conflict', 'Conflict'],
    [410, 'deleted', 'Resource has been deleted'],
    [412, 'conditionNotMet', 'Precondition Failed'],
    [422, 'invalid', 'Unprocessable Entity'],
  ])('refuses HTTP %d at once as a non-retryable RequestRejectedError naming the page', async (status, reason, message) => {
    server.failUsersList(googleError(status, reason, message), 1);
    const result = await run(accessTokenConfig({ maxRetries: 5 }));
    expect(result.error).toBeInstanceOf(RequestRejectedError);
    expect((result.error as RequestRejectedError).retryable).toBe(false);
    expect((result.error as Error).message).toBe(
      `google-workspace: users.list page 1: Google refused the request for customer my_customer (${status} ${reason}: ${message})`,
    );
    expect(server.listRequests).toHaveLength(1);
  });
});

describe('google-workspace bodies cut short', () => {
  it('reports a body that ended early as transient, fetches the page again and collects every user once', async () => {
    const clean = await run(accessTokenConfig());
    const requestsBefore = server.listRequests.length;
    server.dropUsersListMidBody(1);
    const result = await run(accessTokenConfig());
    expect(result.error).toBeUndefined();
    expect(result.records).toEqual(clean.records);
    const pageTokens = server.listRequests.slice(requestsBefore).map((request) => request.query['pageToken']);
    expect(pageTokens).toEqual([undefined, undefined, ...clean.heartbeats]);
    const warning = result.logLines.map((line) => JSON.parse(line) as { level: number; reason?: string }).find((line) => line.level === 40);
    expect(warning?.reason).toMatch(/^the response ended early, after \d+ characters of JSON$/);
    expect(result.provenance).toMatchObject({ retries: 1 });
  });

  it('fails as a retryable UnavailableError saying so when every answer ends early', async () => {
    server.dropUsersListMidBody(2);
    const result = await run(accessTokenConfig({ maxRetries: 1 }));
    expect(result.error).toBeInstanceOf(UnavailableError);
    expect((result.error as UnavailableError).retryable).toBe(true);
    expect((result.error as Error).message).toMatch(
      /^google-workspace: users\.list page 1: the response ended early, after \d+ characters of JSON; still failing after 1 retry$/,
    );
  });

  it('refuses a whole body that is not a JSON object as malformed, without retrying', async () => {
    server.corruptPage(1, () => '<html><body>Service Unavailable</body></html>');
    const result = await run(accessTokenConfig());
    expect(result.error).toBeInstanceOf(MalformedResponseError);
    expect((result.error as Error).message).toMatch(
      /^google-workspace: users\.list page 1: the body is not a JSON object \(application\/json; charset=UTF-8, \d+ characters\)$/,
    );
    expect(server.listRequests).toHaveLength(1);
  });
});

describe('google-workspace resume', () => {
  it('starts from the resume cursor and continues the heartbeats from there', async () => {
    const first = await run(accessTokenConfig());
    const cursorAfterPage2 = first.heartbeats[1];
    expect(cursorAfterPage2).toBeDefined();
    const requestsBefore = server.listRequests.length;

    const resumed = await run(accessTokenConfig(), { resumeCursor: cursorAfterPage2 });
    expect(resumed.error).toBeUndefined();
    expect(resumed.records.map((record) => record.id)).toEqual(byEmail.slice(6).map((user) => user.id));
    expect(server.listRequests[requestsBefore]?.query['pageToken']).toBe(cursorAfterPage2);
    expect(resumed.heartbeats).toEqual([first.heartbeats[2]]);
    expect(resumed.provenance).toMatchObject({ resumed: true, pages: 2, users: 5 });
  });

  it('names the page after a resume in errors', async () => {
    const first = await run(accessTokenConfig());
    server.failUsersList(directoryErrors.forbidden(), 1);
    const resumed = await run(accessTokenConfig(), { resumeCursor: first.heartbeats[0] });
    expect((resumed.error as Error).message).toMatch(/^google-workspace: users\.list page 1 after resume: /);
  });
});

describe('google-workspace secrets', () => {
  const privateKeyLines = serviceAccount.privateKeyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  const secretsOf = () => [serviceAccount.privateKeyPem, privateKeyLines[1]!, privateKeyLines.at(-2)!, STATIC_TOKEN, ...server.issuedTokens];
  const expectNoSecret = (text: string) => {
    for (const secret of secretsOf()) expect(text).not.toContain(secret);
  };

  it('keeps the private key and access tokens out of every error, including its cause chain', async () => {
    const rejectedToken = await run(serviceAccountConfig({ serviceAccountKey: { env: 'GW_IMPOSTOR_KEY' } }));
    const tokenRevoked = await run(accessTokenConfig({ accessToken: { env: 'GW_UNKNOWN_TOKEN' } }));
    server.failUsersList(directoryErrors.userRateLimitExceeded(), 2);
    const throttled = await run(serviceAccountConfig({ maxRetries: 1 }));
    server.failUsersList(directoryErrors.forbidden(), 1);
    const forbidden = await run(accessTokenConfig());
    const errors = [rejectedToken.error, tokenRevoked.error, throttled.error, forbidden.error];
    expect(errors.map((error) => (error as Error).name)).toEqual(['AuthError', 'AuthError', 'ThrottledError', 'PermissionError']);
    const impostorLine = impostor.privateKeyPem.split('\n')[2]!;
    for (const error of errors) {
      const shown = `${(error as Error).message}\n${inspect(error, { depth: Infinity })}\n${JSON.stringify(error)}`;
      expectNoSecret(shown);
      expect(shown).not.toContain(impostorLine);
      expect(shown).not.toContain(secretEnv.GW_UNKNOWN_TOKEN);
      expect(shown).not.toContain('assertion');
    }
  });

  it('does not quote a key file that is not JSON, nor one whose private key is not PEM', async () => {
    const notJson = `{"private_key": "${privateKeyLines[1]}"`;
    const badPem = JSON.stringify({ ...serviceAccount.json, private_key: `-----BEGIN PRIVATE KEY-----\n${privateKeyLines[1]}\n-----END PRIVATE KEY-----\n` });
    for (const [value, message] of [
      [notJson, "google-workspace: serviceAccountKey (environment variable GW_SA_KEY) is not JSON; expected the service account's JSON key file"],
      [badPem, 'google-workspace: serviceAccountKey (environment variable GW_SA_KEY): private_key is not a PEM private key'],
    ] as const) {
      const result = await run(serviceAccountConfig(), { env: { ...secretEnv, GW_SA_KEY: value } });
      expect(result.error).toBeInstanceOf(ConfigError);
      expect((result.error as Error).message).toBe(message);
      expect(inspect(result.error, { depth: Infinity })).not.toContain(privateKeyLines[1]!);
    }
    expect(server.tokenRequests).toHaveLength(0);
  });

  it('names the missing fields of a JSON file that is not a service account key', async () => {
    const result = await run(serviceAccountConfig(), {
      env: { ...secretEnv, GW_SA_KEY: JSON.stringify({ type: 'authorized_user', client_id: 'x', refresh_token: 'r' }) },
    });
    expect(result.error).toBeInstanceOf(ConfigError);
    expect((result.error as Error).message).toMatch(/is not a service account JSON key: field type: .*; field client_email: .*; field private_key: /);
  });
});
