import { createHash, randomUUID } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createZstdDecompress } from 'node:zlib';
import type { EvidenceRef } from '../workflows/contracts.ts';
import { SqliteCatalog, type Catalog, type CatalogSession } from './catalog.ts';
import { asDiskFull } from './disk-full.ts';
import { EvidenceRecord } from './records.ts';
import { BLOB_SUFFIX, StagingArea, type Checkpoint, type OpenStagingFile, type StagedContent, type StagedSnapshot, type StagingOwner } from './staging.ts';
import { migrateModules } from './schema.ts';
import { ensureViews } from './views.ts';

export { StagedSnapshot } from './staging.ts';
export type { Checkpoint, StagingOwner } from './staging.ts';

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
  problem:
    | 'blob-missing'
    | 'blob-modified'
    | 'row-modified'
    | 'row-deleted'
    | 'row-not-journaled'
    | 'chain-broken'
    | 'journal-malformed'
    | 'staging-orphaned';
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  problems: VerifyProblem[];
}

/** Whether the run that owns a staging file may still finish it, and why (said in the report when it may not). */
export type RunInFlight = (owner: StagingOwner) => Promise<{ inFlight: boolean; why: string }>;

export interface StoreOptions {
  /** The catalog to keep rows in; by default the embedded SQLite file `<dataDir>/catalog.sqlite`. */
  catalog?: Catalog;
  /** Where the store reports what it repaired while writing (a broken blob replaced). */
  log?: { warn(fields: Record<string, unknown>, message: string): void };
  /** How staging files are opened; a test puts a disk that fills up here. */
  openStagingFile?: OpenStagingFile;
}

const GENESIS = '0'.repeat(64);
/** Rows committed whose journal line is not written yet: a writer adds the row and its entry here in one transaction. */
const JOURNAL_MIGRATIONS = ['CREATE TABLE journal_waiting (seq INTEGER PRIMARY KEY)'];
/** How much of the journal's end a writer reads: far more lines than writers can commit between two journal appends. */
const JOURNAL_TAIL_BYTES = 64 * 1024;

interface JournalEntry {
  seq: number;
  id: string;
  rowHash: string;
}

interface PlacedBlob extends StagedContent {
  uri: string;
}

/**
 * The evidence store: content-addressed, write-once blobs (zstd NDJSON) under `blobs/`, a SQLite catalog
 * whose rows form a hash chain, and an append-only journal of row hashes so that deleting the newest row
 * is detectable too. Only writers touch the journal; opening and verifying read it.
 */
export class EvidenceStore {
  readonly root: string;
  readonly catalog: Catalog;
  private readonly blobDir: string;
  private readonly staging: StagingArea;
  private readonly journal: string;
  private readonly log: StoreOptions['log'];

  private constructor(dataDir: string, catalog: Catalog, options: StoreOptions) {
    this.root = path.join(dataDir, 'evidence');
    this.blobDir = path.join(this.root, 'blobs');
    this.staging = new StagingArea(path.join(this.root, 'staging'), options.openStagingFile);
    this.journal = path.join(this.root, 'journal.log');
    this.log = options.log;
    this.catalog = catalog;
  }

  static async open(dataDir: string, options: StoreOptions = {}): Promise<EvidenceStore> {
    const store = new EvidenceStore(dataDir, options.catalog ?? new SqliteCatalog(path.join(dataDir, 'catalog.sqlite')), options);
    await mkdir(store.blobDir, { recursive: true });
    await store.staging.create();
    await store.catalog.migrateModule('evidence-journal', JOURNAL_MIGRATIONS);
    await migrateModules(store.catalog);
    await ensureViews(store.catalog);
    return store;
  }

  async close(): Promise<void> {
    await this.catalog.close();
  }

  /** Evidence already committed for this run and source: a retried activity returns it instead of pulling again. */
  async findCommitted(runId: string, sourceName: string, db: CatalogSession = this.catalog): Promise<EvidenceRow | undefined> {
    const row = await db.get<DbRow>('SELECT * FROM evidence WHERE run_id = ? AND source_name = ?', runId, sourceName);
    return row && fromDb(row);
  }

  /**
   * Opens the staging file of one pull. With `resume` the file is cut back to the last checkpoint, so the
   * records of the interrupted attempt after that checkpoint are dropped and pulled again.
   */
  async stage(runId: string, sourceName: string, resume?: Checkpoint): Promise<StagedSnapshot> {
    return this.staging.records(runId, sourceName, resume);
  }

  /** Removes the staging file of a pull that has failed for good: no retry will resume from it. */
  async discardStaging(runId: string, sourceName: string): Promise<void> {
    await this.staging.discard(runId, sourceName);
  }

