// @module-tag moto
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { S3BlobsConfig } from '../../config/evidence-blobs.ts';
import { blobUri, EvidenceStorageError, inspectBlob, placeBlob } from '../../evidence/blob-store.ts';
import { S3BlobStore } from '../../evidence/blob-store-s3.ts';
import { enforceAuthentication, startMoto, type MotoServer } from '../support/moto.ts';
import { startS3Proxy, type S3Proxy } from '../support/scanner-s3-proxy.ts';

const ADMIN = { accessKeyId: 'AKIAISMSBLOBADMIN001', secretAccessKey: 'blob-admin-secret-Hk2pQ9' };

let moto: MotoServer;
let admin: S3Client;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ADMIN });
  await admin.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await admin.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  dir = mkdtempSync(path.join(tmpdir(), 'isms-s3-blobs-'));
}, 60_000);
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const config = (overrides: Partial<S3BlobsConfig> = {}): S3BlobsConfig => ({
  kind: 's3',
  bucket: 'plain',
  prefix: 'isms/',
  region: 'us-east-1',
  endpoint: moto.endpoint,
  forcePathStyle: true,
  partSizeMiB: 64,
  ...overrides,
});

let staged = 0;
/** A staging file as staging leaves it: zstd of the content, with the hashes placeBlob expects. */
function stagingFile(content: Buffer): { file: string; written: { sha256: string; size: number; storedSize: number } } {
  const compressed = zstdCompressSync(content);
  const file = path.join(dir, `staged-${staged++}.ndjson.zst.part`);
  writeFileSync(file, compressed);
  return { file, written: { sha256: createHash('sha256').update(content).digest('hex'), size: content.length, storedSize: compressed.length } };
}

