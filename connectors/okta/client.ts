import type { z } from 'zod';
import type { ConnectorContext } from '../contract.ts';
import { describeIssues } from '../../core/zod-issues.ts';
import * as errors from '../errors.ts';
import { httpFailure, withRetries } from '../kit/http.ts';
import { RetryTally } from '../kit/retries.ts';
import { clientAssertion, DpopKey, type OAuthApp } from './oauth.ts';

/**
 * Plain fetch, not @okta/okta-sdk-nodejs: the SDK's default request executor sleeps out a 429 by itself, within its own
 * maxElapsedTime and with no AbortSignal (a cancelled activity would keep waiting), and its collections hide the `after`
 * cursor a retry resumes from. Every request goes through `send` and `withRateLimit` below, which retries through the connector kit.
 */
const REQUEST_TIMEOUT_MS = 60_000;
export type OktaAuth = { kind: 'token'; token: string } | ({ kind: 'oauth' } & OAuthApp);
export interface RateLimitPolicy {
  maxRetries: number;
  maxWaitSeconds: number;
}
interface Answer {
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

export function oktaClient(options: { orgUrl: string; auth: OktaAuth; rateLimit: RateLimitPolicy }, ctx: ConnectorContext) {
  const { auth } = options;
  const origin = new URL(options.orgUrl).origin;
  const principal = auth.kind === 'token' ? 'the configured API token' : `OAuth service app ${auth.clientId}`;
  const waits = { requests: 0 };
  const tally = new RetryTally(ctx);
  let access: { token: string; scheme: 'Bearer' | 'DPoP'; expiresAt: number } | undefined;
  const dpopKey = auth.kind === 'oauth' && auth.dpop ? new DpopKey() : undefined;

  async function send(url: string, init: RequestInit = {}): Promise<Answer> {
    if (new URL(url).origin !== origin) throw new errors.MalformedResponseError(`a next-page link leads to ${new URL(url).origin}, not to ${origin}`);
    waits.requests++;
    let response: Response;
    try {
      response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw new errors.UnavailableError(`no response from ${origin} (${String((error as Error).cause ?? (error as Error).message).slice(0, 200)})`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new errors.UnavailableError(errors.ENDED_EARLY);
    }
    return { url, status: response.status, headers: response.headers, text };
  }

  /** The headers that authenticate one request to `url`: a fresh DPoP proof each time when the token is DPoP-bound. */
  async function credentialsFor(url: string): Promise<Record<string, string>> {
    if (auth.kind === 'token') return { authorization: `SSWS ${auth.token}` };
    if (access === undefined || access.expiresAt - 60_000 < ctx.now().getTime()) access = await accessToken();
    const token = access.token;
    if (access.scheme === 'Bearer' || dpopKey === undefined) return { authorization: `Bearer ${token}` };
    return { authorization: `DPoP ${token}`, dpop: dpopKey.proof('GET', url, ctx.now(), { accessToken: token }) };
  }

  /**
   * OAuth 2.0 client credentials with a private_key_jwt client assertion, as Okta's service apps take them; with
   * DPoP, each token request carries a proof, and Okta's first answer (`use_dpop_nonce`) gives the nonce the next
   * proof must hold.
   */
  async function accessToken(): Promise<{ token: string; scheme: 'Bearer' | 'DPoP'; expiresAt: number }> {
    if (auth.kind !== 'oauth') throw new Error('unreachable');
    const tokenUrl = `${origin}/oauth2/v1/token`;
    let nonce: string | undefined;
    for (let asked = 0; ; asked++) {
      // Made again for every attempt: Okta refuses a client assertion or a DPoP proof whose jti it has seen.
      const request = (): RequestInit => ({
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: auth.scopes.join(' '),
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: clientAssertion(auth, tokenUrl, ctx.now()),
        }),
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          ...(dpopKey === undefined ? {} : { dpop: dpopKey.proof('POST', tokenUrl, ctx.now(), { nonce }) }),
        },
      });
      const answer = await withRateLimit(tokenUrl, () => send(tokenUrl, request()), options.rateLimit, ctx, tally);
      const json = parseJson(answer);
      if (answer.status === 200 && typeof json?.['access_token'] === 'string') {
        const scheme = String(json['token_type']).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
        if (scheme === 'DPoP' && dpopKey === undefined)
          throw new errors.MalformedResponseError(`Okta issued ${principal} a DPoP-bound token to a request without a DPoP proof`);
        return { token: json['access_token'], scheme, expiresAt: ctx.now().getTime() + Number(json['expires_in'] ?? 3600) * 1000 };
      }
      const code = typeof json?.['error'] === 'string' ? json['error'] : String(answer.status);
      const description = typeof json?.['error_description'] === 'string' ? ` ${json['error_description'].slice(0, 200)}` : '';
      const offered = answer.headers.get('dpop-nonce');
      // One nonce round is the protocol; a second means the server refuses the nonce it gave, which no retry mends.
      if (code === 'use_dpop_nonce' && dpopKey !== undefined && offered !== null && asked === 0) {
        nonce = offered;
        continue;
      }
      if ((code === 'invalid_dpop_proof' || code === 'use_dpop_nonce') && dpopKey === undefined) {
        throw new errors.AuthError(
          `Okta asks ${principal} for a DPoP proof (${code}): set oauth.dpop to true, as the app has "Require Demonstrating Proof of Possession (DPoP) header in token requests" on`,
        );
      }
      if (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce')
        throw new errors.AuthError(`Okta refused the DPoP proof of ${principal} (${code}${description})`);
      if (code === 'invalid_scope')
        throw new errors.PermissionError(
          `Okta refused the scopes ${auth.scopes.join(' ')} to ${principal} (${code}${description}); grant them on the app's Okta API Scopes tab`,
        );
      if (answer.status >= 500 || answer.status === 429) throw new errors.UnavailableError(`Okta's token endpoint failed (${answer.status})`);
      throw new errors.AuthError(`Okta refused an access token to ${principal} (${code}${description}); check clientId, keyId and privateKey`);
    }
  }

