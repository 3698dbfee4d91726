// @module-tag moto
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import { createLogger } from '../../worker/logger.ts';
import { openReview, waitForReviewLists } from '../../worker/review.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { controlRun } from '../../workflows/control-run.ts';
import { directoryUser, startFakeGoogleDirectory, type FakeGoogleDirectory } from '../support/fake-google-directory.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { postgresDatabase } from '../support/postgres.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { startWorkerProcess as launchWorkerProcess } from '../support/worker-launcher.ts';

/**
 * Workers on several hosts: three worker processes, each with its own working directory and no disk in common, share
 * one PostgreSQL catalog and one S3 bucket (moto, with Object Lock). Fifty control runs and an access review campaign
 * go to them at once; afterwards each run's evidence is there exactly once, the chain and the S3 journal verify, and
 * no nonconformity is doubled.
 */

const CONTROLS = 5;
const OCCURRENCES = 10;
const FINDINGS_PER_CONTROL = 3 * 4;
const TOKEN = `ya29.multi-host-${randomUUID()}`;
const ADMIN = 'admin@example.com';
const BUCKET = 'isms-multi-host';

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** One host's config: the same controls, catalog and bucket, its own data folder for staging. */
function hostConfig(prefix: string, taskQueue: string, directory: FakeGoogleDirectory, moto: MotoServer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-host-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'isms.yaml');
  const controls = Array.from({ length: CONTROLS }, (_, index) => ({
    id: `${prefix}-${index}`,
    title: `Vulnerabilities on app-${index} are remediated`,
    reference: 'A.8.8',
    owner: 'security@example.com',
    schedule: { every: '1 day' },
    sources: [{ name: 'scan', connector: 'paged-findings', config: { asset: `app-${index}`, pages: 3, perPage: 4, delayMs: 20 } }],
    checks: [{ check: 'vulnerability-sla' }],
    collection: { maximumAttempts: 10, initialRetryInterval: '200ms' },
  }));
  const access = {
    id: `${prefix}-access`,
    title: 'Access rights are reviewed',
    reference: 'A.5.18',
    owner: 'security@example.com',
    schedule: { cron: '0 6 * * *' },
    sources: [
      {
        name: 'google',
        connector: 'google-workspace',
        config: { accessToken: { env: 'MULTI_HOST_GOOGLE_TOKEN' }, rootUrl: directory.rootUrl, retryBaseMs: 5 },
      },
    ],
    checks: [{ check: 'mfa-missing' }],
    review: { every: 'quarterly', reviewers: { google: 'it-lead@example.com' } },
  };
  writeFileSync(
    file,
    stringify({
      dataDir: 'data',
      temporal: { taskQueue },
      catalog: { url: { env: 'MULTI_HOST_CATALOG_URL' } },
      evidence: {
        blobs: {
          kind: 's3',
          bucket: BUCKET,
          prefix: `${prefix}/`,
          region: 'us-east-1',
          endpoint: moto.endpoint,
          forcePathStyle: true,
          objectLock: { mode: 'GOVERNANCE', retainDays: 1 },
        },
      },
      controls: [...controls, access],
    }),
  );
  return file;
}

async function startWorkerProcess(configFile: string, env: Record<string, string>): Promise<ChildProcess> {
  const launched = await launchWorkerProcess({
    configFile,
    address: inject('temporalAddress'),
    bundlePath: inject('workflowBundlePath'),
    env,
    started: children,
  });
  return launched.child;
}

