import { Runtime } from '@temporalio/worker';
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

type TemporalLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const pinoLevelOf: Record<TemporalLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's logger interface over pino, so SDK, workflow and activity logs share one JSON stream and its redaction. */
export function temporalLogger(log: Logger) {
  const sdk = log.child({ component: 'temporal' });
  const write = (level: TemporalLevel, message: string, meta?: Record<string, unknown>) => sdk[pinoLevelOf[level]](meta ?? {}, message);
  return {
    log: write,
    trace: (message: string, meta?: Record<string, unknown>) => write('TRACE', message, meta),
    debug: (message: string, meta?: Record<string, unknown>) => write('DEBUG', message, meta),
    info: (message: string, meta?: Record<string, unknown>) => write('INFO', message, meta),
    warn: (message: string, meta?: Record<string, unknown>) => write('WARN', message, meta),
    error: (message: string, meta?: Record<string, unknown>) => write('ERROR', message, meta),
  };
}

const temporalLevelOf: Record<string, TemporalLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * Sets up this process's Temporal runtime so that every log it makes goes to `log`: the SDK's, workflows' and
 * activities', and the native core's (connection retries, poll failures), which otherwise go to stdout as
 * coloured text, one line per poller per retry. The core drops what is below the logger's level before
 * forwarding, so a quiet logger costs no crossings into JavaScript.
 *
 * The options are the ones the SDK creates its runtime with on first use, not `Runtime.install`: a runtime that
 * forwards logs keeps the event loop alive until its last worker, connection or dev server is gone, so an
 * installed one would keep a command that never touches Temporal (`isms config check`) from ever exiting. Call it
 * before any Temporal connection, worker or dev server is made.
 */
export function configureTemporalRuntime(log: Logger): void {
  Runtime.defaultOptions = {
    logger: temporalLogger(log),
    telemetryOptions: { logging: { forward: {}, filter: { core: temporalLevelOf[log.level] ?? 'WARN', other: 'ERROR' } } },
  };
}
