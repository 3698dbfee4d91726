import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Secret } from '../../config/secrets.ts';
import { ConfigError } from '../../config/errors.ts';
import { AuthError, ENDED_EARLY, endsMidJson, httpStatusKind, MalformedResponseError, NotFoundError, PermissionError, RequestRejectedError, ThrottledError, UnavailableError } from '../errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt when BambooHR answers 429 or 503. */
  readonly maxRetries: number;
  /** The first backoff when BambooHR sends no Retry-After; it doubles on every retry. */
  readonly baseDelayMs: number;
  /** The longest wait this pull sits out; asked to wait longer, it fails as throttled and leaves the wait to the retry of the whole pull. */
  readonly maxDelayMs: number;
}

export interface CustomReportCall {
  readonly baseUrl: string;
  readonly subdomain: string;
  readonly apiKey: Secret;
  readonly body: unknown;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export interface CustomReportResponse {
  readonly body: unknown;
  /** How many answers were 429 or 503 before this one. */
  readonly throttled: number;
}

const WHERE = 'bamboohr: reports/custom';
const SNIPPET_CHARS = 120;
/** A dropped connection is passing; one more request fetches the report whole, and a second drop is left to the retry of the pull. */
const ENDED_EARLY_ATTEMPTS = 2;

export function customReportUrl(baseUrl: string, subdomain: string): URL {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(subdomain)}/v1/reports/custom`);
  url.searchParams.set('format', 'JSON');
  url.searchParams.set('onlyCurrent', 'false');
  return url;
}

/**
 * Runs the custom report. BambooHR answers 429 or 503 with Retry-After (seconds) when it throttles; those
 * are waited out a bounded number of times. Every text that can reach an error passes through `redact`, so
 * a server that echoes the API key cannot carry it into a message.
 */
export async function fetchCustomReport(call: CustomReportCall): Promise<CustomReportResponse> {
  const key = call.apiKey.reveal();
  const credentials = Buffer.from(`${key}:x`).toString('base64');
  const authorization = `Basic ${credentials}`;
  const redact = (text: string) => [key, credentials].reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  const url = customReportUrl(call.baseUrl, call.subdomain);
  let throttled = 0;
  let endedEarly = 0;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: authorization, Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify(call.body),
        signal: call.signal,
      });
    } catch (error) {
      if (call.signal.aborted) throw call.signal.reason;
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new UnavailableError(`${WHERE}: cannot reach ${url.origin} (${cause?.code ?? redact(String(error))})`);
    }
    if (response.ok) {
      const read = await jsonBody(response, redact, call.signal);
      if ('body' in read) return { body: read.body, throttled };
      endedEarly += 1;
      if (endedEarly >= ENDED_EARLY_ATTEMPTS) throw new UnavailableError(`${WHERE}: ${read.endedEarly}, ${endedEarly} times`);
      call.log.warn(`${WHERE}: ${read.endedEarly}; fetching it again`);
      continue;
    }

    const detail = await errorDetail(response, redact);
    if (response.status === 429 || response.status === 503) {
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (throttled >= call.retry.maxRetries || (asked ?? 0) > call.retry.maxDelayMs) {
        throw new ThrottledError(`${WHERE}: HTTP ${response.status} after ${throttled + 1} attempt(s)${detail}`, asked === undefined ? undefined : { retryAfterMs: asked });
      }
      await delay(asked ?? Math.min(call.retry.baseDelayMs * 2 ** throttled, call.retry.maxDelayMs), undefined, { signal: call.signal }).catch((error: unknown) => {
        // The caller cancelled for a reason of its own; that reason, not a generic abort, is what it expects back.
        throw call.signal.aborted ? call.signal.reason : error;
      });
      throttled += 1;
      continue;
    }
    const status = `${WHERE}: HTTP ${response.status}`;
    switch (httpStatusKind(response.status)) {
      case 'auth':
        throw new AuthError(`${status}: BambooHR rejected the API key${detail}`);
      case 'permission':
        throw new PermissionError(`${status}: the API key's user may not run custom reports over every employee${detail}`);
      case 'not-found':
        throw new NotFoundError(`${status}: no BambooHR company "${call.subdomain}" at ${url.origin}${detail}`);
      case 'rejected':
        if (response.status === 400) throw new ConfigError(`${status}: BambooHR refused the report request; check the extra \`fields\`${detail}`);
        throw new RequestRejectedError(`${status}: BambooHR refused the report request${detail}`);
      default:
        throw new UnavailableError(`${status}${detail}`);
    }
  }
}

/** The parsed report, or why it ended early: a read cut off by the network, or JSON that stops before it closes. */
async function jsonBody(response: Response, redact: (text: string) => string, signal: AbortSignal): Promise<{ body: unknown } | { endedEarly: string }> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    return { endedEarly: `${ENDED_EARLY} (${typeof code === 'string' ? code : redact(String(error)).slice(0, SNIPPET_CHARS)})` };
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    if (endsMidJson(text)) return { endedEarly: `${ENDED_EARLY}, after ${text.length} characters of JSON` };
    const type = response.headers.get('content-type') ?? 'no content-type';
    throw new MalformedResponseError(`${WHERE}: the body is not JSON (${type}): ${JSON.stringify(redact(text).slice(0, SNIPPET_CHARS))}`);
  }
}

/** BambooHR explains an error in the X-BambooHR-Error-Message header; the body is usually empty. */
async function errorDetail(response: Response, redact: (text: string) => string): Promise<string> {
  const header = response.headers.get('x-bamboohr-error-message');
  const body = (await response.text().catch(() => '')).trim();
  const detail = header ?? (body === '' ? undefined : body);
  return detail === undefined ? '' : `: ${redact(detail).slice(0, SNIPPET_CHARS)}`;
}

/** Retry-After in seconds, as BambooHR sends it, or as an HTTP date. */
function retryAfterMs(retryAfter: string | null): number | undefined {
  if (retryAfter === null) return undefined;
  if (/^\s*\d+\s*$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const at = Date.parse(retryAfter);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
