// @module-tag moto
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { zstdCompressSync } from 'node:zlib';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../evidence/blob-store-s3.ts';
import { exportBundle } from '../../evidence/export.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { scanFinding, scanSnapshotMeta } from '../support/records.ts';

const CREDENTIALS = { accessKeyId: 'AKIAISMSBLOBSTORES01', secretAccessKey: 'blob-stores-secret-Jd5kN3' };

let moto: MotoServer;
let admin: S3Client;
beforeAll(async () => {
  moto = await startMoto();
  admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  await admin.send(new CreateBucketCommand({ Bucket: 'evidence' }));
}, 60_000);
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

interface Variant {
  name: string;
  open(dir: string, warnings: string[]): Promise<EvidenceStore>;
  /** Puts other bytes where a blob is, as someone with write access to the store could. */
  replace(store: EvidenceStore, uri: string, bytes: Buffer): Promise<void>;
  remove(store: EvidenceStore, uri: string): Promise<void>;
}

let prefixes = 0;
const log = (warnings: string[]) => ({ warn: (_fields: Record<string, unknown>, message: string) => warnings.push(message) });
const s3Of = (store: EvidenceStore) => store.blobs as S3BlobStore;

const VARIANTS: Variant[] = [
  {
    name: 'filesystem',
    open: (dir, warnings) => EvidenceStore.open(dir, { log: log(warnings) }),
    async replace(store, uri, bytes) {
      chmodSync(store.blobPath(uri), 0o644);
      writeFileSync(store.blobPath(uri), bytes);
    },
    async remove(store, uri) {
      rmSync(store.blobPath(uri));
    },
  },
  {
    name: 's3',
    open: (dir, warnings) =>
      EvidenceStore.open(dir, {
        log: log(warnings),
        blobs: new S3BlobStore(
          {
            kind: 's3',
            bucket: 'evidence',
            prefix: `store-${prefixes++}/`,
            region: 'us-east-1',
            endpoint: moto.endpoint,
            forcePathStyle: true,
            partSizeMiB: 64,
          },
          { credentials: CREDENTIALS },
        ),
      }),
    async replace(store, uri, bytes) {
      await admin.send(new PutObjectCommand({ Bucket: 'evidence', Key: s3Of(store).keyOf(uri), Body: bytes }));
    },
    async remove(store, uri) {
      await admin.send(new DeleteObjectCommand({ Bucket: 'evidence', Key: s3Of(store).keyOf(uri) }));
    },
  },
];

describe.each(VARIANTS)('evidence store with $name blobs', (variant) => {
  let dir: string;
  let store: EvidenceStore;
  let warnings: string[];
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), `isms-blobs-${variant.name}-`));
    warnings = [];
    store = await variant.open(dir, warnings);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function snapshot(runId: string, ids: string[]) {
    const staged = await store.stage(runId, 'scans');
    for (const id of ids) await staged.append(scanFinding(id));
    return store.commit(staged, scanSnapshotMeta(runId));
  }

  async function storedUris(): Promise<string[]> {
    const uris: string[] = [];
    for await (const uri of store.blobs.list()) uris.push(uri);
    return uris;
  }

  it('commits a snapshot and a file, reads both back, and verifies them by re-hashing', async () => {
    const row = await snapshot('run-1', ['CVE-1', 'CVE-2']);
    const records = [];
    for await (const record of store.records(row.id)) records.push(record);
    expect(records).toEqual([scanFinding('CVE-1'), scanFinding('CVE-2')]);
    const file = await store.storeFile(
      { ...scanSnapshotMeta('run-2'), sourceName: 'report' },
      { name: 'report.html', mediaType: 'text/html' },
      '<h1>report</h1>',
    );
    expect((await store.fileContent(file.id)).toString()).toBe('<h1>report</h1>');
    expect((await storedUris()).sort()).toEqual([row.uri, file.uri].sort());
    expect(readdirSync(path.join(dir, 'evidence/staging')).filter((name) => name.endsWith('.part'))).toEqual([]);
    expect(await store.verify()).toEqual({ ok: true, checked: 2, problems: [] });
  });

  it('stores identical content once', async () => {
    const one = await snapshot('run-1', ['CVE-1']);
    const two = await snapshot('run-2', ['CVE-1']);
    expect(two.uri).toBe(one.uri);
    expect(await storedUris()).toEqual([one.uri]);
  });

  it('verify names the evidence whose blob was altered, and the one whose blob is missing', async () => {
    const altered = await snapshot('run-1', ['CVE-1']);
    const donor = await snapshot('run-2', ['CVE-2']);
    const missing = await snapshot('run-3', ['CVE-3']);
    // The same stored size with other content: only re-hashing finds it.
    const other = await buffer(await store.blobs.read(donor.uri));
    expect(other.length).toBe(altered.storedSize);
    await variant.replace(store, altered.uri, other);
    await variant.remove(store, missing.uri);
    const report = await store.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { evidenceId: altered.id, problem: 'blob-modified', detail: expect.stringMatching(/^blob sha256\/.* has sha256 [0-9a-f]{64}, catalog says /) },
      { evidenceId: missing.id, problem: 'blob-missing', detail: `blob ${missing.uri} is missing from ${store.blobs.location}` },
    ]);
  });

  it('replaces a stored blob that does not hold its content when the same content is committed again', async () => {
    const first = await snapshot('run-1', ['CVE-1']);
    await variant.replace(store, first.uri, Buffer.from('not zstd at all'));
    expect((await store.verify()).problems.map((problem) => problem.problem)).toEqual(['blob-modified']);
    await snapshot('run-2', ['CVE-1']);
    expect(warnings).toEqual(['a stored blob does not hold the content its name promises; replacing it with the copy just written']);
    expect(await store.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('export streams each blob into the bundle and refuses one that no longer holds its content', async () => {
    const row = await snapshot('run-1', ['CVE-1']);
    const register = new Register(store.catalog);
    const range = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
    const written = await exportBundle(store, register, { ...range, out: path.join(dir, 'bundle') });
    expect(written.rows).toBe(1);
    expect(readdirSync(path.join(dir, 'bundle/evidence'))).toEqual([`${row.id}.ndjson.zst`]);
    await variant.replace(store, row.uri, zstdCompressSync(Buffer.from(`${JSON.stringify(scanFinding('CVE-X'))}\n`)));
    await expect(exportBundle(store, register, { ...range, out: path.join(dir, 'bundle-2') })).rejects.toThrow(
      new RegExp(`^evidence ${row.id}: blob ${row.uri} in .* does not hold sha256 ${row.sha256}`),
    );
  });
});
