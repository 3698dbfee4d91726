import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../../core/errors.ts';
import {
  AuthError,
  ConnectorError,
  ENDED_EARLY,
  endsMidJson,
  httpStatusKind,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
  type HttpStatusKind,
} from '../errors.ts';
import type { RetryTally } from './retries.ts';

// ---------------------------------------------------------------- headers

/**
 * One header of a response, whatever holds them: fetch's Headers (or a look-alike from another realm, recognised
 * by its `get`), or a plain object of lower-cased names as node:http, gaxios errors and octokit give them.
 */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get: unknown = (headers as { get?: unknown }).get;
  const value: unknown = typeof get === 'function' ? get.call(headers, name) : (headers as Record<string, unknown>)[name.toLowerCase()];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Retry-After as RFC 9110 allows it: a number of seconds, or an HTTP-date; a date already past asks for no wait. */
export function retryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  // Digits first, and a date only with a month name in it: Date.parse reads "120" or "-5" as years.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A source's rate-limit budget as its headers state it (GitHub's and Okta's x-ratelimit-*, x-rate-limit-*, IETF RateLimit-*). */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  /** When the budget refills, from the reset header (epoch seconds). */
  resetAt?: number;
  /** GitHub names the budget a call drew on (core, search, graphql). */
  resource?: string;
}

export function rateLimitOf(headers: unknown): RateLimit | undefined {
  const number = (name: string) => {
    for (const prefix of ['x-ratelimit-', 'x-rate-limit-', 'ratelimit-']) {
      const value = Number(headerOf(headers, `${prefix}${name}`));
      if (headerOf(headers, `${prefix}${name}`) !== undefined && Number.isFinite(value)) return value;
    }
    return undefined;
  };
  const limit = number('limit');
  const remaining = number('remaining');
  const reset = number('reset');
  const resource = headerOf(headers, 'x-ratelimit-resource');
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined;
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    // IETF RateLimit-Reset is seconds from now; the x- headers are epoch seconds.
    ...(reset === undefined ? {} : { resetAt: reset < 1e9 ? Date.now() + reset * 1000 : reset * 1000 }),
    ...(resource === undefined ? {} : { resource }),
  };
}

/** How long the source asked us to wait: Retry-After, else until an exhausted rate limit refills. */
export function askedWaitMs(headers: unknown, now: number = Date.now()): number | undefined {
  const asked = retryAfterMs(headerOf(headers, 'retry-after'), now);
  if (asked !== undefined) return asked;
  const limit = rateLimitOf(headers);
  if (limit?.remaining === 0 && limit.resetAt !== undefined) return Math.max(0, limit.resetAt - now);
  return undefined;
}

// ---------------------------------------------------------------- statuses

export interface HttpRefusal {
  /** The source, call and page: `bamboohr: reports/custom`. */
  where: string;
  status: number;
  headers?: unknown;
  /** The source's own short explanation (an error code and message), already redacted; never a whole body. */
  detail?: string | undefined;
  /** What to tell a person about each kind of refusal, e.g. which permission the credentials need. */
  hints?: Partial<Record<HttpStatusKind, string>>;
  /** A 400 answers what the config asked for (a page size, a field, a tenant): a ConfigError, fixed in the config. */
  badRequestIsConfig?: boolean;
}

const SAYS: Record<HttpStatusKind, string> = {
  auth: 'the credentials were rejected',
  permission: 'permission denied',
  throttled: 'rate limited',
  'not-found': 'not found',
  rejected: 'the request was refused',
  unavailable: 'the service failed',
};

/**
 * The typed error for a refusal: retryable for 408, 429 and 5xx (and a 403 that is a rate limit: GitHub answers its
 * primary and secondary limits so, with Retry-After or an exhausted x-ratelimit-remaining), permanent for the rest.
 * Throttling carries the wait the source asked for.
 */
export function httpFailure(refusal: HttpRefusal): ConnectorError | ConfigError {
  const asked = askedWaitMs(refusal.headers);
  let kind = httpStatusKind(refusal.status);
  const asksToWait = headerOf(refusal.headers, 'retry-after') !== undefined;
  if (kind === 'permission' && (asksToWait || rateLimitOf(refusal.headers)?.remaining === 0)) kind = 'throttled';
  // A 503 with Retry-After is a source shedding load and saying for how long (BambooHR throttles so).
  if (refusal.status === 503 && asksToWait) kind = 'throttled';
  const detail = refusal.detail === undefined || refusal.detail === '' ? '' : ` (${refusal.detail})`;
  const message = `${refusal.where}: HTTP ${refusal.status}: ${refusal.hints?.[kind] ?? SAYS[kind]}${detail}`;
  switch (kind) {
    case 'auth':
      return new AuthError(message);
    case 'permission':
      return new PermissionError(message);
    case 'throttled':
      return new ThrottledError(message, asked === undefined ? undefined : { retryAfterMs: asked });
    case 'not-found':
      return new NotFoundError(message);
    case 'unavailable':
      return new UnavailableError(message);
    case 'rejected':
      return refusal.status === 400 && refusal.badRequestIsConfig === true ? new ConfigError(message) : new RequestRejectedError(message);
  }
}

