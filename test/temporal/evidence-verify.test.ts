import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore, type VerifyReport } from '../../evidence/store.ts';
import { runIsms } from '../support/cli.ts';
import { namespace } from '../support/temporal.ts';
import { controlRun } from '../../workflows/control-run.ts';

const suffix = randomUUID().slice(0, 8);
const running = `control:verify-running:${suffix}`;
const evaluated = `control:verify-evaluated:${suffix}`;
const forgotten = `control:verify-forgotten:${suffix}`;

let dir: string;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-verify-'));
  writeFileSync(path.join(dir, 'isms.yaml'), 'dataDir: data\n');
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace });
  // A run in flight: its workflow is started on a task queue no worker polls, so it stays running.
  await client.workflow.start(controlRun, { taskQueue: `nobody-${suffix}`, workflowId: running, args: [{ controlId: 'verify-running' }] });

  const store = await EvidenceStore.open(path.join(dir, 'data'));
  for (const runId of [running, evaluated, forgotten]) {
    const staged = await store.stage(runId, 'api-scan');
    await staged.append({ kind: 'scan', source: 'api-scan', scanner: 'trivy', asset: 'api', scannedAt: '2026-11-01T00:00:00Z', origin: 'x', findingCount: 0 });
    await staged.checkpoint();
    await staged.abandon();
  }
  await new Register(store.catalog).saveCheckRun(
    { runId: evaluated, controlId: 'verify-evaluated', evaluatedAt: '2026-11-25T06:00:00Z', status: 'error', results: [] },
    [],
  );
  await store.close();
});
afterAll(async () => {
  await client.workflow.getHandle(running).terminate('test over');
  await connection.close();
  rmSync(dir, { recursive: true, force: true });
});

const verify = async (address: string) => {
  const result = await runIsms(['--config', 'isms.yaml', 'evidence', 'verify', '--json'], { cwd: dir, env: { TEMPORAL_ADDRESS: address } });
  return { code: result.code, report: JSON.parse(result.stdout) as VerifyReport };
};

describe('isms evidence verify and staging files', () => {
  it('reports the staging files of runs not in flight, each with the reason, and not the one of a running workflow', async () => {
    const { code, report } = await verify(inject('temporalAddress'));
    expect(code).toBe(1);
    expect(report.problems.map((problem) => [problem.problem, problem.detail.replace(/^staging file .*? of run /, '')]).sort()).toEqual([
      ['staging-orphaned', `${evaluated}, source api-scan: no run in flight (run ${evaluated} has already evaluated its evidence)`],
      ['staging-orphaned', `${forgotten}, source api-scan: no run in flight (Temporal has no workflow ${forgotten})`],
    ]);
  });

  it('says so when Temporal cannot be asked', async () => {
    const { code, report } = await verify('127.0.0.1:1');
    expect(code).toBe(1);
    const detailOf = (runId: string) => report.problems.find((problem) => problem.detail.includes(`of run ${runId},`))?.detail;
    expect(detailOf(running)).toMatch(/no run in flight \(Temporal could not be asked: cannot connect to 127\.0\.0\.1:1: /);
    expect(detailOf(evaluated)).toContain('has already evaluated its evidence');
  });
});
