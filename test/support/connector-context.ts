import pino from 'pino';
import { resolveSecret } from '../../core/secrets.ts';
import type { ConnectorContext } from '../../connectors/contract.ts';

/** A ConnectorContext that records what the connector reported, for connector tests. */
export function testContext(overrides: Partial<Omit<ConnectorContext, 'heartbeat' | 'provenance' | 'warn'>> & { env?: NodeJS.ProcessEnv } = {}) {
  const heartbeats: (string | undefined)[] = [];
  const provenance: Record<string, unknown> = {};
  const warnings: string[] = [];
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const { env, ...rest } = overrides;
  const ctx: ConnectorContext = {
    log,
    signal: new AbortController().signal,
    resumeCursor: undefined,
    baseDir: process.cwd(),
    now: () => new Date(),
    heartbeat: async (cursor?: string) => {
      heartbeats.push(cursor);
    },
    secret: (ref) => resolveSecret(ref, env ?? process.env),
    provenance: (facts) => Object.assign(provenance, facts),
    warn: (message) => void warnings.push(message),
    ...rest,
  };
  return { ctx, heartbeats, provenance, warnings, logLines };
}

/** Drains a connector's records into an array. */
export async function collectAll<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const record of records) out.push(record);
  return out;
}
