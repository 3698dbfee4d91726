import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFullError } from '../../evidence/disk-full.ts';
import type { Finding } from '../../core/records.ts';
import type { OpenStagingFile } from '../../evidence/staging.ts';
import { EvidenceStore, StagedSnapshot } from '../../evidence/store.ts';
import { smallDisk } from '../support/small-disk.ts';
import { scanSnapshotMeta } from '../support/records.ts';

/** Findings with titles of random text: they compress to about three quarters, so a few hundred KiB fill a small disk. */
function noisyFindings(count: number): Finding[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'finding',
    source: 'scans',
    scanner: 'trivy',
    id: `CVE-${i}`,
    title: randomBytes(750).toString('base64'),
    severity: 'high',
    cvss: 7.1,
    asset: 'api',
    location: 'openssl@1.1',
    scannedAt: '2026-11-01T00:00:00Z',
    firstSeenAt: '2026-11-01T00:00:00Z',
    fixedAt: null,
    fixAvailable: true,
  }));
}

const ndjsonOf = (records: Finding[]) => records.map((record) => `${JSON.stringify(record)}\n`).join('');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function pull(store: EvidenceStore, runId: string, records: Finding[]) {
  const staged = await store.stage(runId, 'scans');
  for (const record of records) await staged.append(record);
  return await store.commit(staged, scanSnapshotMeta(runId));
}

async function recordsOf(store: EvidenceStore, id: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const record of store.records(id)) ids.push((record as Finding).id);
  return ids;
}

const disk = smallDisk();
afterAll(() => disk.close());

describe(`a full disk, on ${disk.description}`, () => {
  let store: EvidenceStore;
  beforeEach(async () => {
    store = await EvidenceStore.open(disk.dir, { openStagingFile: disk.openStagingFile });
  });
  afterEach(async () => {
    await store.close();
    disk.free();
    for (const name of readdirSync(disk.dir)) if (name !== 'lost+found') rmSync(path.join(disk.dir, name), { recursive: true, force: true });
  });

  it('fails the pull with ENOSPC naming the staging file and the free space, stores no blob, and stores it whole once space returns', async () => {
    // ~400 KiB compressed: written in one piece when the pull finishes, so the disk's short write is the last write.
    const records = noisyFindings(400);
    const content = ndjsonOf(records);
    disk.fill(128 * 1024);

    const failed = pull(store, 'run-1', records);
    await expect(failed).rejects.toThrow(DiskFullError);
    await expect(failed).rejects.toThrow(/^ENOSPC: .*staging.*\.part \(\d+ bytes free on its filesystem\)$/);
    const uri = `sha256/${sha256(content).slice(0, 2)}/${sha256(content)}.ndjson.zst`;
    expect(existsSync(store.blobPath(uri))).toBe(false);
    expect(await store.list()).toEqual([]);

    disk.free();
    // The retry of the same pull, and a later run collecting the same content.
    const retried = await pull(store, 'run-1', records);
    const later = await pull(store, 'run-2', records);
    expect(retried.sha256).toBe(sha256(content));
    expect(later.uri).toBe(retried.uri);
    expect(await recordsOf(store, later.id)).toEqual(records.map((record) => record.id));
    expect(await store.verify()).toEqual({ ok: true, checked: 2, problems: [] });
  });
});

describe('a blob is verified before it is trusted', () => {
  let dir: string;
  let store: EvidenceStore;
  beforeEach(async () => {
    dir = path.join(disk.dir, `plain-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir);
    store = await EvidenceStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replaces a stored blob that does not hold its content, so later collections of that content point at a whole blob', async () => {
    const records = noisyFindings(50);
    const content = ndjsonOf(records);
    // What the short write used to leave: the compressed content cut short, renamed under the whole content's hash.
    const staged = await StagedSnapshot.open(path.join(dir, 'broken.part'));
    for (const record of records) await staged.append(record);
    const written = await staged.finish();
    truncateSync(staged.file, Math.floor(written.storedSize / 2));
    const uri = `sha256/${sha256(content).slice(0, 2)}/${sha256(content)}.ndjson.zst`;
    mkdirSync(path.dirname(store.blobPath(uri)), { recursive: true });
    chmodSync(staged.file, 0o444);
    renameSync(staged.file, store.blobPath(uri));

    const warnings: { fields: Record<string, unknown>; message: string }[] = [];
    await store.close();
    store = await EvidenceStore.open(dir, { log: { warn: (fields, message) => warnings.push({ fields, message }) } });
    const row = await pull(store, 'run-1', records);
    expect(row.uri).toBe(uri);
    expect(warnings).toEqual([{ fields: { uri, found: expect.stringMatching(/^unreadable/) }, message: expect.stringContaining('replacing it') }]);
    expect(await recordsOf(store, row.id)).toEqual(records.map((record) => record.id));
    expect((await store.verify()).ok).toBe(true);
  });

  it('refuses a staging file that does not hold the bytes the disk said it wrote', async () => {
    // A disk that acknowledges every write and keeps only the first half of each.
    const lying: OpenStagingFile = async (file) => {
      const handle = await open(file, 'w+');
      return {
        write: async (buffer, offset, length, position) => {
          await handle.write(buffer, offset, Math.ceil(length / 2), position);
          return { bytesWritten: length };
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    };
    await store.close();
    store = await EvidenceStore.open(dir, { openStagingFile: lying });
    await expect(pull(store, 'run-1', noisyFindings(20))).rejects.toThrow(/staging file .* holds \d+ bytes, not the \d+ written to it/);
    expect(await store.list()).toEqual([]);
    expect(readdirSync(path.join(store.root, 'blobs'))).toEqual([]);
  });
});
