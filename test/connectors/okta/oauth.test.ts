import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, PermissionError } from '../../../connectors/errors.ts';
import { DpopKey } from '../../../connectors/okta/oauth.ts';
import { startFakeOkta, type FakeOkta } from '../../support/fake-okta.ts';
import { collect, collectToFailure, EVERYONE, resetFake, usernames } from './setup.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: typeof rsa.privateKey) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const SCOPES = ['okta.users.read', 'okta.roles.read', 'okta.groups.read'];

let fake: FakeOkta;
beforeAll(async () => {
  fake = await startFakeOkta();
});
afterAll(() => fake.close());
beforeEach(() => {
  resetFake(fake);
  fake.state.apps = [
    { clientId: '0oaRsaApp', publicKey: rsa.publicKey, keyId: 'k1', scopes: SCOPES },
    { clientId: '0oaEcApp', publicKey: ec.publicKey, scopes: SCOPES },
  ];
});

const oauth = (clientId: string, extra: Record<string, unknown> = {}) => ({ token: undefined, oauth: { clientId, privateKey: { env: 'OKTA_KEY' }, ...extra } });

describe('okta with an OAuth service app', () => {
  it('signs a client assertion (RS256 with the kid, or ES256), gets one access token and reads everything with it as Bearer', async () => {
    for (const [clientId, key, alg, extra] of [
      ['0oaRsaApp', rsa.privateKey, 'RS256', { keyId: 'k1' }],
      ['0oaEcApp', ec.privateKey, 'ES256', {}],
    ] as const) {
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
    expect(error.message).toBe(
      'okta: users page 1: Okta refused an access token to OAuth service app 0oaRsaApp (invalid_client The client_assertion signature is invalid.); check clientId, keyId and privateKey',
    );
    expect(error.message).not.toContain('PRIVATE KEY');

    fake.state.apps[0]!.scopes = ['okta.users.read'];
    const scoped = await collectToFailure(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    expect(scoped.error).toBeInstanceOf(PermissionError);
    expect(scoped.error.message).toMatch(
      /^okta: users page 1: Okta refused the scopes okta\.users\.read okta\.roles\.read okta\.groups\.read to OAuth service app 0oaRsaApp \(invalid_scope/,
    );
  });

  it('says to set oauth.dpop when the app requires DPoP and the config does not send it', async () => {
    fake.state.apps[0]!.requireDpop = true;
    const { error } = await collectToFailure(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).retryable).toBe(false);
    expect(error.message).toBe(
      'okta: users page 1: Okta asks OAuth service app 0oaRsaApp for a DPoP proof (invalid_dpop_proof): set oauth.dpop to true, as the app has "Require Demonstrating Proof of Possession (DPoP) header in token requests" on',
    );
  });

  it('with DPoP: takes the nonce Okta hands out, gets a DPoP-bound token and proves the key on every request', async () => {
    fake.state.apps[0]!.requireDpop = true;
    fake.proofs.length = 0;
    const { records, logLines, provenance } = await collect(fake, oauth('0oaRsaApp', { keyId: 'k1', dpop: true }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    expect(usernames(records)).toEqual(EVERYONE);
    // The first token request has no nonce and is told to use one; the second holds it.
    expect(fake.requests.slice(0, 2).map((request) => [request.path, request.status])).toEqual([
      ['/oauth2/v1/token', 400],
      ['/oauth2/v1/token', 200],
    ]);
    const api = fake.requests.slice(2);
    expect(api.length).toBeGreaterThan(10);
    expect(api.every((request) => request.scheme === 'DPoP' && request.status === 200)).toBe(true);
    // One proof per request, each with its own jti, all by one key made for this collection, not the app's key.
    expect(fake.proofs).toHaveLength(1 + api.length);
    expect(new Set(fake.proofs.map((proof) => proof.claims['jti'])).size).toBe(fake.proofs.length);
    expect(new Set(fake.proofs.map((proof) => JSON.stringify(proof.header['jwk']))).size).toBe(1);
    expect(fake.proofs[0]!.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(fake.proofs[0]!.header['jwk']).not.toHaveProperty('d');
    expect(fake.proofs[0]!.claims).toMatchObject({ htm: 'POST', htu: `${fake.orgUrl}/oauth2/v1/token`, nonce: expect.any(String) });
    expect(fake.proofs[1]!.claims).toMatchObject({ htm: 'GET', htu: `${fake.orgUrl}/api/v1/users`, ath: expect.any(String) });
    expect(fake.proofs[1]!.claims).not.toHaveProperty('nonce');
    // Neither the app's key nor the DPoP key nor the token reaches the log or the provenance.
    const told = JSON.stringify({ logLines, provenance });
    for (const secret of ['PRIVATE KEY', '"d":', fake.issuedTokens.at(-1)!]) expect(told).not.toContain(secret);
  });

  it('with DPoP: a token used as a plain Bearer token, or a proof by another key, is refused', async () => {
    fake.state.apps[0]!.requireDpop = true;
    await collect(fake, oauth('0oaRsaApp', { keyId: 'k1', dpop: true }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    const token = fake.issuedTokens.at(-1)!;
    const bearer = await fetch(`${fake.orgUrl}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(401);
    const stranger = new DpopKey().proof('GET', `${fake.orgUrl}/api/v1/users`, new Date(), { accessToken: token });
    const stolen = await fetch(`${fake.orgUrl}/api/v1/users`, { headers: { authorization: `DPoP ${token}`, dpop: stranger } });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('signs a new client assertion when a token request is sent again: Okta refuses a jti it has seen', async () => {
    fake.assertions.length = 0;
    fake.faults.clear();
    fake.faults.inject({ kind: 'truncated', operation: 'token' });
    const { records, provenance } = await collect(fake, oauth('0oaRsaApp', { keyId: 'k1' }), { env: { OKTA_KEY: pem(rsa.privateKey) } });
    fake.faults.clear();
    expect(usernames(records)).toEqual(EVERYONE);
    expect(fake.requests.filter((request) => request.path === '/oauth2/v1/token')).toHaveLength(2);
    expect(new Set(fake.assertions.map((assertion) => assertion.claims['jti'])).size).toBe(2);
    expect(provenance['retries']).toBe(1);
  });

  it('refuses a private key that is not PEM without quoting it', async () => {
    const { error } = await collectToFailure(fake, oauth('0oaRsaApp'), { env: { OKTA_KEY: 'not-a-key-secret-material' } });
    expect(error.message).toBe('okta: oauth.privateKey (environment variable OKTA_KEY) is not a PEM private key');
    expect(fake.requests).toEqual([]);
  });
});
