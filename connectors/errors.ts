/**
 * Typed connector failures. Activities map them to Temporal failures in one place
 * (activities/failures.ts): auth, permission, not-found, rejected requests and malformed input are not
 * retried; throttling and transient faults are.
 */
export type ConnectorErrorKind = 'auth' | 'permission' | 'throttled' | 'malformed' | 'not-found' | 'rejected' | 'unavailable';

export class ConnectorError extends Error {
  readonly kind: ConnectorErrorKind;
  readonly retryable: boolean;
  constructor(kind: ConnectorErrorKind, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryable = options?.retryable ?? (kind === 'throttled' || kind === 'unavailable');
  }
}

export class AuthError extends ConnectorError {
  override readonly name = 'AuthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('auth', message, options);
  }
}

export class PermissionError extends ConnectorError {
  override readonly name = 'PermissionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('permission', message, options);
  }
}

export class ThrottledError extends ConnectorError {
  override readonly name = 'ThrottledError';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super('throttled', message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export class MalformedResponseError extends ConnectorError {
  override readonly name = 'MalformedResponseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('malformed', message, options);
  }
}

export class NotFoundError extends ConnectorError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

/** The source refused the request itself (400, 405, 409, 410, 422...): sent again, it is refused again. */
export class RequestRejectedError extends ConnectorError {
  override readonly name = 'RequestRejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('rejected', message, options);
  }
}

export class UnavailableError extends ConnectorError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export type HttpStatusKind = Exclude<ConnectorErrorKind, 'malformed'>;

/**
 * What a source's HTTP status says about sending the same request again: 408, 429 and 5xx may heal by
 * themselves; 401 and 403 need a person to fix the credentials or the grants; 404 names something missing;
 * any other status instead of a success is the answer to the request itself and will not change.
 */
export function httpStatusKind(status: number): HttpStatusKind {
  if (status === 429) return 'throttled';
  if (status === 408 || status >= 500) return 'unavailable';
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not-found';
  return 'rejected';
}

/** How a connector says that a body stopped partway: the connection dropped, and the same request fetches it whole. */
export const ENDED_EARLY = 'the response ended early';

/**
 * Whether a body that did not parse as JSON is the beginning of a JSON document: it opens an object or an array
 * and ends before closing it (or inside a string). A connection dropped mid-body leaves exactly that when the
 * length was not announced, or was announced by a proxy that counted only what it passed on. Anything else (an
 * HTML error page, a stray byte) is what the source meant to send.
 */
export function endsMidJson(text: string): boolean {
  let depth = 0;
  let opened = false;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (char === 0x5c) escaped = true;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      opened = true;
    } else if (char === 0x7d || char === 0x5d) depth--;
    else if (!opened && char > 0x20) return false;
  }
  return opened && (depth > 0 || inString);
}
