import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
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
import type { AwsIamAccount, AwsIamConfig } from './config.ts';
import { AssumedRole, CallerIdentity, SOURCE } from './mapping.ts';

export interface SessionSettings extends Pick<AwsIamConfig, 'endpoint' | 'maxAttempts'> {
  /** Static keys from config, already resolved; undefined means the SDK's default credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

type Credentials = NonNullable<IAMClientConfig['credentials']>;

/** The IAM client of one account, with the prefix every message about that account carries. */
export interface Session {
  readonly accountId: string;
  readonly iam: IAMClient;
  readonly signal: AbortSignal;
  where(operation: string): string;
  destroy(): void;
}

const ROLE_SESSION_NAME = 'isms-worker-aws-iam';

function accountName(id: string, label: string | undefined) {
  return `${SOURCE}: account ${id}${label ? ` (${label})` : ''}`;
}

/** Reaches one account: through its role, assumed with the worker's credentials, or with the worker's credentials as they are. */
export async function openSession(target: AwsIamAccount, index: number, settings: SessionSettings, ctx: ConnectorContext): Promise<Session> {
  const common = { region: target.region, maxAttempts: settings.maxAttempts, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) };
  const knownId = target.id ?? target.roleArn?.split(':')[4];
  let prefix = knownId ? accountName(knownId, target.label) : `${SOURCE}: account #${index + 1}${target.label ? ` (${target.label})` : ''}`;
  const scope = { signal: ctx.signal, where: (operation: string) => `${prefix}: ${operation}` };

  // STS signs with the worker's own credentials: static keys from config, or the default chain.
  const sts = new STSClient({ ...common, ...(settings.credentials ? { credentials: settings.credentials } : {}) });
  let credentials: Credentials | undefined = settings.credentials;
  if (target.roleArn !== undefined) {
    const assume = { RoleArn: target.roleArn, RoleSessionName: ROLE_SESSION_NAME, ExternalId: target.externalId };
    // A function provider: the SDK caches its result and calls it again shortly before the session expires.
    credentials = async () => validate(AssumedRole, await call(scope, 'AssumeRole', (options) => sts.send(new AssumeRoleCommand(assume), options)), scope.where('AssumeRole'));
  }
  const iam = new IAMClient({ ...common, ...(credentials ? { credentials } : {}) });
  const destroy = () => {
    iam.destroy();
    sts.destroy();
  };
  try {
    let accountId = knownId;
    if (accountId === undefined) {
      const caller = await call(scope, 'GetCallerIdentity', (options) => sts.send(new GetCallerIdentityCommand({}), options));
      accountId = validate(CallerIdentity, caller, scope.where('GetCallerIdentity'));
      prefix = accountName(accountId, target.label);
    }
    return { accountId, iam, signal: ctx.signal, where: scope.where, destroy };
  } catch (error) {
    destroy();
    throw error;
  }
}

// ---------------------------------------------------------------- calls and errors

interface Scope {
  readonly signal: AbortSignal;
  where(operation: string): string;
}

/** Codes as IAM and STS put them in `<Error><Code>`; the SDK's own retries have already run when we see them. */
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'SlowDown']);
const PERMISSION = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess']);
const AUTH = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidAccessKeyId',
  'UnrecognizedClientException',
  'CredentialsProviderError',
]);
/** The report is not there yet, or no longer: a later attempt generates it again. */
const NOT_READY = new Set(['ReportNotPresent', 'ReportExpired', 'ReportInProgress', 'ServiceFailure', 'ServiceUnavailable', 'InternalFailure']);
const NOT_FOUND = new Set(['NoSuchEntity']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

interface SdkErrorFacts {
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: unknown;
  Code?: unknown;
  Error?: { Code?: unknown };
  code?: unknown;
}

/** Maps an SDK failure to our typed errors, saying where it happened; our own errors pass through. */
export function toConnectorError(error: unknown, where: string): Error {
  if (error instanceof ConnectorError) return error;
  if (!(error instanceof Error)) return new Error(`${where}: ${String(error)}`);
  if (error.name === 'AbortError') return error;
  const facts = error as Error & SdkErrorFacts;
  const code = [facts.Code, facts.Error?.Code, facts.code].find((value): value is string => typeof value === 'string') ?? error.name;
  // A response without a service fault is one the SDK received but could not read: a body that is not IAM's XML.
  const unreadable = facts.$response !== undefined && facts.$fault === undefined;
  const status = facts.$metadata?.httpStatusCode;
  const attempts = facts.$metadata?.attempts ?? 1;
  const detail = [status ? `HTTP ${status}` : undefined, attempts > 1 ? `after ${attempts} attempts` : undefined].filter(Boolean).join(', ');
  // The SDK appends a hint on a second line to messages about responses it could not read; the first line says it.
  const message = `${where}: ${unreadable ? 'unreadable response' : code}${detail ? ` (${detail})` : ''}: ${error.message.split('\n')[0]}`;
  const options = { cause: error };
  if (THROTTLING.has(code) || status === 429) return new ThrottledError(message, options);
  if (AUTH.has(code)) return new AuthError(message, options);
  if (PERMISSION.has(code)) return new PermissionError(message, options);
  if (NOT_FOUND.has(code)) return new NotFoundError(message, options);
  if (NOT_READY.has(code) || NETWORK.has(code) || AWS_TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500)) return new UnavailableError(message, options);
  if (isAwsRejection(code, status)) return new RequestRejectedError(message, options);
  if (unreadable) return new MalformedResponseError(message, options);
  return new Error(message, options);
}

export async function call<T>(scope: Scope, operation: string, send: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  try {
    return await send({ abortSignal: scope.signal });
  } catch (error) {
    throw toConnectorError(error, scope.where(operation));
  }
}

/** Validates an SDK output: the SDK fills what IAM sent, so a missing or mistyped field is IAM's (or the fake's) fault. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MalformedResponseError(`${where}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

interface Page<T> {
  items: T[];
  next: string | undefined;
}

/** Follows IsTruncated/Marker to the end; `operation` names the call (and user) in errors, with the page number. */
export async function* pages<T>(
  session: Session,
  operation: string,
  schema: z.ZodType<Page<T>>,
  send: (marker: string | undefined, options: { abortSignal: AbortSignal }) => Promise<unknown>,
): AsyncGenerator<T[]> {
  let marker: string | undefined;
  for (let page = 1; ; page++) {
    const where = page === 1 ? operation : `${operation} page ${page}`;
    const out = validate(schema, await call(session, where, (options) => send(marker, options)), session.where(where));
    yield out.items;
    if (out.next === undefined) return;
    if (out.next === marker) throw new MalformedResponseError(`${session.where(where)}: Marker ${JSON.stringify(marker)} repeats the previous page's`);
    marker = out.next;
  }
}

export async function allPages<T>(...args: Parameters<typeof pages<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const items of pages(...args)) out.push(...items);
  return out;
}
