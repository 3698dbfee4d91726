import { ClientSecretCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import { Client, GraphError, ResponseType, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
// The package has no `exports` map, so native ESM needs the file, not the folder.
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import type { Secret } from '../../core/secrets.ts';
import type { ConnectorContext } from '../contract.ts';
import {
  AuthError,
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
import { retryAfterMs } from '../kit/http.ts';
import { RetryTally } from '../kit/retries.ts';

/** Client credentials get an app-only token for every application permission granted to the app. */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface GraphOptions {
  tenantId: string;
  clientId: string;
  baseUrl: string;
  authorityHost: string;
  retry: { maxRetries: number; delaySeconds: number };
}

/** A refusal from Graph with its status and error code, kept apart so the caller can decide to degrade. */
export class GraphRefusal extends Error {
  override readonly name = 'GraphRefusal';
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, code: string, detail: string, retryAfterMs: number | undefined) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface GraphConnection {
  /** Gets a token now, so that a wrong tenant, client or secret fails as an AuthError before any listing. */
  authenticate(): Promise<void>;
  /**
   * One GET of a path under the version (`/users?...`) or of an absolute `@odata.nextLink`, with the SDK's
   * RetryHandler honouring Retry-After on 429/503/504, and fetched once more when the body ends early.
   * Resolves to the unvalidated body; a refusal by Graph rejects with a GraphRefusal, anything else with a
   * typed connector error.
   */
  get(pathOrLink: string): Promise<unknown>;
  /** Turns a GraphRefusal (or any failure of `get`) into the typed connector error for `where`. */
  failure(error: unknown, where: string): Error;
  /** Graph's origin: next links and resume cursors must point there, or the bearer token would not be sent. */
  readonly origin: string;
}

export function graphConnection(options: GraphOptions, secret: Secret, ctx: ConnectorContext): GraphConnection {
  const credential: TokenCredential = new ClientSecretCredential(options.tenantId, options.clientId, secret.reveal(), {
    authorityHost: options.authorityHost,
    // Instance discovery asks login.microsoftonline.com to vouch for the authority; a sovereign cloud, a private
    // authority or a local test server is not on its list, and MSAL then never reaches the token endpoint.
    disableInstanceDiscovery: true,
  });
  const authProvider = new TokenCredentialAuthenticationProvider(reusedToken(credential), {
    scopes: [GRAPH_SCOPE],
    getTokenOptions: { abortSignal: ctx.signal },
  });
  const base = new URL(options.baseUrl);
  const client = Client.initWithMiddleware({
    authProvider,
    baseUrl: base.origin,
    // The AuthenticationHandler attaches the token only to Microsoft's Graph hosts and to these (hostnames, no port).
    customHosts: new Set([base.hostname]),
  });
  const redact = (text: string) => redactSecret(text, secret);
  const tally = new RetryTally(ctx);
  /**
   * The RetryHandler asks this before each retry it makes (429, 503, 504), once it decided the request may be sent
   * again: the place to count the retry, and to stop retrying once the pull is cancelled. It waits what Retry-After
   * asks (up to its maximum), or its own backoff, which is not throttling.
   */
  const retryHandlerOptions = (resource: string) =>
    new RetryHandlerOptions(options.retry.delaySeconds, options.retry.maxRetries, (_delay, _attempt, _request, _options, response) => {
      if (ctx.signal.aborted) return false;
      const asked = retryAfterMs(response.headers.get('Retry-After'));
      const throttled = response.status === 429 || asked !== undefined;
      tally.retried({
        where: `microsoft-graph: GET ${resource}`,
        reason: `HTTP ${response.status}`,
        throttled,
        waitedMs: Math.min(asked ?? 0, MAX_RETRY_DELAY_MS),
      });
      return true;
    });
  const tokenFrom = `${options.authorityHost.replace(/\/$/, '')}/${options.tenantId} for client ${options.clientId}`;

  return {
    origin: base.origin,
    async authenticate() {
      try {
        await credential.getToken(GRAPH_SCOPE, { abortSignal: ctx.signal });
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw tokenFailure(error, tokenFrom, redact);
      }
    },
    async get(pathOrLink) {
      const resource = new URL(pathOrLink, base).pathname.replace(/^\/v1\.0\//, '/');
      for (let attempt = 1; ; attempt++) {
        let response: Response;
        try {
          // RAW: the SDK would parse the body itself and could not tell a body cut short from one that is not JSON.
          response = (await client
            .api(pathOrLink)
            .option('signal', ctx.signal)
            .middlewareOptions([retryHandlerOptions(resource)])
            .responseType(ResponseType.RAW)
            .get()) as Response;
        } catch (error) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          throw refusalOf(error) ?? error;
        }
        const read = await bodyOf(response, ctx.signal);
        if (!('endedEarly' in read)) return read.body;
        if (attempt >= ENDED_EARLY_ATTEMPTS) throw new EndedEarly(`${read.endedEarly}, ${attempt} times`);
        tally.retried({ where: `microsoft-graph: GET ${resource}`, reason: read.endedEarly, throttled: false, waitedMs: 0 });
      }
    },
    failure(error, where) {
      if (ctx.signal.aborted) return ctx.signal.reason as Error;
      const prefix = `microsoft-graph: ${where}`;
      if (error instanceof EndedEarly) return new UnavailableError(`${prefix}: ${error.message}`);
      if (!(error instanceof GraphRefusal)) return transportFailure(error, prefix, tokenFrom, redact);
      const summary = redact(error.message);
      if (error.status < 300) return new MalformedResponseError(`${prefix}: ${summary}`);
      switch (httpStatusKind(error.status)) {
        case 'auth':
          return new AuthError(`${prefix}: Graph rejected the access token of client ${options.clientId} (${summary})`);
        case 'permission':
          return new PermissionError(
            `${prefix}: client ${options.clientId} may not read this (${summary}); the app registration needs the application permission User.Read.All, and AuditLog.Read.All for sign-in activity and MFA registration, with admin consent`,
          );
        case 'throttled':
          return new ThrottledError(`${prefix}: still throttled after ${options.retry.maxRetries} retries (${summary})`, { retryAfterMs: error.retryAfterMs });
        case 'not-found':
          return new NotFoundError(`${prefix}: not found (${summary})`);
        case 'unavailable':
          return new UnavailableError(`${prefix}: Graph failed (${summary})`);
        default:
          // A 400 is about what the config asked for ($top, $select); other refusals are of the request as such.
          return error.status === 400
            ? new ConfigError(`${prefix}: Graph refused the request (${summary})`)
            : new RequestRejectedError(`${prefix}: Graph refused the request (${summary})`);
      }
    },
  };
}

/** A token is reused until this long before it expires, then fetched anew. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * The Graph client's auth provider asks the credential for a token on every request, and MSAL answers each ask from
 * its cache with a lookup that cost ~0.4 ms (0.15 s of CPU over a 100k-user tenant's 400 requests). The token is
 * kept here instead until TOKEN_REFRESH_MARGIN_MS before it expires (or MSAL's own refreshOn, if sooner); a failed
 * fetch is not kept, so the next request asks again.
 */
export function reusedToken(credential: TokenCredential, now: () => number = Date.now): TokenCredential {
  let current: AccessToken | undefined;
  let pending: Promise<AccessToken | null> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const refreshAt = current && Math.min(current.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS, current.refreshAfterTimestamp ?? Infinity);
      if (current && refreshAt !== undefined && now() < refreshAt) return current;
      pending ??= credential.getToken(scopes, options).finally(() => (pending = undefined));
      const token = await pending;
      current = token ?? undefined;
      return token;
    },
  };
}

/** The RetryHandler's own cap on one wait. */
const MAX_RETRY_DELAY_MS = new RetryHandlerOptions().getMaxDelay() * 1000;

/** A body that ended early on every try; `failure` says where. */
class EndedEarly extends Error {
  override readonly name = 'EndedEarly';
}

/** A dropped connection is passing; one more GET fetches the page whole, and a second drop is left to the retry of the pull. */
const ENDED_EARLY_ATTEMPTS = 2;

/** Graph's error body; only what the refusal's message names is read. */
const GraphErrorBody = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    innerError: z.object({ 'request-id': z.string().optional() }).optional(),
  }),
});