  /**
   * Turns a finished staging file into a blob and a catalog row. The staging file already is the compressed blob,
   * hashed as it was written, so committing is a rename (or, for content already stored, a deletion).
   * Idempotent per run and source.
   */
  async commit(staged: StagedSnapshot, meta: SnapshotMeta): Promise<EvidenceRow> {
    const written = await staged.finish();
    const existing = await this.findCommitted(meta.runId, meta.sourceName);
    if (existing) {
      await this.staging.discard(meta.runId, meta.sourceName);
      return existing;
    }
    const blob = await this.placeBlob(staged.file, written);
    const row = await this.appendRow(meta, blob, staged.count);
    await this.staging.discard(meta.runId, meta.sourceName);
    return row;
  }

  /**
   * Keeps a file (a report, an export) as evidence beside the snapshots: the same write-once blob, hash chain and
   * journal, with kind `file`, no records, and the file's name and media type in the hashed provenance.
   * Idempotent per run and source name, like a snapshot.
   */
  async storeFile(meta: Omit<SnapshotMeta, 'kinds'>, file: EvidenceFile, content: string | Uint8Array): Promise<EvidenceRow> {
    const existing = await this.findCommitted(meta.runId, meta.sourceName);
    if (existing) return existing;
    try {
      const staged = await this.staging.file(meta.runId, meta.sourceName);
      await staged.write(typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength));
      const blob = await this.placeBlob(staged.file, await staged.finish());
      return this.appendRow({ ...meta, kinds: [FILE_KIND], provenance: { ...meta.provenance, file } }, blob, 0);
    } finally {
      // One call writes the whole file, so nothing staged is worth keeping for a retry.
      await this.staging.discard(meta.runId, meta.sourceName);
    }
  }

  /** The bytes of a file kept with storeFile. */
  async fileContent(id: string): Promise<Buffer> {
    const row = await this.get(id);
    if (!row) throw new Error(`evidence ${id}: not in the catalog`);
    if (!row.kinds.includes(FILE_KIND)) throw new Error(`evidence ${id} holds records, not a file`);
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(this.blobPath(row.uri)).pipe(createZstdDecompress()) as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /**
   * Adds the row to the chain, then to the journal. A sequence number is never given twice: a new row follows
   * both the catalog's last row and the journal's last line, so a deleted newest row leaves a gap that names it.
   */
  private async appendRow(meta: SnapshotMeta, blob: PlacedBlob, recordCount: number): Promise<EvidenceRow> {
    const row = await this.catalog.transaction(async (tx) => {
      const again = await this.findCommitted(meta.runId, meta.sourceName, tx);
      if (again) return again;
      const last = await tx.get<{ seq: number; row_hash: string }>('SELECT seq, row_hash FROM evidence ORDER BY seq DESC LIMIT 1');
      const waiting = (await tx.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM journal_waiting'))?.seq ?? 0;
      const journaled = this.readJournalTail().map((entry) => entry.seq);
      const fields: Omit<EvidenceRow, 'rowHash'> = {
        seq: Math.max(Number(last?.seq ?? 0), Number(waiting), ...journaled) + 1,
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
      await tx.run(
        `INSERT INTO evidence (seq, id, run_id, control_id, source_name, connector, connector_version, kinds, collected_at,
           period_start, period_end, sha256, size, stored_size, record_count, uri, provenance, warnings, prev_hash, row_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...toDbValues(full),
      );
      await tx.run('INSERT INTO journal_waiting (seq) VALUES (?)', full.seq);
      return full;
    });
    await this.journalWaitingRows();
    return row;
  }

  /**
   * Appends the lines of committed rows still waiting for them, under the catalog's write lock so that writers
   * neither interleave nor double a line. A line is written after its row commits: a crash in between leaves a row
   * waiting for its line (verify says so, and the next writer appends it) rather than a line without its row. Only
   * rows that waited are journaled here: a journal emptied, cut or edited is never filled in, so what verify
   * reports stays for the auditor.
   */
  private async journalWaitingRows(): Promise<void> {
    await this.catalog.transaction(async (tx) => {
      const waiting = await tx.all<{ seq: number; id: string | null; row_hash: string | null }>(
        'SELECT w.seq AS seq, e.id AS id, e.row_hash AS row_hash FROM journal_waiting w LEFT JOIN evidence e ON e.seq = w.seq ORDER BY w.seq',
      );
      if (waiting.length === 0) return;
      // A writer that stopped after its append and before this delete left lines that are already there.
      const written = new Set(this.readJournalTail().map((entry) => entry.seq));
      const lines = waiting.flatMap((row) => (row.id !== null && row.row_hash !== null && !written.has(Number(row.seq)) ? [`${row.seq} ${row.id} ${row.row_hash}\n`] : []));
      if (lines.length > 0) this.appendToJournal(lines.join(''));
      await tx.run('DELETE FROM journal_waiting');
    });
  }

  private appendToJournal(lines: string): void {
    try {
      const fd = openSync(this.journal, 'a+');
      try {
        const size = fstatSync(fd).size;
        const last = Buffer.alloc(1);
        // A torn last line keeps its own line: the new ones start on the next.
        const endsMidLine = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
        writeSync(fd, endsMidLine ? `\n${lines}` : lines);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw asDiskFull(error, this.journal);
    }
  }

  async get(id: string): Promise<EvidenceRow | undefined> {
    const row = await this.catalog.get<DbRow>('SELECT * FROM evidence WHERE id = ?', id);
    return row && fromDb(row);
  }

  /** Every row from the first collected at or after `from` to the last collected before `to`, as one unbroken stretch of the chain. */
  async chainSpan(from: string, to: string): Promise<EvidenceRow[]> {
    const bounds = await this.catalog.get<{ first: number | null; last: number | null }>(
      'SELECT MIN(seq) AS first, MAX(seq) AS last FROM evidence WHERE collected_at >= ? AND collected_at < ?',
      from,
      to,
    );
    if (!bounds || bounds.first === null || bounds.last === null) return [];
    return (await this.catalog.all<DbRow>('SELECT * FROM evidence WHERE seq BETWEEN ? AND ? ORDER BY seq', bounds.first, bounds.last)).map(fromDb);
  }

  async list(filter: { controlId?: string; limit?: number } = {}): Promise<EvidenceRow[]> {
    const rows = filter.controlId
      ? await this.catalog.all<DbRow>('SELECT * FROM evidence WHERE control_id = ? ORDER BY seq DESC LIMIT ?', filter.controlId, filter.limit ?? 1_000_000)
      : await this.catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq DESC LIMIT ?', filter.limit ?? 1_000_000);
    return rows.map(fromDb);
  }

  /** Streams the records of one snapshot, validating each line against the record schemas. */
  async *records(id: string): AsyncGenerator<EvidenceRecord> {
    const row = await this.get(id);
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
   * Checks every catalog row against its blob, the chain and the journal, and the staging folder for files no run
   * will finish. Reports each problem by evidence id (a staging file by its name); it never writes, so what it
   * finds is still there for the auditor. Without `runInFlight` no run counts as in flight.
   */
  async verify(options: { runInFlight?: RunInFlight } = {}): Promise<VerifyReport> {
    const problems: VerifyProblem[] = [];
    const rows = (await this.catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq')).map(fromDb);
    const { entries: journaled, malformed } = this.readJournal();
    for (const line of malformed) {
      problems.push({ evidenceId: `journal line ${line.number}`, problem: 'journal-malformed', detail: `journal.log line ${line.number} is not "<seq> <evidence id> <row hash>"` });
    }
    const journaledBySeq = new Map(journaled.map((entry) => [entry.seq, entry]));
    const waiting = new Set((await this.catalog.all<{ seq: number }>('SELECT seq FROM journal_waiting')).map((row) => Number(row.seq)));
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
      const entry = journaledBySeq.get(row.seq);
      if (!entry) {
        const detail = waiting.has(row.seq)
          ? `catalog row ${row.seq} is not in the journal yet: its writer stopped before writing the line, and the next write adds it`
          : `catalog row ${row.seq} is not in the journal`;
        problems.push({ evidenceId: row.id, problem: 'row-not-journaled', detail });
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
    problems.push(...(await this.verifyStaging(options.runInFlight ?? (async () => ({ inFlight: false, why: 'verify was given no way to ask' })))));
    return { ok: problems.length === 0, checked: rows.length, problems };
  }

  /** Staging files whose run will not finish them: what a crash or a timed-out last attempt left behind. */
  private async verifyStaging(runInFlight: RunInFlight): Promise<VerifyProblem[]> {
    const problems: VerifyProblem[] = [];
    for (const entry of await this.staging.list()) {
      const name = path.basename(entry.file);
      const what = `staging file ${name} (${entry.bytes} bytes, last written ${entry.modifiedAt})`;
      if (!entry.owner) {
        problems.push({ evidenceId: name, problem: 'staging-orphaned', detail: `${what}: no record of the run it belongs to` });
        continue;
      }
      const { inFlight, why } = await runInFlight(entry.owner);
      if (!inFlight) {
        problems.push({ evidenceId: name, problem: 'staging-orphaned', detail: `${what} of run ${entry.owner.runId}, source ${entry.owner.sourceName}: no run in flight (${why})` });
      }
    }
    return problems;
  }

  private async verifyBlob(row: EvidenceRow): Promise<VerifyProblem[]> {
    const file = this.blobPath(row.uri);
    if (!existsSync(file)) return [{ evidenceId: row.id, problem: 'blob-missing', detail: `blob ${row.uri} is missing` }];
    const storedSize = (await stat(file)).size;
    if (storedSize !== row.storedSize) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} is ${storedSize} bytes, catalog says ${row.storedSize}` }];
    }
    const found = await inspectBlob(file);
    if ('unreadable' in found) return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} cannot be read: ${found.unreadable}` }];
    if (found.sha256 !== row.sha256 || found.size !== row.size) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} has sha256 ${found.sha256}, catalog says ${row.sha256}` }];
    }
    return [];
  }

  /**
   * Moves a finished staging file to its content address, read-only. A blob already at that address is reused only
   * after its content has been hashed again; one that does not hold its content is replaced. The staging file was
   * hashed as it was written and every write was acknowledged in full: its size on disk must be what was written.
   */
  private async placeBlob(stagingFile: string, written: StagedContent): Promise<PlacedBlob> {
    const uri = `sha256/${written.sha256.slice(0, 2)}/${written.sha256}${BLOB_SUFFIX}`;
    const target = this.blobPath(uri);
    if (existsSync(target)) {
      const stored = await inspectBlob(target);
      if (holds(stored, written)) {
        await rm(stagingFile, { force: true });
        return { ...written, storedSize: stored.storedSize, uri };
      }
      this.log?.warn({ uri, found: describeBlob(stored) }, 'a stored blob does not hold the content its name promises; replacing it with the copy just written');
    }
    const onDisk = (await stat(stagingFile)).size;
    if (onDisk !== written.storedSize) throw new Error(`staging file ${stagingFile} holds ${onDisk} bytes, not the ${written.storedSize} written to it`);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await chmod(stagingFile, 0o444);
      // Replaces a broken blob in one step: a reader sees the old file or the new one, never a mix.
      await rename(stagingFile, target);
    } catch (error) {
      throw asDiskFull(error, target);
    }
    return { ...written, uri };
  }

  /** The whole lines at the end of the journal, read by a writer under the catalog's write lock. */
  private readJournalTail(): JournalEntry[] {
    if (!existsSync(this.journal)) return [];
    const fd = openSync(this.journal, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, JOURNAL_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const text = buffer.toString('utf8');
      // The first line of a window that starts mid-file may be cut.
      return parseJournal(length < size ? text.slice(text.indexOf('\n') + 1) : text).entries;
    } finally {
      closeSync(fd);
    }
  }

  private readJournal(): { entries: JournalEntry[]; malformed: { number: number }[] } {
    if (!existsSync(this.journal)) return { entries: [], malformed: [] };
    return parseJournal(readFileSync(this.journal, 'utf8'));
  }
}

