import {
  AuthError,
  ConnectorError,
  httpStatusKind,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../errors.ts';
import { headerOf, retryAfterMs } from './http.ts';

/** Codes AWS answers with a 4xx status for a request that timed out: the SDK's own list of transient errors. */
export const AWS_TRANSIENT_CODES: ReadonlySet<string> = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** Codes the SDK retries as throttling, whatever their status (@smithy/core's THROTTLING_ERROR_CODES). */
export const AWS_THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** The credentials themselves were refused, as the Query (IAM, STS), REST-JSON (Backup) and REST-XML (S3) services say it. */
const AUTH = new Set([
  'AuthorizationHeaderMalformed',
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'InvalidAccessKeyId',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'InvalidToken',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'MissingSecurityHeader',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
  'UnrecognizedClientException',
]);
const PERMISSION = new Set(['AccessDenied', 'AccessDeniedException', 'AccountProblem', 'AllAccessDisabled', 'UnauthorizedAccess', 'UnauthorizedOperation']);
/** A HEAD answers 404 with no body, so the SDK only has the status to name it by (NotFound). */
const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchEntity', 'NoSuchKey', 'NotFound', 'ResourceNotFoundException']);
const SERVICE_FAULT = new Set(['InternalError', 'InternalFailure', 'ServiceFailure', 'ServiceUnavailable', 'ServiceUnavailableException']);
/** No answer at all: the SDK retried these itself before we see them (@smithy/core's NODEJS_* codes and its TimeoutError). */
const NETWORK = new Set(['EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'TimeoutError']);

/**
 * Whether an AWS error that no code list has claimed is a refusal of the request itself (ValidationError,
 * InvalidParameterValue, InvalidAction, a 405, a 409...), which no retry will change.
 */
export function isAwsRejection(code: string, status: number | undefined): boolean {
  if (status === undefined || status < 400 || status >= 500 || AWS_TRANSIENT_CODES.has(code) || AWS_THROTTLING_CODES.has(code)) return false;
  const kind = httpStatusKind(status);
  return kind !== 'throttled' && kind !== 'unavailable';
}

/**
 * What a typed error keeps of an SDK failure, as its `cause`: the code, the status, the request id and how many
 * attempts the SDK made. Never the SDK's error object, whose hidden `$response` holds the raw HTTP exchange
 * (headers, body) and whose request held the signed headers.
 */
export interface AwsErrorSummary {
  readonly code: string;
  readonly httpStatusCode: number | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number | undefined;
}

export interface AwsFailureOptions {
  /** The permission a refusal means the worker lacks (`s3:GetObject on arn:aws:s3:::bucket/key`). */
  needs?: string;
  /** What to check when the credentials are refused. */
  authHint?: string;
  /** Codes this API answers for a state that passes (IAM's ReportNotPresent), with what to add to the message. */
  transient?: ReadonlyMap<string, string>;
}

interface SdkErrorFacts {
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
  $response?: unknown;
  Code?: unknown;
  Error?: { Code?: unknown };
  code?: unknown;
}

const MESSAGE_CHARS = 300;

/** The code and status of an SDK failure, or of the summary a typed error kept of one. */
export function awsErrorSummary(error: unknown): AwsErrorSummary | undefined {
  if (error instanceof ConnectorError) return isSummary(error.cause) ? error.cause : undefined;
  if (!(error instanceof Error)) return undefined;
  const facts = error as Error & SdkErrorFacts;
  const code = [facts.Code, facts.Error?.Code, facts.code].find((value): value is string => typeof value === 'string') ?? error.name;
  return { code, httpStatusCode: facts.$metadata?.httpStatusCode, requestId: facts.$metadata?.requestId, attempts: facts.$metadata?.attempts };
}

function isSummary(value: unknown): value is AwsErrorSummary {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as { code?: unknown }).code === 'string';
}

/**
 * Maps whatever an AWS SDK client threw to our typed errors, saying where (`where` names the source, the account and
 * the call), AWS's code, the status and the SDK's attempts. The SDK's own retries have run by then, so what is
 * throttled or unavailable here is so after them. Our own errors and aborts pass through.
 */
export function awsFailure(error: unknown, where: string, options: AwsFailureOptions = {}): Error {
  if (error instanceof ConnectorError) return error;
  if (!(error instanceof Error)) return new Error(`${where}: ${String(error)}`);
  if (error.name === 'AbortError') return error;
  const facts = error as Error & SdkErrorFacts;
  const summary = awsErrorSummary(error)!;
  const { code, httpStatusCode: status, attempts } = summary;
  // A response without a service fault is one the SDK received but could not read: a body that is not the service's.
  const unreadable = facts.$response !== undefined && facts.$fault === undefined;
  const detail = [status === undefined ? undefined : `HTTP ${status}`, attempts !== undefined && attempts > 1 ? `after ${attempts} attempts` : undefined]
    .filter(Boolean)
    .join(', ');
  // The SDK appends a hint on a second line to messages about responses it could not read; the first line says it.
  const said = (error.message.split('\n')[0] ?? '').slice(0, MESSAGE_CHARS);
  const message = `${where}: ${NETWORK.has(code) || !unreadable ? code : 'unreadable response'}${detail ? ` (${detail})` : ''}: ${said}`;
  const kept = { cause: summary };
  if (AWS_THROTTLING_CODES.has(code) || status === 429) {
    // Only the number is read from the response; the response itself stays behind.
    const asked = retryAfterMs(headerOf((facts.$response as { headers?: unknown } | undefined)?.headers, 'retry-after'));
    return new ThrottledError(message, { ...kept, ...(asked === undefined ? {} : { retryAfterMs: asked }) });
  }
  if (AUTH.has(code)) return new AuthError(options.authHint === undefined ? message : `${message}; ${options.authHint}`, kept);
  if (PERMISSION.has(code)) return new PermissionError(options.needs === undefined ? message : `${message}; the worker needs ${options.needs}`, kept);
  if (NOT_FOUND.has(code)) return new NotFoundError(message, kept);
  const passing = options.transient?.get(code);
  if (passing !== undefined) return new UnavailableError(passing === '' ? message : `${message}; ${passing}`, kept);
  // A connection dropped mid-body reaches us with the 2xx status of the answer it cut off: passing, not malformed.
  if (SERVICE_FAULT.has(code) || NETWORK.has(code) || AWS_TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500))
    return new UnavailableError(message, kept);
  if (isAwsRejection(code, status)) return new RequestRejectedError(message, kept);
  if (unreadable) return new MalformedResponseError(message, kept);
  return new Error(message, kept);
}
