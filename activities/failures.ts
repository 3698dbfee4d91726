import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../config/errors.ts';
import { ConnectorError, ThrottledError } from '../connectors/errors.ts';

/** A connector yielded a record that does not fit our schemas: a bug in the connector, not a passing fault. */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
}

/**
 * The one place where our errors become Temporal failures: the type names the fault, retryability follows
 * the error's kind, throttling asks for the delay the source wanted, and known secret values are scrubbed.
 */
export function toFailure(error: unknown, secrets: readonly string[] = []): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const scrub = (text: string) => secrets.reduce((out, secret) => (secret.length >= 4 ? out.split(secret).join('[redacted]') : out), text);
  const cause = error instanceof Error ? error : new Error(String(error));
  const message = scrub(cause.message);
  if (cause instanceof ConfigError || cause instanceof InvalidRecordError) {
    return ApplicationFailure.create({ type: cause.name, message, nonRetryable: true });
  }
  if (cause instanceof ConnectorError) {
    return ApplicationFailure.create({
      type: cause.name,
      message,
      nonRetryable: !cause.retryable,
      nextRetryDelay: cause instanceof ThrottledError && cause.retryAfterMs !== undefined ? cause.retryAfterMs : undefined,
    });
  }
  const code = (cause as NodeJS.ErrnoException).code;
  return ApplicationFailure.create({ type: cause.name === 'Error' && code ? code : cause.name, message, nonRetryable: false });
}
