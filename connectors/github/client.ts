import { createPrivateKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { RequestError } from '@octokit/request-error';
import { ConfigError } from '../../config/errors.ts';
import { describeSecretRef, type SecretRef } from '../../config/secrets.ts';
import type { ConnectorContext } from '../contract.ts';
import * as errors from '../errors.ts';

const GitHub = Octokit.plugin(paginateRest);
const API_VERSION = '2022-11-28';
/** A request that hangs must fail, and be retried, long before the activity's heartbeat timeout. */
const REQUEST_TIMEOUT_MS = 60_000;

export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: number | string; installationId: number; privateKey: string; keyRef: SecretRef };
export interface RateLimitPolicy { maxRetries: number; maxWaitSeconds: number }

export interface GitHubPage { url: string; data: unknown; where: string }

/** Who reads the organisation, as an administrator fixing access would name it. */
export function principalOf(auth: GitHubAuth): string {
  return auth.kind === 'token' ? 'the configured token' : `GitHub App ${auth.appId} (installation ${auth.installationId})`;
}

export function gitHubClient(options: { baseUrl: string; org: string; auth: GitHubAuth; rateLimit: RateLimitPolicy }, ctx: ConnectorContext) {
  const { auth, org } = options;
  if (auth.kind === 'app') {
    try {
      createPrivateKey(auth.privateKey);
    } catch {
      throw new ConfigError(`github: app.privateKey (${describeSecretRef(auth.keyRef)}) is not a PEM private key`);
    }
  }
  const origin = new URL(options.baseUrl).origin;
  const waits = { count: 0, ms: 0 };
  const octokit = new GitHub({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'isms-worker',
    ...(auth.kind === 'token' ? { auth: auth.token } : { authStrategy: createAppAuth, auth: { appId: auth.appId, installationId: auth.installationId, privateKey: auth.privateKey } }),
    log: { debug: () => {}, info: (m: string) => ctx.log.info(m), warn: (m: string) => ctx.log.warn(m), error: (m: string) => ctx.log.error(m) },
    request: {
      // Link headers are followed with the token attached: one that leads to another host is refused.
      fetch: (url: string, init: RequestInit) => {
        if (new URL(url).origin !== origin) throw new errors.MalformedResponseError(`github: a next-page link leads to ${new URL(url).origin}, not to ${origin}`);
        return fetch(url, { ...init, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
      },
    },
  });
  octokit.hook.wrap('request', (request, route) => withRateLimit(async () => request(route), options.rateLimit, ctx, waits));
  // octokit hands back the text of a body that is not JSON, and an empty text when the connection dropped mid-body.
  octokit.hook.after('request', ({ data, headers }) => {
    if (typeof data === 'string') throw new UnreadableBody(data === '' || errors.endsMidJson(data) ? undefined : `${headers['content-type'] ?? 'no content-type'}, ${data.length} characters`);
  });
  const principal = principalOf(auth);

  return {
    origin,
    waits,
    /** Every page from `start` on, following `Link: rel="next"`; fails with the typed error for `what` page N. */
    async *pages(start: string, what: string): AsyncGenerator<GitHubPage> {
      let page = 0;
      try {
        for await (const response of octokit.paginate.iterator(`GET ${start}`, { headers: { 'x-github-api-version': API_VERSION } })) {
          page++;
          yield { url: response.url, data: response.data, where: `${what} page ${page}` };
        }
      } catch (error) {
        throw failure(error, `${what} page ${page + 1}`);
      }
    },
  };

  function failure(error: unknown, where: string): Error {
    if (ctx.signal.aborted) return ctx.signal.reason as Error;
    const prefix = `github: ${where}`;
    if (error instanceof UnreadableBody) {
      return error.detail === undefined ? new errors.UnavailableError(`${prefix}: ${errors.ENDED_EARLY}`) : new errors.MalformedResponseError(`${prefix}: the body is not JSON (${error.detail})`);
    }
    if (error instanceof errors.ThrottledError) return new errors.ThrottledError(`${prefix}: ${error.message}`, { retryAfterMs: error.retryAfterMs });
    // The origin check above fails inside fetch, which octokit reports as a network error.
    if (error instanceof RequestError && error.cause instanceof errors.ConnectorError) return error.cause;
    if (!(error instanceof RequestError)) return error instanceof Error ? error : new Error(String(error));
    // Built from the status and GitHub's short message only: the RequestError carries the whole exchange.
    const summary = summaryOf(error);
    if (error.response === undefined) return new errors.UnavailableError(`${prefix}: no response from ${origin} (${summary})`);
    if (/\/app\/installations\/\d+\/access_tokens$/.test(error.request.url)) {
      return new errors.AuthError(`${prefix}: GitHub refused an installation token to ${principal} (${summary}); check appId, installationId and privateKey`);
    }
    switch (errors.httpStatusKind(error.status)) {
      case 'auth':
        return new errors.AuthError(`${prefix}: GitHub rejected the credentials of ${principal} for organisation ${org} (${summary})`);
      case 'permission':
        return new errors.PermissionError(`${prefix}: ${principal} may not read organisation ${org} (${summary}); it needs the organisation permission Members: read`);
      case 'not-found':
        return new errors.NotFoundError(`${prefix}: organisation ${org} was not found at ${options.baseUrl}, or ${principal} cannot see it (${summary})`);
      case 'throttled':
        return new errors.ThrottledError(`${prefix}: rate limited (${summary})`);
      case 'unavailable':
        return new errors.UnavailableError(`${prefix}: GitHub failed (${summary})`);
      default:
        return new errors.RequestRejectedError(`${prefix}: GitHub refused the request (${summary})`);
    }
  }
}

class UnreadableBody extends Error {
  readonly detail: string | undefined;
  constructor(detail: string | undefined) {
    super(detail ?? errors.ENDED_EARLY);
    this.detail = detail;
  }
}

/** GitHub's status and its short `message`; the body is never quoted beyond that. */
function summaryOf(error: RequestError): string {
  const data: unknown = error.response?.data;
  const message = typeof data === 'object' && data !== null && 'message' in data ? String(data.message).slice(0, 200) : undefined;
  return error.response === undefined ? error.message.split('\n')[0]!.slice(0, 200) : `${error.status}${message ? ` ${message}` : ''}`;
}

/**
 * The one place that waits out GitHub's rate limits, within a cap: the primary limit (403/429 with
 * `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`) and the secondary one (403/429 with `retry-after`
 * seconds, or a minute when it names none). Beyond the cap it gives up with a ThrottledError for the activity's retry.
 */
export async function withRateLimit<T>(send: () => Promise<T>, policy: RateLimitPolicy, ctx: ConnectorContext, waits: { count: number; ms: number }): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await send();
    } catch (error) {
      const waitMs = rateLimitWaitMs(error, ctx.now().getTime());
      if (waitMs === undefined) throw error;
      const limit = summaryOf(error as RequestError);
      if (retry >= policy.maxRetries || waitMs > policy.maxWaitSeconds * 1000) {
        throw new errors.ThrottledError(`still rate limited after ${retry} waits (${limit}); GitHub asks to wait ${Math.ceil(waitMs / 1000)} s`, { retryAfterMs: waitMs });
      }
      ctx.log.warn({ waitMs, retry: retry + 1, maxRetries: policy.maxRetries }, `github: rate limited (${limit}); waiting`);
      waits.count++;
      waits.ms += waitMs;
      await sleep(waitMs, undefined, { signal: ctx.signal });
    }
  }
}

function rateLimitWaitMs(error: unknown, now: number): number | undefined {
  if (!(error instanceof RequestError) || (error.status !== 403 && error.status !== 429)) return undefined;
  const headers = error.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset)) return Math.max(0, reset * 1000 - now);
  const secondary = error.status === 429 || /secondary rate limit/i.test(summaryOf(error));
  return secondary ? 60_000 : undefined;
}
