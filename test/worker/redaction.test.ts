import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/failures.ts';
import { resolveSecret, Secret } from '../../core/secrets.ts';
import { AuthError, ThrottledError } from '../../connectors/errors.ts';
import { createLogger } from '../../worker/logger.ts';

function capture() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { log, text: () => lines.join('') };
}

describe('secrets never reach logs or errors', () => {
  it('a Secret prints, serializes and inspects as [redacted]', async () => {
    const secret = await resolveSecret({ env: 'ISMS_TEST_TOKEN' }, { ISMS_TEST_TOKEN: 'tok-9f8e7d' });
    expect(secret.reveal()).toBe('tok-9f8e7d');
    for (const shown of [String(secret), `${secret}`, JSON.stringify({ secret }), inspect({ nested: { secret } })]) {
      expect(shown).not.toContain('tok-9f8e7d');
      expect(shown).toContain('[redacted]');
    }
    const { log, text } = capture();
    log.info({ credentials: secret, config: { token: secret } }, 'connecting');
    expect(text()).not.toContain('tok-9f8e7d');
  });

  it('pino redacts secret-named fields that hold plain strings', () => {
    const { log, text } = capture();
    log.info(
      { password: 'pw-123456', request: { headers: { authorization: 'Bearer abc.def.ghi' } }, source: { apiKey: 'key-abcdef', clientSecret: 'cs-zyxw' } },
      'request',
    );
    const out = text();
    for (const value of ['pw-123456', 'abc.def.ghi', 'key-abcdef', 'cs-zyxw']) expect(out).not.toContain(value);
    expect(out).toContain('[redacted]');
  });

  it('an unset or unreadable secret reference names the reference, not a value', async () => {
    await expect(resolveSecret({ env: 'ISMS_MISSING' }, {})).rejects.toThrow('secret: environment variable ISMS_MISSING is not set');
    await expect(resolveSecret({ file: '/nonexistent/key.json' })).rejects.toThrow('secret: file /nonexistent/key.json cannot be read (ENOENT)');
  });

  it('failures scrub every secret revealed during the activity and keep the error type and retryability', () => {
    const failure = toFailure(new AuthError('google-workspace: token tok-9f8e7d was refused'), ['tok-9f8e7d']);
    expect(failure.message).toBe('google-workspace: token [redacted] was refused');
    expect(failure).toMatchObject({ type: 'AuthError', nonRetryable: true });
    const throttled = toFailure(new ThrottledError('slow down', { retryAfterMs: 3000 }));
    expect(throttled).toMatchObject({ type: 'ThrottledError', nonRetryable: false });
    expect(throttled.nextRetryDelay).toBe(3000);
  });

  it('Secret values are not enumerable fields', () => {
    const secret = new Secret('s3cr3t-value');
    expect(Object.values(secret)).toEqual([]);
    expect({ ...secret }).toEqual({});
  });
});
