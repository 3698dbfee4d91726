import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { AuthError } from '../../../connectors/errors.ts';
import { startFakeGitHub, testAppKey, type FakeGitHub } from '../../support/fake-github.ts';
import { collect, collectToFailure, resetFake, usernames } from './setup.ts';

const APP_ID = 123456;
const INSTALLATION_ID = 7890123;
const appKey = testAppKey();

let fake: FakeGitHub;
beforeAll(async () => {
  fake = await startFakeGitHub();
});
afterAll(() => fake.close());
beforeEach(() => {
  resetFake(fake);
  fake.state.apps = [{ appId: APP_ID, installationId: INSTALLATION_ID, publicKey: appKey.publicKey, owner: true }];
  fake.installationTokens.length = 0;
});

const asApp = (overrides: Record<string, unknown> = {}) => ({
  token: undefined,
  app: { appId: APP_ID, installationId: INSTALLATION_ID, privateKey: { env: 'GITHUB_APP_KEY' }, ...overrides },
});
const keyEnv = (pem: string) => ({ env: { GITHUB_APP_KEY: pem } });
/** Lines of the key body: any of them in a message, log line or evidence would leak the key. */
const keyLines = appKey.privateKeyPem.split('\n').filter((line) => line.length > 40);

describe('github as a GitHub App installation', () => {
  it('signs an RS256 JWT, gets one installation token and reads the whole organisation with it', async () => {
    const { records, provenance, logLines, warnings } = await collect(fake, asApp(), keyEnv(appKey.privateKeyPem));

    expect(usernames(records)).toHaveLength(10);
    expect(records.find((record) => record.username === 'bob-gh')?.mfaEnabled).toBe(false);
    const [tokenRequest, ...api] = fake.requests;
    expect(tokenRequest).toMatchObject({ method: 'POST', path: `/app/installations/${INSTALLATION_ID}/access_tokens`, scheme: 'bearer', status: 201 });
    expect(api).toHaveLength(9);
    expect(api.every((request) => request.scheme === 'token' && request.status === 200)).toBe(true);
    expect(fake.installationTokens).toHaveLength(1);
    expect(provenance['auth']).toBe(`GitHub App ${APP_ID} (installation ${INSTALLATION_ID})`);
    const everything = [...logLines, ...warnings, JSON.stringify(provenance), JSON.stringify(records)].join('\n');
    for (const line of keyLines) expect(everything).not.toContain(line);
    expect(everything).not.toContain(fake.installationTokens[0]);
  });

  it('takes a key whose line breaks were written as \\n, as environment variables often hold it', async () => {
    const { records } = await collect(fake, asApp(), keyEnv(appKey.privateKeyPem.replace(/\n/g, '\\n')));
    expect(records).toHaveLength(10);
  });

  it("a key that is not the app's is a non-retryable AuthError naming the app and installation, without the key", async () => {
    const { error, logLines } = await collectToFailure(fake, asApp(), keyEnv(testAppKey().privateKeyPem));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).retryable).toBe(false);
    expect(error.message).toBe(
      `github: owners page 1: GitHub refused an installation token to GitHub App ${APP_ID} (installation ${INSTALLATION_ID}) (401 A JSON web token could not be decoded); check appId, installationId and privateKey`,
    );
    const everything = [error.message, error.stack, inspect(error, { depth: 5 }), ...logLines].join('\n');
    for (const line of keyLines) expect(everything).not.toContain(line);
    expect(fake.requests).toHaveLength(1);
  });

  it('an installation the app does not have is an AuthError too', async () => {
    const { error } = await collectToFailure(fake, asApp({ installationId: 1 }), keyEnv(appKey.privateKeyPem));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain(`GitHub App ${APP_ID} (installation 1) (404 Not Found)`);
  });

  it('a private key that is not PEM is a ConfigError naming where it came from, not what it holds', async () => {
    const { error } = await collectToFailure(fake, asApp(), keyEnv('not-a-key-but-a-secret-value-0123456789'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('github: app.privateKey (environment variable GITHUB_APP_KEY) is not a PEM private key');
    expect(fake.requests).toEqual([]);
  });
});
