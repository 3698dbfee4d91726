import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeConfig } from '../support/temporal.ts';
import { runIsms } from '../support/cli.ts';

const received: { path: string; body: Record<string, unknown> }[] = [];
const webhook = createServer(async (request: IncomingMessage, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  received.push({ path: request.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
  response.writeHead(200).end('ok');
});
beforeAll(() => new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => webhook.close(() => resolve())));

const isms = (args: string[], env: Record<string, string>) => runIsms(args, { env });

describe('isms run', () => {
  it('runs a control now, prints the summary as JSON, exits 1 on nonconformities and tells the webhook without leaking its secret URL', async () => {
    const port = (webhook.address() as AddressInfo).port;
    const secretPath = '/hooks/T000/B000/s3cr3t-token-value';
    const { file } = writeConfig({
      notifications: [{ name: 'security', kind: 'webhook', url: { env: 'ISMS_TEST_WEBHOOK' }, format: 'json' }],
      controls: [
        {
          id: 'cli-run',
          title: 'CLI run',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          notify: ['security'],
          sources: [{ name: 'scans', connector: 'scanner-files', config: { paths: [fileURLToPath(new URL('../../examples/scans', import.meta.url))] } }],
          checks: [{ check: 'vulnerability-sla' }],
        },
      ],
    });
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), ISMS_TEST_WEBHOOK: `http://127.0.0.1:${port}${secretPath}` };
    const result = await isms(['--config', file, 'run', 'cli-run', '--json', '--occurrence', '2026-11-25T06:00:00Z'], env);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as { status: string; runId: string; nonconformities: { opened: string[] } };
    expect(summary).toMatchObject({ status: 'fail', runId: 'control:cli-run:2026-11-25T06:00:00.000Z' });
    expect(summary.nonconformities.opened.length).toBeGreaterThan(0);

    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe(secretPath);
    expect(received[0]!.body).toMatchObject({ controlId: 'cli-run', status: 'fail', owner: 'security@example.com' });
    expect((received[0]!.body.nonconformities as unknown[]).length).toBe(summary.nonconformities.opened.length);
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-token-value');

    const list = await isms(['--config', file, 'nc', 'list', '--status', 'open', '--json'], env);
    expect(list.code).toBe(0);
    const ids = (JSON.parse(list.stdout) as { id: string }[]).map((nc) => nc.id);
    expect(ids).toEqual(summary.nonconformities.opened);

    const again = await isms(['--config', file, 'run', 'cli-run', '--json', '--occurrence', '2026-11-25T06:00:00Z'], env);
    expect(JSON.parse(again.stdout)).toEqual(summary);
    expect(received).toHaveLength(1);
  });

  it('exits 2 naming the control when it is not in the config', async () => {
    const { file } = writeConfig({ controls: [] });
    const result = await isms(['--config', file, 'run', 'nope'], { TEMPORAL_ADDRESS: inject('temporalAddress') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no control "nope"');
  });
});
