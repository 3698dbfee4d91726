import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, PermissionError } from '../../../connectors/errors.ts';
import { startFakeOkta, type FakeOkta } from '../../support/fake-okta.ts';
import { collect, collectToFailure, EVERYONE, resetFake, usernames } from './setup.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: typeof rsa.privateKey) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const SCOPES = ['okta.users.read', 'okta.roles.read', 'okta.groups.read'];

let fake: FakeOkta;
beforeAll(async () => { fake = await startFakeOkta(); });
afterAll(() => fake.close());
beforeEach(() => {
  resetFake(fake);
  fake.state.apps = [{ clientId: '0oaRsaApp', publicKey: rsa.publicKey, keyId: 'k1', scopes: SCOPES }, { clientId: '0oaEcApp', publicKey: ec.publicKey, scopes: SCOPES }];
});

const oauth = (clientId: string, extra: Record<string, unknown> = {}) => ({ token: undefined, oauth: { clientId, privateKey: { env: 'OKTA_KEY' }, ...extra } });

describe('okta with an OAuth service app', () => {
  it('signs a client assertion (RS256 with the kid, or ES256), gets one access token and reads everything with it as Bearer', async () => {
    for (const [clientId, key, alg, extra] of [['0oaRsaApp', rsa.privateKey, 'RS256', { keyId: 'k1' }], ['0oaEcApp', ec.privateKey, 'ES256', {}]] as const) {
      resetFake(fake);
      fake.assertions.length = 0;
      const { records, provenance } = await collect(fake, oauth(clientId, extra), { env: { OKTA_KEY: pem(key).replace(/\n/g, '\\n') } });
      expect(usernames(records)).toEqual(EVERYONE);
      expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/oauth2/v1/token', status: 200 });
      expect(fake.requests.slice(1).every((request) => request.scheme === 'Bearer' && request.status === 200)).toBe(true);
      expect(fake.assertions).toHaveLength(1);
      expect(fake.assertions[0]!.header).toMatchObject({ alg, ...('keyId' in extra ? { kid: 'k1' } : {}) });
      expect(fake.assertions[0]!.claims).toMatchObject({ iss: clientId, sub: clientId, aud: `${fake.orgUrl}/oauth2/v1/token` });
      expect(provenance['auth']).toBe(`OAuth service app ${clientId}`);
    }
  });

  it('a key the app does not hold is a non-retryable AuthError; a scope not granted is a PermissionError', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { error } = await collectToFailure(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(other) } });
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).retryable).toBe(false);
    expect(error.message).toBe('okta: users page 1: Okta refused an access token to OAuth service app 0oaRsaApp (invalid_client The client_assertion signature is invalid.); check clientId, keyId and privateKey');
    expect(error.message).not.toContain('PRIVATE KEY');

    fake.state.apps[0]!.scopes = ['okta.users.read'];
    const scoped = await collectToFailure(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    expect(scoped.error).toBeInstanceOf(PermissionError);
    expect(scoped.error.message).toMatch(/^okta: users page 1: Okta refused the scopes okta\.users\.read okta\.roles\.read okta\.groups\.read to OAuth service app 0oaRsaApp \(invalid_scope/);
  });

  it('says what to change when the app requires DPoP, which this connector does not send', async () => {
    fake.state.apps[0]!.requireDpop = true;
    const { error } = await collectToFailure(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('turn off "Require Demonstrating Proof of Possession (DPoP) header in token requests" on the app');
  });

  it('refuses a private key that is not PEM without quoting it', async () => {
    const { error } = await collectToFailure(fake, oauth('0oaRsaApp'), { env: { OKTA_KEY: 'not-a-key-secret-material' } });
    expect(error.message).toBe('okta: oauth.privateKey (environment variable OKTA_KEY) is not a PEM private key');
    expect(fake.requests).toEqual([]);
  });
});
