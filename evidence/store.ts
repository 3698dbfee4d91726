import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TransformOptions } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { constants as zlib, createZstdCompress, createZstdDecompress, type ZstdOptions } from 'node:zlib';
import type { EvidenceRef } from '../workflows/contracts.ts';
import { Catalog } from './catalog.ts';
import { EvidenceRecord } from './records.ts';
import { ensureViews } from './views.ts';

/** Evidence as the catalog describes it. */
export interface EvidenceRow {
  seq: number;
  id: string;
  runId: string;
  controlId: string;
  sourceName: string;
  connector: string;
  connectorVersion: string;
  kinds: string[];
  collectedAt: string;
  periodStart: string;
  periodEnd: string;
  sha256: string;
  size: number;
  storedSize: number;
  recordCount: number;
  uri: string;
  provenance: Record<string, unknown>;
  warnings: string[];
  prevHash: string;
  rowHash: string;
}

export interface SnapshotMeta {
  runId: string;
  controlId: string;
  sourceName: string;
  connector: string;
  connectorVersion: string;
  kinds: string[];
  collectedAt: string;
  periodStart?: string;
  periodEnd?: string;
  provenance: Record<string, unknown>;
  warnings: string[];
}

/** A file kept as evidence: how it was named and what it holds. */
export interface EvidenceFile {
  name: string;
  mediaType: string;
}

/** The kind of an evidence row that holds a file instead of records. */
export const FILE_KIND = 'file';

export interface VerifyProblem {
  evidenceId: string;
  problem: 'blob-missing' | 'blob-modified' | 'row-modified' | 'row-deleted' | 'row-not-journaled' | 'chain-broken';
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  problems: VerifyProblem[];
}

const GENESIS = '0'.repeat(64);
const BLOB_SUFFIX = '.ndjson.zst';
/** Level 3 is zstd's default: on these machines it compressed identity NDJSON several times faster than gzip -6 at a better ratio. */
const ZSTD_LEVEL = 3;

/**
 * The evidence store: content-addressed, write-once blobs (zstd NDJSON) under `blobs/`, a SQLite catalog
 * whose rows form a hash chain, and an append-only journal of row hashes so that deleting the newest row
 * is detectable too.
 */
export class EvidenceStore {
  readonly root: string;
  readonly catalog: Catalog;
  private readonly blobDir: string;
  private readonly stagingDir: string;
  private readonly journal: string;

  constructor(dataDir: string, catalog?: Catalog) {
    this.root = path.join(dataDir, 'evidence');
    this.blobDir = path.join(this.root, 'blobs');
    this.stagingDir = path.join(this.root, 'staging');
    this.journal = path.join(this.root, 'journal.log');
    this.catalog = catalog ?? new Catalog(path.join(dataDir, 'catalog.sqlite'));
  }

  static async open(dataDir: string): Promise<EvidenceStore> {
    const store = new EvidenceStore(dataDir);
    await mkdir(store.blobDir, { recursive: true });
    await mkdir(store.stagingDir, { recursive: true });
    await store.catchUpJournal();
    ensureViews(store.catalog);
    return store;
  }

  close(): void {
    this.catalog.close();
  }

  /** Evidence already committed for this run and source: a retried activity returns it instead of pulling again. */
  findCommitted(runId: string, sourceName: string): EvidenceRow | undefined {
    const row = this.catalog.get<DbRow>('SELECT * FROM evidence WHERE run_id = ? AND source_name = ?', runId, sourceName);
    return row && fromDb(row);
  }

  /**
   * Opens the staging file of one pull. With `resume` the file is cut back to the last checkpoint, so the
   * records of the interrupted attempt after that checkpoint are dropped and pulled again.
   */
  async stage(runId: string, sourceName: string, resume?: Checkpoint): Promise<StagedSnapshot> {
    return StagedSnapshot.open(path.join(this.stagingDir, `${sha256Hex(`${runId}\n${sourceName}`)}${BLOB_SUFFIX}.part`), resume);
  }

  /**
   * Turns a finished staging file into a blob and a catalog row. The staging file already is the compressed blob,
   * hashed as it was written, so committing is a rename (or, for content already stored, a deletion).
   * Idempotent per run and source.
   */
  async commit(staged: StagedSnapshot, meta: SnapshotMeta): Promise<EvidenceRow> {
    const written = await staged.finish();
    const existing = this.findCommitted(meta.runId, meta.sourceName);
    if (existing) {
      await rm(staged.file, { force: true });
      return existing;
    }
    const blob = await this.placeBlob(staged.file, written);
    const row = this.appendRow(meta, blob, staged.count);
    await this.catchUpJournal();
    return row;
  }

