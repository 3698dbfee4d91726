// @module-tag moto
import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobsConfig } from '../../config/evidence-blobs.ts';
import { S3BlobStore } from '../../evidence/blob-store-s3.ts';
import { journalGaps, type JournalEntry } from '../../evidence/journal.ts';
import { JournalConflictError, S3Journal } from '../../evidence/journal-s3.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

const CREDENTIALS = { accessKeyId: 'AKIAISMSJOURNALS301', secretAccessKey: 'journal-s3-secret-Tq8vL1' };

let moto: MotoServer;
let admin: S3Client;
beforeAll(async () => {
  moto = await startMoto();
  admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  await admin.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await admin.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  await admin.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
}, 60_000);
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

let prefixes = 0;
function journalIn(overrides: Partial<S3BlobsConfig> = {}): { journal: S3Journal; blobs: S3BlobStore } {
  const blobs = new S3BlobStore(
    {
      kind: 's3',
      bucket: 'versioned',
      prefix: `j${prefixes++}/`,
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      partSizeMiB: 64,
      ...overrides,
    },
    { credentials: CREDENTIALS },
  );
  return { journal: new S3Journal(blobs), blobs };
}

const entry = (seq: number): JournalEntry => ({ seq, id: `ev-${seq}`, rowHash: createHash('sha256').update(String(seq)).digest('hex') });

describe('the S3 journal', () => {
  it('appends one object per entry and reads them back in sequence order', async () => {
    const { journal, blobs } = journalIn();
    await journal.append([entry(1), entry(2)]);
    await journal.append([entry(3)]);
    expect(await journal.read()).toEqual({ entries: [entry(1), entry(2), entry(3)], malformed: [] });
    expect(await journal.tail()).toEqual([entry(1), entry(2), entry(3)]);
    expect(journal.keyOf(3)).toBe(`${blobs.prefix}journal/000000000003`);
    blobs.close();
  });

  it('an entry written again with the same content is left alone; with other content it is refused, not overwritten', async () => {
    const { journal, blobs } = journalIn();
    await journal.append([entry(1)]);
    await journal.append([entry(1)]);
    const other = { ...entry(1), id: 'ev-other' };
    await expect(journal.append([other])).rejects.toThrow(JournalConflictError);
    await expect(journal.append([other])).rejects.toThrow(/^journal entry 1 at s3:\/\/versioned\/j\d+\/journal\/ already holds another row; not overwritten$/);
    expect(await journal.read()).toEqual({ entries: [entry(1)], malformed: [] });
    blobs.close();
  });

  it('a deleted entry leaves a gap; an entry written over or not an entry is reported by its key', async () => {
    const { journal, blobs } = journalIn();
    await journal.append([entry(1), entry(2), entry(3), entry(4)]);
    await admin.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: journal.keyOf(2) }));
    await admin.send(new PutObjectCommand({ Bucket: 'versioned', Key: journal.keyOf(3), Body: `3 ev-forged ${'f'.repeat(64)}\n` }));
    await admin.send(new PutObjectCommand({ Bucket: 'versioned', Key: `${blobs.prefix}journal/000000000009`, Body: 'garbage' }));
    const contents = await journal.read();
    expect(contents.entries.map((found) => found.seq)).toEqual([1, 3, 4]);
    expect(journalGaps(contents.entries)).toEqual([2]);
    expect(contents.malformed).toEqual([
      {
        where: `journal entry ${blobs.prefix}journal/000000000009`,
        detail: `journal entry ${journal.location}000000000009 is not "<seq> <evidence id> <row hash>" for sequence number 000000000009`,
      },
      { where: `journal entry ${journal.keyOf(3)}`, detail: `journal entry ${journal.location}000000000003 was written over: it has 2 versions` },
    ]);
    blobs.close();
  });

  it('writes each entry with the Object Lock retention of the blob store', async () => {
    const { journal, blobs } = journalIn({ bucket: 'locked', objectLock: { mode: 'GOVERNANCE', retainDays: 7 } });
    await journal.append([entry(1)]);
    const head = await admin.send(new HeadObjectCommand({ Bucket: 'locked', Key: journal.keyOf(1) }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    blobs.close();
  });
});
