/**
 * Typed connector failures. Activities map them to Temporal failures in one place
 * (activities/failures.ts): auth, permission, not-found and malformed input are not retried; throttling
 * and transient faults are.
 */
export type ConnectorErrorKind = 'auth' | 'permission' | 'throttled' | 'malformed' | 'not-found' | 'unavailable';

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

export class UnavailableError extends ConnectorError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** Formats zod issues as `field a[3].b: expected string` so an error names where the input was wrong. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], limit = 5): string {
  const shown = issues.slice(0, limit).map((issue) => `field ${formatPath(issue.path)}: ${issue.message}`);
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return shown.join('; ') + more;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