  /**
   * Keeps a file (a report, an export) as evidence beside the snapshots: the same write-once blob, hash chain and
   * journal, with kind `file`, no records, and the file's name and media type in the hashed provenance.
   * Idempotent per run and source name, like a snapshot.
   */
  async storeFile(meta: Omit<SnapshotMeta, 'kinds'>, file: EvidenceFile, content: string | Uint8Array): Promise<EvidenceRow> {
    const existing = this.findCommitted(meta.runId, meta.sourceName);
    if (existing) return existing;
    const staged = await StagedSnapshot.open(path.join(this.stagingDir, `${sha256Hex(`${meta.runId}\n${meta.sourceName}`)}.file.part`));
    await staged.write(typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength));
    const blob = await this.placeBlob(staged.file, await staged.finish());
    const row = this.appendRow({ ...meta, kinds: [FILE_KIND], provenance: { ...meta.provenance, file } }, blob, 0);
    await this.catchUpJournal();
    return row;
  }

  /** The bytes of a file kept with storeFile. */
  async fileContent(id: string): Promise<Buffer> {
    const row = this.get(id);
    if (!row) throw new Error(`evidence ${id}: not in the catalog`);
    if (!row.kinds.includes(FILE_KIND)) throw new Error(`evidence ${id} holds records, not a file`);
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(this.blobPath(row.uri)).pipe(createZstdDecompress()) as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  private appendRow(meta: SnapshotMeta, blob: { sha256: string; size: number; storedSize: number; uri: string }, recordCount: number): EvidenceRow {
    return this.catalog.transaction(() => {
      const again = this.findCommitted(meta.runId, meta.sourceName);
      if (again) return again;
      const last = this.catalog.get<{ seq: number; row_hash: string }>('SELECT seq, row_hash FROM evidence ORDER BY seq DESC LIMIT 1');
      const fields: Omit<EvidenceRow, 'rowHash'> = {
        seq: (last?.seq ?? 0) + 1,
        id: `ev-${randomUUID()}`,
        runId: meta.runId,
        controlId: meta.controlId,
        sourceName: meta.sourceName,
        connector: meta.connector,
        connectorVersion: meta.connectorVersion,
        kinds: meta.kinds,
        collectedAt: meta.collectedAt,
        periodStart: meta.periodStart ?? meta.collectedAt,
        periodEnd: meta.periodEnd ?? meta.collectedAt,
        sha256: blob.sha256,
        size: blob.size,
        storedSize: blob.storedSize,
        recordCount,
        uri: blob.uri,
        provenance: meta.provenance,
        warnings: meta.warnings,
        prevHash: last?.row_hash ?? GENESIS,
      };
      const full: EvidenceRow = { ...fields, rowHash: rowHash(fields) };
      this.catalog.run(
        `INSERT INTO evidence (seq, id, run_id, control_id, source_name, connector, connector_version, kinds, collected_at,
           period_start, period_end, sha256, size, stored_size, record_count, uri, provenance, warnings, prev_hash, row_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...toDbValues(full),
      );
      return full;
    });
  }

  get(id: string): EvidenceRow | undefined {
    const row = this.catalog.get<DbRow>('SELECT * FROM evidence WHERE id = ?', id);
    return row && fromDb(row);
  }

  /** Every row from the first collected at or after `from` to the last collected before `to`, as one unbroken stretch of the chain. */
  chainSpan(from: string, to: string): EvidenceRow[] {
    const bounds = this.catalog.get<{ first: number | null; last: number | null }>(
      'SELECT MIN(seq) AS first, MAX(seq) AS last FROM evidence WHERE collected_at >= ? AND collected_at < ?',
      from,
      to,
    );
    if (!bounds || bounds.first === null || bounds.last === null) return [];
    return this.catalog.all<DbRow>('SELECT * FROM evidence WHERE seq BETWEEN ? AND ? ORDER BY seq', bounds.first, bounds.last).map(fromDb);
  }

  list(filter: { controlId?: string; limit?: number } = {}): EvidenceRow[] {
    const rows = filter.controlId
      ? this.catalog.all<DbRow>('SELECT * FROM evidence WHERE control_id = ? ORDER BY seq DESC LIMIT ?', filter.controlId, filter.limit ?? 1_000_000)
      : this.catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq DESC LIMIT ?', filter.limit ?? 1_000_000);
    return rows.map(fromDb);
  }

  /** Streams the records of one snapshot, validating each line against the record schemas. */
  async *records(id: string): AsyncGenerator<EvidenceRecord> {
    const row = this.get(id);
    if (!row) throw new Error(`evidence ${id}: not in the catalog`);
    if (row.kinds.includes(FILE_KIND)) throw new Error(`evidence ${id} is a file, not records: read it with fileContent`);
    const input = createReadStream(this.blobPath(row.uri)).pipe(createZstdDecompress());
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text === '') continue;
      const parsed = EvidenceRecord.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`evidence ${id}: line ${line}: ${parsed.error.issues[0]?.message ?? 'not a record'}`);
      yield parsed.data;
    }
  }

  ref(row: EvidenceRow): EvidenceRef {
    return {
      id: row.id,
      controlId: row.controlId,
      sourceName: row.sourceName,
      sha256: row.sha256,
      recordCount: row.recordCount,
      collectedAt: row.collectedAt,
      uri: row.uri,
      warnings: row.warnings.length,
    };
  }

  blobPath(uri: string): string {
    return path.join(this.blobDir, uri);
  }

  /**
   * Checks every catalog row against its blob, the chain and the journal. Reports each problem by evidence id;
   * it never repairs anything, so what it finds is still there for the auditor.
   */
  async verify(): Promise<VerifyReport> {
    const problems: VerifyProblem[] = [];
    const rows = this.catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq').map(fromDb);
    const journaled = await this.readJournal();
    let previous = GENESIS;
    let previousSeq = 0;
    for (const row of rows) {
      const { rowHash: stored, ...fields } = row;
      if (rowHash(fields) !== stored) {
        problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `catalog row ${row.seq} does not match its hash` });
      }
      if (row.prevHash !== previous || row.seq !== previousSeq + 1) {
        const missing = journaled.filter((entry) => entry.seq > previousSeq && entry.seq < row.seq);
        for (const entry of missing) problems.push({ evidenceId: entry.id, problem: 'row-deleted', detail: `catalog row ${entry.seq} is gone` });
        if (missing.length === 0) problems.push({ evidenceId: row.id, problem: 'chain-broken', detail: `catalog row ${row.seq} does not follow row ${previousSeq}` });
      }
      const entry = journaled.find((candidate) => candidate.seq === row.seq);
      if (!entry) {
        problems.push({ evidenceId: row.id, problem: 'row-not-journaled', detail: `catalog row ${row.seq} is not in the journal` });
      } else if (entry.id !== row.id || entry.rowHash !== stored) {
        problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `catalog row ${row.seq} differs from the journal` });
      }
      previous = stored;
      previousSeq = row.seq;
      problems.push(...(await this.verifyBlob(row)));
    }
    for (const entry of journaled.filter((candidate) => candidate.seq > previousSeq)) {
      problems.push({ evidenceId: entry.id, problem: 'row-deleted', detail: `catalog row ${entry.seq} is gone` });
    }
    return { ok: problems.length === 0, checked: rows.length, problems };
  }

  private async verifyBlob(row: EvidenceRow): Promise<VerifyProblem[]> {
    const file = this.blobPath(row.uri);
    if (!existsSync(file)) return [{ evidenceId: row.id, problem: 'blob-missing', detail: `blob ${row.uri} is missing` }];
    const storedSize = (await stat(file)).size;
    if (storedSize !== row.storedSize) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} is ${storedSize} bytes, catalog says ${row.storedSize}` }];
    }
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of createReadStream(file).pipe(createZstdDecompress()) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
      const digest = hash.digest('hex');
      if (digest !== row.sha256 || size !== row.size) {
        return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} has sha256 ${digest}, catalog says ${row.sha256}` }];
      }
      return [];
    } catch (error) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} cannot be read: ${(error as Error).message}` }];
    }
  }

  /** Moves a finished staging file to its content address, read-only; content already stored is not stored twice. */
  private async placeBlob(stagingFile: string, written: { sha256: string; size: number; storedSize: number }): Promise<{ sha256: string; size: number; storedSize: number; uri: string }> {
    const uri = `sha256/${written.sha256.slice(0, 2)}/${written.sha256}${BLOB_SUFFIX}`;
    const target = this.blobPath(uri);
    if (existsSync(target)) {
      await rm(stagingFile, { force: true });
      return { ...written, storedSize: (await stat(target)).size, uri };
    }
    await mkdir(path.dirname(target), { recursive: true });
    await chmod(stagingFile, 0o444);
    await rename(stagingFile, target);
    return { ...written, uri };
  }

  /** Appends to the journal every row that a crash between commit and append left out. */
  private async catchUpJournal(): Promise<void> {
    const journaled = await this.readJournal();
    const lastSeq = journaled.at(-1)?.seq ?? 0;
    const rows = this.catalog.all<{ seq: number; id: string; row_hash: string }>('SELECT seq, id, row_hash FROM evidence WHERE seq > ? ORDER BY seq', lastSeq);
    if (rows.length === 0) return;
    await appendFile(this.journal, rows.map((row) => `${row.seq} ${row.id} ${row.row_hash}\n`).join(''));
  }

  private async readJournal(): Promise<{ seq: number; id: string; rowHash: string }[]> {
    if (!existsSync(this.journal)) return [];
    return (await readFile(this.journal, 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [seq, id, hash] = line.split(' ');
        return { seq: Number(seq), id: id ?? '', rowHash: hash ?? '' };
      });
  }
}