describe('S3 blob store against moto', () => {
  it('writes a blob under the prefix at its content address, once, and reads it back', async () => {
    const blobs = new S3BlobStore(config(), { credentials: ADMIN });
    const content = Buffer.from('{"kind":"finding","id":"CVE-1"}\n');
    const first = stagingFile(content);
    const placed = await placeBlob(blobs, first.file, first.written);
    expect(placed.uri).toBe(blobUri(first.written.sha256));
    expect(await blobs.inspect(placed.uri)).toEqual({ storedSize: first.written.storedSize });
    expect(await inspectBlob(blobs, placed.uri)).toEqual(first.written);

    const again = stagingFile(content);
    expect(await blobs.write(again.file, placed.uri, { replace: false, storedSize: again.written.storedSize })).toBe('exists');
    const versions = await admin.send(new ListObjectVersionsCommand({ Bucket: 'plain', Prefix: `isms/${placed.uri}` }));
    expect(versions.Versions ?? []).toHaveLength(1);
    const listed: string[] = [];
    for await (const uri of blobs.list()) listed.push(uri);
    expect(listed).toContain(placed.uri);
    blobs.close();
  });

  it('writers placing the same content at once leave one object, one version, and each gets the blob', async () => {
    const blobs = new S3BlobStore(config({ bucket: 'locked', prefix: 'race/' }), { credentials: ADMIN });
    const content = Buffer.from('{"kind":"finding","id":"CVE-RACE"}\n');
    const writers = Array.from({ length: 4 }, () => stagingFile(content));
    const placed = await Promise.all(writers.map(({ file, written }) => placeBlob(blobs, file, written)));
    expect(new Set(placed.map((blob) => blob.uri)).size).toBe(1);
    const versions = await admin.send(new ListObjectVersionsCommand({ Bucket: 'locked', Prefix: `race/${placed[0]!.uri}` }));
    expect(versions.Versions ?? []).toHaveLength(1);
    blobs.close();
  });

  it('moto refuses a second put with If-None-Match: * (412), the condition the store relies on', async () => {
    await admin.send(new PutObjectCommand({ Bucket: 'plain', Key: 'probe', Body: 'one', IfNoneMatch: '*' }));
    await expect(admin.send(new PutObjectCommand({ Bucket: 'plain', Key: 'probe', Body: 'two', IfNoneMatch: '*' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
  });

  it('uploads a blob larger than a part in parts, completes it conditionally, and it re-hashes', async () => {
    const blobs = new S3BlobStore(config({ partSizeMiB: 5 }), { credentials: ADMIN });
    // Random bytes do not compress: 11 MiB stored means three parts of at most 5 MiB.
    const big = stagingFile(randomBytes(11 * 1024 * 1024));
    expect(big.written.storedSize).toBeGreaterThan(10 * 1024 * 1024);
    const placed = await placeBlob(blobs, big.file, big.written);
    expect(await inspectBlob(blobs, placed.uri)).toEqual(big.written);
    // A multipart object's ETag ends in its number of parts.
    expect((await admin.send(new HeadObjectCommand({ Bucket: 'plain', Key: `isms/${placed.uri}` }))).ETag).toMatch(/-3"$/);
    const again = stagingFile(randomBytes(11 * 1024 * 1024));
    expect(await blobs.write(again.file, placed.uri, { replace: false, storedSize: again.written.storedSize })).toBe('exists');
    expect(await inspectBlob(blobs, placed.uri)).toEqual(big.written);
    blobs.close();
  }, 60_000);

  it('gives every blob the configured Object Lock retention, and moto then refuses to delete the locked version', async () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const blobs = new S3BlobStore(config({ bucket: 'locked', objectLock: { mode: 'COMPLIANCE', retainDays: 30 } }), { credentials: ADMIN, now: () => now });
    const { file, written } = stagingFile(Buffer.from('locked evidence\n'));
    const placed = await placeBlob(blobs, file, written);
    const key = `isms/${placed.uri}`;
    // moto 5.2 answers GetObjectRetention with XML the SDK cannot parse; HeadObject carries the same two headers.
    const head = await admin.send(new HeadObjectCommand({ Bucket: 'locked', Key: key }));
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe('2027-01-03T12:00:00.000Z');
    const [version] = (await admin.send(new ListObjectVersionsCommand({ Bucket: 'locked', Prefix: key }))).Versions ?? [];
    await expect(admin.send(new DeleteObjectCommand({ Bucket: 'locked', Key: key, VersionId: version!.VersionId }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    // Writing over it (as a store replacing a broken blob does) adds a version; the locked one stays.
    await admin.send(
      new PutObjectCommand({
        Bucket: 'locked',
        Key: key,
        Body: 'overwritten',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date('2027-01-03T12:00:00Z'),
      }),
    );
    const kept = await admin.send(new GetObjectCommand({ Bucket: 'locked', Key: key, VersionId: version!.VersionId }));
    expect(Number(kept.ContentLength)).toBe(written.storedSize);
    await kept.Body?.transformToByteArray();
    blobs.close();
  });

  it('passes server-side encryption through: SSE-S3 and SSE-KMS with its key id', async () => {
    const s3 = new S3BlobStore(config({ prefix: 'sse-s3/', serverSideEncryption: { kind: 'SSE-S3' } }), { credentials: ADMIN });
    const one = stagingFile(Buffer.from('sse-s3\n'));
    const placedS3 = await placeBlob(s3, one.file, one.written);
    expect((await admin.send(new HeadObjectCommand({ Bucket: 'plain', Key: `sse-s3/${placedS3.uri}` }))).ServerSideEncryption).toBe('AES256');
    const kms = new S3BlobStore(config({ prefix: 'sse-kms/', serverSideEncryption: { kind: 'SSE-KMS', kmsKeyId: 'alias/isms-evidence' } }), {
      credentials: ADMIN,
    });
    const two = stagingFile(Buffer.from('sse-kms\n'));
    const placedKms = await placeBlob(kms, two.file, two.written);
    const head = await admin.send(new HeadObjectCommand({ Bucket: 'plain', Key: `sse-kms/${placedKms.uri}` }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe('alias/isms-evidence');
    s3.close();
    kms.close();
  });
});

describe('S3 faults while placing a blob', () => {
  it('a missing bucket: a non-retryable error naming the bucket and the operation', async () => {
    const blobs = new S3BlobStore(config({ bucket: 'no-such-evidence-bucket' }), { credentials: ADMIN });
    const { file, written } = stagingFile(Buffer.from('nowhere\n'));
    const error = await placeBlob(blobs, file, written).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvidenceStorageError);
    expect((error as EvidenceStorageError).retryable).toBe(false);
    expect((error as Error).message).toMatch(
      /^S3 PutObject s3:\/\/no-such-evidence-bucket\/isms\/sha256\/.*: the bucket does not exist \(HTTP 404\); not retried$/,
    );
    blobs.close();
  });

  it('a missing bucket while verifying: an error naming the bucket, not every blob reported missing', async () => {
    const blobs = new S3BlobStore(config({ bucket: 'no-such-evidence-bucket' }), { credentials: ADMIN });
    await expect(blobs.inspect(blobUri('a'.repeat(64)))).rejects.toThrow(
      /^S3 HeadBucket s3:\/\/no-such-evidence-bucket\/: the bucket does not exist \(HTTP 404\); not retried$/,
    );
    const present = new S3BlobStore(config(), { credentials: ADMIN });
    expect(await present.inspect(blobUri('a'.repeat(64)))).toBeUndefined();
    blobs.close();
    present.close();
  });

  it("S3 throttling (503 SlowDown) past the SDK's own retries: a retryable error", async () => {
    const proxy: S3Proxy = await startS3Proxy(moto.endpoint);
    try {
      proxy.fail({ matches: (request) => request.method === 'PUT', times: 100, status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' });
      const blobs = new S3BlobStore(config({ endpoint: proxy.endpoint }), { credentials: ADMIN });
      const { file, written } = stagingFile(Buffer.from('throttled\n'));
      const error = await placeBlob(blobs, file, written).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EvidenceStorageError);
      expect((error as EvidenceStorageError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/^S3 PutObject s3:\/\/plain\/isms\/sha256\/.*: SlowDown \(HTTP 503\)$/);
      blobs.close();
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('an unreachable endpoint: a retryable error', async () => {
    const blobs = new S3BlobStore(config({ endpoint: 'http://127.0.0.1:9' }), { credentials: ADMIN });
    const { file, written } = stagingFile(Buffer.from('unreachable\n'));
    const error = await placeBlob(blobs, file, written).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EvidenceStorageError);
    expect((error as EvidenceStorageError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/^S3 PutObject s3:\/\/plain\/isms\/sha256\/.*: ECONNREFUSED$/);
    blobs.close();
  }, 30_000);

  it('no region and no credentials on this host: non-retryable errors that say what to set', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', path.join(dir, 'no-such-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(dir, 'no-such-credentials'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    try {
      const { region: _region, ...withoutRegion } = config();
      const noRegion = new S3BlobStore(withoutRegion, { credentials: ADMIN });
      await expect(noRegion.inspect('x')).rejects.toMatchObject({
        retryable: false,
        message: 'S3 HeadObject s3://plain/isms/x: no region: set evidence.blobs.region or AWS_REGION; not retried',
      });
      const noCredentials = new S3BlobStore(config());
      await expect(noCredentials.inspect('x')).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(/^S3 HeadObject s3:\/\/plain\/isms\/x: no AWS credentials found in the default chain/),
      });
      noRegion.close();
      noCredentials.close();
    } finally {
      vi.unstubAllEnvs();
    }
  }, 30_000);

  // Last in the file: from here on moto checks every request's keys and policies.
  it('access denied, and keys that do not exist: non-retryable, and no access key or secret in the error', async () => {
    const iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
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
    const unknown = { accessKeyId: 'AKIAISMSNOSUCHKEY999', secretAccessKey: 'no-such-secret-Vb7xQ2' };
    for (const [credentials, why] of [
      [reader, 'access denied (HTTP 403)'],
      [unknown, 'InvalidAccessKeyId (HTTP 403)'],
    ] as const) {
      const blobs = new S3BlobStore(config(), { credentials });
      const { file, written } = stagingFile(Buffer.from(`denied ${why}\n`));
      const error = await placeBlob(blobs, file, written).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EvidenceStorageError);
      expect((error as EvidenceStorageError).retryable).toBe(false);
      expect((error as Error).message).toContain(`S3 PutObject s3://plain/isms/sha256/`);
      expect((error as Error).message).toContain(`: ${why}; not retried`);
      const everything = `${(error as Error).message} ${(error as Error).stack} ${JSON.stringify(error)}`;
      expect(everything).not.toContain(credentials.accessKeyId);
      expect(everything).not.toContain(credentials.secretAccessKey);
      blobs.close();
    }
  });
});
