import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { EvidenceStore } from '../../evidence/store.ts';
import type { EvidenceRow } from '../../evidence/evidence-row.ts';
import { writeConfig } from '../support/temporal.ts';
import { cliPath, runIsms } from '../support/cli.ts';

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

const examples = fileURLToPath(new URL('../../examples', import.meta.url));
const scanControl = (id: string) => ({
  id,
  title: id,
  reference: 'A.8.8',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  sources: [{ name: 'scans', connector: 'scanner-files', config: { paths: [path.join(examples, 'scans')] } }],
  checks: [{ check: 'vulnerability-sla' }],
});

async function rowsIn(dataDir: string): Promise<EvidenceRow[]> {
  const store = await EvidenceStore.open(dataDir);
  try {
    return await store.list();
  } finally {
    await store.close();
  }
}

describe('isms run beside a deployed worker on the same task queue', () => {
  const workerScript = fileURLToPath(new URL('../support/worker-process.ts', import.meta.url));
  let deployed: ChildProcess;
  let cli: { dir: string; file: string; taskQueue: string };
  let deployedDir: string;
  const env = () => ({ TEMPORAL_ADDRESS: inject('temporalAddress') });

  beforeAll(async () => {
    cli = writeConfig({ controls: [scanControl('shared-queue')] });
    // The deployed worker has the same task queue and control, and its own data folder.
    deployedDir = path.join(cli.dir, 'deployed');
    const deployedConfig = path.join(cli.dir, 'deployed.yaml');
    writeFileSync(deployedConfig, stringify({ dataDir: 'deployed', temporal: { taskQueue: cli.taskQueue }, controls: [scanControl('shared-queue')] }));
    deployed = spawn(process.execPath, [workerScript, deployedConfig, inject('temporalAddress'), inject('workflowBundlePath')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    for await (const chunk of deployed.stdout!) if ((output += String(chunk)).includes('ready')) break;
  });
  afterAll(async () => {
    deployed.kill('SIGTERM');
    if (deployed.exitCode === null) await once(deployed, 'exit');
  });

  it('runs the control with its own config: every activity on its own worker, the evidence in its data folder', async () => {
    for (const occurrence of ['2026-11-25T06:00:00Z', '2026-11-26T06:00:00Z', '2026-11-27T06:00:00Z']) {
      const result = await runIsms(['--config', cli.file, 'run', 'shared-queue', '--json', '--occurrence', occurrence], { env: env() });
      expect(result.code).toBe(1);
    }
    expect((await rowsIn(path.join(cli.dir, 'data'))).map((row) => row.controlId)).toEqual(['shared-queue', 'shared-queue', 'shared-queue']);
    expect(await rowsIn(deployedDir)).toEqual([]);
  });

  it('with --no-worker says that the deployed worker runs it, and leaves it to that worker', async () => {
    const before = (await rowsIn(path.join(cli.dir, 'data'))).length;
    const result = await runIsms(['--config', cli.file, 'run', 'shared-queue', '--no-worker', '--occurrence', '2026-11-28T06:00:00Z'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^control:shared-queue:2026-11-28T06:00:00\.000Z: starting on task queue isms-test-\S+; a deployed worker runs it, with that worker's config and data folder\n$/,
    );
    expect(await rowsIn(deployedDir)).toHaveLength(1);
    expect(await rowsIn(path.join(cli.dir, 'data'))).toHaveLength(before);
  });
});

describe('isms run stopped with SIGTERM while a collection is in flight', () => {
  it('lets the collection finish within the grace period, exits 3 saying how to finish the run, and the same occurrence then finishes it without a retry', async () => {
    const { dir, file, taskQueue } = writeConfig({ controls: [] });
    const fifo = path.join(dir, 'people.csv');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(
      file,
      stringify({
        dataDir: 'data',
        temporal: { taskQueue },
        controls: [
          {
            id: 'cli-grace',
            title: 'CLI grace',
            reference: 'A.5.18',
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            sources: [
              {
                name: 'people',
                connector: 'hr-csv',
                config: { path: fifo, columns: { employeeId: 'Employee #', email: 'Work Email', status: 'Status', terminationDate: 'Termination Date' } },
              },
            ],
            checks: [{ check: 'leaver-still-active' }],
          },
        ],
      }),
    );
    const env = { ...process.env, LOG_LEVEL: 'silent', TEMPORAL_ADDRESS: inject('temporalAddress') };
    const args = ['--config', file, 'run', 'cli-grace', '--json', '--occurrence', '2026-11-25T06:00:00Z'];
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');

    // Opening the pipe for writing waits for the collection to open it for reading: the activity is then in flight.
    const pipe = await open(fifo, 'w');
    await pipe.write('Employee #,Work Email,Status,Termination Date\n1001,amara.okafor@example.com,Active,\n');
    child.kill('SIGTERM');
    // The worker is stopping now; the collection still reads the rest.
    await sleep(1_000);
    await pipe.write('1002,ben.hartley@example.com,Leaver,2026-10-31\n').catch(() => undefined);
    await pipe.close();
    const [code] = await exited;

    expect(code).toBe(3);
    expect(stderr).toContain(
      'SIGTERM: the worker stopped after its in-flight activities; run control:cli-grace:2026-11-25T06:00:00.000Z stays open. `isms run cli-grace --occurrence 2026-11-25T06:00:00.000Z` finishes it',
    );
    const committed = await rowsIn(path.join(dir, 'data'));
    expect(committed).toHaveLength(1);
    expect(committed[0]!.provenance).toMatchObject({ attempt: 1, resumed: false });

    const finished = await runIsms(args, { env: { TEMPORAL_ADDRESS: inject('temporalAddress') } });
    expect(finished.stderr).toBe('');
    const summary = JSON.parse(finished.stdout) as { evidence: { recordCount: number }[]; gaps: unknown[] };
    expect(summary.gaps).toEqual([]);
    expect(summary.evidence.map((ref) => ref.recordCount)).toEqual([2]);
    expect(await rowsIn(path.join(dir, 'data'))).toHaveLength(1);
  });
});