describe('three workers on three hosts, one PostgreSQL catalog and one S3 bucket', () => {
  it('run fifty control runs and an access review at once: evidence once per run, one unbroken chain, no doubled nonconformity', async () => {
    const moto = await startMoto();
    cleanups.push(() => moto.stop());
    const env = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', MULTI_HOST_GOOGLE_TOKEN: TOKEN };
    Object.assign(process.env, env);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
    const database = await postgresDatabase();
    cleanups.push(() => database.drop());
    process.env.MULTI_HOST_CATALOG_URL = database.url;
    const directory = await startFakeGoogleDirectory({
      users: [
        directoryUser('1', ADMIN, 'Ada Admin', { isAdmin: true }),
        directoryUser('2', 'alice@example.com', 'Alice'),
        directoryUser('3', 'bob@example.com', 'Bob', { isEnrolledIn2Sv: false }),
      ],
      accessTokens: [{ token: TOKEN, subject: ADMIN }],
    });
    cleanups.push(() => directory.close());

    const prefix = `mh${randomUUID().slice(0, 6)}`;
    const taskQueue = `isms-test-${randomUUID()}`;
    const hosts = [0, 1, 2].map(() => hostConfig(prefix, taskQueue, directory, moto));
    const workers = await Promise.all(hosts.map((file) => startWorkerProcess(file, { ...env, MULTI_HOST_CATALOG_URL: database.url })));

    // The auditor's view: a fourth data folder on the same catalog and bucket.
    const runtime: Runtime = await openRuntime(hostConfig(prefix, taskQueue, directory, moto), createLogger({ level: 'silent' }), testRegistries);
    cleanups.push(() => runtime.close());
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    const runs = [];
    for (let control = 0; control < CONTROLS; control++) {
      for (let day = 0; day < OCCURRENCES; day++) {
        const controlId = `${prefix}-${control}`;
        const occurrence = new Date(Date.UTC(2026, 10, 1 + day, 6)).toISOString();
        runs.push(
          client.workflow.start(controlRun, {
            taskQueue,
            workflowId: `control:${controlId}:${occurrence}`,
            args: [{ controlId, trigger: 'manual', occurrence }],
          }),
        );
      }
    }
    const campaign = await openReview(client, runtime.config, `${prefix}-access`);
    const handles = await Promise.all(runs);
    const summaries = await Promise.all(handles.map((handle) => handle.result()));
    const progress = await waitForReviewLists(client, campaign.campaignId);

    for (const worker of workers) worker.kill('SIGTERM');
    const exits = await Promise.all(workers.map(async (worker) => (worker.exitCode ?? (await once(worker, 'exit'))[0]) as number | null));
    expect(exits).toEqual([0, 0, 0]);

    expect(summaries.map((summary) => summary.gaps)).toEqual(summaries.map(() => []));
    expect(new Set(summaries.map((summary) => summary.status))).toEqual(new Set(['fail']));
    const rows = await runtime.store.list();
    const runIds = new Set(summaries.map((summary) => summary.runId));
    const evidence = rows.filter((row) => runIds.has(row.runId));
    expect(evidence).toHaveLength(CONTROLS * OCCURRENCES);
    expect(new Set(evidence.map((row) => row.runId))).toEqual(runIds);
    expect(new Set(evidence.map((row) => row.recordCount))).toEqual(new Set([1 + FINDINGS_PER_CONTROL]));

    // Each finding is one nonconformity of its control however many runs on however many hosts observed it.
    const open = (await runtime.register.list()).filter((nc) => nc.controlId.startsWith(`${prefix}-`) && nc.checkId === 'vulnerability-sla');
    expect(open).toHaveLength(CONTROLS * FINDINGS_PER_CONTROL);
    expect(new Set(open.map((nc) => nc.fingerprint)).size).toBe(open.length);
    expect(new Set(open.map((nc) => nc.occurrences))).toEqual(new Set([OCCURRENCES]));

    // The campaign collected once and listed each account once, whichever worker ran which step.
    expect(progress).toMatchObject({ phase: 'open', entryCount: 3, systems: ['google'] });
    const entries = await new AccessReviewStore(runtime.store.catalog).entries(campaign.campaignId);
    expect(entries.map((entry) => entry.username).sort()).toEqual([ADMIN, 'alice@example.com', 'bob@example.com']);

    // One chain, every blob and journal entry in the bucket, nothing on any worker's disk needed.
    const report = await runtime.store.verify();
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(rows.length);
    const journal = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/journal/` }));
    expect(journal.KeyCount).toBe(rows.length);
  }, 300_000);
});
