import { BackupClient } from '@aws-sdk/client-backup';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
import type { Secret } from '../../config/secrets.ts';
import type { ConnectorContext } from '../contract.ts';
import {
  AuthError,
  AWS_TRANSIENT_CODES,
  ConnectorError,
  describeIssues,
  isAwsRejection,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../errors.ts';
import { AssumedRole, CallerIdentity, SOURCE } from './mapping.ts';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialSource = () => Promise<AwsCredentials>;

/** Static keys from config, still as Secrets: they are revealed only when the SDK signs a request. */
export interface StaticKeys {
  accessKeyId: Secret;
  secretAccessKey: Secret;
  sessionToken: Secret | undefined;
}

export interface ClientSettings {
  endpoint: string | undefined;
  stsEndpoint: string | undefined;
  maxAttempts: number;
}

export interface AccountAccess {
  /** The 12-digit account id the records name. */
  account: string;
  /** Undefined means the SDK's default credential chain. */
  credentials: CredentialSource | undefined;
  /** Releases the STS client that renews role sessions. */
  close(): void;
}

export interface AccountSettings {
  id?: string | undefined;
  roleArn?: string | undefined;
  externalId?: string | undefined;
  regions: string[];
}

const ROLE_SESSION_NAME = 'isms-worker-aws-backup';
const ROLE_SESSION_SECONDS = 3600;
/** Role sessions are renewed this long before they expire, so a page never goes out with credentials about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

export function staticCredentials(keys: StaticKeys | undefined): CredentialSource | undefined {
  if (keys === undefined) return undefined;
  return async () => ({
    accessKeyId: keys.accessKeyId.reveal(),
    secretAccessKey: keys.secretAccessKey.reveal(),
    ...(keys.sessionToken === undefined ? {} : { sessionToken: keys.sessionToken.reveal() }),
  });
}

export function backupClient(settings: ClientSettings, region: string, credentials: CredentialSource | undefined): BackupClient {
  return new BackupClient({
    region,
    maxAttempts: settings.maxAttempts,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  });
}

/**
 * Resolves which account an entry reaches and with which credentials: a role session when the entry names a role
 * (assumed now, so a refused role fails here and says so, and renewed before it expires), else the base credentials.
 */
export async function openAccount(
  entry: AccountSettings,
  index: number,
  base: CredentialSource | undefined,
  settings: ClientSettings,
  ctx: ConnectorContext,
): Promise<AccountAccess> {
  const stsRegion = entry.regions[0] ?? 'us-east-1';
  const sts = new STSClient({
    region: stsRegion,
    maxAttempts: settings.maxAttempts,
    ...(settings.stsEndpoint === undefined ? {} : { endpoint: settings.stsEndpoint }),
    ...(base === undefined ? {} : { credentials: base }),
  });
  if (entry.roleArn !== undefined) {
    const roleArn = entry.roleArn;
    const roleAccount = accountOfRole(roleArn);
    const account = entry.id ?? roleAccount;
    if (entry.id !== undefined && roleAccount !== entry.id) {
      ctx.warn(`${SOURCE}: account ${entry.id}: role ${roleArn} belongs to account ${roleAccount}; records are labelled ${entry.id} as configured`);
    }
    const where = `${SOURCE}: account ${account}: AssumeRole ${roleArn}`;
    const assume = async (): Promise<AwsCredentials> => {
      const output = await send(where, () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: ROLE_SESSION_NAME,
            DurationSeconds: ROLE_SESSION_SECONDS,
            ...(entry.externalId === undefined ? {} : { ExternalId: entry.externalId }),
          }),
          { abortSignal: ctx.signal },
        ),
      );
      const { Credentials: issued } = parseResponse(AssumedRole, output, where);
      return { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken, expiration: issued.Expiration };
    };
    try {
      let current = await assume();
      return {
        account,
        credentials: async () => {
          if (current.expiration !== undefined && current.expiration.getTime() - Date.now() < RENEW_BEFORE_MS) current = await assume();
          return current;
        },
        close: () => sts.destroy(),
      };
    } catch (error) {
      sts.destroy();
      throw error;
    }
  }
  try {
    if (entry.id !== undefined) return { account: entry.id, credentials: base, close: () => undefined };
    const where = `${SOURCE}: account entry ${index + 1}: GetCallerIdentity`;
    const output = await send(where, () => sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal }));
    return { account: parseResponse(CallerIdentity, output, where).Account, credentials: base, close: () => undefined };
  } finally {
    sts.destroy();
  }
}

export function accountOfRole(roleArn: string): string {
  return roleArn.split(':')[4] ?? '';
}

/** Runs one AWS call and turns whatever it throws into a typed connector error that says where. */
export async function send<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw failure(error, where);
  }
}

/** Validates an SDK response against what the mapping expects; the error names the field. */
export function parseResponse<S extends z.ZodType>(schema: S, output: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(output);
  if (!parsed.success) throw new MalformedResponseError(`${where}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

// Error codes as the REST-JSON services (Backup) and the Query service (STS) name them.
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling', 'RequestLimitExceeded']);
const AUTH = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
]);
const PERMISSION = new Set(['AccessDeniedException', 'AccessDenied']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * The typed error for an SDK failure. The cause kept is a plain summary (code, status, request id), never the SDK's
 * error object, whose hidden fields hold the raw HTTP exchange.
 */
export function failure(error: unknown, where: string): Error {
  if (error instanceof ConnectorError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  const name = sdk.name ?? 'Error';
  const status = sdk.$metadata?.httpStatusCode;
  const attempts = sdk.$metadata?.attempts;
  const summary = `${name}: ${firstLine(sdk.message ?? String(error))}`;
  const cause = { code: name, httpStatusCode: status, requestId: sdk.$metadata?.requestId, attempts };
  const tries = attempts === undefined ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (THROTTLING.has(name) || status === 429) {
    return new ThrottledError(`${where}: throttled${tries} (${summary})`, { cause, retryAfterMs: retryAfterMs(sdk) });
  }
  if (AUTH.has(name)) return new AuthError(`${where}: credentials rejected (${summary})`, { cause });
  if (PERMISSION.has(name)) return new PermissionError(`${where}: permission denied (${summary})`, { cause });
  if (name === 'ResourceNotFoundException') return new NotFoundError(`${where}: not found (${summary})`, { cause });
  // A connection dropped mid-body also reaches us with the 2xx status of the answer it cut off; it is not malformed.
  if ((status !== undefined && status >= 500) || name === 'ServiceUnavailableException' || AWS_TRANSIENT_CODES.has(name) || (sdk.code !== undefined && NETWORK.has(sdk.code))) {
    return new UnavailableError(`${where}: service unavailable${tries} (${summary})`, { cause });
  }
  // The SDK failing to read a 2xx body is a deserialization error without a service fault.
  if (sdk.$fault === undefined && status !== undefined && status >= 200 && status < 300) {
    return new MalformedResponseError(`${where}: response body cannot be read (${summary})`, { cause });
  }
  if (isAwsRejection(name, status)) return new RequestRejectedError(`${where}: request refused, HTTP ${status} (${summary})`, { cause });
  return new Error(`${where}: ${summary}`, { cause });
}

/** The service's own hint, when it sent one, for when a throttled pull may be retried. */
function retryAfterMs(error: SdkError): number | undefined {
  const header = error.$response?.headers?.['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