  /** The typed error for an Okta API error answer: its status, errorCode and errorSummary, never more of the body. */
  function failure(answer: Answer): errors.ConnectorError {
    const json = parseJson(answer);
    const summary = `${answer.status}${typeof json?.['errorCode'] === 'string' ? ` ${json['errorCode']}` : ''}${typeof json?.['errorSummary'] === 'string' ? ` ${json['errorSummary'].slice(0, 200)}` : ''}`;
    switch (errors.httpStatusKind(answer.status)) {
      case 'auth':
        return new errors.AuthError(`Okta rejected the credentials of ${principal} for ${origin} (${summary})`);
      case 'permission':
        return new errors.PermissionError(
          `${principal} may not read this (${summary}); it needs a read-only administrator role, or the scopes okta.users.read, okta.roles.read and okta.groups.read`,
        );
      case 'not-found':
        return new errors.NotFoundError(`Okta has no such resource (${summary})`);
      case 'unavailable':
        return new errors.UnavailableError(`Okta failed (${summary})`);
      case 'throttled':
        return new errors.ThrottledError(`Okta rate limited the request (${summary})`);
      default:
        return new errors.RequestRejectedError(`Okta refused the request (${summary})`);
    }
  }

  async function get(url: string): Promise<Answer> {
    const answer = await withRateLimit(
      url,
      async () => send(url, { headers: { accept: 'application/json', ...(await credentialsFor(url)) } }),
      options.rateLimit,
      ctx,
      tally,
    );
    if (answer.status === 401 && auth.kind === 'oauth') access = undefined; // an access token revoked early is fetched again on the activity's retry
    if (answer.status !== 200) throw failure(answer);
    return answer;
  }

  return {
    origin,
    principal,
    waits,
    /** One page: its validated items and the next page's URL from `Link: rel="next"`, if any. */
    async page<T>(url: string, schema: z.ZodType<T>): Promise<{ items: T; next: string | undefined }> {
      const answer = await get(url.startsWith('/') ? origin + url : url);
      const json = parseBody(answer);
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new errors.MalformedResponseError(describeIssues(parsed.error.issues));
      return { items: parsed.data, next: nextLink(answer.headers.get('link')) };
    },
  };
}

function parseJson(answer: Answer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseBody(answer: Answer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    if (answer.text === '' || errors.endsMidJson(answer.text)) throw new errors.UnavailableError(errors.ENDED_EARLY);
    throw new errors.MalformedResponseError(
      `the body is not JSON (${answer.headers.get('content-type') ?? 'no content-type'}, ${answer.text.length} characters)`,
    );
  }
}

/** Okta sends one `Link` header per relation, which fetch joins with commas. */
export function nextLink(link: string | null): string | undefined {
  for (const part of (link ?? '').split(/,\s*(?=<)/)) {
    const match = /^<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return match[1];
  }
  return undefined;
}

/**
 * Sends until the answer is not a 429 (E0000047), through the kit's withRetries, within the policy's cap beyond which the
 * activity's retry waits: Okta asks to wait until `x-rate-limit-reset` (epoch seconds), counted from the answer's own
 * `Date` so a skewed local clock does not shorten it.
 */
async function withRateLimit(url: string, send: () => Promise<Answer>, policy: RateLimitPolicy, ctx: ConnectorContext, tally: RetryTally): Promise<Answer> {
  const retryPolicy = { maxRetries: policy.maxRetries, maxWaitMs: policy.maxWaitSeconds * 1000, baseMs: 500, capMs: 30_000 };
  const attempt = async () => {
    const answer = await send();
    if (answer.status !== 429) return answer;
    const detail = String(parseJson(answer)?.['errorCode'] ?? '');
    const refusal = httpFailure({ where: 'okta', status: 429, headers: answer.headers, detail });
    throw new errors.ThrottledError(refusal.message.replace(/^okta: /, ''), { retryAfterMs: rateLimitWaitMs(answer.headers, ctx.now().getTime()) });
  };
  return withRetries(`okta: ${new URL(url).pathname}`, attempt, { policy: retryPolicy, signal: ctx.signal, tally });
}

function rateLimitWaitMs(headers: Headers, now: number): number {
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (headers.get('x-rate-limit-reset') === null || !Number.isFinite(reset)) return 60_000; // Okta's limits are per minute
  const date = Date.parse(headers.get('date') ?? '');
  return Math.max(0, reset * 1000 - (Number.isFinite(date) ? date : now));
}