type BodyRead = { body: unknown } | { endedEarly: string };

/**
 * Reads a raw response: the parsed body of a success, a GraphRefusal (thrown) for a refusal or a success whose
 * body is not JSON, and `endedEarly` when the connection dropped mid-body or the body stops inside its JSON.
 */
async function bodyOf(response: Response, signal: AbortSignal): Promise<BodyRead> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return { endedEarly: `${ENDED_EARLY} (${typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error)})` };
  }
  let json: unknown;
  let parsed = true;
  try {
    json = JSON.parse(text);
  } catch {
    parsed = false;
  }
  if (response.ok) {
    if (parsed) return { body: json };
    if (endsMidJson(text)) return { endedEarly: `${ENDED_EARLY}, after ${text.length} characters of JSON` };
    throw new GraphRefusal(
      response.status,
      'UnreadableBody',
      `the body is not JSON (${response.headers.get('content-type') ?? 'no content-type'}, ${text.length} characters)`,
      undefined,
    );
  }
  const error = GraphErrorBody.safeParse(json);
  const code = (error.success ? error.data.error.code : undefined) ?? 'UnknownError';
  const message = error.success ? error.data.error.message : undefined;
  const requestId = error.success ? error.data.error.innerError?.['request-id'] : undefined;
  const detail = `${message || 'no message'}${requestId ? ` [request-id ${requestId}]` : ''}`;
  throw new GraphRefusal(response.status, code, detail, retryAfterMs(response.headers.get('Retry-After')));
}