const JOURNAL_LINE = /^(\d+) (\S+) ([0-9a-f]{64})$/;

function parseJournal(text: string): { entries: JournalEntry[]; malformed: { number: number }[] } {
  const entries: JournalEntry[] = [];
  const malformed: { number: number }[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const match = JOURNAL_LINE.exec(line);
    if (match) entries.push({ seq: Number(match[1]), id: match[2]!, rowHash: match[3]! });
    else malformed.push({ number: index + 1 });
  });
  return { entries, malformed };
}

type BlobInspection = StagedContent | { unreadable: string };
/** Read and decompress a MiB at a time: the streams' 64 and 16 KiB defaults made re-hashing a blob about twice as slow. */
const INSPECT_CHUNK_BYTES = 1 << 20;

/** What a blob file holds: the hash and size of its decompressed content and its size on disk. */
async function inspectBlob(file: string): Promise<BlobInspection> {
  try {
    const hash = createHash('sha256');
    let size = 0;
    const input = createReadStream(file, { highWaterMark: INSPECT_CHUNK_BYTES }).pipe(createZstdDecompress({ chunkSize: INSPECT_CHUNK_BYTES }));
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size, storedSize: (await stat(file)).size };
  } catch (error) {
    return { unreadable: (error as Error).message };
  }
}

function holds(found: BlobInspection, expected: StagedContent): found is StagedContent {
  return !('unreadable' in found) && found.sha256 === expected.sha256 && found.size === expected.size;
}

function describeBlob(found: BlobInspection): string {
  return 'unreadable' in found ? `unreadable (${found.unreadable})` : `${found.size} bytes with sha256 ${found.sha256} in ${found.storedSize} stored bytes`;
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
