import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated } from './faults.ts';

/**
 * A local GitHub REST API for one organisation, speaking the real wire protocol: `GET /orgs/{org}/members`
 * (`role`, `filter=2fa_disabled`), `/outside_collaborators` (`filter`), `/invitations`, paged by `per_page`/`page`
 * with GitHub's `Link` header (whose links name the organisation by id, `/organizations/{id}/...`), its
 * `x-ratelimit-*` headers, its error bodies (401 Bad credentials, 404, 422 for the owner-only filter, 403 for a
 * token without the permission), both rate limits (primary: 403 with `x-ratelimit-remaining: 0` and
 * `x-ratelimit-reset`; secondary: 403 or 429 with `retry-after`), and the GitHub App installation token endpoint
 * `POST /app/installations/{id}/access_tokens`, which verifies the app's RS256 JWT (iss, iat, exp, signature).
 * Tokens are accepted as `Authorization: Bearer X` or `token X`. With `prefix: '/api/v3'` it is laid out as
 * GitHub Enterprise Server is.
 */

export interface FakeUser {
  login: string;
  id: number;
  name?: string | null;
  email?: string | null;
  site_admin?: boolean;
}

export interface FakeInvitation {
  id: number;
  login: string | null;
  email: string | null;
  role: 'direct_member' | 'admin' | 'billing_manager' | 'hiring_manager' | 'reinstate';
  created_at: string;
  inviter: string;
}

export interface FakeToken {
  /** An organisation owner's token: may filter by two-factor status. */
  owner: boolean;
  /** A fine-grained token granted the organisation permission Members: read. */
  membersRead: boolean;
}

export interface FakeApp {
  appId: number;
  installationId: number;
  publicKey: KeyObject;
  /** Whether an installation token may use `filter=2fa_disabled`. */
  owner: boolean;
}

export interface InjectedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeGitHubState {
  org: { login: string; id: number };
  members: { user: FakeUser; role: 'admin' | 'member' }[];
  outsideCollaborators: FakeUser[];
  invitations: FakeInvitation[];
  /** Logins without two-factor authentication. */
  twoFactorDisabled: Set<string>;
  tokens: Map<string, FakeToken>;
  apps: FakeApp[];
  /** The next authenticated API requests get these answers instead, one each; a null lets its request through. */
  inject: (InjectedResponse | null)[];
  /** Cut the next N successful API answers in half, with a Content-Length that counts only the half sent. */
  truncateNext: number;
  /**
   * An organisation of Enterprise Managed Users, whose members are provisioned, never invited: GitHub documents that the
   * invitation operations do not work there, not how they fail; this fake answers 404.
   */
  managedUsers: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** `Bearer` or `token`: the scheme the client used, never the credential. */
  scheme: string | undefined;
  status: number;
}

