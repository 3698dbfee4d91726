import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TransformOptions } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { constants as zlib, createZstdCompress, createZstdDecompress, type ZstdOptions } from 'node:zlib';
import { asDiskFull, DiskFullError } from './disk-full.ts';
import type { EvidenceRecord } from '../core/records.ts';

export const BLOB_SUFFIX = '.ndjson.zst';
/** Level 3 is zstd's default: on these machines it compressed identity NDJSON several times faster than gzip -6 at a better ratio. */
const ZSTD_LEVEL = 3;

export interface Checkpoint {
  /** Compressed bytes in the staging file up to the checkpoint. */
  offset: number;
  count: number;
  /** Uncompressed bytes up to the checkpoint, to check a resumed prefix against. */
  size: number;
}

/** What a finished staging file holds: the hash and size of the uncompressed content and its size on disk. */
export interface StagedContent {
  sha256: string;
  size: number;
  storedSize: number;
}

/** The file operations staging writes through; a test can put a disk that fills up in their place. */
export interface StagingFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}
export type OpenStagingFile = (file: string) => Promise<StagingFile>;

const openForWriting: OpenStagingFile = (file) => open(file, 'w+');

/** Which pull a staging file belongs to, kept beside it so that `verify` can ask whether that run is still in flight. */
export interface StagingOwner {
  runId: string;
  sourceName: string;
}

export interface StagingEntry {
  /** The staging file, or its owner record when the file itself is gone. */
  file: string;
  bytes: number;
  modifiedAt: string;
  /** Undefined when the owner record is missing or unreadable (a staging file of an older version, or a torn write). */
  owner: StagingOwner | undefined;
}

const OWNER_SUFFIX = '.run.json';
const RECORDS_SUFFIX = `${BLOB_SUFFIX}.part`;
const FILE_SUFFIX = '.file.part';

/**
 * The worker's local staging folder: one file per pull in progress (run and source), plus a small record of its
 * owner. A staging file lives until its pull is committed or has failed for good.
 */
export class StagingArea {
  readonly dir: string;
  private readonly openFile: OpenStagingFile;

  constructor(dir: string, openFile: OpenStagingFile = openForWriting) {
    this.dir = dir;
    this.openFile = openFile;
  }

  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Opens the staging file of a pull of records, cut back to `resume` when its prefix is still on this disk. */
  async records(runId: string, sourceName: string, resume?: Checkpoint): Promise<StagedSnapshot> {
    await this.claim(runId, sourceName);
    return StagedSnapshot.open(this.pathOf(runId, sourceName, RECORDS_SUFFIX), resume, this.openFile);
  }

  /** Opens the staging file of evidence that is one file (a report, an export). */
  async file(runId: string, sourceName: string): Promise<StagedSnapshot> {
    await this.claim(runId, sourceName);
    return StagedSnapshot.open(this.pathOf(runId, sourceName, FILE_SUFFIX), undefined, this.openFile);
  }

  /** Removes what a pull left here: after its commit, or once it has failed for good. */
  async discard(runId: string, sourceName: string): Promise<void> {
    for (const suffix of [RECORDS_SUFFIX, FILE_SUFFIX, OWNER_SUFFIX]) await rm(this.pathOf(runId, sourceName, suffix), { force: true });
  }

  /** Every pull with something in the staging folder, with its owner when that is known. */
  async list(): Promise<StagingEntry[]> {
    if (!existsSync(this.dir)) return [];
    const names = new Set(await readdir(this.dir));
    const keys = new Set<string>();
    for (const name of names)
      for (const suffix of [RECORDS_SUFFIX, FILE_SUFFIX, OWNER_SUFFIX]) if (name.endsWith(suffix)) keys.add(name.slice(0, -suffix.length));
    const entries: StagingEntry[] = [];
    for (const key of [...keys].sort()) {
      const content = [RECORDS_SUFFIX, FILE_SUFFIX].map((suffix) => `${key}${suffix}`).find((name) => names.has(name));
      const file = path.join(this.dir, content ?? `${key}${OWNER_SUFFIX}`);
      // A pull committed or discarded while this listing ran has nothing left to report.
      const stats = await stat(file).catch(() => undefined);
      if (!stats) continue;
      entries.push({
        file,
        bytes: content ? stats.size : 0,
        modifiedAt: stats.mtime.toISOString(),
        owner: await readOwner(path.join(this.dir, `${key}${OWNER_SUFFIX}`)),
      });
    }
    return entries;
  }

