// @module-tag moto
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EvidenceStore } from '../../evidence/store.ts';
import type { EvidenceRow } from '../../evidence/evidence-row.ts';
import { runIsms } from '../support/cli.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

const CREDENTIALS = { accessKeyId: 'AKIAISMSMIGRATECLI01', secretAccessKey: 'migrate-cli-secret-Pz6wK4' };
const AWS_ENV = { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };

let moto: MotoServer;
let admin: S3Client;
const dir = mkdtempSync(path.join(tmpdir(), 'isms-migrate-blobs-'));

async function seed(dataDir: string): Promise<EvidenceRow[]> {
  const store = await EvidenceStore.open(dataDir);
  const rows: EvidenceRow[] = [];
  for (const [index, at] of ['2026-10-01T06:00:00.000Z', '2026-10-15T06:00:00.000Z', '2026-11-02T06:00:00.000Z'].entries()) {
    const staged = await store.stage(`run-${index}`, 'scans');
    await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: `api-${index}`, scannedAt: at, origin: 'f', findingCount: 0 });
    rows.push(
      await store.commit(staged, {
        runId: `run-${index}`,
        controlId: 'vuln',
        sourceName: 'scans',
        connector: 'scanner-files',
        connectorVersion: '1',
        kinds: ['scan'],
        collectedAt: at,
        provenance: {},
        warnings: [],
      }),
    );
  }
  store.close();
  return rows;
}

beforeAll(async () => {
  moto = await startMoto();
  admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  await admin.send(new CreateBucketCommand({ Bucket: 'evidence' }));
}, 60_000);
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => runIsms(args, { cwd: dir, env: AWS_ENV });

describe('isms evidence migrate-blobs', () => {
  it('copies every blob and the journal to S3, after which the store verifies against S3 and a blob gone from S3 is named', async () => {
    const rows = await seed(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'fs.yaml'), stringify({ dataDir: 'data' }));
    const to = ['--config', 'fs.yaml', 'evidence', 'migrate-blobs', '--to', 's3://evidence/isms/', '--endpoint', moto.endpoint, '--force-path-style'];
    const migrated = await run(to);
    expect(migrated).toMatchObject({ code: 0, stderr: '' });
    expect(migrated.stdout).toBe(
      '3 evidence rows: 3 blobs copied to s3://evidence/isms/, 0 already there; 3 journal entries\nverify against s3://evidence/isms/: ok\n',
    );
    const again = await run(to);
    expect(again.stdout).toContain('3 evidence rows: 0 blobs copied to s3://evidence/isms/, 3 already there; 3 journal entries');

    const blobs = { kind: 's3', bucket: 'evidence', prefix: 'isms/', region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true };
    writeFileSync(path.join(dir, 's3.yaml'), stringify({ dataDir: 'data', evidence: { blobs } }));
    // The local blobs are out of the way: what verifies now is in S3.
    rmSync(path.join(dir, 'data/evidence/blobs'), { recursive: true, force: true });
    const verified = await run(['--config', 's3.yaml', 'evidence', 'verify']);
    expect(verified).toMatchObject({ code: 0, stdout: 'ok: 3 evidence rows verified\n' });

    await admin.send(new DeleteObjectCommand({ Bucket: 'evidence', Key: `isms/${rows[1]!.uri}` }));
    const missing = await run(['--config', 's3.yaml', 'evidence', 'verify', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      ok: false,
      problems: [{ evidenceId: rows[1]!.id, problem: 'blob-missing', detail: `blob ${rows[1]!.uri} is missing from s3://evidence/isms/` }],
    });
  }, 120_000);

  it('reports by evidence id a blob that does not re-hash, copies the others, and exits 1', async () => {
    const rows = await seed(path.join(dir, 'broken'));
    writeFileSync(path.join(dir, 'broken.yaml'), stringify({ dataDir: 'broken' }));
    const file = path.join(dir, 'broken/evidence/blobs', rows[0]!.uri);
    chmodSync(file, 0o644);
    writeFileSync(file, 'not what was stored');
    const migrated = await run([
      '--config',
      'broken.yaml',
      'evidence',
      'migrate-blobs',
      '--to',
      's3://evidence/broken/',
      '--endpoint',
      moto.endpoint,
      '--force-path-style',
    ]);
    expect(migrated.code).toBe(1);
    expect(migrated.stdout).toContain('3 evidence rows: 2 blobs copied to s3://evidence/broken/, 0 already there; 3 journal entries');
    expect(migrated.stdout).toMatch(new RegExp(`FAILED: 1 problems\\n[^]*${rows[0]!.id}\\s+blob-modified\\s+blob ${rows[0]!.uri} in .* is unreadable`));
  }, 120_000);

  it('refuses a target that is not an s3:// URL, naming the option', async () => {
    const refused = await run(['--config', 'fs.yaml', 'evidence', 'migrate-blobs', '--to', '/tmp/elsewhere']);
    expect(refused).toMatchObject({ code: 2, stderr: '--to /tmp/elsewhere: not s3://bucket/ or s3://bucket/prefix/ (a prefix ends in "/")\n' });
  });
});
