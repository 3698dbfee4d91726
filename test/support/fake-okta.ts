import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retryAfterMs } from '../../connectors/kit/http.ts';
import { FaultSwitch, sendStalled, sendTruncated, type Fault } from './faults.ts';

/**
 * A local Okta organisation speaking the Management API's wire protocol: `GET /api/v1/users` (every user but the
 * DEPROVISIONED unless `filter=status eq "DEPROVISIONED"`), paged by `limit` (200 at most) and the `after` cursor (the id
 * of the last user returned) in `Link: <...>; rel="next"` headers, one per relation as Okta sends them;
 * `/api/v1/users/{id}/factors`, `/roles`, `/groups` (paged the same way); `x-rate-limit-limit/remaining/reset` on every
 * answer; Okta's error bodies (401 E0000011, 403 E0000006, 404 E0000007, 429 E0000047 with `x-rate-limit-reset`).
 * Credentials: `Authorization: SSWS <token>`, or `Bearer <access token>` issued by `POST /oauth2/v1/token` for the
 * client-credentials grant with a private_key_jwt client assertion, which it verifies (alg, signature, iss = sub =
 * client id, aud = the token endpoint, exp at most an hour on, jti) and whose scopes it enforces per endpoint.
 * An app with `requireDpop` takes only DPoP-bound tokens (RFC 9449, as Okta does it): the token request must carry a
 * `DPoP` proof (typ dpop+jwt, the public jwk, htm, htu, iat, a fresh jti) holding the nonce it hands out with a 400
 * `use_dpop_nonce` and a `DPoP-Nonce` header; the token is bound to the key's thumbprint, issued as `token_type: DPoP`,
 * and each API request must then say `Authorization: DPoP <token>` with a proof by the same key carrying `ath`.
 */

export interface FakeOktaUser {
  id: string;
  status: 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'RECOVERY' | 'PASSWORD_EXPIRED' | 'LOCKED_OUT' | 'SUSPENDED' | 'DEPROVISIONED';
  login: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  created: string;
  lastLogin: string | null;
  factors?: { factorType: string; provider: string; status: 'ACTIVE' | 'PENDING_ACTIVATION' | 'NOT_SETUP' }[];
  roles?: { type: string; assignmentType: 'USER' | 'GROUP' }[];
  groups?: string[];
}

export interface FakeServiceApp {
  clientId: string;
  publicKey: KeyObject;
  keyId?: string;
  scopes: string[];
  /** A new service app's default: DPoP proofs required at the token endpoint. */
  requireDpop?: boolean;
}

export interface InjectedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeOktaState {
  users: FakeOktaUser[];
  /** API tokens accepted as `SSWS <token>`. */
  tokens: Set<string>;
  apps: FakeServiceApp[];
  /** The next authenticated API requests get these answers instead, one each; a null lets its request through. */
  inject: (InjectedResponse | null)[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** `SSWS` or `Bearer`: the scheme the client used, never the credential. */
  scheme: string | undefined;
  status: number;
}

export interface FakeOkta {
  readonly orgUrl: string;
  readonly state: FakeOktaState;
  readonly requests: RecordedRequest[];
  /** Client assertions the token endpoint accepted, decoded. */
  readonly assertions: { header: Record<string, unknown>; claims: Record<string, unknown> }[];
  /** DPoP proofs accepted, decoded, at the token endpoint and the API alike. */
  readonly proofs: { header: Record<string, unknown>; claims: Record<string, unknown> }[];
  /** The access tokens issued, for the leak checks. */
  readonly issuedTokens: string[];
  /** The uniform fault switches; the operations are `users` (GET /api/v1/users, the deprovisioned too) and `token` (body faults only). */
  readonly faults: FaultSwitch;
  close(): Promise<void>;
}

const RATE_LIMIT = 600;

/** Okta's error body. */
export function oktaError(status: number, errorCode: string, errorSummary: string, headers: Record<string, string> = {}): InjectedResponse {
  return { status, body: { errorCode, errorSummary, errorLink: errorCode, errorId: `oae${randomBytes(8).toString('hex')}`, errorCauses: [] }, headers };
}

/** A 429 until the epoch second `reset`, with the answer's own Date when given. */
export function rateLimited(reset: number, date?: Date): InjectedResponse {
  return oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.', {
    'x-rate-limit-limit': String(RATE_LIMIT),
    'x-rate-limit-remaining': '0',
    'x-rate-limit-reset': String(reset),
    ...(date === undefined ? {} : { date: date.toUTCString() }),
  });
}

const SCOPE_OF: [RegExp, string][] = [
  [/\/roles$/, 'okta.roles.read'],
  [/\/groups$/, 'okta.groups.read'],
  [/^\/api\/v1\/users/, 'okta.users.read'],
];

