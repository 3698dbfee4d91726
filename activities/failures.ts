import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.ts';
import { ConnectorError, ThrottledError } from '../connectors/errors.ts';
import { EvidenceStorageError } from '../evidence/blob-store.ts';

/** Secrets shorter than this are not replaced: a 1-3 character value would scrub ordinary words and numbers. */
const MIN_SCRUBBED_LENGTH = 4;

/** `text` with every known secret value replaced by "[redacted]". */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => (secret.length >= MIN_SCRUBBED_LENGTH ? out.split(secret).join('[redacted]') : out), text);
}

// pino keeps its hooks on the logger instance under this registry symbol, reads streamWrite from the instance at
// every write, and a child is made with Object.create, so a hook set on one logger holds for all its children.
const PINO_HOOKS = Symbol.for('pino.hooks');

/**
 * A child of `log` whose every line (message, fields, bindings, serialized errors) has the secret values in
 * `secrets` replaced, as they stand when the line is written: the list may grow while the logger is in use.
 * A line is JSON, so a secret is looked for both as it is and as JSON escapes it (quotes, backslashes, newlines).
 */
export function scrubbingLogger(log: Logger, secrets: readonly string[]): Logger {
  const scrubbed = log.child({});
  const slots = scrubbed as unknown as Record<symbol, { streamWrite?: (line: string) => string } | undefined>;
  const hooks = slots[PINO_HOOKS];
  // Fail closed: without the hook, lines would go out unscrubbed.
  if (hooks === undefined) throw new Error('this pino keeps no hooks where scrubbingLogger expects them; secrets in log lines could not be scrubbed');
  const inherited = hooks.streamWrite;
  slots[PINO_HOOKS] = {
    ...hooks,
    streamWrite: (line: string) => {
      const out = inherited === undefined ? line : inherited(line);
      return scrubSecrets(
        out,
        secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]),
      );
    },
  };
  return scrubbed;
}

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
  const cause = error instanceof Error ? error : new Error(String(error));
  const message = scrubSecrets(cause.message, secrets);
  if (cause instanceof ConfigError || cause instanceof InvalidRecordError) {
    return ApplicationFailure.create({ type: cause.name, message, nonRetryable: true });
  }
  if (cause instanceof ConnectorError || cause instanceof EvidenceStorageError) {
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
