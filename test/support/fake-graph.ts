import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated } from './faults.ts';

/**
 * A local Microsoft Entra ID + Microsoft Graph that speaks the real protocol to the real SDKs: HTTPS with a
 * self-signed certificate (test/fixtures/graph), the OpenID discovery document and v2.0 token endpoint MSAL
 * uses for client credentials, and `/v1.0/users` and `/v1.0/reports/authenticationMethods/userRegistrationDetails`
 * with `$select`/`$top`, absolute `@odata.nextLink`s carrying an opaque `$skiptoken`, and Graph's error bodies,
 * status codes and headers. Tests steer faults through `state`, or through `faults` (the uniform switches;
 * operations `users` and `userRegistrationDetails`).
 */

const fixtures = new URL('../fixtures/graph/', import.meta.url);
/** The certificate the server presents; tests trust it (see graph-env.ts). */
export const fakeGraphCertificate = readFileSync(new URL('test-only-localhost.cert.pem', fixtures), 'utf8');
const testOnlyKey = readFileSync(new URL('test-only-localhost.key.pem', fixtures), 'utf8');

/** Users are served as given, projected on `$select`, so a test can put any shape (also a broken one) on the wire. */
export type FakeGraphUser = Record<string, unknown> & { id: string };
export type FakeRegistration = Record<string, unknown> & { id: string };

export interface FakeGraphState {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  users: FakeGraphUser[];
  registrations: FakeRegistration[];
  /** The server's own page size for the registration report, which takes no `$top` from us. */
  registrationPageSize: number;
  /** Without Entra ID P1/P2 Graph refuses `signInActivity` and the registration report with 403. */
  premium: boolean;
  /** The app lacks User.Read.All: every `/users` call is refused. */
  usersForbidden: boolean;
  /** Answer the next N Graph calls (any path) with 429 and `Retry-After: 1`. */
  throttleNext: number;
  /** Answer the next N Graph calls with 200 and a body that is not JSON (a proxy's HTML page). */
  garbleNext: number;
  /** Cut the next N successful Graph answers in half, with a Content-Length that counts only the half sent, as a dropped connection behind a proxy. */
  truncateNext: number;
  /** Answer the next Graph calls with these refusals, one each, in Graph's error body. */
  refuseNext: { status: number; code: string; message: string }[];
  /** Access tokens the server has issued (others are refused with 401). */
  issuedTokens: Set<string>;
  /** Refuse every bearer token on Graph calls, as Graph does once a token is expired or revoked. */
  rejectTokens: boolean;
}

export interface FakeGraphRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  status: number;
}

export interface FakeGraph {
  /** https://127.0.0.1:PORT: both the Graph base URL and the authority host. */
  readonly url: string;
  readonly state: FakeGraphState;
  readonly requests: FakeGraphRequest[];
  /** Every form body posted to the token endpoint, to prove what MSAL sent. */
  readonly tokenRequests: Record<string, string>[];
  readonly faults: FaultSwitch;
  close(): Promise<void>;
}

const OPERATIONS: Record<string, string> = {
  '/v1.0/users': 'users',
  '/v1.0/reports/authenticationMethods/userRegistrationDetails': 'userRegistrationDetails',
};

const graphContentType = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const maxPageSize = 999;
/** Graph's documented cap when signInActivity is selected or filtered on. */
const maxPageSizeWithSignInActivity = 500;
const defaultPageSize = 100;

