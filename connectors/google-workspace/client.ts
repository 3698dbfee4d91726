import { createPrivateKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { admin, auth } from '@googleapis/admin';
import type { ConnectorContext } from '../contract.ts';
import { describeSecretRef, type Secret, type SecretRef } from '../../config/secrets.ts';
import { ConfigError } from '../../config/errors.ts';
import {
  AuthError,
  describeIssues,
  ENDED_EARLY,
  endsMidJson,
  httpStatusKind,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../errors.ts';
import { errorDetailOf, RATE_LIMIT_REASONS, ServiceAccountKey } from './mapping.ts';

export const DIRECTORY_USER_READONLY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly';

/** Where google-auth-library posts the service-account JWT grant; the library has it hard-coded. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export const DEFAULT_ROOT_URL = 'https://admin.googleapis.com/';

/** Google's own advice for backoff on its APIs caps the wait at 32-64 s. */
const MAX_BACKOFF_MS = 64_000;

/** A request that hangs must fail and be retried long before the activity's heartbeat timeout. */
const REQUEST_TIMEOUT_MS = 60_000;

export type DirectoryCredentials =
  | { kind: 'service-account'; key: ServiceAccountKey; subject: string }
  | { kind: 'access-token'; token: string };

export interface RetryPolicy {
  maxRetries: number;
  baseMs: number;
}

export interface DirectoryOptions {
  credentials: DirectoryCredentials;
  rootUrl: string | undefined;
  tokenUrl: string | undefined;
  retry: RetryPolicy;
}

/** Who reads the directory, as an auditor or an administrator fixing access would name it. */
export function principalOf(credentials: DirectoryCredentials): string {
  return credentials.kind === 'service-account'
    ? `service account ${credentials.key.client_email} acting as ${credentials.subject}`
    : 'the configured access token';
}

/**
 * Reads the JSON key file the Cloud console issues. The key text never enters a message: JSON.parse and
 * crypto errors quote their input, so their messages are replaced, not wrapped.
 */
export function parseServiceAccountKey(secret: Secret, ref: SecretRef): ServiceAccountKey {
  const where = `google-workspace: serviceAccountKey (${describeSecretRef(ref)})`;
  let json: unknown;
  try {
    json = JSON.parse(secret.reveal());
  } catch {
    throw new ConfigError(`${where} is not JSON; expected the service account's JSON key file`);
  }
  const parsed = ServiceAccountKey.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${where} is not a service account JSON key: ${describeIssues(parsed.error.issues)}`);
  try {
    createPrivateKey(parsed.data.private_key);
  } catch {
    throw new ConfigError(`${where}: private_key is not a PEM private key`);
  }
  return parsed.data;
}

export interface UsersListParams {
  customer?: string;
  domain?: string;
  maxResults: number;
  pageToken: string | undefined;
}

export interface DirectoryClient {
  /** One `users.list` call, retried on throttling and transient faults; returns the unvalidated body. */
  listUsers(params: UsersListParams, where: string): Promise<unknown>;
  readonly retries: number;
}

export function directoryClient(options: DirectoryOptions, ctx: ConnectorContext): DirectoryClient {
  const { credentials } = options;
  // gaxios would retry 429 and 5xx by itself, and the token request carries its own retry config; both are
  // switched off so that every retry, 403 rate limits included, follows maxRetries/retryBaseMs and the abort signal.
  const transporterOptions = { retryConfig: { retry: 0 }, timeout: REQUEST_TIMEOUT_MS };
  const authClient =
    credentials.kind === 'service-account'
      ? new auth.JWT({
          email: credentials.key.client_email,
          key: credentials.key.private_key,
          scopes: [DIRECTORY_USER_READONLY_SCOPE],
          subject: credentials.subject,
          transporterOptions,
        })
      : new auth.OAuth2({ credentials: { access_token: credentials.token }, transporterOptions });

  const tokenEndpoint = new URL(options.tokenUrl ?? GOOGLE_TOKEN_URL).href;
  if (options.tokenUrl !== undefined) {
    authClient.transporter.interceptors.request.add({
      resolved: async (request) => {
        if (request.url.href === GOOGLE_TOKEN_URL) request.url = new URL(tokenEndpoint);
        return request;
      },
    });
  }
  const directory = admin({ version: 'directory_v1', auth: authClient, rootUrl: options.rootUrl ?? DEFAULT_ROOT_URL, retry: false });
  const principal = principalOf(credentials);
  let retries = 0;

  return {
    get retries() {
      return retries;
    },
    async listUsers(params, where) {
      for (let retry = 0; ; retry++) {
        ctx.signal.throwIfAborted();
        let transient: TransientFailure;
        try {
          const response = await directory.users.list(
            { ...params, projection: 'full', showDeleted: 'false', orderBy: 'email' },
            { signal: ctx.signal },
          );
          // The client hands back the text of a body that does not parse as JSON.
          const body: unknown = response.data;
          if (typeof body !== 'string') return body;
          if (!endsMidJson(body)) {
            throw new MalformedResponseError(`google-workspace: ${where}: the body is not a JSON object (${headerOf(response.headers, 'content-type') ?? 'no content-type'}, ${body.length} characters)`);
          }
          transient = { kind: 'unavailable', summary: `${ENDED_EARLY}, after ${body.length} characters of JSON`, retryAfterMs: undefined };
        } catch (error) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          if (error instanceof MalformedResponseError) throw error;
          transient = classify(error, { where, principal, tokenEndpoint, params });
        }
        if (retry >= options.retry.maxRetries || (transient.retryAfterMs ?? 0) > MAX_BACKOFF_MS) {
          throw giveUp(transient, where, retry);
        }
        const delayMs = Math.max(backoffMs(retry, options.retry.baseMs), transient.retryAfterMs ?? 0);
        ctx.log.warn({ where, failure: transient.summary, retry: retry + 1, maxRetries: options.retry.maxRetries, delayMs }, `google-workspace: ${where}: retrying`);
        retries++;
        await sleep(delayMs, undefined, { signal: ctx.signal }).catch((error: unknown) => {
          throw ctx.signal.aborted ? ctx.signal.reason : error;
        });
      }
    },
  };
}

/** Exponential backoff with equal jitter: half the ceiling is fixed, half random, so callers spread out. */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

interface TransientFailure {
  kind: 'throttled' | 'unavailable';
  summary: string;
  retryAfterMs: number | undefined;
}

function giveUp(failure: TransientFailure, where: string, retries: number): Error {
  const message = `google-workspace: ${where}: ${failure.kind === 'throttled' ? 'still rate limited' : 'still failing'} after ${retries} retries (${failure.summary})`;
  return failure.kind === 'throttled' ? new ThrottledError(message, { retryAfterMs: failure.retryAfterMs }) : new UnavailableError(message);
}

interface FailureContext {
  where: string;
  principal: string;
  tokenEndpoint: string;
  params: UsersListParams;
}

/**
 * Sorts a failed call into "retry it" (returned) or a typed, permanent error (thrown). Messages are built
 * from the status and Google's error body only: the gaxios error carries the request, headers included.
 */
function classify(error: unknown, { where, principal, tokenEndpoint, params }: FailureContext): TransientFailure {
  const failure = httpFailureOf(error);
  if (failure === undefined) throw error;
  if (failure.status === undefined) {
    return { kind: 'unavailable', summary: `no response: ${failure.code ?? 'network error'}`, retryAfterMs: undefined };
  }
  const { status } = failure;
  const detail = errorDetailOf(failure.body);
  const summary = `${status}${detail.reason === undefined ? '' : ` ${detail.reason}`}${detail.message === undefined ? '' : `: ${detail.message}`}`;
  const transient = (kind: TransientFailure['kind']): TransientFailure => ({ kind, summary, retryAfterMs: failure.retryAfterMs });
  const fromTokenEndpoint = failure.url === tokenEndpoint;
  const kind = httpStatusKind(status);

  if (kind === 'throttled' || (kind === 'permission' && !fromTokenEndpoint && detail.reason !== undefined && RATE_LIMIT_REASONS.has(detail.reason))) {
    return transient('throttled');
  }
  if (kind === 'unavailable') return transient('unavailable');
  if (fromTokenEndpoint) {
    throw new AuthError(`google-workspace: ${where}: the token endpoint ${tokenEndpoint} refused a token for ${principal} (${summary})`);
  }
  if (kind === 'auth') throw new AuthError(`google-workspace: ${where}: Google rejected the credentials of ${principal} (${summary})`);
  if (kind === 'permission') {
    throw new PermissionError(
      `google-workspace: ${where}: ${principal} may not list users (${summary}); it needs the scope ${DIRECTORY_USER_READONLY_SCOPE} and an administrator role that can read users`,
    );
  }
  const scope = params.domain === undefined ? `customer ${params.customer}` : `domain ${params.domain}`;
  if (kind === 'not-found') throw new NotFoundError(`google-workspace: ${where}: ${scope} was not found (${summary})`);
  const resumed = params.pageToken === undefined ? '' : '; the page token may have expired (Google keeps them for three days)';
  const refused = `google-workspace: ${where}: Google refused the request for ${scope} (${summary})${resumed}`;
  // A 400 is about what the config asked for (customer, domain, page size); other refusals are of the request as such.
  throw status === 400 ? new ConfigError(refused) : new RequestRejectedError(refused);
}

interface HttpFailure {
  status: number | undefined;
  body: unknown;
  url: string | undefined;
  code: string | undefined;
  retryAfterMs: number | undefined;
}

/** The parts of a gaxios error we read; anything without a request config did not come from the HTTP layer. */
function httpFailureOf(error: unknown): HttpFailure | undefined {
  if (!(error instanceof Error) || !('config' in error)) return undefined;
  const { config, response, code } = error as { config?: { url?: unknown }; response?: { status?: unknown; data?: unknown; headers?: unknown }; code?: unknown };
  return {
    status: typeof response?.status === 'number' ? response.status : undefined,
    body: response?.data,
    url: URL.parse(String(config?.url))?.href,
    code: typeof code === 'string' ? code : undefined,
    retryAfterMs: retryAfterMsOf(headerOf(response?.headers, 'retry-after')),
  };
}

/**
 * Error responses carry a fetch-style Headers, but not always the global class (instanceof fails), so it is
 * recognised by its `get`; a plain object of lower-cased names is accepted too.
 */
function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get: unknown = (headers as { get?: unknown }).get;
  const value: unknown = typeof get === 'function' ? get.call(headers, name) : (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function retryAfterMsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
