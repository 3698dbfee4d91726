import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { Connection, isGrpcServiceError, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError } from '../core/errors.ts';

/** The frontend port of `temporal server start-dev` and the address the commands default to. */
export const DEFAULT_TEMPORAL_PORT = 7233;

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
    address: env.TEMPORAL_ADDRESS || `localhost:${DEFAULT_TEMPORAL_PORT}`,
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

export async function connectClient(settings: TemporalSettings, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const refused = await refusedOrUnknown(settings.address, env);
  if (refused) throw new TemporalUnavailableError(unavailableMessage(settings.address, refused));
  try {
    return await Connection.connect(options(settings));
  } catch (error) {
    throw asTemporalUnavailable(error, settings.address);
  }
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(options(settings));
  } catch (error) {
    throw asTemporalUnavailable(error, settings.address);
  }
}

/** gRPC status UNAVAILABLE: the server cannot be reached (grpc-js's `status` enum; the SDK re-exports none). */
const GRPC_UNAVAILABLE = 14;

/** Temporal is not there to talk to. The message is one line for a person: what was tried and how to get one. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export const START_TEMPORAL_HINT = 'start one with `npm run dev` (`isms dev`) or `temporal server start-dev`, or set TEMPORAL_ADDRESS to a running server';

/**
 * A TemporalUnavailableError naming `address` when `error` says the server could not be reached (the client's connect
 * deadline, gRPC UNAVAILABLE, or the worker's transport error); any other error is returned as it is.
 */
export function asTemporalUnavailable(error: unknown, address: string): unknown {
  if (error instanceof TemporalUnavailableError || !(error instanceof Error)) return error;
  const text = [error.message, error.cause instanceof Error ? error.cause.message : ''].join(' ');
  const unreachable =
    error.name === 'TransportError' ||
    /Failed to connect before the deadline/.test(error.message) ||
    (isGrpcServiceError(error) && error.code === GRPC_UNAVAILABLE) ||
    (isGrpcServiceError(error.cause) && error.cause.code === GRPC_UNAVAILABLE);
  if (!unreachable) return error;
  return new TemporalUnavailableError(unavailableMessage(address, unreachableReason(text)), { cause: error });
}

function unavailableMessage(address: string, reason: string): string {
  return `cannot reach Temporal at ${address} (${reason}): ${START_TEMPORAL_HINT}`;
}

const PROBE_TIMEOUT_MS = 2_000;

/**
 * Tells a refused connection or an unknown host in milliseconds, where the gRPC client waits out its 10 s connect
 * timeout and then says only that. Says nothing (undefined) when it cannot tell: an address it does not parse, a
 * proxy in the way (grpc-js's *_proxy variables), a slow network.
 */
function refusedOrUnknown(address: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const parsed = /^(?:\[([^\]]+)\]|([^:/\s]+)):(\d+)$/.exec(address);
  if (!parsed || ['grpc_proxy', 'https_proxy', 'http_proxy', 'GRPC_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY'].some((name) => env[name]))
    return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: parsed[1] ?? parsed[2], port: Number(parsed[3]), timeout: PROBE_TIMEOUT_MS });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' ? unreachableReason(error.code) : undefined),
    );
  });
}

/** A few words on why, never the transport's own dump (`tonic::transport::Error(...)`). */
function unreachableReason(text: string): string {
  if (/ConnectionRefused|ECONNREFUSED|Connection refused/.test(text)) return 'connection refused';
  if (/dns error|ENOTFOUND|EAI_AGAIN|Name or service not known|nodename nor servname/.test(text)) return 'host name not found';
  if (/Failed to connect before the deadline/.test(text)) return 'no connection within the 10 s connect timeout';
  if (/TimedOut|ETIMEDOUT|timed out/i.test(text)) return 'timed out';
  if (/certificate|tls|handshake/i.test(text)) return 'TLS handshake failed';
  return 'unavailable';
}
