// @module-tag moto
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { collectEvidence } from '../../activities/collect.ts';
import { defaultChecks } from '../../checks/index.ts';
import { loadConfig } from '../../config/load.ts';
import { connectorRegistry, defineConnector } from '../../connectors/contract.ts';
import { blobStoreOf } from '../../evidence/blob-store-s3.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { createLogger } from '../../worker/logger.ts';
import type { EvidenceRef } from '../../core/contracts.ts';
import { enforceAuthentication, startMoto, type MotoServer } from '../support/moto.ts';

const CREDENTIALS = { accessKeyId: 'AKIAISMSCOLLECTS3001', secretAccessKey: 'collect-s3-secret-Wm4tR8' };

const oneFinding = defineConnector({
  name: 'one-finding',
  kinds: ['finding'],
  version: '1',
  config: z.strictObject({}),
  async *collect() {
    yield {
      kind: 'finding' as const,
      source: 'fixture',
      scanner: 'fixture',
      id: 'CVE-2026-1',
      title: 'fixture vulnerability',
      severity: 'high' as const,
      cvss: 7.5,
      asset: 'app',
      location: 'pkg@1.0.0',
      scannedAt: '2026-11-01T00:00:00Z',
      firstSeenAt: '2026-11-01T00:00:00Z',
      fixedAt: null,
      fixAvailable: true,
    };
  },
});

let moto: MotoServer;
let dir: string;
beforeAll(async () => {
  moto = await startMoto();
  const admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  await admin.send(new CreateBucketCommand({ Bucket: 'evidence' }));
  admin.destroy();
  dir = mkdtempSync(path.join(tmpdir(), 'isms-collect-s3-'));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function collectInto(bucket: string, credentials: { accessKeyId: string; secretAccessKey: string } = CREDENTIALS, logLines: string[] = []) {
  const work = mkdtempSync(path.join(dir, `${bucket}-`));
  const file = path.join(work, 'isms.yaml');
  writeFileSync(
    file,
    stringify({
      dataDir: 'data',
      evidence: { blobs: { kind: 's3', bucket, prefix: 'isms/', region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true } },
      controls: [
        {
          id: 'vuln',
          title: 'Technical vulnerabilities are remediated on time',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [{ name: 'scans', connector: 'one-finding', config: {} }],
          checks: [{ check: 'vulnerability-sla' }],
        },
      ],
    }),
  );
  const config = await loadConfig(file, { connectors: connectorRegistry([oneFinding]), checks: defaultChecks });
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  const store = await EvidenceStore.open(config.dataDir, { log, blobs: blobStoreOf(config.config.evidence.blobs, { credentials }) });
  const run = new MockActivityEnvironment({ attempt: 1, retryPolicy: { maximumAttempts: 3 } }).run(
    collectEvidence,
    { config, store, log },
    { runId: 'control:vuln:2026-11-25T06:00:00.000Z', controlId: 'vuln', sourceName: 'scans', occurrence: '2026-11-25T06:00:00.000Z' },
  );
  return {
    store,
    run: (run as Promise<EvidenceRef>).then(
      (ref) => ({ ref }),
      (error: unknown) => ({ error }),
    ),
    staging: () => readdirSync(path.join(config.dataDir, 'evidence/staging')),
  };
}

describe('collectEvidence with evidence in S3', () => {
  it('commits the snapshot to the bucket, and verify re-hashes it there', async () => {
    const { store, run } = await collectInto('evidence');
    const result = await run;
    expect('ref' in result && result.ref.recordCount).toBe(1);
    const report = await store.verify();
    expect(report).toMatchObject({ ok: true, checked: 1 });
    store.close();
  });

  it('a missing bucket: a non-retryable failure naming the bucket and the operation, and nothing half-stored', async () => {
    const { store, run, staging } = await collectInto('no-such-bucket');
    const result = await run;
    const failure = 'error' in result ? result.error : undefined;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'EvidenceStorageError', nonRetryable: true });
    expect((failure as Error).message).toMatch(
      /^S3 PutObject s3:\/\/no-such-bucket\/isms\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.ndjson\.zst: the bucket does not exist \(HTTP 404\); not retried$/,
    );
    expect(await store.list()).toEqual([]);
    expect(staging()).toEqual([]);
    store.close();
  });

  // Last in the file: from here on moto checks every request's keys and policies.
  it('access denied: a non-retryable failure, and neither the access key id nor the secret in it or in any log line', async () => {
    const iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'reader',
        PolicyName: 'read',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }),
      }),
    );
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    iam.destroy();
    await enforceAuthentication(moto);
    const reader = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const lines: string[] = [];
    const { store, run } = await collectInto('evidence', reader, lines);
    const result = await run;
    const failure = 'error' in result ? result.error : undefined;
    expect(failure).toMatchObject({ type: 'EvidenceStorageError', nonRetryable: true });
    expect((failure as Error).message).toMatch(/^S3 PutObject s3:\/\/evidence\/isms\/sha256\/.*: access denied \(HTTP 403\); not retried$/);
    expect(lines.join('')).toContain('collection failed');
    const everything = `${lines.join('')} ${(failure as Error).message} ${(failure as Error).stack} ${JSON.stringify(failure)}`;
    expect(everything).not.toContain(reader.accessKeyId);
    expect(everything).not.toContain(reader.secretAccessKey);
    store.close();
  });
});
