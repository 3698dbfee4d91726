import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { FaultSwitch } from './faults.ts';

/**
 * A local Google Admin SDK Directory API (users.list) and OAuth 2.0 token endpoint, speaking the real wire
 * protocol: the same paths, query parameters, opaque page tokens, JSON bodies, Google error bodies, status codes
 * and headers. The token endpoint verifies service-account JWT grants (RS256 signature, iss, aud, sub, scope,
 * iat/exp) the way oauth2.googleapis.com does, and the API accepts only tokens it issued or was given.
 */

export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
export const USER_READONLY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly';
const USER_SCOPES = new Set([USER_READONLY_SCOPE, 'https://www.googleapis.com/auth/admin.directory.user']);

export type DirectoryUserJson = Record<string, unknown> & { id: string; primaryEmail: string };

/** A directory user as the Admin SDK returns one: active, enrolled in 2SV, signed in two days ago; `extra` overrides. */
export function directoryUser(id: string, email: string, fullName: string, extra: Record<string, unknown> = {}): DirectoryUserJson {
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
  return {
    id,
    primaryEmail: email,
    name: { fullName },
    isAdmin: false,
    isDelegatedAdmin: false,
    isEnrolledIn2Sv: true,
    lastLoginTime: daysAgo(2),
    creationTime: daysAgo(400),
    suspended: false,
    archived: false,
    orgUnitPath: '/',
    ...extra,
  };
}

export interface FakeServiceAccount {
  clientEmail: string;
  publicKey: KeyObject;
  /** Scopes an administrator granted this client in the Admin console (domain-wide delegation). */
  delegatedScopes: readonly string[];
}

export interface FakeAccessToken {
  token: string;
  /** The user the token acts as; without one the Directory API refuses, as it does for an undelegated service account. */
  subject?: string;
  scopes?: readonly string[];
}

export interface FakeGoogleDirectoryOptions {
  users: readonly DirectoryUserJson[];
  customerId?: string;
  domains?: readonly string[];
  serviceAccounts?: readonly FakeServiceAccount[];
  accessTokens?: readonly FakeAccessToken[];
}

export interface InjectedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RecordedListRequest {
  query: Record<string, string>;
  bearer: string | undefined;
  status: number;
}

export interface RecordedTokenRequest {
  claims: Record<string, unknown> | undefined;
  status: number;
}

export interface FakeGoogleDirectory {
  /** The rootUrl to give the client (origin and a trailing slash). */
  readonly rootUrl: string;
  readonly tokenUrl: string;
  readonly listRequests: RecordedListRequest[];
  readonly tokenRequests: RecordedTokenRequest[];
  /** Access tokens the token endpoint issued, in order. */
  readonly issuedTokens: string[];
  /** The next `times` users.list requests (that pass authentication) get `response`. */
  failUsersList(response: InjectedResponse, times?: number): void;
  /** The next `times` token requests get `response`. */
  failToken(response: InjectedResponse, times?: number): void;
  /** Rewrites the body of the given 1-based page before it is sent (malformed responses). */
  corruptPage(page: number, rewrite: (body: Record<string, unknown>) => unknown): void;
  /** The next `times` users.list answers announce their whole body but the connection drops halfway through it. */
  dropUsersListMidBody(times?: number): void;
  /** The uniform fault switches (test/support/faults.ts), operation `users.list`. */
  readonly faults: FaultSwitch;
  close(): Promise<void>;
}

/** Google's error body for the JSON APIs. */
export function googleError(
  code: number,
  reason: string,
  message: string,
  options: { domain?: string; status?: string; headers?: Record<string, string> } = {},
): InjectedResponse {
  const status = options.status ?? statusNameOf(code);
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain: options.domain ?? 'global', reason }], ...(status === undefined ? {} : { status }) } },
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  };
}

/** The errors the Directory API is known to return, as it returns them. */
export const directoryErrors = {
  userRateLimitExceeded: () => googleError(403, 'userRateLimitExceeded', 'Rate Limit Exceeded', { domain: 'usageLimits', status: 'PERMISSION_DENIED' }),
  quotaExceeded: () =>
    googleError(403, 'quotaExceeded', 'Quota exceeded for quota group and limit of service admin.googleapis.com', {
      domain: 'usageLimits',
      status: 'PERMISSION_DENIED',
    }),
  rateLimitExceeded: (retryAfterSeconds?: number) =>
    googleError(
      429,
      'rateLimitExceeded',
      "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.",
      {
        status: 'RESOURCE_EXHAUSTED',
        ...(retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } }),
      },
    ),
  forbidden: () => googleError(403, 'forbidden', 'Not Authorized to access this resource/api', { status: undefined }),
  backendError: () => googleError(503, 'backendError', 'Service unavailable. Please try again', { status: 'UNAVAILABLE' }),
};

