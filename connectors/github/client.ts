import { createPrivateKey } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import type { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { describeSecretRef } from '../../core/secrets.ts';
import type { ConnectorContext } from '../contract.ts';
import * as errors from '../errors.ts';
import { askedWaitMs, headerOf, httpFailure, networkFailure, withRetries } from '../kit/http.ts';
import { RetryTally } from '../kit/retries.ts';
import { parseResponse } from '../kit/validate.ts';
import type { GitHubConfig } from './config.ts';

/** A hung request fails, and is retried, long before the activity's heartbeat timeout. */
const REQUEST_TIMEOUT_MS = 60_000;

export async function gitHubClient(options: GitHubConfig, ctx: ConnectorContext) {
  const { app, org } = options;
  const principal = app ? `GitHub App ${app.appId} (installation ${app.installationId})` : 'the configured token';
  const origin = new URL(options.baseUrl).origin;
  const { maxRetries, maxWaitSeconds } = options.rateLimit;
  const retries = { policy: { maxRetries, maxWaitMs: maxWaitSeconds * 1000, baseMs: 500, capMs: 30_000 }, signal: ctx.signal, tally: new RetryTally(ctx) };
  // The schema takes exactly one of token and app.
  const auth = app
    ? { authStrategy: createAppAuth, auth: { appId: app.appId, installationId: app.installationId, privateKey: await appKey(app, ctx) } }
    : { auth: (await ctx.secret(options.token!)).reveal() };
  const octokit = new Octokit({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'isms-worker',
    ...auth,
    log: { debug: () => {}, info: (m: string) => ctx.log.info(m), warn: (m: string) => ctx.log.warn(m), error: (m: string) => ctx.log.error(m) },
  });
  const hints = {
    auth: `GitHub rejected the credentials of ${principal} for organisation ${org}`,
    permission: `${principal} may not read organisation ${org}; it needs the organisation permission Members: read`,
    'not-found': `organisation ${org} was not found at ${options.baseUrl}, or ${principal} cannot see it`,
  };

  /** The typed error for a failed request, from GitHub's status, rate-limit headers and short message. */
  function failure(error: unknown, where: string): Error {
    if (!(error instanceof RequestError)) return error instanceof Error ? error : new Error(String(error));
    if (error.response === undefined) return networkFailure(error.cause, where, origin);
    const data: unknown = error.response.data;
    // GitHub's short `message`; the body is never quoted beyond that.
    const detail = typeof data === 'object' && data !== null && 'message' in data ? String(data.message).slice(0, 200) : '';
    if (/\/app\/installations\/\d+\/access_tokens$/.test(error.request.url))
      return new errors.AuthError(
        `${where}: GitHub refused an installation token to ${principal} (${error.status} ${detail}); check appId, installationId and privateKey`,
      );
    const headers: Record<string, unknown> = { ...error.response.headers };
    // GitHub asks for a minute when a secondary limit (or a 429) names no wait.
    if (headers['retry-after'] === undefined && (error.status === 429 || /secondary rate limit/i.test(detail))) headers['retry-after'] = '60';
    const refusal = httpFailure({ where, status: error.status, headers, detail, hints });
    if (!(refusal instanceof errors.ThrottledError)) return refusal;
    // x-ratelimit-reset is an instant: the wait is measured on the connector's clock.
    const waitMs = askedWaitMs(headers, ctx.now().getTime());
    return new errors.ThrottledError(refusal.message, waitMs === undefined ? undefined : { retryAfterMs: waitMs });
  }

  async function get(url: string, where: string): Promise<{ url: string; data: unknown; headers: Record<string, unknown> }> {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const response = await octokit.request(`GET ${url}`, { headers: { 'x-github-api-version': '2022-11-28' }, request: { signal } }).catch((error: unknown) => {
      throw failure(error, where);
    });
    // octokit hands back the text of a body that is not JSON, and an empty text when the connection dropped mid-body.
    const data: unknown = response.data;
    if (typeof data !== 'string') return response;
    if (data === '' || errors.endsMidJson(data)) throw new errors.UnavailableError(`${where}: ${errors.ENDED_EARLY}`);
    const type = headerOf(response.headers, 'content-type') ?? 'no content-type';
    throw new errors.MalformedResponseError(`${where}: the body is not JSON (${type}, ${data.length} characters)`);
  }

  return {
    origin,
    principal,
    /** Every page from `start` on, following `Link: rel="next"`, validated; a failure names `what` page N. */
    async *pages<T>(start: string, what: string, schema: z.ZodType<T>): AsyncGenerator<{ url: string; items: T }> {
      let next: string | undefined = start;
      for (let page = 1; next !== undefined; page++) {
        const url: string = next;
        const where = `github: ${what} page ${page}`;
        // Next links are followed with the token attached: one that leads to another host is refused.
        const target = new URL(url, origin).origin;
        if (target !== origin) throw new errors.MalformedResponseError(`${where}: a next-page link leads to ${target}, not to ${origin}`);
        const response = await withRetries(where, () => get(url, where), retries);
        yield { url: response.url, items: parseResponse(schema, response.data, where) };
        next = /<([^>]+)>;\s*rel="next"/.exec(headerOf(response.headers, 'link') ?? '')?.[1];
      }
    },
  };
}

/** A PEM kept in an environment variable often has its line breaks written as \n. The key text never enters a message. */
async function appKey(app: NonNullable<GitHubConfig['app']>, ctx: ConnectorContext): Promise<string> {
  const privateKey = (await ctx.secret(app.privateKey)).reveal().replace(/\\n/g, '\n');
  try {
    createPrivateKey(privateKey);
  } catch {
    throw new ConfigError(`github: app.privateKey (${describeSecretRef(app.privateKey)}) is not a PEM private key`);
  }
  return privateKey;
}
