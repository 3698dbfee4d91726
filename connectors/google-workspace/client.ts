import { createPrivateKey } from 'node:crypto';
import { admin, auth } from '@googleapis/admin';
import type { ConnectorContext } from '../contract.ts';
import { describeSecretRef, type Secret, type SecretRef } from '../../core/secrets.ts';
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
} from '../errors.ts';
import { describeIssues } from '../../core/zod-issues.ts';
import { headerOf, retryAfterMs, withRetries } from '../kit/http.ts';
import { RetryTally } from '../kit/retries.ts';
import { errorDetailOf, RATE_LIMIT_REASONS, ServiceAccountKey } from './mapping.ts';

export const DIRECTORY_USER_READONLY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly';

/** Where google-auth-library posts the service-account JWT grant; the library has it hard-coded. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export const DEFAULT_ROOT_URL = 'https://admin.googleapis.com/';

/** Google's own advice for backoff on its APIs caps the wait at 32-64 s. */
const MAX_BACKOFF_MS = 64_000;

/** A request that hangs must fail and be retried long before the activity's heartbeat timeout. */
const REQUEST_TIMEOUT_MS = 60_000;

export type DirectoryCredentials = { kind: 'service-account'; key: ServiceAccountKey; subject: string } | { kind: 'access-token'; token: string };

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
  const tally = new RetryTally(ctx);
  const policy = { maxRetries: options.retry.maxRetries, baseMs: options.retry.baseMs, capMs: MAX_BACKOFF_MS, maxWaitMs: MAX_BACKOFF_MS };

  return {
    listUsers: (params, where) =>
      withRetries(
        `google-workspace: ${where}`,
        async () => {
          try {
            const response = await directory.users.list({ ...params, projection: 'full', showDeleted: 'false', orderBy: 'email' }, { signal: ctx.signal });
            // The client hands back the text of a body that does not parse as JSON.
            const body: unknown = response.data;
            if (typeof body !== 'string') return body;
            if (endsMidJson(body)) throw new UnavailableError(`google-workspace: ${where}: ${ENDED_EARLY}, after ${body.length} characters of JSON`);
            throw new MalformedResponseError(
              `google-workspace: ${where}: the body is not a JSON object (${headerOf(response.headers, 'content-type') ?? 'no content-type'}, ${body.length} characters)`,
            );
          } catch (error) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            if (error instanceof ConnectorError) throw error;
            throw classify(error, { where, principal, tokenEndpoint, params });
          }
        },
        { policy, signal: ctx.signal, tally },
      ),
  };
}

interface FailureContext {
  where: string;
  principal: string;
  tokenEndpoint: string;
  params: UsersListParams;
}

/**
 * The typed error of a failed call: throttled and unavailable ones are retried, the rest are permanent. Messages
 * are built from the status and Google's error body only: the gaxios error carries the request, headers included.
 */
function classify(error: unknown, { where, principal, tokenEndpoint, params }: FailureContext): Error {
  const failure = httpFailureOf(error);
  if (failure === undefined) return error instanceof Error ? error : new Error(String(error));
  const prefix = `google-workspace: ${where}`;
  if (failure.status === undefined) return new UnavailableError(`${prefix}: no response: ${failure.code ?? 'network error'}`);
  const { status } = failure;
  const detail = errorDetailOf(failure.body);
  const summary = `${status}${detail.reason === undefined ? '' : ` ${detail.reason}`}${detail.message === undefined ? '' : `: ${detail.message}`}`;
  const fromTokenEndpoint = failure.url === tokenEndpoint;
  const kind = httpStatusKind(status);

  // Google answers some rate limits with 403 and a reason; its client does not retry those, so we do.
  if (kind === 'throttled' || (kind === 'permission' && !fromTokenEndpoint && detail.reason !== undefined && RATE_LIMIT_REASONS.has(detail.reason))) {
    return new ThrottledError(`${prefix}: rate limited (${summary})`, failure.retryAfterMs === undefined ? undefined : { retryAfterMs: failure.retryAfterMs });
  }
  if (kind === 'unavailable') return new UnavailableError(`${prefix}: Google failed (${summary})`);
  if (fromTokenEndpoint) {
    return new AuthError(`google-workspace: ${where}: the token endpoint ${tokenEndpoint} refused a token for ${principal} (${summary})`);
  }
  if (kind === 'auth') return new AuthError(`google-workspace: ${where}: Google rejected the credentials of ${principal} (${summary})`);
  if (kind === 'permission') {
    return new PermissionError(
      `google-workspace: ${where}: ${principal} may not list users (${summary}); it needs the scope ${DIRECTORY_USER_READONLY_SCOPE} and an administrator role that can read users`,
    );
  }
  const scope = params.domain === undefined ? `customer ${params.customer}` : `domain ${params.domain}`;
  if (kind === 'not-found') return new NotFoundError(`google-workspace: ${where}: ${scope} was not found (${summary})`);
  const resumed = params.pageToken === undefined ? '' : '; the page token may have expired (Google keeps them for three days)';
  const refused = `google-workspace: ${where}: Google refused the request for ${scope} (${summary})${resumed}`;
  // A 400 is about what the config asked for (customer, domain, page size); other refusals are of the request as such.
  return status === 400 ? new ConfigError(refused) : new RequestRejectedError(refused);
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
  const { config, response, code } = error as {
    config?: { url?: unknown };
    response?: { status?: unknown; data?: unknown; headers?: unknown };
    code?: unknown;
  };
  return {
    status: typeof response?.status === 'number' ? response.status : undefined,
    body: response?.data,
    url: URL.parse(String(config?.url))?.href,
    code: typeof code === 'string' ? code : undefined,
    retryAfterMs: retryAfterMs(headerOf(response?.headers, 'retry-after')),
  };
}