  private async claim(runId: string, sourceName: string): Promise<void> {
    const owner: StagingOwner = { runId, sourceName };
    const file = this.pathOf(runId, sourceName, OWNER_SUFFIX);
    try {
      await writeFile(file, JSON.stringify(owner));
    } catch (error) {
      throw asDiskFull(error, file);
    }
  }

  private pathOf(runId: string, sourceName: string, suffix: string): string {
    return path.join(this.dir, `${createHash('sha256').update(`${runId}\n${sourceName}`).digest('hex')}${suffix}`);
  }
}

async function readOwner(file: string): Promise<StagingOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<StagingOwner>;
    return typeof parsed.runId === 'string' && typeof parsed.sourceName === 'string' ? { runId: parsed.runId, sourceName: parsed.sourceName } : undefined;
  } catch {
    return undefined;
  }
}

const FLUSH_BYTES = 1 << 20;
/**
 * How far serialization may run ahead of the compressor. zstd runs on libuv's thread pool, so while it
 * compresses one MiB the main thread serializes and hashes the next ones; waiting for each MiB (a stream's
 * default 16 KiB high-water mark) made the two strictly alternate.
 */
const COMPRESSOR_AHEAD_BYTES = 8 << 20;
/** How many compressed bytes may wait for the disk before appends wait for them. */
const UNWRITTEN_LIMIT_BYTES = 16 << 20;
// node:zlib hands stream options on to its Transform; its own type leaves them out.
const compressorOptions: ZstdOptions & TransformOptions = {
  params: { [zlib.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
  writableHighWaterMark: COMPRESSOR_AHEAD_BYTES,
  // One thread-pool call compresses a whole flushed MiB (the default 16 KiB output took ~110 KiB of input per call).
  chunkSize: FLUSH_BYTES,
};

/**
 * Records of one pull, serialized as NDJSON, hashed and zstd-compressed as they arrive into a staging file that
 * survives the worker process: one pass, and the finished file is the blob. Serialization and hashing (main
 * thread), compression (thread pool) and file writes overlap; a checkpoint waits for all three, flushes the
 * compressor to a block boundary and syncs the file, so a retry can cut the file back there. The retry re-reads
 * that prefix once to restore the hash and the compressor, since neither can be saved across processes.
 */
export class StagedSnapshot {
  readonly file: string;
  readonly resumed: boolean;
  count: number;
  /** The last durable point; a heartbeat may claim it before the next checkpoint. */
  lastCheckpoint: Checkpoint = { offset: 0, count: 0, size: 0 };
  private readonly handle: StagingFile;
  private readonly hash = createHash('sha256');
  private readonly compressor = createZstdCompress(compressorOptions);
  private compressed: Buffer[] = [];
  private failure: Error | undefined;
  /** End of the compressed bytes handed to the disk so far; durable only once `writes` settles and the file is synced. */
  private offset = 0;
  private unwritten = 0;
  /** File writes in order; never rejects (a failure is kept in `failure` and thrown by the next call). */
  private writes: Promise<void> = Promise.resolve();
  private size = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private closed = false;

  private constructor(file: string, handle: StagingFile, resumed: boolean) {
    this.file = file;
    this.handle = handle;
    this.resumed = resumed;
    this.count = 0;
    this.compressor.on('data', (chunk: Buffer) => this.compressed.push(chunk));
    this.compressor.on('error', (error: Error) => (this.failure ??= error));
  }

  static async open(file: string, resume?: Checkpoint, openFile: OpenStagingFile = openForWriting): Promise<StagedSnapshot> {
    const prefix = resume ? await readPrefix(file, resume) : undefined;
    let handle: StagingFile;
    try {
      handle = await openFile(file);
    } catch (error) {
      throw asDiskFull(error, file);
    }
    const staged = new StagedSnapshot(file, handle, prefix !== undefined);
    if (prefix !== undefined && resume) {
      await staged.write(prefix);
      staged.count = resume.count;
      // The prefix was compressed anew, so its offsets differ from the old file's: checkpoint the new file at once.
      await staged.checkpoint();
    }
    return staged;
  }

  async append(record: EvidenceRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.count++;
    if (this.pendingBytes >= FLUSH_BYTES) await this.drainPending();
  }

  /** Raw bytes, for evidence that is a file rather than records. */
  async write(bytes: Buffer): Promise<void> {
    this.throwIfFailed();
    this.hash.update(bytes);
    this.size += bytes.length;
    this.queueCompressed();
    if (!this.compressor.write(bytes)) await new Promise((resolve) => this.compressor.once('drain', resolve));
    // Appends resolve as microtasks, which never let the event loop run: without a turn here the compressor's
    // completion callbacks wait until the next drain, and compression stops overlapping serialization.
    else await yieldToEventLoop();
    if (this.unwritten > UNWRITTEN_LIMIT_BYTES) await this.writes;
    this.throwIfFailed();
  }

  /** Makes every appended record durable and returns the point a retry can resume from. */
  async checkpoint(): Promise<Checkpoint> {
    await this.drainPending();
    await new Promise<void>((resolve) => this.compressor.flush(zlib.ZSTD_e_flush, () => resolve()));
    await this.settleWrites();
    await this.sync();
    this.lastCheckpoint = { offset: this.offset, count: this.count, size: this.size };
    return this.lastCheckpoint;
  }

  /** Gives up the pull: closes the file and leaves it for a retry to resume from its last checkpoint. */
  async abandon(): Promise<void> {
    this.compressor.destroy();
    await this.writes;
    await this.close();
  }

  /** Ends the frame and closes the file; the file is then a complete blob with this hash. */
  async finish(): Promise<StagedContent> {
    try {
      await this.drainPending();
      const ended = new Promise<void>((resolve) => this.compressor.once('end', () => resolve()));
      this.compressor.end();
      await ended;
      await this.settleWrites();
      await this.sync();
    } finally {
      await this.writes;
      await this.close();
    }
    return { sha256: this.hash.digest('hex'), size: this.size, storedSize: this.offset };
  }

  private async drainPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const buffer = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    await this.write(buffer);
  }

  /** Hands what the compressor has produced so far to the disk, after every earlier write, without waiting. */
  private queueCompressed(): void {
    if (this.compressed.length === 0) return;
    const chunk = this.compressed.length === 1 ? this.compressed[0]! : Buffer.concat(this.compressed);
    this.compressed = [];
    const at = this.offset;
    this.offset += chunk.length;
    this.unwritten += chunk.length;
    this.writes = this.writes.then(async () => {
      if (this.failure) return;
      try {
        await this.writeFully(chunk, at);
        this.unwritten -= chunk.length;
      } catch (error) {
        this.failure ??= asDiskFull(error, this.file) as Error;
      }
    });
  }

  /**
   * A write may store fewer bytes than asked (a disk that fills up part-way): the rest is written again, and a
   * disk that takes nothing more answers ENOSPC then, or a write of no bytes at all is one.
   */
  private async writeFully(chunk: Buffer, at: number): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, at + done);
      if (bytesWritten <= 0) throw new DiskFullError(this.file, `wrote ${done} of ${chunk.length} bytes at offset ${at}`);
      done += bytesWritten;
    }
  }

  private async sync(): Promise<void> {
    try {
      await this.handle.sync();
    } catch (error) {
      throw asDiskFull(error, this.file);
    }
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private async settleWrites(): Promise<void> {
    this.queueCompressed();
    await this.writes;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/**
 * The uncompressed records up to a checkpoint, read back from an interrupted staging file; undefined when the file
 * is missing or does not hold the checkpoint (another host, or a truncated disk), so the pull starts over.
 */
async function readPrefix(file: string, checkpoint: Checkpoint): Promise<Buffer | undefined> {
  if (typeof checkpoint.size !== 'number' || !existsSync(file) || (await stat(file)).size < checkpoint.offset) return undefined;
  const handle = await open(file, 'r');
  const compressed = Buffer.alloc(checkpoint.offset);
  try {
    await handle.read(compressed, 0, checkpoint.offset, 0);
  } finally {
    await handle.close();
  }
  const chunks: Buffer[] = [];
  let length = 0;
  // The frame was flushed, not ended, at the checkpoint: the decoder yields every flushed byte, then reports the open frame.
  await new Promise<void>((resolve) => {
    const decoder = createZstdDecompress();
    decoder.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    decoder.on('error', () => resolve());
    decoder.on('end', () => resolve());
    decoder.end(compressed);
  });
  if (length !== checkpoint.size) return undefined;
  return Buffer.concat(chunks, length);
}
