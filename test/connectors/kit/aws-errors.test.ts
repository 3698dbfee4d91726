import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../../activities/failures.ts';
import {
  AuthError,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../../../connectors/errors.ts';
import { awsErrorSummary, awsFailure, isAwsRejection } from '../../../connectors/kit/aws-errors.ts';

const SIGNED = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/backup/aws4_request, Signature=deadbeef';
const BODY = '{"__type":"X","message":"echoed secret wJalrXUtnFEMI/K7MDENG"}';

/** An error as the SDK throws it: the service's code as name, `$metadata`, and the raw exchange in a hidden `$response`. */
function sdkError(
  code: string,
  status: number | undefined,
  options: { fault?: 'client' | 'server'; message?: string; errno?: string; headers?: Record<string, string> } = {},
): Error {
  const error = Object.assign(new Error(options.message ?? `${code} happened`), {
    name: code,
    ...(options.fault === undefined ? {} : { $fault: options.fault }),
    ...(options.errno === undefined ? {} : { code: options.errno }),
    $metadata: { httpStatusCode: status, requestId: 'req-1', attempts: 3 },
  });
  if (status !== undefined) {
    Object.defineProperty(error, '$response', {
      value: { statusCode: status, headers: { 'x-amzn-requestid': 'req-1', authorization: SIGNED, ...options.headers }, body: BODY },
      enumerable: false,
    });
  }
  return error;
}

describe('awsFailure: one classifier for every AWS connector', () => {
  it.each([
    ['SlowDown', 503, ThrottledError],
    ['RequestThrottled', 400, ThrottledError],
    ['RequestThrottledException', 400, ThrottledError],
    ['Throttling', 400, ThrottledError],
    ['ThrottlingException', 400, ThrottledError],
    ['TooManyRequestsException', 429, ThrottledError],
    ['InvalidClientTokenId', 403, AuthError],
    ['UnrecognizedClientException', 403, AuthError],
    ['InvalidSignatureException', 403, AuthError],
    ['SignatureDoesNotMatch', 403, AuthError],
    ['InvalidAccessKeyId', 403, AuthError],
    ['ExpiredTokenException', 403, AuthError],
    ['AccessDenied', 403, PermissionError],
    ['AccessDeniedException', 403, PermissionError],
    ['NoSuchEntity', 404, NotFoundError],
    ['ResourceNotFoundException', 404, NotFoundError],
    ['NoSuchKey', 404, NotFoundError],
    ['ServiceUnavailableException', 503, UnavailableError],
    ['InternalFailure', 500, UnavailableError],
    ['RequestTimeout', 400, UnavailableError],
    ['InvalidAction', 400, RequestRejectedError],
    ['ValidationException', 400, RequestRejectedError],
    ['InvalidParameterValueException', 400, RequestRejectedError],
  ] as const)('%s (HTTP %s) is a %s', (code, status, type) => {
    const error = awsFailure(sdkError(code, status, { fault: status >= 500 ? 'server' : 'client' }), 'src: account 1: Call page 2');
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(`src: account 1: Call page 2: ${code} (HTTP ${status}, after 3 attempts): ${code} happened`);
  });

  it('calls a timeout and a dropped connection passing, even with the 2xx status of the answer the drop cut off', () => {
    expect(awsFailure(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'src: Call')).toBeInstanceOf(UnavailableError);
    const dropped = awsFailure(sdkError('Error', 200, { errno: 'ECONNRESET', message: 'aborted' }), 'src: Call');
    expect(dropped).toBeInstanceOf(UnavailableError);
    expect(dropped.message).toBe('src: Call: ECONNRESET (HTTP 200, after 3 attempts): aborted');
  });

  it('calls a 2xx body the SDK could not read malformed, quoting only the first line of its message', () => {
    const error = awsFailure(
      sdkError('SyntaxError', 200, {
        message: 'Unexpected end of JSON input\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.',
      }),
      'src: Call',
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe('src: Call: unreadable response (HTTP 200, after 3 attempts): Unexpected end of JSON input');
  });

  it('keeps a plain summary as cause, never the SDK error with the raw HTTP exchange', () => {
    for (const raw of [sdkError('AccessDenied', 403, { fault: 'client' }), sdkError('SyntaxError', 200), sdkError('Throttling', 400, { fault: 'client' })]) {
      const error = awsFailure(raw, 'src: Call');
      expect(error.cause).toEqual({
        code: raw.name,
        httpStatusCode: (raw as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
        requestId: 'req-1',
        attempts: 3,
      });
      const everything = `${inspect(error, { showHidden: true, depth: 10 })} ${JSON.stringify(error)} ${toFailure(error).message}`;
      expect(everything).not.toContain(SIGNED);
      expect(everything).not.toContain('wJalrXUtnFEMI');
    }
  });

  it('carries the wait a throttled answer asked for, in seconds or as an HTTP-date', () => {
    expect((awsFailure(sdkError('SlowDown', 503, { fault: 'server', headers: { 'retry-after': '7' } }), 'src: Call') as ThrottledError).retryAfterMs).toBe(
      7000,
    );
    const at = new Date(Date.now() + 30_000).toUTCString();
    const asked = (awsFailure(sdkError('Throttling', 400, { fault: 'client', headers: { 'retry-after': at } }), 'src: Call') as ThrottledError).retryAfterMs;
    expect(asked).toBeGreaterThan(28_000);
    expect(asked).toBeLessThanOrEqual(30_000);
  });

  it('adds what the caller knows: the permission a refusal lacks, where to look for credentials, codes of a passing state', () => {
    expect(awsFailure(sdkError('AccessDenied', 403, { fault: 'client' }), 'src: Call', { needs: 's3:GetObject on arn:aws:s3:::b/k' }).message).toMatch(
      /; the worker needs s3:GetObject on arn:aws:s3:::b\/k$/,
    );
    expect(awsFailure(sdkError('InvalidAccessKeyId', 403, { fault: 'client' }), 'src: Call', { authHint: 'check s3.credentials' }).message).toMatch(
      /; check s3\.credentials$/,
    );
    const passing = awsFailure(sdkError('ReportNotPresent', 410, { fault: 'client' }), 'src: Call', { transient: new Map([['ReportNotPresent', '']]) });
    expect(passing).toBeInstanceOf(UnavailableError);
  });

  it('passes our own errors and aborts through, and reads the code back from the summary', () => {
    const ours = new PermissionError('src: Call: denied');
    expect(awsFailure(ours, 'src: Other')).toBe(ours);
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    expect(awsFailure(abort, 'src: Call')).toBe(abort);
    expect(awsErrorSummary(awsFailure(sdkError('InvalidRange', 416, { fault: 'client' }), 'src: Call'))?.code).toBe('InvalidRange');
  });
});

describe('isAwsRejection', () => {
  it.each([
    ['ValidationError', 400, true],
    ['InvalidParameterValueException', 400, true],
    ['MalformedQueryString', 404, true],
    ['EntityAlreadyExists', 409, true],
    ['RequestTimeout', 400, false],
    ['RequestTimeoutException', 408, false],
    ['Throttling', 400, false],
    ['PriorRequestNotComplete', 400, false],
    ['SlowDown', 503, false],
    ['InternalFailure', 500, false],
    ['TooManyRequestsException', 429, false],
    ['NetworkingError', undefined, false],
  ])('%s (HTTP %s): %s', (code, status, rejected) => {
    expect(isAwsRejection(code, status)).toBe(rejected);
  });
});
