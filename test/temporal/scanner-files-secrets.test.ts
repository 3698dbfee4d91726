import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../worker/logger.ts';
import { runControl } from '../../worker/run-control.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { namespace, writeConfig } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';

/** The value of a `{ file: }` secret kept beside the config, as deployments mount them. */
const API_KEY = 'sk-live-5b1e9c0d7a3f2e8b4c6a9d1f0e7b';

const webhookBodies: string[] = [];
const webhook = createServer(async (request: IncomingMessage, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  webhookBodies.push(body);
  response.writeHead(200).end('ok');
});
beforeAll(() => new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => webhook.close(() => resolve())));

describe('a symlink in a scan folder to a secret file outside it (issue 12)', () => {
  it('is refused before it is read: the gap says which link, where it leads and the root, and the secret is nowhere', async () => {
    const port = (webhook.address() as AddressInfo).port;
    process.env.ISMS_TEST_SECURITY_HOOK = `http://127.0.0.1:${port}/hooks/security`;
    const { dir, file } = writeConfig({
      notifications: [{ name: 'security', kind: 'webhook', url: { env: 'ISMS_TEST_SECURITY_HOOK' }, format: 'json' }],
      controls: [
        {
          id: 'vulns',
          title: 'Vulnerabilities are fixed within their SLA',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          notify: ['security'],
          sources: [{ name: 'scans', connector: 'scanner-files', config: { paths: ['scans'] } }],
          checks: [{ check: 'vulnerability-sla' }],
          collection: { maximumAttempts: 2, initialRetryInterval: '100ms' },
        },
      ],
    });
    const scans = path.join(dir, 'scans');
    const secrets = path.join(dir, 'secrets');
    mkdirSync(scans);
    mkdirSync(secrets);
    writeFileSync(path.join(secrets, 'scanner-api-key'), `${API_KEY}\n`);
    writeFileSync(
      path.join(scans, 'api.trivy.json'),
      JSON.stringify({ SchemaVersion: 2, CreatedAt: '2026-11-24T00:00:00Z', ArtifactName: 'api', Results: [] }),
    );
    // What a compromised CI job can do with write access to the scan folder only.
    symlinkSync(path.join(secrets, 'scanner-api-key'), path.join(scans, 'latest.json'));

    const logLines: string[] = [];
    const runtime = await openRuntime(
      file,
      createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
      testRegistries,
    );
    const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const worker = await createWorker(runtime, nativeConnection, { namespace, workflowBundle: { codePath: inject('workflowBundlePath') } });
      const client = new Client({ connection, namespace });
      const summary = await worker.runUntil(runControl(client, runtime.config, 'vulns', new Date('2026-11-25T06:00:00Z')));

      expect(summary.status).toBe('error');
      expect(summary.gaps).toEqual([
        {
          sourceName: 'scans',
          errorType: 'PermissionError',
          reason:
            `scanner-files: paths[0] "scans": ${path.join(scans, 'latest.json')} resolves to ${path.join(secrets, 'scanner-api-key')}, outside the configured root ${scans} ` +
            '(no allowOutside folders are configured); refused, not read. If files there are meant to be read, add their folder to allowOutside',
        },
      ]);

      const nonconformities = await runtime.register.list();
      expect(nonconformities.map((nc) => [nc.checkId, nc.subject])).toEqual([['evidence-gap', 'scans']]);
      const history = await client.workflow.getHandle(summary.runId).fetchHistory();
      expect(webhookBodies.length).toBeGreaterThan(0);
      const everywhere = {
        summary: JSON.stringify(summary),
        nonconformities: JSON.stringify(nonconformities.map(async (nc) => ({ ...nc, history: await runtime.register.historyOf(nc.id) }))),
        evidence: JSON.stringify(await runtime.store.list({ controlId: 'vulns' })),
        temporalHistory: JSON.stringify(history),
        webhooks: webhookBodies.join('\n'),
        logs: logLines.join('\n'),
      };
      expect(everywhere.webhooks).toContain('outside the configured root');
      expect(everywhere.temporalHistory).toContain('outside the configured root');
      for (const [where, text] of Object.entries(everywhere)) expect(text, where).not.toContain(API_KEY.slice(0, 8));
    } finally {
      await connection.close();
      await nativeConnection.close();
      runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
