import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../core/errors.ts';
import { connectClient, connectWorker, START_TEMPORAL_HINT, temporalSettings, TemporalUnavailableError } from '../../worker/connection.ts';
import { runIsms } from '../support/cli.ts';

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

/** A port nothing listens on: the kernel hands it out, and it is closed again before use. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a command that needs Temporal when none is reachable', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A folder with a config of its own: the commands below run at once, and each opens its catalog. */
  function configFolder(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-unreachable-'));
    dirs.push(dir);
    writeFileSync(
      path.join(dir, 'isms.yaml'),
      stringify({
        dataDir: 'data',
        controls: [
          {
            id: 'access',
            title: 'Access',
            reference: 'A.5.18',
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            sources: [{ name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'T' } } }],
            checks: [{ check: 'mfa-missing' }],
          },
        ],
        calendar: { defaults: true, owner: 'isms@example.com' },
      }),
    );
    return dir;
  }

  // Each way a command reaches Temporal: the worker's native connection first (run), the client's alone (schedules),
  // and the client's before the work goes to a deployed worker (activity open; review decide and the other
  // Temporal commands go through the same withTemporal).
  it.concurrent.each([[['run', 'access']], [['schedules', 'list']], [['activity', 'open', 'access-review']]])(
    'isms %j says which address it tried and how to start Temporal, in one line, exit 3',
    async (args) => {
      const address = `127.0.0.1:${await closedPort()}`;
      const result = await runIsms(['--config', 'isms.yaml', ...args], { cwd: configFolder(), env: { TEMPORAL_ADDRESS: address }, timeout: 30_000 });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toBe(
        `cannot reach Temporal at ${address} (connection refused): start one with \`npm run dev\` (\`isms dev\`) or \`temporal server start-dev\`, or set TEMPORAL_ADDRESS to a running server\n`,
      );
      expect(result.stderr).not.toMatch(/tonic|transport::Error|deadline/);
    },
  );

  it.each([
    ['the client', connectClient],
    ["the worker's native connection", connectWorker],
  ])('%s names a refused port and a host that does not resolve', async (_name, connect) => {
    const address = `127.0.0.1:${await closedPort()}`;
    await expect(connect({ address, namespace: 'default' })).rejects.toThrow(
      new TemporalUnavailableError(`cannot reach Temporal at ${address} (connection refused): ${START_TEMPORAL_HINT}`),
    );
    await expect(connect({ address: 'temporal.invalid:7233', namespace: 'default' })).rejects.toThrow(
      new TemporalUnavailableError(`cannot reach Temporal at temporal.invalid:7233 (host name not found): ${START_TEMPORAL_HINT}`),
    );
  });
});