export interface FakeGitHub {
  /** The baseUrl to give the client: the origin, plus `/api/v3` when laid out as Enterprise Server. */
  readonly baseUrl: string;
  readonly state: FakeGitHubState;
  readonly requests: RecordedRequest[];
  /** Installation tokens issued, in order. */
  readonly installationTokens: string[];
  /** The uniform fault switches; the operation is the list: `members`, `outside_collaborators` or `invitations`. */
  readonly faults: FaultSwitch;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT = 5000;

/** GitHub's error body. */
export function gitHubError(status: number, message: string, documentationUrl = DOCS, headers: Record<string, string> = {}): InjectedResponse {
  return { status, body: { message, documentation_url: documentationUrl, status: String(status) }, headers };
}

/** The primary rate limit: `x-ratelimit-remaining: 0` until the epoch second `reset`. */
export function primaryRateLimit(reset: number): InjectedResponse {
  return gitHubError(
    403,
    'API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
    `${DOCS}/overview/rate-limits-for-the-rest-api`,
    {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': String(RATE_LIMIT),
    },
  );
}

/** A secondary rate limit, with `retry-after` seconds when given. */
export function secondaryRateLimit(retryAfterSeconds: number | undefined, status: 403 | 429 = 403): InjectedResponse {
  return gitHubError(
    status,
    'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
    `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  );
}

/** A secondary rate limit asking for `retryAfter` as given: seconds or an HTTP-date. */
function secondaryRateLimitAfter(retryAfter: string): InjectedResponse {
  return { ...secondaryRateLimit(undefined), headers: { 'retry-after': retryAfter } };
}

/** An RSA key pair as GitHub issues it for an app: PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"). */
export function testAppKey(): { privateKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
}

/** A simple-user object as GitHub serializes it. */
export function simpleUser(user: FakeUser, origin: string): Record<string, unknown> {
  const url = `${origin}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `https://github.com/${user.login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'User',
    user_view_type: 'public',
    site_admin: user.site_admin ?? false,
    ...(user.name === undefined ? {} : { name: user.name }),
    ...(user.email === undefined ? {} : { email: user.email }),
  };
}

export async function startFakeGitHub(initial: Partial<FakeGitHubState> = {}, options: { prefix?: string } = {}): Promise<FakeGitHub> {
  const state: FakeGitHubState = {
    org: { login: 'example-org', id: 9919 },
    members: [],
    outsideCollaborators: [],
    invitations: [],
    twoFactorDisabled: new Set(),
    tokens: new Map(),
    apps: [],
    inject: [],
    truncateNext: 0,
    managedUsers: false,
    ...initial,
  };
  const prefix = options.prefix ?? '';
  const requests: RecordedRequest[] = [];
  const installationTokens: string[] = [];
  const faults = new FaultSwitch();
  /** Installation tokens and what their installation may do. */
  const installations = new Map<string, FakeToken>();
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
    for await (const chunk of req) void chunk;
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      let text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      if (status < 300 && state.truncateNext > 0 && !url.pathname.includes('/app/')) {
        state.truncateNext--;
        text = text.slice(0, Math.floor(text.length / 2));
      }
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-github-media-type': 'github.v3; format=json',
        'x-github-api-version-selected': '2022-11-28',
        'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
        'x-ratelimit-limit': String(RATE_LIMIT),
        'x-ratelimit-remaining': String(RATE_LIMIT - requests.length),
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
        'x-ratelimit-used': String(requests.length),
        'x-ratelimit-resource': 'core',
        ...headers,
        'content-length': String(Buffer.byteLength(text)),
      });
      res.end(text);
    };
    const fail = (response: InjectedResponse) => send(response.status, response.body, response.headers);

    if (!url.pathname.startsWith(`${prefix}/`)) return fail(gitHubError(404, 'Not Found'));
    const path = url.pathname.slice(prefix.length);

    const installation = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (installation && req.method === 'POST') return issueInstallationToken(Number(installation[1]), scheme, credential, fail, send);

    const grant = (scheme === 'Bearer' || scheme === 'token') && credential ? (state.tokens.get(credential) ?? installations.get(credential)) : undefined;
    if (!grant) return fail(gitHubError(401, 'Bad credentials'));

    const route = /^\/(?:orgs\/([^/]+)|organizations\/(\d+))\/(members|outside_collaborators|invitations)$/.exec(path);
    if (!route || req.method !== 'GET') return fail(gitHubError(404, 'Not Found'));
    const [, login, orgId, list] = route;
    const known = login === undefined ? Number(orgId) === state.org.id : login.toLowerCase() === state.org.login.toLowerCase();
    if (!known) return fail(gitHubError(404, 'Not Found', `${DOCS}/orgs/members#list-organization-members`));
    const injected = state.inject.shift();
    if (injected) return fail(injected);
    const fault = faults.take(list!);
    if (fault?.kind === 'throttle') return fail(secondaryRateLimitAfter(fault.retryAfter ?? '0'));
    if (fault?.kind === 'unavailable') return fail(gitHubError(502, 'Server Error'));
    if (fault?.kind === 'reject') return fail(gitHubError(422, 'Validation Failed'));
    if (fault?.kind === 'auth') return fail(gitHubError(401, 'Bad credentials'));
    if (fault?.kind === 'permission') return fail(gitHubError(403, 'Resource not accessible by personal access token'));
    if (fault?.kind === 'not-found') return fail(gitHubError(404, 'Not Found'));
    if (list === 'invitations' && state.managedUsers) return fail(gitHubError(404, 'Not Found', `${DOCS}/orgs/members#list-pending-organization-invitations`));
    if (!grant.membersRead) return fail(gitHubError(403, 'Resource not accessible by personal access token', `${DOCS}/orgs/members#list-organization-members`));

    const filter = url.searchParams.get('filter') ?? 'all';
    if (filter !== 'all' && filter !== '2fa_disabled') return fail(gitHubError(422, 'Validation Failed'));
    if (filter === '2fa_disabled' && !grant.owner)
      return fail(gitHubError(422, 'Only owners can use this filter.', `${DOCS}/orgs/members#list-organization-members`));
    const twoFactorOff = (user: FakeUser) => filter === 'all' || state.twoFactorDisabled.has(user.login);

    let items: Record<string, unknown>[];
    if (list === 'members') {
      const role = url.searchParams.get('role') ?? 'all';
      items = state.members
        .filter((member) => (role === 'all' || member.role === role) && twoFactorOff(member.user))
        .sort((a, b) => a.user.id - b.user.id)
        .map((member) => simpleUser(member.user, origin + prefix));
    } else if (list === 'outside_collaborators') {
      items = state.outsideCollaborators
        .filter(twoFactorOff)
        .sort((a, b) => a.id - b.id)
        .map((user) => simpleUser(user, origin + prefix));
    } else {
      items = [...state.invitations].sort((a, b) => a.id - b.id).map((invitation) => invitationJson(invitation));
    }
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const body = items.slice((page - 1) * perPage, page * perPage);
    // The wrong shape: an id GitHub always sends as a number, as a string.
    if (fault?.kind === 'malformed' && body[0] !== undefined) body[0] = { ...body[0], id: String(body[0]['id']) };
    const headers = { 'content-type': 'application/json; charset=utf-8', link: linkHeader(url, list!, page, last) };
    if (fault?.kind === 'truncated') return sendTruncated(res, 200, headers, JSON.stringify(body));
    if (fault?.kind === 'stall') return sendStalled(res, 200, headers, JSON.stringify(body));
    send(200, body, { link: headers.link });
  }

  /** GitHub's Link header: next and last while there are more pages, prev and first after the first. */
  function linkHeader(url: URL, list: string, page: number, last: number): string {
    const at = (n: number) => {
      const params = new URLSearchParams(url.searchParams);
      params.set('page', String(n));
      return `<${origin}${prefix}/organizations/${state.org.id}/${list}?${params}>`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
    if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
    if (page > 1) links.push(`${at(1)}; rel="first"`);
    return links.join(', ');
  }

  function invitationJson(invitation: FakeInvitation): Record<string, unknown> {
    return {
      id: invitation.id,
      node_id: Buffer.from(`020:OrganizationInvitation${invitation.id}`).toString('base64'),
      login: invitation.login,
      email: invitation.email,
      role: invitation.role,
      created_at: invitation.created_at,
      failed_at: null,
      failed_reason: null,
      inviter: simpleUser({ login: invitation.inviter, id: 1 }, origin + prefix),
      team_count: 0,
      invitation_teams_url: `${origin}${prefix}/organizations/${state.org.id}/invitations/${invitation.id}/teams`,
      invitation_source: 'member',
    };
  }

  function issueInstallationToken(
    installationId: number,
    scheme: string | undefined,
    jwt: string | undefined,
    fail: (response: InjectedResponse) => void,
    send: (status: number, payload: unknown) => void,
  ): void {
    if (scheme?.toLowerCase() !== 'bearer' || !jwt) return fail(gitHubError(401, 'A JSON web token could not be decoded'));
    const [header, payload, signature] = jwt.split('.');
    const claims = decode(payload);
    const app = state.apps.find((candidate) => String(candidate.appId) === String(claims?.['iss']));
    if (decode(header)?.['alg'] !== 'RS256' || !claims || signature === undefined) return fail(gitHubError(401, 'A JSON web token could not be decoded'));
    if (!app) return fail(gitHubError(401, "'Issuer' claim ('iss') must be an Integer"));
    const signed = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), app.publicKey, Buffer.from(signature, 'base64url'));
    if (!signed) return fail(gitHubError(401, 'A JSON web token could not be decoded'));
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims['iat']);
    const exp = Number(claims['exp']);
    if (!(iat <= now + 60)) return fail(gitHubError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"));
    if (!(exp > now) || exp - iat > 660) return fail(gitHubError(401, "'Expiration time' claim ('exp') is too far in the future"));
    if (installationId !== app.installationId) return fail(gitHubError(404, 'Not Found', `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`));
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    installations.set(token, { owner: app.owner, membersRead: true });
    installationTokens.push(token);
    send(201, {
      token,
      expires_at: new Date((now + 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { members: 'read', metadata: 'read' },
      repository_selection: 'selected',
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: origin + prefix,
    state,
    requests,
    installationTokens,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function decode(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