export async function startFakeOkta(initial: Partial<FakeOktaState> = {}): Promise<FakeOkta> {
  const state: FakeOktaState = { users: [], tokens: new Set(), apps: [], inject: [], ...initial };
  const requests: RecordedRequest[] = [];
  const assertions: FakeOkta['assertions'] = [];
  const accessTokens = new Map<string, { scopes: string[]; expiresAt: number; jkt?: string }>();
  const proofs: FakeOkta['proofs'] = [];
  const issuedTokens: string[] = [];
  const seenProofJti = new Set<string>();
  const dpopNonce = randomBytes(16).toString('base64url');
  const seenJti = new Set<string>();
  const faults = new FaultSwitch();
  let origin = '';

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const [scheme, credential] = (req.headers.authorization ?? '').split(' ', 2);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      scheme: scheme || undefined,
      status: 0,
    };
    requests.push(record);
    let body = '';
    for await (const chunk of req) body += String(chunk);
    let fault: Fault | undefined;
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, links: string[] = []): void => {
      record.status = status;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.statusCode = status;
      for (const [name, value] of Object.entries({
        'content-type': 'application/json',
        'x-okta-request-id': randomBytes(10).toString('base64url'),
        'x-rate-limit-limit': String(RATE_LIMIT),
        'x-rate-limit-remaining': String(Math.max(0, RATE_LIMIT - requests.length)),
        'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 60),
        ...headers,
        'content-length': String(Buffer.byteLength(text)),
      }))
        res.setHeader(name, value);
      if (links.length > 0) res.setHeader('link', links);
      if (fault?.kind === 'truncated') return sendTruncated(res, status, {}, text);
      if (fault?.kind === 'stall') return sendStalled(res, status, {}, text);
      res.end(text);
    };
    const fail = (response: InjectedResponse) => send(response.status, response.body, response.headers);

    if (url.pathname === '/oauth2/v1/token' && req.method === 'POST') {
      // A body cut short after the token was issued: the assertion's jti is spent all the same.
      fault = faults.take('token');
      return issueToken(new URLSearchParams(body), req.headers['dpop'], send);
    }

    let scopes: string[] | undefined;
    const issued = credential === undefined ? undefined : accessTokens.get(credential);
    if (scheme === 'SSWS' && credential && state.tokens.has(credential)) scopes = undefined;
    else if (scheme === 'Bearer' && issued !== undefined && issued.jkt === undefined && issued.expiresAt > Date.now()) scopes = issued.scopes;
    else if (scheme === 'DPoP' && issued?.jkt !== undefined && issued.expiresAt > Date.now()) {
      const checked = checkProof(req.headers['dpop'], req.method ?? 'GET', url, { accessToken: credential });
      if ('error' in checked || checked.jkt !== issued.jkt) {
        const description = 'error' in checked ? checked.description : 'The DPoP proof is signed by another key than the one the token is bound to.';
        return fail(
          oktaError(401, 'E0000011', 'Invalid token provided', { 'www-authenticate': `DPoP error="invalid_dpop_proof", error_description="${description}"` }),
        );
      }
      scopes = issued.scopes;
    } else return fail(oktaError(401, 'E0000011', 'Invalid token provided'));

    const injected = state.inject.shift();
    if (injected) return fail(injected);
    const needed = SCOPE_OF.find(([pattern]) => pattern.test(url.pathname))?.[1];
    if (scopes !== undefined && needed !== undefined && !scopes.includes(needed)) {
      return send(403, '', {
        'www-authenticate': `Bearer authorization_uri="${origin}/oauth2/v1/authorize", realm="${origin}", scope="${needed}", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="${url.pathname}"`,
      });
    }
    if (req.method !== 'GET') return fail(oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method'));

    if (url.pathname === '/api/v1/users') {
      fault = faults.take('users');
      // Okta says when to come back by x-rate-limit-reset (epoch seconds) beside its own Date, never by Retry-After.
      const now = new Date();
      const reset = Math.ceil((now.getTime() + (retryAfterMs(fault?.retryAfter, now.getTime()) ?? 0)) / 1000);
      if (fault?.kind === 'throttle') return fail(rateLimited(reset, now));
      if (fault?.kind === 'unavailable') return fail(oktaError(500, 'E0000009', 'Internal Server Error'));
      if (fault?.kind === 'reject') return fail(oktaError(400, 'E0000031', 'Invalid search criteria.'));
      if (fault?.kind === 'auth') return fail(oktaError(401, 'E0000011', 'Invalid token provided'));
      if (fault?.kind === 'permission') return fail(oktaError(403, 'E0000006', 'You do not have permission to perform the requested action'));
      if (fault?.kind === 'not-found') return fail(oktaError(404, 'E0000007', 'Not found: Resource not found: users'));
      const filter = url.searchParams.get('filter');
      if (filter !== null && filter !== 'status eq "DEPROVISIONED"') return fail(oktaError(400, 'E0000031', 'Invalid search criteria.'));
      const users = state.users.filter((user) => (filter === null ? user.status !== 'DEPROVISIONED' : user.status === 'DEPROVISIONED'));
      // The wrong shape: an id Okta always sends as a string, as a number.
      const json = (user: FakeOktaUser) => (fault?.kind === 'malformed' ? { ...(userJson(user) as object), id: 42 } : userJson(user));
      return page(
        url,
        users.sort((a, b) => a.id.localeCompare(b.id)),
        (user) => user.id,
        json,
      );
    }
    const sub = /^\/api\/v1\/users\/([^/]+)\/(factors|roles|groups)$/.exec(url.pathname);
    const user = sub && state.users.find((candidate) => candidate.id === decodeURIComponent(sub[1]!));
    if (!sub || !user) return fail(oktaError(404, 'E0000007', `Not found: Resource not found: ${sub?.[1] ?? url.pathname} (User)`));
    if (sub[2] === 'factors')
      return send(
        200,
        (user.factors ?? []).map((factor, i) => ({
          id: `${user.id}f${i}`,
          factorType: factor.factorType,
          provider: factor.provider,
          vendorName: factor.provider,
          status: factor.status,
          created: user.created,
          lastUpdated: user.created,
          profile: {},
          _links: {},
        })),
      );
    if (sub[2] === 'roles')
      return send(
        200,
        (user.roles ?? []).map((role, i) => ({
          id: `ra${user.id}${i}`,
          label: role.type,
          type: role.type,
          status: 'ACTIVE',
          created: user.created,
          lastUpdated: user.created,
          assignmentType: role.assignmentType,
          _links: {},
        })),
      );
    const groups = (user.groups ?? []).map((name, i) => ({ id: `00g${String(i).padStart(3, '0')}${name.replace(/\W/g, '')}`, name }));
    return page(
      url,
      groups,
      (group) => group.id,
      (group) => ({
        id: group.id,
        created: user.created,
        type: group.name === 'Everyone' ? 'BUILT_IN' : 'OKTA_GROUP',
        profile: { name: group.name, description: null },
        _links: {},
      }),
    );

    function page<T>(at: URL, items: T[], idOf: (item: T) => string, json: (item: T) => unknown): void {
      const limit = Math.min(200, Number(at.searchParams.get('limit') ?? 200) || 200);
      const after = at.searchParams.get('after');
      const start = after === null ? 0 : items.findIndex((item) => idOf(item) > after) === -1 ? items.length : items.findIndex((item) => idOf(item) > after);
      const slice = items.slice(start, start + limit);
      const links = [`<${origin}${at.pathname}?${at.searchParams}>; rel="self"`];
      if (start + limit < items.length) {
        const params = new URLSearchParams(at.searchParams);
        params.set('after', idOf(slice.at(-1)!));
        links.push(`<${origin}${at.pathname}?${params}>; rel="next"`);
      }
      send(200, slice.map(json), {}, links);
    }
  }

  function userJson(user: FakeOktaUser): unknown {
    return {
      id: user.id,
      status: user.status,
      created: user.created,
      activated: user.status === 'STAGED' ? null : user.created,
      statusChanged: user.created,
      lastLogin: user.lastLogin,
      lastUpdated: user.created,
      passwordChanged: null,
      type: { id: 'oty1' },
      profile: {
        firstName: user.firstName ?? null,
        lastName: user.lastName ?? null,
        mobilePhone: null,
        secondEmail: null,
        login: user.login,
        email: user.email ?? user.login,
      },
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${origin}/api/v1/users/${user.id}` } },
    };
  }

  /** Verifies a DPoP proof for a request, as RFC 9449 section 4.3 lists the checks; the key's thumbprint when it holds. */
  function checkProof(
    header: string | string[] | undefined,
    method: string,
    url: URL,
    expect: { nonce?: boolean; accessToken?: string },
  ): { jkt: string } | { error: string; description: string } {
    const invalid = (description: string) => ({ error: 'invalid_dpop_proof', description });
    if (typeof header !== 'string') return invalid('The DPoP proof JWT header is missing.');
    const [head, payload, signature] = header.split('.');
    const [jose, claims] = [decode(head), decode(payload)];
    if (!jose || !claims || signature === undefined || jose['typ'] !== 'dpop+jwt') return invalid("The DPoP proof is not a JWT of type 'dpop+jwt'.");
    const jwk = jose['jwk'] as JsonWebKey | undefined;
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk) return invalid("The DPoP proof's jwk is missing or is a private key.");
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return invalid("The DPoP proof's jwk is not a public key.");
    }
    const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    const signed =
      jose['alg'] === alg &&
      verify('sha256', Buffer.from(`${head}.${payload}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(signature, 'base64url'));
    if (!signed) return invalid('The DPoP proof signature is invalid.');
    if (claims['htm'] !== method || claims['htu'] !== `${origin}${url.pathname}`) return invalid("The DPoP proof's htm or htu does not match the request.");
    if (Math.abs(Number(claims['iat']) - Date.now() / 1000) > 60) return invalid('The DPoP proof is too old or from the future.');
    if (typeof claims['jti'] !== 'string' || seenProofJti.has(claims['jti'])) return invalid("The DPoP proof has already been used (or has no 'jti').");
    if (expect.accessToken !== undefined && claims['ath'] !== createHash('sha256').update(expect.accessToken).digest('base64url'))
      return invalid("The DPoP proof's ath does not match the access token.");
    if (expect.nonce && claims['nonce'] !== dpopNonce) return { error: 'use_dpop_nonce', description: 'Authorization server requires nonce in DPoP proof.' };
    seenProofJti.add(claims['jti']);
    proofs.push({ header: jose, claims });
    const members = key.asymmetricKeyType === 'ec' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
    return { jkt: createHash('sha256').update(JSON.stringify(members)).digest('base64url') };
  }

  function issueToken(
    form: URLSearchParams,
    dpop: string | string[] | undefined,
    send: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ): void {
    const refuse = (error: string, description: string, headers: Record<string, string> = {}) =>
      send(error === 'invalid_client' ? 401 : 400, { error, error_description: description }, headers);
    if (form.get('grant_type') !== 'client_credentials')
      return refuse('unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return refuse('invalid_client', 'Client authentication failed.');
    const [header, payload, signature] = (form.get('client_assertion') ?? '').split('.');
    const [head, claims] = [decode(header), decode(payload)];
    const app = state.apps.find((candidate) => candidate.clientId === claims?.['iss']);
    if (!head || !claims || !app || signature === undefined) return refuse('invalid_client', 'The client_assertion token is invalid.');
    const alg = app.publicKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    const signed =
      head['alg'] === alg &&
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        alg === 'ES256' ? { key: app.publicKey, dsaEncoding: 'ieee-p1363' } : app.publicKey,
        Buffer.from(signature, 'base64url'),
      );
    if (!signed || (app.keyId !== undefined && head['kid'] !== app.keyId)) return refuse('invalid_client', 'The client_assertion signature is invalid.');
    const now = Math.floor(Date.now() / 1000);
    if (claims['sub'] !== app.clientId) return refuse('invalid_client', "The 'sub' claim must match the client_id.");
    if (claims['aud'] !== `${origin}/oauth2/v1/token`)
      return refuse('invalid_client', 'The audience claim for client_assertion must be the endpoint invoked for the request.');
    if (!(Number(claims['exp']) > now) || Number(claims['exp']) > now + 3600)
      return refuse('invalid_client', 'The client_assertion token is expired or lives too long.');
    if (typeof claims['jti'] !== 'string' || seenJti.has(claims['jti']))
      return refuse('invalid_client', "The client_assertion token has already been used (or has no 'jti').");
    let jkt: string | undefined;
    if (app.requireDpop) {
      const checked = checkProof(dpop, 'POST', new URL('/oauth2/v1/token', origin), { nonce: true });
      if ('error' in checked) return refuse(checked.error, checked.description, checked.error === 'use_dpop_nonce' ? { 'dpop-nonce': dpopNonce } : {});
      jkt = checked.jkt;
    }
    seenJti.add(claims['jti']);
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || scopes.some((scope) => !app.scopes.includes(scope)))
      return refuse('invalid_scope', 'The following scopes are not allowed: ' + scopes.filter((scope) => !app.scopes.includes(scope)).join(' '));
    assertions.push({ header: head, claims });
    const token = `eyJ.fake.${randomBytes(18).toString('base64url')}`;
    accessTokens.set(token, { scopes, expiresAt: Date.now() + 3600_000, ...(jkt === undefined ? {} : { jkt }) });
    issuedTokens.push(token);
    send(200, { token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: 3600, access_token: token, scope: scopes.join(' ') });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { orgUrl: origin, state, requests, assertions, proofs, issuedTokens, faults, close };
}

function decode(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
