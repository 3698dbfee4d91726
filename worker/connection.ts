import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError } from '../config/errors.ts';

export interface TemporalSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: { serverName?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | true;
}

/**
 * Reads the Temporal connection from the environment, as Temporal's own tools name it:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT,
 * TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const read = (name: string) => {
    const file = env[name];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch {
      throw new ConfigError(`${name}: cannot read ${file}`);
    }
  };
  const ca = read('TEMPORAL_TLS_CA');
  const crt = read('TEMPORAL_TLS_CERT');
  const key = read('TEMPORAL_TLS_KEY');
  if ((crt && !key) || (key && !crt)) throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const wantsTls = env.TEMPORAL_TLS === 'true' || ca !== undefined || crt !== undefined || apiKey !== undefined;
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    apiKey,
    tls: wantsTls
      ? ca || crt || env.TEMPORAL_TLS_SERVER_NAME
        ? { serverName: env.TEMPORAL_TLS_SERVER_NAME, serverRootCACertificate: ca, clientCertPair: crt && key ? { crt, key } : undefined }
        : true
      : undefined,
  };
}

function options(settings: TemporalSettings): ConnectionOptions & NativeConnectionOptions {
  return { address: settings.address, tls: settings.tls, apiKey: settings.apiKey } as ConnectionOptions & NativeConnectionOptions;
}

export function connectClient(settings: TemporalSettings): Promise<Connection> {
  return Connection.connect(options(settings));
}

export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(options(settings));
}