export interface Checkpoint {
  /** Compressed bytes in the staging file up to the checkpoint. */
  offset: number;
  count: number;
  /** Uncompressed bytes up to the checkpoint, to check a resumed prefix against. */
  size: number;
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
  private readonly handle: FileHandle;
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

  private constructor(file: string, handle: FileHandle, resumed: boolean) {
    this.file = file;
    this.handle = handle;
    this.resumed = resumed;
    this.count = 0;
    this.compressor.on('data', (chunk: Buffer) => this.compressed.push(chunk));
    this.compressor.on('error', (error: Error) => (this.failure ??= error));
  }

  static async open(file: string, resume?: Checkpoint): Promise<StagedSnapshot> {
    const prefix = resume ? await readPrefix(file, resume) : undefined;
    const handle = await open(file, 'w+');
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
    await this.handle.sync();
    this.lastCheckpoint = { offset: this.offset, count: this.count, size: this.size };
    return this.lastCheckpoint;
  }

  /** Gives up the pull: closes the file and leaves it for a retry to resume from its last checkpoint. */
  async abandon(): Promise<void> {
    this.compressor.destroy();
    await this.writes;
    await this.handle.close();
  }

  /** Ends the frame and closes the file; the file is then a complete blob with this hash. */
  async finish(): Promise<{ sha256: string; size: number; storedSize: number }> {
    await this.drainPending();
    const ended = new Promise<void>((resolve) => this.compressor.once('end', () => resolve()));
    this.compressor.end();
    await ended;
    await this.settleWrites();
    await this.handle.sync();
    await this.handle.close();
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
        await this.handle.write(chunk, 0, chunk.length, at);
        this.unwritten -= chunk.length;
      } catch (error) {
        this.failure ??= error as Error;
      }
    });
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

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function rowHash(fields: Omit<EvidenceRow, 'rowHash'>): string {
  return sha256Hex(JSON.stringify(toDbValues({ ...fields, rowHash: '' }).slice(0, -1)));
}

