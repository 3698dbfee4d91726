import { describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/failures.ts';
import { endsMidJson, httpStatusKind, RequestRejectedError, UnavailableError } from '../../connectors/errors.ts';

describe('httpStatusKind', () => {
  it.each([
    [408, 'unavailable'],
    [429, 'throttled'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [401, 'auth'],
    [403, 'permission'],
    [404, 'not-found'],
    [400, 'rejected'],
    [405, 'rejected'],
    [409, 'rejected'],
    [410, 'rejected'],
    [412, 'rejected'],
    [413, 'rejected'],
    [422, 'rejected'],
    [304, 'rejected'],
  ])('HTTP %d is %s', (status, kind) => {
    expect(httpStatusKind(status)).toBe(kind);
  });
});

describe('RequestRejectedError', () => {
  it('becomes a non-retryable Temporal failure of its own type, while unavailability stays retryable', () => {
    expect(toFailure(new RequestRejectedError('src: GET /x: HTTP 422'))).toMatchObject({
      type: 'RequestRejectedError',
      nonRetryable: true,
      message: 'src: GET /x: HTTP 422',
    });
    expect(toFailure(new UnavailableError('src: the response ended early'))).toMatchObject({ type: 'UnavailableError', nonRetryable: false });
  });
});

describe('endsMidJson', () => {
  const page = JSON.stringify(
    {
      value: [
        { id: 'a', name: 'Ann "the }" one' },
        { id: 'b', tags: ['x', '{'] },
      ],
      next: 'https://example.com/?a=1',
    },
    null,
    2,
  );

  it('is true for every cut of a JSON page before its last character', () => {
    for (let length = 1; length < page.length; length++) expect(endsMidJson(page.slice(0, length)), page.slice(0, length)).toBe(true);
  });

  it.each([
    ['a whole document', page],
    ['an HTML page', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['text before the JSON', 'error: {"value": ['],
    ['an empty body', ''],
    ['a bare string', '"unterminated'],
    ['JSON with a syntax error in the middle that closes', '{"value": [1,, 2]}'],
  ])('is false for %s', (_case, text) => {
    expect(endsMidJson(text)).toBe(false);
  });
});
