import { setTimeout as sleep } from 'node:timers/promises';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { RequestError } from '@octokit/request-error';
import type { z } from 'zod';
import type { ConnectorContext } from '../contract.ts';
import * as errors from '../errors.ts';

const GitHub = Octokit.plugin(paginateRest);
const REQUEST_TIMEOUT_MS = 60_000; // a hung request fails, and is retried, long before the activity's heartbeat timeout
export type GitHubAuth = { kind: 'token'; token: string } | { kind: 'app'; appId: number | string; installationId: number; privateKey: string };
export interface RateLimitPolicy { maxRetries: number; maxWaitSeconds: number }

export function gitHubClient(options: { baseUrl: string; org: string; auth: GitHubAuth; rateLimit: RateLimitPolicy }, ctx: ConnectorContext) {
  const { auth, org } = options;
  const principal = auth.kind === 'token' ? 'the configured token' : `GitHub App ${auth.appId} (installation ${auth.installationId})`;
  const [origin, waits] = [new URL(options.baseUrl).origin, { count: 0, ms: 0 }];
  const octokit = new GitHub({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'isms-worker',
    ...(auth.kind === 'token' ? { auth: auth.token } : { authStrategy: createAppAuth, auth: { appId: auth.appId, installationId: auth.installationId, privateKey: auth.privateKey } }),
    log: { debug: () => {}, info: (m: string) => ctx.log.info(m), warn: (m: string) => ctx.log.warn(m), error: (m: string) => ctx.log.error(m) },
    // Link headers are followed with the token attached: one that leads to another host is refused.
    request: { fetch: (url: string, init: RequestInit) => {
      if (new URL(url).origin !== origin) throw new errors.MalformedResponseError(`a next-page link leads to ${new URL(url).origin}, not to ${origin}`);
      return fetch(url, { ...init, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
    } },
  });
  octokit.hook.wrap('request', (request, route) => withRateLimit(async () => request(route), options.rateLimit, ctx, waits));
  // octokit hands back the text of a body that is not JSON, and an empty text when the connection dropped mid-body.
  octokit.hook.after('request', ({ data, headers }) => {
    if (typeof data !== 'string') return;
    if (data === '' || errors.endsMidJson(data)) throw new errors.UnavailableError(errors.ENDED_EARLY);
    throw new errors.MalformedResponseError(`the body is not JSON (${headers['content-type'] ?? 'no content-type'}, ${data.length} characters)`);
  });
  /** The typed error for a failed request: our own from the hooks above (fetch's wrapped as a network error), else built from GitHub's status and message. */
  function failure(error: unknown, where: string): Error {
    if (ctx.signal.aborted) return ctx.signal.reason as Error;
    const own = error instanceof RequestError && error.cause instanceof errors.ConnectorError ? error.cause : error;
    if (own instanceof errors.ConnectorError) return Object.assign(own, { message: `github: ${where}: ${own.message}` });
    if (!(error instanceof RequestError)) return error instanceof Error ? error : new Error(String(error));
    const [prefix, summary] = [`github: ${where}`, summaryOf(error)];
    if (error.response === undefined) return new errors.UnavailableError(`${prefix}: no response from ${origin} (${summary})`);
    if (/\/app\/installations\/\d+\/access_tokens$/.test(error.request.url)) return new errors.AuthError(`${prefix}: GitHub refused an installation token to ${principal} (${summary}); check appId, installationId and privateKey`);
    switch (errors.httpStatusKind(error.status)) {
      case 'auth': return new errors.AuthError(`${prefix}: GitHub rejected the credentials of ${principal} for organisation ${org} (${summary})`);
      case 'permission': return new errors.PermissionError(`${prefix}: ${principal} may not read organisation ${org} (${summary}); it needs the organisation permission Members: read`);
      case 'not-found': return new errors.NotFoundError(`${prefix}: organisation ${org} was not found at ${options.baseUrl}, or ${principal} cannot see it (${summary})`);
      case 'unavailable': return new errors.UnavailableError(`${prefix}: GitHub failed (${summary})`);
      default: return new errors.RequestRejectedError(`${prefix}: GitHub refused the request (${summary})`);
    }
  }
  return {
    origin, principal, waits,
    /** Every page from `start` on, following `Link: rel="next"`, validated; a failure is the typed error for `what` page N. */
    async *pages<T>(start: string, what: string, schema: z.ZodType<T>): AsyncGenerator<{ url: string; items: T }> {
      let page = 0;
      try {
        for await (const { url, data } of octokit.paginate.iterator(`GET ${start}`, { headers: { 'x-github-api-version': '2022-11-28' } })) {
          const parsed = schema.safeParse(data);
          if (!parsed.success) throw new errors.MalformedResponseError(errors.describeIssues(parsed.error.issues));
          page++;
          yield { url, items: parsed.data };
        }
      } catch (error) { throw failure(error, `${what} page ${page + 1}`); }
    },
  };
}

/** GitHub's status and its short `message`; the body is never quoted beyond that. */
function summaryOf(error: RequestError): string {
  const data: unknown = error.response?.data;
  const message = typeof data === 'object' && data !== null && 'message' in data ? ` ${String(data.message).slice(0, 200)}` : '';
  return error.response === undefined ? error.message.split('\n')[0]!.slice(0, 200) : `${error.status}${message}`;
}

/**
 * The one place that waits out GitHub's rate limits within a cap, beyond which the activity's retry waits: the primary limit
 * (403/429, `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`), the secondary (403/429, `retry-after` seconds, or a minute).
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
      [waits.count, waits.ms] = [waits.count + 1, waits.ms + waitMs];
      await sleep(waitMs, undefined, { signal: ctx.signal });
    }
  }
}

function rateLimitWaitMs(error: unknown, now: number): number | undefined {
  if (!(error instanceof RequestError) || (error.status !== 403 && error.status !== 429)) return undefined;
  const headers = error.response?.headers ?? {};
  const [retryAfter, reset] = [Number(headers['retry-after']), Number(headers['x-ratelimit-reset'])];
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset)) return Math.max(0, reset * 1000 - now);
  return error.status === 429 || /secondary rate limit/i.test(summaryOf(error)) ? 60_000 : undefined;
}