type DbRow = {
  seq: number;
  id: string;
  run_id: string;
  control_id: string;
  source_name: string;
  connector: string;
  connector_version: string;
  kinds: string;
  collected_at: string;
  period_start: string;
  period_end: string;
  sha256: string;
  size: number;
  stored_size: number;
  record_count: number;
  uri: string;
  provenance: string;
  warnings: string;
  prev_hash: string;
  row_hash: string;
};

function toDbValues(row: EvidenceRow): (string | number)[] {
  return [
    row.seq,
    row.id,
    row.runId,
    row.controlId,
    row.sourceName,
    row.connector,
    row.connectorVersion,
    JSON.stringify(row.kinds),
    row.collectedAt,
    row.periodStart,
    row.periodEnd,
    row.sha256,
    row.size,
    row.storedSize,
    row.recordCount,
    row.uri,
    JSON.stringify(row.provenance),
    JSON.stringify(row.warnings),
    row.prevHash,
    row.rowHash,
  ];
}

function fromDb(row: DbRow): EvidenceRow {
  return {
    seq: Number(row.seq),
    id: row.id,
    runId: row.run_id,
    controlId: row.control_id,
    sourceName: row.source_name,
    connector: row.connector,
    connectorVersion: row.connector_version,
    kinds: JSON.parse(row.kinds) as string[],
    collectedAt: row.collected_at,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    sha256: row.sha256,
    size: Number(row.size),
    storedSize: Number(row.stored_size),
    recordCount: Number(row.record_count),
    uri: row.uri,
    provenance: JSON.parse(row.provenance) as Record<string, unknown>,
    warnings: JSON.parse(row.warnings) as string[],
    prevHash: row.prev_hash,
    rowHash: row.row_hash,
  };
}