/** A request that got no answer (refused connection, reset, DNS): passing, and named by its code, never by the request. */
export function networkFailure(error: unknown, where: string, target: string): UnavailableError {
  const cause = (error as { cause?: { code?: unknown }; code?: unknown } | undefined) ?? {};
  const code = [cause.cause?.code, cause.code].find((value): value is string => typeof value === 'string');
  return new UnavailableError(`${where}: cannot reach ${target} (${code ?? 'network error'})`);
}

// ---------------------------------------------------------------- waiting and retrying

export interface BackoffPolicy {
  /** The first wait; it doubles on every retry. */
  baseMs: number;
  /** The longest wait of the backoff itself. */
  capMs: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** A longer wait asked for (Retry-After) is not sat out: the error goes to the retry of the whole pull instead. */
  maxWaitMs: number;
}

/** Exponential backoff with equal jitter: half the ceiling is fixed, half random, so callers that failed together spread out. */
export function backoffMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Waits, or rejects with the reason the caller aborted for (not a generic AbortError), as soon as it aborts. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
}

/**
 * Runs `attempt` until it succeeds, sending it again after a retryable connector error (throttled, unavailable, a
 * body that ended early) with backoff, or after the wait the source asked for when that is longer. A permanent
 * error fails at once. Each retry is counted in `tally`; the last error, once the retries are spent, says so.
 */
export async function withRetries<T>(
  where: string,
  attempt: (retry: number) => Promise<T>,
  options: { policy: RetryPolicy; signal: AbortSignal; tally: RetryTally },
): Promise<T> {
  const { policy, signal, tally } = options;
  for (let retry = 0; ; retry++) {
    signal.throwIfAborted();
    try {
      return await attempt(retry);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof ConnectorError) || !error.retryable) throw error;
      const asked = error instanceof ThrottledError ? error.retryAfterMs : undefined;
      if (retry >= policy.maxRetries || (asked ?? 0) > policy.maxWaitMs) throw gaveUp(error, retry);
      const waitMs = Math.max(backoffMs(retry, policy), asked ?? 0);
      await sleep(waitMs, signal);
      tally.retried({ where, reason: reasonOf(error, where), throttled: error.kind === 'throttled', waitedMs: waitMs });
    }
  }
}

function reasonOf(error: Error, where: string): string {
  return error.message.startsWith(`${where}: `) ? error.message.slice(where.length + 2) : error.message;
}

function gaveUp(error: ConnectorError, retries: number): ConnectorError {
  if (retries === 0) return error;
  const message = `${error.message}; still failing after ${retries} ${retries === 1 ? 'retry' : 'retries'}`;
  return error instanceof ThrottledError ? new ThrottledError(message, { retryAfterMs: error.retryAfterMs }) : new UnavailableError(message);
}

// ---------------------------------------------------------------- one JSON request

export interface JsonRequest {
  where: string;
  url: URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Replaces every credential in a text the source may echo (an error header, a body). */
  redact: (text: string) => string;
  /** The source's own explanation of a refusal, from its headers or body (a few words, never the body). */
  detailOf?: (response: Response, body: string) => string | undefined;
  hints?: HttpRefusal['hints'];
  badRequestIsConfig?: boolean;
}

export interface JsonResponse {
  body: unknown;
  headers: Headers;
  rateLimit: RateLimit | undefined;
}

const DETAIL_CHARS = 200;

/**
 * One request with fetch, answered by parsed JSON or a typed error: a refusal by its status (httpFailure), no
 * answer as unavailable, a body cut short (the connection dropped, or JSON that stops before it closes) as
 * unavailable so the request is sent again, and any other body that is not JSON as malformed. Redirects are not
 * followed: they would carry the credentials to an address nobody configured.
 */
export async function fetchJson(request: JsonRequest): Promise<JsonResponse> {
  const { where, signal, redact } = request;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'GET',
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw networkFailure(error, where, request.url.origin);
  }
  const text = await readText(response, where, signal);
  if (!response.ok) {
    const detail = request.detailOf?.(response, text);
    throw httpFailure({
      where,
      status: response.status,
      headers: response.headers,
      detail: detail === undefined ? undefined : redact(detail).slice(0, DETAIL_CHARS),
      ...(request.hints === undefined ? {} : { hints: request.hints }),
      ...(request.badRequestIsConfig === undefined ? {} : { badRequestIsConfig: request.badRequestIsConfig }),
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (endsMidJson(text)) throw new UnavailableError(`${where}: ${ENDED_EARLY}, after ${text.length} characters of JSON`);
    throw new MalformedResponseError(
      `${where}: the body is not JSON (${response.headers.get('content-type') ?? 'no content-type'}, ${text.length} characters)`,
    );
  }
  return { body, headers: response.headers, rateLimit: rateLimitOf(response.headers) };
}

async function readText(response: Response, where: string, signal: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    throw new UnavailableError(`${where}: ${ENDED_EARLY} (${typeof code === 'string' ? code : 'connection closed'})`);
  }
}
