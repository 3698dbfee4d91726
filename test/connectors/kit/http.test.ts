import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { AuthError, MalformedResponseError, PermissionError, RequestRejectedError, ThrottledError, UnavailableError } from '../../../connectors/errors.ts';
import { askedWaitMs, backoffMs, fetchJson, httpFailure, rateLimitOf, retryAfterMs, withRetries } from '../../../connectors/kit/http.ts';
import { RetryTally } from '../../../connectors/kit/retries.ts';

function tally() {
  const provenance: Record<string, unknown> = {};
  const lines: string[] = [];
  const ctx = {
    log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    provenance: (facts: Record<string, unknown>) => Object.assign(provenance, facts),
  };
  return { tally: new RetryTally(ctx), provenance, lines };
}

describe('retryAfterMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['120', 120_000],
    [' 3 ', 3_000],
    ['1.5', 1_500],
    ['0', 0],
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
  ])('reads %j as %d ms', (value, expected) => {
    expect(retryAfterMs(value, now)).toBe(expected);
  });

  it.each([null, undefined, '', 'soon', '-5'])('reads %j as no wait asked', (value) => {
    expect(retryAfterMs(value, now)).toBeUndefined();
  });

  it('reads a header however it is held: fetch Headers, or a plain object of lower-cased names', () => {
    expect(askedWaitMs(new Headers({ 'Retry-After': '2' }), now)).toBe(2000);
    expect(askedWaitMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(askedWaitMs({ 'retry-after': ['4'] }, now)).toBe(4000);
  });

  it('waits until an exhausted rate limit refills when no Retry-After is given', () => {
    const headers = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42), 'x-ratelimit-resource': 'core' };
    expect(rateLimitOf(headers)).toEqual({ limit: 5000, remaining: 0, resetAt: now + 42_000, resource: 'core' });
    expect(askedWaitMs(headers, now)).toBe(42_000);
    expect(askedWaitMs({ 'x-ratelimit-remaining': '10', 'x-ratelimit-reset': String(now / 1000 + 42) }, now)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  const policy = { baseMs: 1000, capMs: 64_000 };
  it.each([
    { retry: 0, random: 0, expected: 500 },
    { retry: 0, random: 1, expected: 1000 },
    { retry: 1, random: 0, expected: 1000 },
    { retry: 3, random: 1, expected: 8000 },
    { retry: 3, random: 0.5, expected: 6000 },
    { retry: 10, random: 1, expected: 64_000 },
    { retry: 10, random: 0, expected: 32_000 },
  ])('retry $retry with jitter $random waits $expected ms on a 1 s base', ({ retry, random, expected }) => {
    expect(backoffMs(retry, policy, () => random)).toBe(expected);
  });

  it('spreads concurrent callers over the upper half of the ceiling', () => {
    const delays = Array.from({ length: 200 }, () => backoffMs(2, policy));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});

describe('httpFailure', () => {
  it.each([
    [401, {}, AuthError],
    [403, {}, PermissionError],
    [403, { 'retry-after': '60' }, ThrottledError],
    [403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '4102444800' }, ThrottledError],
    [429, {}, ThrottledError],
    [503, {}, UnavailableError],
    [503, { 'retry-after': '5' }, ThrottledError],
    [400, {}, RequestRejectedError],
    [422, {}, RequestRejectedError],
  ] as const)('HTTP %d with %j is a %s', (status, headers, type) => {
    expect(httpFailure({ where: 'src: GET /x', status, headers })).toBeInstanceOf(type);
  });

  it('names the call, the status and what to do, and passes the asked wait on', () => {
    const error = httpFailure({ where: 'src: GET /orgs/acme/members page 2', status: 403, headers: { 'retry-after': '60' }, detail: 'secondary rate limit' });
    expect(error.message).toBe('src: GET /orgs/acme/members page 2: HTTP 403: rate limited (secondary rate limit)');
    expect((error as ThrottledError).retryAfterMs).toBe(60_000);
    expect(httpFailure({ where: 'src: x', status: 401, hints: { auth: 'the token was revoked' } }).message).toBe('src: x: HTTP 401: the token was revoked');
    expect(httpFailure({ where: 'src: x', status: 400, badRequestIsConfig: true })).toBeInstanceOf(ConfigError);
  });
});

describe('withRetries', () => {
  const policy = { maxRetries: 3, baseMs: 1, capMs: 10, maxWaitMs: 5_000 };
  const signal = new AbortController().signal;

  it('sends a throttled or unavailable call again, counting each retry and the throttled wait in provenance', async () => {
    const { tally: counted, provenance, lines } = tally();
    const answers = [new ThrottledError('src: x: HTTP 429: rate limited', { retryAfterMs: 30 }), new UnavailableError('src: x: HTTP 503: the service failed')];
    const result = await withRetries(
      'src: x',
      async () => {
        const next = answers.shift();
        if (next) throw next;
        return 'done';
      },
      { policy, signal, tally: counted },
    );
    expect(result).toBe('done');
    expect(provenance['retries']).toBe(2);
    expect(provenance['throttledWaitMs']).toBeGreaterThanOrEqual(30);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'src: x: retried after HTTP 429: rate limited',
      'src: x: retried after HTTP 503: the service failed',
    ]);
  });

  it('fails at once on a permanent error', async () => {
    let calls = 0;
    const refused = new RequestRejectedError('src: x: HTTP 400: the request was refused');
    await expect(
      withRetries(
        'src: x',
        async () => {
          calls++;
          throw refused;
        },
        { policy, signal, tally: tally().tally },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries, saying so, and leaves a wait longer than maxWaitMs to the retry of the whole pull', async () => {
    await expect(
      withRetries(
        'src: x',
        async () => {
          throw new UnavailableError('src: x: HTTP 502: the service failed');
        },
        { policy, signal, tally: tally().tally },
      ),
    ).rejects.toThrow('src: x: HTTP 502: the service failed; still failing after 3 retries');
    let calls = 0;
    const error = await withRetries(
      'src: x',
      async () => {
        calls++;
        throw new ThrottledError('src: x: HTTP 429', { retryAfterMs: 600_000 });
      },
      { policy, signal, tally: tally().tally },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect((error as ThrottledError).retryAfterMs).toBe(600_000);
  });

  it('stops waiting when aborted, with the reason the caller gave', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 20);
    const started = performance.now();
    await expect(
      withRetries(
        'src: x',
        async () => {
          throw new ThrottledError('src: x: HTTP 429', { retryAfterMs: 4_000 });
        },
        { policy, signal: controller.signal, tally: tally().tally },
      ),
    ).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('fetchJson', () => {
  let server: Server;
  let origin = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return void res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining': '9' }).end('{"a":1}');
      if (req.url === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>secret-token</html>');
      if (req.url === '/cut') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":[1,2');
      if (req.url === '/drop') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        return void res.write('{"a":[1,', () => res.destroy());
      }
      if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://elsewhere.example/' }).end();
      res.writeHead(401, { 'x-error': 'token secret-token revoked' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (path: string) =>
    fetchJson({
      where: `src: GET ${path}`,
      url: new URL(path, origin),
      signal: new AbortController().signal,
      redact: (text) => text.split('secret-token').join('[redacted]'),
      detailOf: (response) => response.headers.get('x-error') ?? undefined,
    });

  it('parses a JSON body and reads the rate-limit headers', async () => {
    await expect(get('/ok')).resolves.toMatchObject({ body: { a: 1 }, rateLimit: { remaining: 9 } });
  });

  it('calls a body cut short passing, whether the connection dropped or the JSON stops early', async () => {
    await expect(get('/cut')).rejects.toThrow(/^src: GET \/cut: the response ended early, after 9 characters of JSON$/);
    await expect(get('/drop')).rejects.toBeInstanceOf(UnavailableError);
  });

  it('calls another body malformed without quoting it, and redacts the detail of a refusal', async () => {
    const malformed = (await get('/html').catch((error: unknown) => error)) as Error;
    expect(malformed).toBeInstanceOf(MalformedResponseError);
    expect(malformed.message).toBe('src: GET /html: the body is not JSON (text/html, 25 characters)');
    await expect(get('/refused')).rejects.toThrow('src: GET /refused: HTTP 401: the credentials were rejected (token [redacted] revoked)');
  });

  it('does not follow a redirect: the credentials would go to an address nobody configured', async () => {
    await expect(get('/redirect')).rejects.toBeInstanceOf(RequestRejectedError);
  });

  it('names a source it cannot reach by the error code, and is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(closed.address() as AddressInfo).port}/`);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = (await fetchJson({ where: 'src: GET /', url, signal: new AbortController().signal, redact: (text) => text }).catch(
      (caught: unknown) => caught,
    )) as Error;
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe(`src: GET /: cannot reach ${url.origin} (ECONNREFUSED)`);
  });
});