/** Failures inside the SDK's middleware (token acquisition, the network) arrive as GraphErrors with a status, or none. */
function refusalOf(error: unknown): GraphRefusal | undefined {
  if (!(error instanceof GraphError) || error.statusCode < 100) return undefined;
  const code = error.code ?? 'UnknownError';
  const detail = `${error.message || 'no message'}${error.requestId ? ` [request-id ${error.requestId}]` : ''}`;
  return new GraphRefusal(error.statusCode, code, detail, retryAfterMs(error.headers?.get('Retry-After')));
}

/** Failures that never got a Graph response: token acquisition inside the middleware, or the network. */
function transportFailure(error: unknown, prefix: string, tokenFrom: string, redact: (text: string) => string): Error {
  const code = error instanceof GraphError ? error.code : undefined;
  if (code === 'AuthenticationRequiredError' || code === 'AuthenticationError') {
    return new AuthError(`${prefix}: no token from ${tokenFrom} (${redact(firstLine(error))})`);
  }
  if (code === 'CredentialUnavailableError') {
    return new UnavailableError(`${prefix}: could not reach the authority ${tokenFrom} (${redact(firstLine(error))})`);
  }
  if (error instanceof GraphError) return new UnavailableError(`${prefix}: no response from Graph (${redact(firstLine(error))})`);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * @azure/identity wraps MSAL's ServerError (the token endpoint's `error` and AADSTS code) in
 * AuthenticationRequiredError; endpoint discovery failing (unreachable authority, or a tenant the authority
 * does not know) arrives as CredentialUnavailableError, which may heal, so it stays retryable.
 */
function tokenFailure(error: unknown, tokenFrom: string, redact: (text: string) => string): Error {
  const name = error instanceof Error ? error.name : '';
  const cause = error instanceof Error ? (error.cause as { errorCode?: unknown; status?: unknown } | undefined) : undefined;
  const status = typeof cause?.status === 'number' ? cause.status : undefined;
  const detail = redact(firstLine(error));
  if (name === 'CredentialUnavailableError' || (status !== undefined && status >= 500)) {
    return new UnavailableError(
      `microsoft-graph: token request: could not get a token from ${tokenFrom} (${detail}); check that the authority is reachable and that tenantId names a tenant it knows`,
    );
  }
  if (status === 429) return new ThrottledError(`microsoft-graph: token request: throttled by ${tokenFrom} (${detail})`);
  if (name === 'AuthenticationRequiredError' || name === 'AuthenticationError') {
    return new AuthError(`microsoft-graph: token request: ${tokenFrom} refused the client credentials (${detail})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** An AADSTS sentence when there is one: the rest of the message is timestamps and trace ids. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const aadsts = /AADSTS\d+:[^.]*\./.exec(message)?.[0];
  const code = /^([a-z_]+):/.exec(message)?.[1];
  if (aadsts !== undefined) return code === undefined ? aadsts : `${code}: ${aadsts}`;
  return message.split('\n')[0]?.slice(0, 300) ?? '';
}

/** Server text is echoed into our messages; a secret in it (however unlikely) must not travel further. */
export function redactSecret(text: string, secret: Secret): string {
  const value = secret.reveal();
  return value.length >= 4 ? text.split(value).join('[redacted]') : text;
}