export async function startFakeGraph(initial: Partial<FakeGraphState> = {}): Promise<FakeGraph> {
  const state: FakeGraphState = {
    tenantId: '00000000-0000-4000-8000-00000000aaaa',
    clientId: '11111111-1111-4111-8111-111111111111',
    clientSecret: 'fake-graph-secret',
    users: [],
    registrations: [],
    registrationPageSize: 2,
    premium: true,
    usersForbidden: false,
    throttleNext: 0,
    garbleNext: 0,
    truncateNext: 0,
    refuseNext: [],
    issuedTokens: new Set(),
    rejectTokens: false,
    ...initial,
  };
  const requests: FakeGraphRequest[] = [];
  const tokenRequests: Record<string, string>[] = [];
  const faults = new FaultSwitch();
  let origin = '';

  const server: Server = createServer({ key: testOnlyKey, cert: fakeGraphCertificate }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const query = Object.fromEntries(url.searchParams);
    const body = req.method === 'POST' ? await readBody(req) : '';
    const record: FakeGraphRequest = { method: req.method ?? 'GET', path: url.pathname, query, authorization: req.headers.authorization, status: 0 };
    requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      let text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      if (status === 200 && url.pathname.startsWith('/v1.0/') && state.truncateNext > 0) {
        state.truncateNext--;
        text = text.slice(0, Math.floor(text.length / 2));
      }
      res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    };

    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (discovery && req.method === 'GET') return openIdConfiguration(discovery[1] ?? '', send);
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (token && req.method === 'POST') return issueToken(token[1] ?? '', new URLSearchParams(body), send);
    if (url.pathname.startsWith('/v1.0/')) return graph(req, res, url, send);
    send(404, { error: { code: 'UnknownError', message: '', innerError: innerError(req) } }, jsonHeaders(req));
  }

  function openIdConfiguration(tenant: string, send: Send): void {
    if (tenant !== state.tenantId) {
      send(
        400,
        aadError(
          'invalid_tenant',
          90002,
          `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        ),
        {
          'Content-Type': 'application/json; charset=utf-8',
        },
      );
      return;
    }
    const base = `${origin}/${tenant}`;
    send(
      200,
      {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${origin}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver', 'oid'],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      },
      { 'Content-Type': 'application/json; charset=utf-8' },
    );
  }

  function issueToken(tenant: string, form: URLSearchParams, send: Send): void {
    tokenRequests.push(Object.fromEntries(form));
    const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store, no-cache' };
    if (tenant !== state.tenantId) {
      send(400, aadError('invalid_tenant', 90002, `AADSTS90002: Tenant '${tenant}' not found.`), headers);
    } else if (form.get('grant_type') !== 'client_credentials') {
      send(400, aadError('unsupported_grant_type', 70003, 'AADSTS70003: The app requested an unsupported grant type.'), headers);
    } else if (form.get('client_id') !== state.clientId) {
      send(
        400,
        aadError(
          'unauthorized_client',
          700016,
          `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory '${tenant}'.`,
        ),
        headers,
      );
    } else if (form.get('client_secret') !== state.clientSecret) {
      send(
        401,
        aadError(
          'invalid_client',
          7000215,
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${state.clientId}'.`,
        ),
        headers,
      );
    } else if (!(form.get('scope') ?? '').split(' ').includes('https://graph.microsoft.com/.default')) {
      send(
        400,
        aadError(
          'invalid_scope',
          1002012,
          'AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.',
        ),
        headers,
      );
    } else {
      const accessToken = `fake-graph-token.${randomBytes(16).toString('hex')}`;
      state.issuedTokens.add(accessToken);
      send(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken }, headers);
    }
  }

  function graph(req: IncomingMessage, res: ServerResponse, url: URL, send: Send): void {
    const headers = jsonHeaders(req);
    const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}): void =>
      send(status, { error: { code, message, innerError: innerError(req) } }, { ...headers, ...extra });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined) return fail(401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'WWW-Authenticate': 'Bearer realm=""' });
    if (!state.issuedTokens.has(bearer)) return fail(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).');
    if (state.rejectTokens) return fail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    if (state.throttleNext > 0) {
      state.throttleNext--;
      send(
        429,
        {
          error: {
            code: 'TooManyRequests',
            message: 'Please retry again later.',
            innerError: { ...innerError(req), code: '429', status: '429', message: 'Please retry after' },
          },
        },
        { ...headers, 'Retry-After': '1' },
      );
      return;
    }
    const refusal = state.refuseNext.shift();
    if (refusal !== undefined) return fail(refusal.status, refusal.code, refusal.message);
    const operation = OPERATIONS[url.pathname];
    const fault = operation === undefined ? undefined : faults.take(operation);
    switch (fault?.kind) {
      case 'throttle':
        return fail(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': fault.retryAfter ?? '0' });
      case 'unavailable':
        return fail(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      case 'reject':
        return fail(400, 'BadRequest', 'Invalid request.');
      case 'auth':
        return fail(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
      case 'permission':
        return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      case 'not-found':
        return fail(404, 'Request_ResourceNotFound', 'Resource could not be discovered.');
      case 'malformed':
      case 'truncated':
      case 'stall':
        return page(url, fault.kind, send, fail, res);
      case undefined:
        break;
    }
    if (state.garbleNext > 0) {
      state.garbleNext--;
      send(200, '<html><body><h1>502 Bad Gateway</h1></body></html>', headers);
      return;
    }
    if (operation !== undefined) return page(url, undefined, send, fail, res);
    fail(400, 'BadRequest', `Resource not found for the segment '${url.pathname.split('/').at(-1) ?? ''}'.`);
  }

  /** Serves a page, spoiled as the fault says: a field of the wrong type, the connection dropped, or stalled halfway. */
  function page(url: URL, spoil: 'malformed' | 'truncated' | 'stall' | undefined, send: Send, fail: Fail, response: ServerResponse): void {
    const list = url.pathname === '/v1.0/users' ? listUsers : listRegistrations;
    if (spoil === undefined) return list(url, send, fail);
    list(
      url,
      (status, payload, headers = {}) => {
        if (status !== 200) return send(status, payload, headers);
        const body = payload as { value: Record<string, unknown>[] };
        if (spoil === 'malformed') return send(status, { ...body, value: body.value.map((row, index) => (index === 0 ? { ...row, id: 42 } : row)) }, headers);
        (spoil === 'truncated' ? sendTruncated : sendStalled)(response, status, headers, JSON.stringify(body));
      },
      fail,
    );
  }

  function listUsers(url: URL, send: Send, fail: Fail): void {
    if (state.usersForbidden) return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    const select = (url.searchParams.get('$select') ?? '').split(',').filter((field) => field !== '');
    const withSignIn = select.some((field) => field.toLowerCase() === 'signinactivity');
    if (withSignIn && !state.premium) {
      return fail(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
    }
    const top = url.searchParams.has('$top') ? Number(url.searchParams.get('$top')) : defaultPageSize;
    const cap = withSignIn ? maxPageSizeWithSignInActivity : maxPageSize;
    if (!Number.isInteger(top) || top < 1 || top > cap) {
      return fail(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${url.searchParams.get('$top')}'. Must be between 1 and ${cap} inclusive.`);
    }
    const offset = readSkipToken(url.searchParams.get('$skiptoken'));
    if (offset === undefined)
      return fail(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
    const page = state.users.slice(offset, offset + top).map((user) => project(user, select));
    const context = `${origin}/v1.0/$metadata#users(${select.join(',')})`;
    const next = offset + top < state.users.length ? nextLink(url, offset + top) : undefined;
    send(200, { '@odata.context': context, value: page, ...(next === undefined ? {} : { '@odata.nextLink': next }) }, jsonHeaders());
  }

  function listRegistrations(url: URL, send: Send, fail: Fail): void {
    if (!state.premium) {
      return fail(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
    }
    const offset = readSkipToken(url.searchParams.get('$skiptoken'));
    if (offset === undefined) return fail(400, 'BadRequest', 'Invalid skip token.');
    const size = state.registrationPageSize;
    const page = state.registrations.slice(offset, offset + size);
    const next = offset + size < state.registrations.length ? nextLink(url, offset + size) : undefined;
    send(
      200,
      {
        '@odata.context': `${origin}/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails`,
        value: page,
        ...(next === undefined ? {} : { '@odata.nextLink': next }),
      },
      jsonHeaders(),
    );
  }

  /** Graph repeats the original query options in the next link and adds an opaque skip token; commas come back encoded. */
  function nextLink(url: URL, offset: number): string {
    const parts: string[] = [];
    for (const [key, value] of url.searchParams) {
      if (key !== '$skiptoken') parts.push(`${key}=${encodeURIComponent(value).replaceAll('%2C', '%2c')}`);
    }
    parts.push(`$skiptoken=${skipToken(offset)}`);
    return `${origin}${url.pathname}?${parts.join('&')}`;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    state,
    requests,
    tokenRequests,
    faults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

type Send = (status: number, payload: unknown, headers?: Record<string, string>) => void;
type Fail = (status: number, code: string, message: string, extra?: Record<string, string>) => void;

/** Graph returns only the selected properties; an unselected property is absent, not null. */
function project(user: FakeGraphUser, select: readonly string[]): Record<string, unknown> {
  if (select.length === 0) return user;
  const out: Record<string, unknown> = {};
  for (const field of select) {
    const key = Object.keys(user).find((candidate) => candidate.toLowerCase() === field.toLowerCase());
    out[key ?? field] = key === undefined ? null : user[key];
  }
  return out;
}

function skipToken(offset: number): string {
  return `RFNwdAIAAQAAA${Buffer.from(`offset:${offset}`).toString('base64url')}`;
}

function readSkipToken(token: string | null): number | undefined {
  if (token === null) return 0;
  const match = /^RFNwdAIAAQAAA(.+)$/.exec(token);
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64url').toString();
  const offset = /^offset:(\d+)$/.exec(decoded)?.[1];
  return offset === undefined ? undefined : Number(offset);
}

function innerError(req: IncomingMessage): Record<string, string> {
  const clientRequestId = req.headers['client-request-id'];
  return {
    date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
    'request-id': randomUUID(),
    'client-request-id': typeof clientRequestId === 'string' ? clientRequestId : randomUUID(),
  };
}

function jsonHeaders(req?: IncomingMessage): Record<string, string> {
  const clientRequestId = req?.headers['client-request-id'];
  return {
    'Content-Type': graphContentType,
    'request-id': randomUUID(),
    ...(typeof clientRequestId === 'string' ? { 'client-request-id': clientRequestId } : {}),
  };
}

function aadError(error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    error,
    error_description: `${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
