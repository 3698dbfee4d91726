import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { MicrosoftGraphConfig, microsoftGraph } from '../../../connectors/microsoft-graph/index.ts';
import { AuthError, MalformedResponseError, PermissionError, RequestRejectedError, ThrottledError, UnavailableError } from '../../../connectors/errors.ts';
import type { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { startFakeGraph, type FakeGraph, type FakeGraphUser, type FakeRegistration } from '../../support/fake-graph.ts';
import { trustFakeGraphCertificate } from '../../support/graph-env.ts';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/graph/${name}`, import.meta.url), 'utf8')) as T;
const USERS = fixture<FakeGraphUser[]>('users.json');
const REGISTRATIONS = fixture<FakeRegistration[]>('user-registration-details.json');
const SECRET = 'Qx8~graph-client-secret-do-not-leak.7f2a';
const SECRET_ENV = { GRAPH_CLIENT_SECRET: SECRET };
const USERS_PATH = '/v1.0/users';
const REPORT_PATH = '/v1.0/reports/authenticationMethods/userRegistrationDetails';

let graph: FakeGraph;

beforeAll(async () => {
  trustFakeGraphCertificate();
  graph = await startFakeGraph({ clientSecret: SECRET });
});
afterAll(() => graph.close());

beforeEach(() => {
  Object.assign(graph.state, {
    users: structuredClone(USERS),
    registrations: structuredClone(REGISTRATIONS),
    registrationPageSize: 2,
    premium: true,
    usersForbidden: false,
    throttleNext: 0,
    garbleNext: 0,
    truncateNext: 0,
    refuseNext: [],
    rejectTokens: false,
  });
  graph.requests.length = 0;
  graph.tokenRequests.length = 0;
});

function configWith(overrides: Record<string, unknown> = {}): MicrosoftGraphConfig {
  return MicrosoftGraphConfig.parse({
    tenantId: graph.state.tenantId,
    clientId: graph.state.clientId,
    clientSecret: { env: 'GRAPH_CLIENT_SECRET' },
    baseUrl: graph.url,
    authorityHost: graph.url,
    pageSize: 3,
    retry: { maxRetries: 2, delaySeconds: 0 },
    ...overrides,
  });
}

async function run(overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: SECRET_ENV, ...context });
  const records = await collectAll(microsoftGraph.collect(configWith(overrides), recorded.ctx));
  return { ...recorded, records };
}

/** Runs a collection expected to fail; returns the error with whatever was yielded before it. */
async function runToFailure(overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: SECRET_ENV, ...context });
  const records: Identity[] = [];
  try {
    for await (const record of microsoftGraph.collect(configWith(overrides), recorded.ctx)) records.push(record);
  } catch (error) {
    return { ...recorded, records, error: error as Error };
  }
  throw new Error('the collection was expected to fail');
}

const graphCalls = (path: string) => graph.requests.filter((request) => request.path === path);
const byUsername = (records: Identity[]) => new Map(records.map((record) => [record.username, record]));

describe('microsoft-graph collect', () => {
  it('lists users across three pages by following absolute next links, heartbeating each link as the cursor', async () => {
    const { records, heartbeats, provenance, warnings } = await run();

    expect(records.map((record) => record.id)).toEqual(USERS.map((user) => user.id));
    const pages = graphCalls(USERS_PATH);
    expect(pages).toHaveLength(3);
    expect(pages[0]?.query).toEqual({
      $select: 'id,userPrincipalName,mail,displayName,accountEnabled,userType,createdDateTime,signInActivity',
      $top: '3',
    });
    for (const later of pages.slice(1)) {
      expect(later.query.$skiptoken).toMatch(/^RFNwdA/);
      expect(later.query.$select).toBe(pages[0]?.query.$select);
    }
    expect(heartbeats).toHaveLength(2);
    for (const cursor of heartbeats) expect(cursor).toMatch(new RegExp(`^${graph.url}/v1\\.0/users\\?.*\\$skiptoken=`));
    // Every Graph call carried the bearer token: the local host is a custom host of the client.
    expect(
      graph.requests.filter((request) => request.path.startsWith('/v1.0/')).every((request) => request.authorization?.startsWith('Bearer fake-graph-token.')),
    ).toBe(true);
    expect(provenance).toMatchObject({
      api: 'Microsoft Graph v1.0 GET /users',
      baseUrl: graph.url,
      tenantId: graph.state.tenantId,
      clientId: graph.state.clientId,
      pageSize: 3,
      signInActivity: 'selected',
      pages: 3,
      identities: 7,
    });
    expect(warnings).toEqual([expect.stringContaining('1 user has no row in the MFA registration report')]);
  });

  it('gets one token through OpenID discovery on the authority host, without instance discovery', async () => {
    await run();
    const authorityCalls = graph.requests.filter((request) => !request.path.startsWith('/v1.0/'));
    expect(authorityCalls.map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET /${graph.state.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${graph.state.tenantId}/oauth2/v2.0/token`,
    ]);
    expect(graph.tokenRequests).toEqual([
      expect.objectContaining({ grant_type: 'client_credentials', client_id: graph.state.clientId, scope: 'https://graph.microsoft.com/.default' }),
    ]);
  });

  it('joins the paged MFA registration report by user id', async () => {
    const { records } = await run();
    expect(graphCalls(REPORT_PATH)).toHaveLength(3);
    const identities = byUsername(records);
    expect(identities.get('Alice.Smith@contoso.onmicrosoft.com')).toMatchObject({ mfaEnabled: true, privileged: false });
    expect(identities.get('bob@contoso.onmicrosoft.com')).toMatchObject({ mfaEnabled: false, privileged: false, status: 'disabled', lastLoginAt: null });
    expect(identities.get('dave.admin@contoso.onmicrosoft.com')).toMatchObject({ mfaEnabled: true, privileged: true });
    expect(identities.get('svc-backup@contoso.onmicrosoft.com')).toMatchObject({ mfaEnabled: false, privileged: true });
    expect(identities.get('erin.new@contoso.onmicrosoft.com')).toMatchObject({ mfaEnabled: 'unknown', privileged: false });
  });

  it('maps the wire fields of every user as Graph sent them', async () => {
    const { records } = await run();
    expect(byUsername(records).get('Alice.Smith@contoso.onmicrosoft.com')).toEqual({
      kind: 'identity',
      source: 'microsoft-graph',
      tenant: graph.state.tenantId,
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
    const guest = byUsername(records).get('partner_fabrikam.com#EXT#@contoso.onmicrosoft.com');
    expect(guest).toMatchObject({ email: 'partner@fabrikam.com', lastLoginAt: null, raw: { userType: 'Guest' } });
  });

  it('raises a retryable ThrottledError carrying Retry-After once retries are exhausted', async () => {
    graph.state.throttleNext = 10;
    const { error, records } = await runToFailure({ includeMfaRegistration: false, retry: { maxRetries: 1, delaySeconds: 0 } });
    expect(error).toBeInstanceOf(ThrottledError);
    expect(error.message).toMatch(/^microsoft-graph: users page 1: still throttled after 1 retries \(429 TooManyRequests: Please retry again later\./);
    expect((error as ThrottledError).retryable).toBe(true);
    expect((error as ThrottledError).retryAfterMs).toBe(1000);
    expect(records).toEqual([]);
    expect(graphCalls(USERS_PATH)).toHaveLength(2);
  });

  it('degrades a tenant without Entra ID P1/P2: lists users without signInActivity, lastLoginAt and mfaEnabled unknown, with warnings', async () => {
    graph.state.premium = false;
    const { records, warnings, provenance, heartbeats } = await run();

    expect(records).toHaveLength(7);
    for (const record of records) expect(record).toMatchObject({ lastLoginAt: 'unknown', mfaEnabled: 'unknown', privileged: false });
    const calls = graphCalls(USERS_PATH);
    expect(calls.map((request) => request.status)).toEqual([403, 200, 200, 200]);
    expect(calls[0]?.query.$select).toContain('signInActivity');
    expect(calls.slice(1).every((request) => !request.query.$select?.includes('signInActivity') && request.query.$top === '3')).toBe(true);
    for (const cursor of heartbeats) expect(cursor).not.toMatch(/signinactivity/i);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/MFA registration report is unavailable \(Graph refused it with 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
    expect(warnings[0]).toMatch(/mfaEnabled is unknown for every identity, and privileged is false/);
    expect(warnings[1]).toMatch(/sign-in activity is unavailable \(Graph refused it with 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
    expect(warnings[1]).toMatch(/Entra ID P1 or P2 licence and the AuditLog\.Read\.All application permission.*lastLoginAt is unknown for every identity/);
    expect(provenance.signInActivity).toMatch(/^unavailable \(403 Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
    expect(provenance.mfaRegistration).toMatch(/^unavailable \(403/);
  });

  it('asks for pages of up to 999 users when sign-in activity is off, and says so', async () => {
    const { records, warnings } = await run({ includeSignInActivity: false, pageSize: 999 });
    expect(records).toHaveLength(7);
    expect(records.every((record) => record.lastLoginAt === 'unknown')).toBe(true);
    expect(graphCalls(USERS_PATH)[0]?.query).toEqual({ $select: 'id,userPrincipalName,mail,displayName,accountEnabled,userType,createdDateTime', $top: '999' });
    expect(warnings).toContain('microsoft-graph: includeSignInActivity is off: lastLoginAt is unknown for every identity');
  });

  it('resumes from a next-link cursor without repeating the pages before it', async () => {
    const first = await run();
    const cursor = first.heartbeats[0];
    expect(cursor).toBeDefined();
    graph.requests.length = 0;

    const resumed = await run({}, { resumeCursor: cursor });
    expect(resumed.records.map((record) => record.id)).toEqual(USERS.slice(3).map((user) => user.id));
    const calls = graphCalls(USERS_PATH);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.query.$skiptoken).toBe(new URL(cursor!).searchParams.get('$skiptoken'));
    expect(resumed.heartbeats).toEqual([first.heartbeats[1]]);
    expect(resumed.provenance).toMatchObject({ resumedFrom: cursor, pages: 2, identities: 4 });
    // The MFA join still holds: the report is read again on every attempt.
    expect(byUsername(resumed.records).get('dave.admin@contoso.onmicrosoft.com')).toMatchObject({
      privileged: true,
      lastLoginAt: '2025-09-30T07:00:01.5977286Z',
    });
  });

  it('resumes a listing that had gone without signInActivity as it was, and warns again', async () => {
    graph.state.premium = false;
    const first = await run();
    graph.state.premium = true;

    const resumed = await run({}, { resumeCursor: first.heartbeats[0] });
    expect(resumed.records).toHaveLength(4);
    expect(resumed.records.every((record) => record.lastLoginAt === 'unknown')).toBe(true);
    expect(resumed.warnings).toEqual([
      expect.stringMatching(/sign-in activity is unavailable \(the listing this run resumes had already been refused signInActivity\)/),
      expect.stringMatching(/^microsoft-graph: 1 user has no row in the MFA registration report/),
    ]);
  });

  it('refuses a resume cursor that does not point to Graph /users', async () => {
    const { error } = await runToFailure({}, { resumeCursor: 'https://elsewhere.example/v1.0/users?$skiptoken=abc' });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^microsoft-graph: resume cursor is not a \/users next link on https:\/\/127\.0\.0\.1:\d+/);
  });

  it('fails with a non-retryable AuthError naming AADSTS7000215 when the secret is wrong, without calling Graph', async () => {
    const { error, records } = await runToFailure({}, { env: { GRAPH_CLIENT_SECRET: 'wrong-secret-value-1234' } });
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).retryable).toBe(false);
    expect(error.message).toMatch(
      /^microsoft-graph: token request: https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+ for client [0-9a-f-]+ refused the client credentials \(invalid_client: AADSTS7000215: Invalid client secret provided\.\)/,
    );
    expect(records).toEqual([]);
    expect(graph.requests.filter((request) => request.path.startsWith('/v1.0/'))).toEqual([]);
    expect(graph.tokenRequests).toHaveLength(1);
  });

  it('raises a PermissionError when the app may not list users at all', async () => {
    graph.state.usersForbidden = true;
    const { error } = await runToFailure({ includeMfaRegistration: false });
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toMatch(
      /^microsoft-graph: users page 1: client .* may not read this \(403 Authorization_RequestDenied: Insufficient privileges to complete the operation\..*needs the application permission User\.Read\.All/,
    );
    // The first refusal was taken for missing sign-in activity; the listing without it was refused too.
    expect(graphCalls(USERS_PATH).map((request) => request.query.$select?.includes('signInActivity'))).toEqual([true, false]);
  });

  it('reports a request Graph refuses with 400 as a ConfigError (here $top above 500 with signInActivity)', async () => {
    // The config schema refuses this page size; the server still enforces Graph's cap, as a second line.
    const config = { ...configWith({ includeMfaRegistration: false }), pageSize: 600 };
    const recorded = testContext({ env: SECRET_ENV });
    const error = await collectAll(microsoftGraph.collect(config, recorded.ctx)).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^microsoft-graph: users page 1: Graph refused the request \(400 Request_UnsupportedQuery: Invalid page size specified: '600'\. Must be between 1 and 500 inclusive\./,
    );
  });

  it('names the registration report page and field when a report row is malformed', async () => {
    graph.state.registrations[3] = { ...graph.state.registrations[3]!, isMfaRegistered: null };
    const { error } = await runToFailure();
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      'microsoft-graph: userRegistrationDetails page 2: field value[1].isMfaRegistered: Invalid input: expected boolean, received null',
    );
  });

  it('raises a MalformedResponseError when a page body is not JSON', async () => {
    graph.state.garbleNext = 1;
    const { error } = await runToFailure({ includeMfaRegistration: false });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^microsoft-graph: users page 1: 200 UnreadableBody: the body is not JSON/);
  });

  it('reports a body that ended early as transient, fetches it again and collects every user once', async () => {
    const clean = await run({ includeMfaRegistration: false });
    graph.requests.length = 0;
    graph.state.truncateNext = 1;
    const again = await run({ includeMfaRegistration: false });
    expect(again.records).toEqual(clean.records);
    expect(graphCalls(USERS_PATH).map((request) => request.query.$skiptoken)).toEqual([
      undefined,
      undefined,
      ...clean.heartbeats.map((link) => new URL(link ?? '').searchParams.get('$skiptoken')),
    ]);
    const warning = again.logLines.map((line) => JSON.parse(line) as { level: number; failure?: string; resource?: string }).find((line) => line.level === 40);
    expect(warning).toMatchObject({
      where: 'microsoft-graph: GET /users',
      reason: expect.stringMatching(/^the response ended early, after \d+ characters of JSON$/),
    });
    expect(again.provenance).toMatchObject({ retries: 1, throttledWaitMs: 0 });
  });

  it('fails as a retryable UnavailableError saying so when the body ends early twice', async () => {
    graph.state.truncateNext = 2;
    const { error } = await runToFailure({ includeMfaRegistration: false });
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryable).toBe(true);
    expect(error.message).toMatch(/^microsoft-graph: users page 1: the response ended early, after \d+ characters of JSON, 2 times$/);
  });

  it.each([
    [405, 'Request_BadRequest', 'The HTTP method is not supported for this resource.'],
    [409, 'Request_MultipleObjectsWithSameKeyValue', 'Another object with the same value for property exists.'],
    [412, 'Request_PreconditionFailed', 'The precondition failed.'],
    [422, 'UnprocessableEntity', 'The request could not be processed.'],
  ])('refuses HTTP %d at once as a non-retryable RequestRejectedError naming the page', async (status, code, message) => {
    graph.state.refuseNext = [{ status, code, message }];
    const { error } = await runToFailure({ includeMfaRegistration: false, includeSignInActivity: false });
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect((error as RequestRejectedError).retryable).toBe(false);
    expect(error.message).toMatch(
      new RegExp(
        `^microsoft-graph: users page 1: Graph refused the request \\(${status} ${code}: ${message.replace(/[.]/g, '\\.')} \\[request-id [0-9a-f-]+\\]\\)$`,
      ),
    );
    expect(graphCalls(USERS_PATH)).toHaveLength(1);
  });
});

describe('microsoft-graph config', () => {
  const base = { tenantId: 'contoso.onmicrosoft.com', clientId: 'app', clientSecret: { env: 'X' } };

  it('fills the defaults', () => {
    expect(MicrosoftGraphConfig.parse(base)).toEqual({
      ...base,
      baseUrl: 'https://graph.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
      pageSize: 500,
      includeSignInActivity: true,
      includeMfaRegistration: true,
      retry: { maxRetries: 3, delaySeconds: 3 },
    });
  });

  it.each([
    [{ pageSize: 501 }, 'pageSize', /at most 500 while includeSignInActivity is on/],
    [{ pageSize: 1000, includeSignInActivity: false }, 'pageSize', /<=999/],
    [{ baseUrl: 'http://graph.microsoft.com' }, 'baseUrl', /Invalid URL/],
    [{ retry: { maxRetries: 11 } }, 'retry.maxRetries', /<=10/],
    [{ tenantId: 'contoso/evil' }, 'tenantId', /a tenant id \(GUID\) or a verified domain/],
  ])('rejects %j at %s', (override, path, message) => {
    const result = MicrosoftGraphConfig.safeParse({ ...base, ...override });
    expect(result.success).toBe(false);
    const issue = result.error?.issues.find((candidate) => candidate.path.join('.') === path);
    expect(issue?.message).toMatch(message);
  });

  it('accepts 999 users a page once sign-in activity is off', () => {
    expect(MicrosoftGraphConfig.parse({ ...base, pageSize: 999, includeSignInActivity: false }).pageSize).toBe(999);
  });
});
