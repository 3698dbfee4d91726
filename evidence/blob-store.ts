import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import { BLOB_SUFFIX, type StagedContent } from './staging.ts';

/**
 * Where evidence blobs live: content-addressed, written once. The key of a blob (its `uri`) says only what it holds,
 * never where it is, so the hash chain stays valid when blobs move from one store to another.
 */
export interface BlobStore {
  /** Where the blobs are, for messages: a folder or s3://bucket/prefix. */
  readonly location: string;
  /**
   * Puts a finished staging file at `uri`. Without `replace`, content already there is left alone and 'exists' is
   * returned; with it, what is there is superseded (a broken blob).
   */
  write(stagingFile: string, uri: string, options: { replace: boolean; storedSize: number }): Promise<'written' | 'exists'>;
  /** The stored (compressed) bytes of a blob; throws BlobMissingError when there is none. */
  read(uri: string): Promise<Readable>;
  /** The stored size of a blob, or undefined when there is none. */
  inspect(uri: string): Promise<{ storedSize: number } | undefined>;
  /** The uri of every blob. */
  list(): AsyncIterable<string>;
  /** Releases connections; the store is not used after. */
  close?(): void;
}

export class BlobMissingError extends Error {
  override readonly name = 'BlobMissingError';
  readonly uri: string;

  constructor(location: string, uri: string) {
    super(`blob ${uri} is missing from ${location}`);
    this.uri = uri;
  }
}

/**
 * A blob store that could not do what was asked: `retryable` when the fault may pass (throttling, a 5xx, the
 * network), not when it will not (access denied, no such bucket). Its message names the store and the operation.
 */
export class EvidenceStorageError extends Error {
  override readonly name = 'EvidenceStorageError';
  readonly retryable: boolean;
  /** The store, e.g. s3://bucket. */
  readonly location: string;
  readonly operation: string;

  constructor(message: string, details: { retryable: boolean; location: string; operation: string }) {
    super(message);
    this.retryable = details.retryable;
    this.location = details.location;
    this.operation = details.operation;
  }
}

export interface PlacedBlob extends StagedContent {
  uri: string;
}

export type BlobInspection = StagedContent | { unreadable: string };

/** Read and decompress a MiB at a time: the streams' 64 and 16 KiB defaults made re-hashing a blob about twice as slow. */
export const INSPECT_CHUNK_BYTES = 1 << 20;

export function blobUri(sha256: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}${BLOB_SUFFIX}`;
}

/** What a stored blob holds: the hash and size of its decompressed content and its stored size. */
export async function inspectBlob(blobs: BlobStore, uri: string): Promise<BlobInspection> {
  let raw: Readable | undefined;
  try {
    const hash = createHash('sha256');
    let size = 0;
    let storedSize = 0;
    raw = await blobs.read(uri);
    raw.on('data', (chunk: Buffer) => (storedSize += chunk.length));
    for await (const chunk of raw.pipe(createZstdDecompress({ chunkSize: INSPECT_CHUNK_BYTES })) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size, storedSize };
  } catch (error) {
    return { unreadable: describeReadError(error) };
  } finally {
    // A blob that is not zstd stops the decompressor, not the read: its file or connection is released here.
    raw?.destroy();
  }
}

function describeReadError(error: unknown): string {
  if (error instanceof BlobMissingError) return 'missing';
  return error instanceof Error ? error.message : String(error);
}

export function holds(found: BlobInspection, expected: StagedContent): found is StagedContent {
  return !('unreadable' in found) && found.sha256 === expected.sha256 && found.size === expected.size;
}

export function describeBlob(found: BlobInspection): string {
  return 'unreadable' in found ? `unreadable (${found.unreadable})` : `${found.size} bytes with sha256 ${found.sha256} in ${found.storedSize} stored bytes`;
}

/**
 * Moves a finished staging file to its content address. A blob already at that address is reused only after its
 * content has been hashed again; one that does not hold its content is replaced. The staging file was hashed as it
 * was written and every write was acknowledged in full: its size on disk must be what was written.
 */
export async function placeBlob(
  blobs: BlobStore,
  stagingFile: string,
  written: StagedContent,
  log?: { warn(fields: Record<string, unknown>, message: string): void },
): Promise<PlacedBlob> {
  const uri = blobUri(written.sha256);
  const onDisk = (await stat(stagingFile)).size;
  if (onDisk !== written.storedSize) throw new Error(`staging file ${stagingFile} holds ${onDisk} bytes, not the ${written.storedSize} written to it`);
  if ((await blobs.write(stagingFile, uri, { replace: false, storedSize: written.storedSize })) === 'exists') {
    const stored = await inspectBlob(blobs, uri);
    if (holds(stored, written)) {
      await rm(stagingFile, { force: true });
      return { ...written, storedSize: stored.storedSize, uri };
    }
    log?.warn({ uri, found: describeBlob(stored) }, 'a stored blob does not hold the content its name promises; replacing it with the copy just written');
    await blobs.write(stagingFile, uri, { replace: true, storedSize: written.storedSize });
  }
  await rm(stagingFile, { force: true });
  return { ...written, uri };
}
