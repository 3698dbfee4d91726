import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.ts';
import { temporalSettings } from '../../worker/connection.ts';

describe('Temporal connection settings from the environment', () => {
  it('defaults to a local server without TLS', () => {
    expect(temporalSettings({})).toEqual({ address: 'localhost:7233', namespace: 'default', apiKey: undefined, tls: undefined });
  });

  it('an API key (Temporal Cloud) turns TLS on', () => {
    expect(temporalSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'key' })).toMatchObject({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'ns.acct',
      apiKey: 'key',
      tls: true,
    });
  });

  it('reads mTLS files and the server name', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-tls-'));
    for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, name), `${name} bytes`);
    const settings = temporalSettings({
      TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'),
      TEMPORAL_TLS_CERT: path.join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY: path.join(dir, 'client.key'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(settings.tls).toMatchObject({ serverName: 'temporal.internal' });
    const tls = settings.tls as { serverRootCACertificate: Buffer; clientCertPair: { crt: Buffer; key: Buffer } };
    expect(tls.serverRootCACertificate.toString()).toBe('ca.pem bytes');
    expect(tls.clientCertPair.key.toString()).toBe('client.key bytes');
  });

  it('names a missing TLS file and a half-configured client certificate', () => {
    expect(() => temporalSettings({ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' })).toThrow(new ConfigError('TEMPORAL_TLS_CA: cannot read /nonexistent/ca.pem'));
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-tls-'));
    writeFileSync(path.join(dir, 'client.pem'), 'x');
    expect(() => temporalSettings({ TEMPORAL_TLS_CERT: path.join(dir, 'client.pem') })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together/);
  });
});
