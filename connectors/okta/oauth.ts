import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

/** An OAuth 2.0 API service app authenticating with a private key (client credentials, private_key_jwt). */
export interface OAuthApp {
  clientId: string;
  keyId: string | undefined;
  privateKey: KeyObject;
  scopes: readonly string[];
  /** Whether token requests carry DPoP proofs, as an app with "Require DPoP" set demands. */
  dpop: boolean;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS: ES256 for EC P-256 keys (the signature as r||s, as JWS wants it), RS256 for RSA keys. */
function signedJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const ec = key.asymmetricKeyType === 'ec';
  const input = `${base64url({ alg: ec ? 'ES256' : 'RS256', ...header })}.${base64url(claims)}`;
  const signature = sign('sha256', Buffer.from(input), ec ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${signature.toString('base64url')}`;
}

/** The signed JWT a service app proves itself with: iss and sub its client id, aud the token endpoint, five minutes to live. */
export function clientAssertion(app: Pick<OAuthApp, 'clientId' | 'keyId' | 'privateKey'>, audience: string, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const claims = { iss: app.clientId, sub: app.clientId, aud: audience, iat, exp: iat + 300, jti: randomUUID() };
  return signedJwt({ typ: 'JWT', ...(app.keyId === undefined ? {} : { kid: app.keyId }) }, claims, app.privateKey);
}

/**
 * The key DPoP-bound tokens are bound to (RFC 9449): an EC P-256 pair made for one collection and held only in
 * memory, so it dies with the collection and no stored secret can be taken to reuse a token. The private half is
 * never exported; only the public JWK travels, inside each proof.
 */
export class DpopKey {
  readonly #privateKey: KeyObject;
  readonly #jwk: { kty: string; crv: string; x: string; y: string };

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.#privateKey = pair.privateKey;
    const { kty, crv, x, y } = pair.publicKey.export({ format: 'jwk' });
    this.#jwk = { kty: kty!, crv: crv!, x: x!, y: y! };
  }

  /**
   * A proof for one request: the method and URL (without query or fragment), a fresh jti, the server's nonce when it
   * gave one, and for a resource request the hash of the access token it goes with (`ath`).
   */
  proof(method: string, url: string, now: Date, bound: { nonce?: string | undefined; accessToken?: string | undefined } = {}): string {
    const target = new URL(url);
    const claims = {
      jti: randomUUID(),
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      iat: Math.floor(now.getTime() / 1000),
      ...(bound.nonce === undefined ? {} : { nonce: bound.nonce }),
      ...(bound.accessToken === undefined ? {} : { ath: createHash('sha256').update(bound.accessToken).digest('base64url') }),
    };
    return signedJwt({ typ: 'dpop+jwt', jwk: this.#jwk }, claims, this.#privateKey);
  }

  toJSON(): string {
    return 'DpopKey';
  }
}
