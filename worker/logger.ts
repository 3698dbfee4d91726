import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Keys whose values are secrets wherever they appear. Secrets are already wrapped in `Secret` (which
 * serializes as "[redacted]"); this catches raw values that reach a log line some other way.
 */
export const REDACTED_PATHS = [
  '*.password',
  '*.secret',
  '*.secretAccessKey',
  '*.clientSecret',
  '*.apiKey',
  '*.token',
  '*.accessToken',
  '*.privateKey',
  '*.private_key',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  'password',
  'secret',
  'apiKey',
  'token',
  'authorization',
];

export function createLogger(options: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'isms',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(2),
  );
}