const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

function statusNameOf(code: number): string | undefined {
  return {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
  }[code];
}

/** An RSA key pair and the JSON key file the Cloud console would issue for it. */
export function testServiceAccountKey(clientEmail = 'isms-reader@isms-test.iam.gserviceaccount.com') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keyId = randomBytes(20).toString('hex');
  const json = {
    type: 'service_account',
    project_id: 'isms-test',
    private_key_id: keyId,
    private_key: privateKeyPem,
    client_email: clientEmail,
    client_id: '109876543210987654321',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: GOOGLE_TOKEN_AUDIENCE,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  };
  return { json, privateKeyPem, publicKey };
}

interface Grant {
  subject: string | undefined;
  scopes: readonly string[];
}

interface PageTokenState {
  offset: number;
  scope: string;
}

export async function startFakeGoogleDirectory(options: FakeGoogleDirectoryOptions): Promise<FakeGoogleDirectory> {
  const customerId = options.customerId ?? 'C03az79cb';
  const domains = options.domains ?? ['example.com'];
  const grants = new Map<string, Grant>();
  for (const token of options.accessTokens ?? []) grants.set(token.token, { subject: token.subject, scopes: token.scopes ?? [USER_READONLY_SCOPE] });
  const listFaults: InjectedResponse[] = [];
  const tokenFaults: InjectedResponse[] = [];
  const pageRewrites = new Map<number, (body: Record<string, unknown>) => unknown>();
  let listDrops = 0;
  const faults = new FaultSwitch();
  const listRequests: RecordedListRequest[] = [];
  const tokenRequests: RecordedTokenRequest[] = [];
  const issuedTokens: string[] = [];

  const userByEmail = (email: string) => options.users.find((user) => user.primaryEmail.toLowerCase() === email.toLowerCase());

  /**
   * `reframed`: the connection dropped mid-body, seen through a proxy that had already counted the bytes it passed on;
   * `dropped`: the whole length announced, half sent, the connection closed; `stalled`: half sent, then nothing.
   */
  function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    cut?: 'reframed' | 'dropped' | 'stalled',
  ) {
    let payload: Buffer = Buffer.from(JSON.stringify(body, null, 2));
    const out: Record<string, string> = {
      'content-type': 'application/json; charset=UTF-8',
      vary: 'Origin, X-Origin, Referer',
      server: 'ESF',
      'x-content-type-options': 'nosniff',
      ...headers,
    };
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      payload = gzipSync(payload);
      out['content-encoding'] = 'gzip';
    }
    if (cut === 'reframed') payload = payload.subarray(0, Math.floor(payload.length / 2));
    out['content-length'] = String(payload.length);
    res.writeHead(status, out);
    if (cut === 'dropped' || cut === 'stalled') {
      const half = payload.subarray(0, Math.floor(payload.length / 2));
      if (cut === 'dropped') res.write(half, () => res.destroy());
      else res.write(half);
      return;
    }
    res.end(payload);
  }

  function listUsers(req: IncomingMessage, res: ServerResponse, url: URL) {
    const query = Object.fromEntries(url.searchParams);
    const record = (status: number) => listRequests.push({ query, bearer: bearerOf(req), status });
    const reply = (status: number, body: unknown, headers?: Record<string, string>, cut?: 'reframed' | 'dropped' | 'stalled') => {
      record(status);
      send(req, res, status, body, headers, cut);
    };

    const bearer = bearerOf(req);
    const challenge = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (bearer === undefined) {
      const missing = googleError(
        401,
        'required',
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
      return reply(missing.status, missing.body, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    }
    const grant = grants.get(bearer);
    if (grant === undefined) {
      const invalid = googleError(401, 'authError', INVALID_CREDENTIALS);
      (invalid.body as { error: { errors: { message: string }[] } }).error.errors[0]!.message = 'Invalid Credentials';
      return reply(invalid.status, invalid.body, challenge);
    }
    if (!grant.scopes.some((scope) => USER_SCOPES.has(scope))) {
      const insufficient = googleError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
      return reply(insufficient.status, insufficient.body, {
        'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${USER_READONLY_SCOPE}"`,
      });
    }
    const actor = grant.subject === undefined ? undefined : userByEmail(grant.subject);
    if (actor === undefined || (actor['isAdmin'] !== true && actor['isDelegatedAdmin'] !== true)) {
      const forbidden = directoryErrors.forbidden();
      return reply(forbidden.status, forbidden.body);
    }
    const fault = listFaults.shift();
    if (fault !== undefined) return reply(fault.status, fault.body, fault.headers);
    const wire = faults.take('users.list');
    const refusal =
      wire?.kind === 'throttle'
        ? googleError(429, 'rateLimitExceeded', 'Quota exceeded for quota metric', {
            status: 'RESOURCE_EXHAUSTED',
            headers: { 'retry-after': wire.retryAfter ?? '0' },
          })
        : wire?.kind === 'unavailable'
          ? directoryErrors.backendError()
          : wire?.kind === 'reject'
            ? googleError(400, 'invalid', 'Invalid Input')
            : wire?.kind === 'auth'
              ? googleError(401, 'authError', 'Invalid Credentials')
              : wire?.kind === 'permission'
                ? directoryErrors.forbidden()
                : wire?.kind === 'not-found'
                  ? googleError(404, 'notFound', 'Resource Not Found: userKey')
                  : undefined;
    if (refusal !== undefined) return reply(refusal.status, refusal.body, refusal.headers);

    const invalid = (message: string) => googleError(400, 'invalid', message);
    const customer = query['customer'];
    const domain = query['domain'];
    if (customer === undefined && domain === undefined) {
      const bad = googleError(400, 'badRequest', 'Bad Request');
      return reply(bad.status, bad.body);
    }
    if (customer !== undefined && customer !== 'my_customer' && customer !== customerId) {
      const bad = googleError(400, 'badRequest', 'Bad Request');
      return reply(bad.status, bad.body);
    }
    if (customer === undefined && domain !== undefined && !domains.includes(domain.toLowerCase())) {
      const missing = googleError(404, 'notFound', 'Domain not found.');
      return reply(missing.status, missing.body);
    }
    const maxResults = query['maxResults'] === undefined ? 100 : Number(query['maxResults']);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 500) {
      const bad = invalid(`Invalid value '${query['maxResults']}'. Values must be within the range: [1, 500]`);
      return reply(bad.status, bad.body);
    }
    const orderBy = query['orderBy'];
    if (orderBy !== undefined && !['email', 'givenName', 'familyName'].includes(orderBy)) {
      const bad = invalid(`Invalid value '${orderBy}'. Values must be one of: [email, familyName, givenName]`);
      return reply(bad.status, bad.body);
    }
    const projection = query['projection'] ?? 'basic';
    if (!['basic', 'custom', 'full'].includes(projection)) {
      const bad = invalid(`Invalid value '${projection}'. Values must be one of: [basic, custom, full]`);
      return reply(bad.status, bad.body);
    }
    const scopeKey = `${customer ?? ''}|${domain ?? ''}|${orderBy ?? ''}|${query['showDeleted'] ?? 'false'}`;
    let offset = 0;
    if (query['pageToken'] !== undefined) {
      const state = decodePageToken(query['pageToken']);
      if (state === undefined || state.scope !== scopeKey) {
        const bad = invalid('Invalid Input');
        return reply(bad.status, bad.body);
      }
      offset = state.offset;
    }

    const showDeleted = query['showDeleted'] === 'true';
    let selected = options.users.filter((user) => (showDeleted ? user['deletionTime'] !== undefined : user['deletionTime'] === undefined));
    if (customer === undefined && domain !== undefined)
      selected = selected.filter((user) => user.primaryEmail.toLowerCase().endsWith(`@${domain.toLowerCase()}`));
    if (orderBy !== undefined) selected = [...selected].sort((a, b) => sortKey(a, orderBy).localeCompare(sortKey(b, orderBy)));
    const slice = selected.slice(offset, offset + maxResults).map((user) => shapeUser(user, customerId, projection));
    const next = offset + maxResults < selected.length ? encodePageToken({ offset: offset + maxResults, scope: scopeKey }) : undefined;
    let body: Record<string, unknown> = {
      kind: 'admin#directory#users',
      etag: `"${randomBytes(12).toString('base64url')}"`,
      ...(slice.length === 0 ? {} : { users: slice }),
      ...(next === undefined ? {} : { nextPageToken: next }),
    };
    const page = Math.floor(offset / maxResults) + 1;
    const rewrite = pageRewrites.get(page);
    if (rewrite !== undefined) body = rewrite(structuredClone(body)) as Record<string, unknown>;
    // A malformed page: a user whose primaryEmail is not a string.
    if (wire?.kind === 'malformed') body = { ...body, users: [{ ...(slice[0] ?? {}), primaryEmail: 42 }, ...slice.slice(1)] };
    const drop = listDrops > 0;
    if (drop) listDrops--;
    const cut = drop ? 'reframed' : wire?.kind === 'truncated' ? 'dropped' : wire?.kind === 'stall' ? 'stalled' : undefined;
    return reply(200, body, { 'cache-control': 'private' }, cut);
  }

  function token(req: IncomingMessage, res: ServerResponse, form: URLSearchParams) {
    const grant: { claims?: Record<string, unknown> } = {};
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      tokenRequests.push({ claims: grant.claims, status });
      send(req, res, status, body, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache', ...headers });
    };
    const oauthError = (status: number, error: string, description: string) => reply(status, { error, error_description: description });

    const fault = tokenFaults.shift();
    if (fault !== undefined) return reply(fault.status, fault.body, fault.headers);
    const grantType = form.get('grant_type');
    if (grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    const assertion = form.get('assertion');
    if (assertion === null) return oauthError(400, 'invalid_request', 'Missing required parameter: assertion');
    const parts = assertion.split('.');
    const decoded = parts.length === 3 ? parts.slice(0, 2).map(decodeJsonSegment) : [];
    const [header, payload] = decoded;
    if (header === undefined || payload === undefined) return oauthError(400, 'invalid_grant', 'Invalid JWT: could not decode the assertion');
    grant.claims = payload;
    if (header['alg'] !== 'RS256') return oauthError(400, 'invalid_grant', 'Invalid JWT: only RS256 is accepted');
    const account = (options.serviceAccounts ?? []).find((candidate) => candidate.clientEmail === payload['iss']);
    if (account === undefined) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    const signed = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), account.publicKey, Buffer.from(parts[2]!, 'base64url'));
    if (!signed) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (payload['aud'] !== GOOGLE_TOKEN_AUDIENCE) return oauthError(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || iat > now + 300 || exp < now) {
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    const scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ').filter(Boolean) : [];
    if (scopes.length === 0) return oauthError(400, 'invalid_scope', 'Empty or missing scope not allowed.');
    const subject = typeof payload['sub'] === 'string' ? payload['sub'] : undefined;
    if (subject !== undefined) {
      if (userByEmail(subject) === undefined) return oauthError(400, 'invalid_grant', 'Invalid email or User ID');
      if (!scopes.every((scope) => account.delegatedScopes.includes(scope))) {
        return oauthError(
          401,
          'unauthorized_client',
          'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        );
      }
    }
    const accessToken = `ya29.c.${randomBytes(48).toString('base64url')}`;
    grants.set(accessToken, { subject, scopes });
    issuedTokens.push(accessToken);
    return reply(200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/admin/directory/v1/users') return listUsers(req, res, url);
    if (req.method === 'POST' && url.pathname === '/token') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          tokenRequests.push({ claims: undefined, status: 400 });
          return send(req, res, 400, { error: 'invalid_request', error_description: 'Bad Request' });
        }
        token(req, res, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      });
      return;
    }
    const missing = googleError(404, 'notFound', `Method not found: ${req.method} ${url.pathname}`);
    send(req, res, missing.status, missing.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    rootUrl: `${origin}/`,
    tokenUrl: `${origin}/token`,
    listRequests,
    tokenRequests,
    issuedTokens,
    failUsersList: (response, times = 1) => listFaults.push(...Array.from({ length: times }, () => response)),
    failToken: (response, times = 1) => tokenFaults.push(...Array.from({ length: times }, () => response)),
    corruptPage: (page, rewrite) => void pageRewrites.set(page, rewrite),
    dropUsersListMidBody: (times = 1) => void (listDrops += times),
    faults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Page tokens are opaque to clients and bound to the query they continue, as Google's are. */
function encodePageToken(state: PageTokenState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodePageToken(token: string): PageTokenState | undefined {
  const state = decodeJsonSegment(token);
  if (state === undefined || typeof state['offset'] !== 'number' || typeof state['scope'] !== 'string') return undefined;
  return { offset: state['offset'], scope: state['scope'] };
}

function sortKey(user: DirectoryUserJson, orderBy: string): string {
  const name = (user['name'] ?? {}) as Record<string, unknown>;
  const key = orderBy === 'email' ? user.primaryEmail : String(name[orderBy] ?? '');
  return key.toLowerCase();
}

/** What the API adds to every user, and what `basic` leaves out. */
function shapeUser(user: DirectoryUserJson, customerId: string, projection: string): Record<string, unknown> {
  const shaped: Record<string, unknown> = { kind: 'admin#directory#user', etag: `"${user.id}/etag"`, customerId, ...user };
  if (projection === 'basic') delete shaped['customSchemas'];
  return shaped;
}
