import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { createZstdDecompress } from 'node:zlib';
import type { EvidenceRef } from '../core/contracts.ts';
import { BlobMissingError, inspectBlob, placeBlob, type BlobStore, type PlacedBlob } from './blob-store.ts';
import { FilesystemBlobStore } from './blob-store-fs.ts';
import { SqliteCatalog, type Catalog, type CatalogSession } from './catalog.ts';
import { migrateModules } from './schema.ts';
import { FileJournal, type Journal, type JournalEntry } from './journal.ts';
import { EvidenceRecord } from '../core/records.ts';
import { StagingArea, type Checkpoint, type OpenStagingFile, type StagedSnapshot, type StagingOwner } from './staging.ts';
import { ensureViews } from './views.ts';
import { fromDb, holdsItsHash, rowHash, toDbValues, type DbRow, type EvidenceRow } from './evidence-row.ts';

export { StagedSnapshot } from './staging.ts';
export type { Checkpoint, StagingOwner } from './staging.ts';

/**
 * How `commit` makes each of its catalog calls: by default once; a caller that would rather wait out an unreachable
 * catalog than lose a finished snapshot passes a call that retries (activities/collect.ts).
 */
export type CatalogCall = <T>(operation: () => Promise<T>) => Promise<T>;

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
  problem: 'blob-missing' | 'blob-modified' | 'row-modified' | 'row-deleted' | 'row-not-journaled' | 'chain-broken' | 'journal-malformed' | 'staging-orphaned';
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
  /** Where blobs are kept; by default read-only files under `<dataDir>/evidence/blobs`. */
  blobs?: BlobStore;
  /** Where row hashes are journaled; by default `<dataDir>/evidence/journal.log`. Keep it where the blobs are. */
  journal?: Journal;
}

const GENESIS = '0'.repeat(64);
/** Rows committed whose journal line is not written yet: a writer adds the row and its entry here in one transaction. */
const JOURNAL_MIGRATIONS = ['CREATE TABLE journal_waiting (seq INTEGER PRIMARY KEY)'];

/**
 * The evidence store: content-addressed, write-once blobs (zstd NDJSON) in a blob store, a SQLite catalog
 * whose rows form a hash chain, and an append-only journal of row hashes so that deleting the newest row
 * is detectable too. Only writers touch the journal; opening and verifying read it.
 */
export class EvidenceStore {
  readonly root: string;
  readonly catalog: Catalog;
  readonly blobs: BlobStore;
  private readonly blobDir: string;
  private readonly staging: StagingArea;
  /** Where row hashes are journaled: a file beside local blobs, write-once objects beside blobs in S3. */
  private readonly journal: Journal;
  private readonly log: StoreOptions['log'];

  private constructor(dataDir: string, catalog: Catalog, options: StoreOptions) {
    this.root = path.join(dataDir, 'evidence');
    this.blobDir = path.join(this.root, 'blobs');
    this.blobs = options.blobs ?? new FilesystemBlobStore(this.blobDir);
    this.staging = new StagingArea(path.join(this.root, 'staging'), options.openStagingFile);
    this.journal = options.journal ?? new FileJournal(path.join(this.root, 'journal.log'));
    this.log = options.log;
    this.catalog = catalog;
  }

  static async open(dataDir: string, options: StoreOptions = {}): Promise<EvidenceStore> {
    const store = new EvidenceStore(dataDir, options.catalog ?? new SqliteCatalog(path.join(dataDir, 'catalog.sqlite')), options);
    if (store.blobs instanceof FilesystemBlobStore) await mkdir(store.blobDir, { recursive: true });
    await store.staging.create();
    await store.catalog.migrateModule('evidence-journal', JOURNAL_MIGRATIONS);
    await migrateModules(store.catalog);
    await ensureViews(store.catalog);
    return store;
  }

  async close(): Promise<void> {
    await this.catalog.close();
    this.blobs.close?.();
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
  async commit(staged: StagedSnapshot, meta: SnapshotMeta, catalogCall: CatalogCall = (operation) => operation()): Promise<EvidenceRow> {
    const written = await staged.finish();
    const existing = await catalogCall(() => this.findCommitted(meta.runId, meta.sourceName));
    if (existing) {
      // The attempt that committed it may have lost the catalog before its journal line: this retry writes it.
      await catalogCall(() => this.journalWaiting());
      await this.staging.discard(meta.runId, meta.sourceName);
      return existing;
    }
    const blob = await placeBlob(this.blobs, staged.file, written, this.log);
    // Once the blob is placed the staging file is gone: the row is what remains to write, and appendRow finds a row
    // an earlier call committed before it lost the catalog, so calling it again is safe.
    const row = await catalogCall(() => this.appendRow(meta, blob, staged.count));
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
    if (existing) {
      await this.journalWaiting();
      return existing;
    }
    try {
      const staged = await this.staging.file(meta.runId, meta.sourceName);
      await staged.write(typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength));
      const blob = await placeBlob(this.blobs, staged.file, await staged.finish(), this.log);
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
    for await (const chunk of (await this.readBlob(row)).pipe(createZstdDecompress()) as AsyncIterable<Buffer>) chunks.push(chunk);
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
      const journaled = (await this.journal.tail()).map((entry) => entry.seq);
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
    await this.journalWaiting();
    return row;
  }

  /**
   * Appends the lines of committed rows still waiting for them, under the catalog's write lock so that writers
   * neither interleave nor double a line. A line is written after its row commits: a crash in between leaves a row
   * waiting for its line (verify says so, and the next writer appends it) rather than a line without its row. Only
   * rows that waited are journaled here: a journal emptied, cut or edited is never filled in, so what verify
   * reports stays for the auditor.
   */
  async journalWaiting(): Promise<void> {
    await this.catalog.transaction(async (tx) => {
      const waiting = await tx.all<{ seq: number; id: string | null; row_hash: string | null }>(
        'SELECT w.seq AS seq, e.id AS id, e.row_hash AS row_hash FROM journal_waiting w LEFT JOIN evidence e ON e.seq = w.seq ORDER BY w.seq',
      );
      if (waiting.length === 0) return;
      // A writer that stopped after its append and before this delete left lines that are already there.
      const written = new Set((await this.journal.tail()).map((entry) => entry.seq));
      const entries: JournalEntry[] = waiting.flatMap((row) =>
        row.id !== null && row.row_hash !== null && !written.has(Number(row.seq)) ? [{ seq: Number(row.seq), id: row.id, rowHash: row.row_hash }] : [],
      );
      if (entries.length > 0) await this.journal.append(entries);
      await tx.run('DELETE FROM journal_waiting');
    });
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
    for await (const batch of this.recordBatches(id)) yield* batch;
  }

  /**
   * The records of one snapshot in batches of about `size`, each line validated against the record schemas. Lines are
   * split by hand over the decompressed chunks: a line event and an await per record (readline and a generator per
   * record) were a tenth of evaluating a 1.46M-finding snapshot.
   */
  async *recordBatches(id: string, size = 2000): AsyncGenerator<EvidenceRecord[]> {
    const row = await this.get(id);
    if (!row) throw new Error(`evidence ${id}: not in the catalog`);
    if (row.kinds.includes(FILE_KIND)) throw new Error(`evidence ${id} is a file, not records: read it with fileContent`);
    const input = (await this.readBlob(row)).pipe(createZstdDecompress());
    const decoder = new StringDecoder('utf8');
    let line = 0;
    let partial = '';
    let batch: EvidenceRecord[] = [];
    const parse = (text: string) => {
      line++;
      if (text === '') return;
      const parsed = EvidenceRecord.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`evidence ${id}: line ${line}: ${parsed.error.issues[0]?.message ?? 'not a record'}`);
      batch.push(parsed.data);
    };
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const text = partial + decoder.write(chunk);
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) parse(text.slice(start, end));
      partial = text.slice(start);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    parse(partial + decoder.end());
    if (batch.length > 0) yield batch;
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

  /** Where a blob of the default filesystem store is on disk. */
  blobPath(uri: string): string {
    return path.join(this.blobDir, uri);
  }

  /** The stored (compressed) bytes of a row's blob, as a stream. */
  async readBlob(row: EvidenceRow): Promise<Readable> {
    try {
      return await this.blobs.read(row.uri);
    } catch (error) {
      if (error instanceof BlobMissingError) throw new Error(`evidence ${row.id}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /**
   * Checks every catalog row against its blob, the chain and the journal, and the staging folder for files no run
   * will finish. Reports each problem by evidence id (a staging file by its name); it never writes, so what it
   * finds is still there for the auditor. Without `runInFlight` no run counts as in flight.
   */
  async verify(options: { runInFlight?: RunInFlight } = {}): Promise<VerifyReport> {
    const problems: VerifyProblem[] = [];
    const rows = (await this.catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq')).map(fromDb);
    const { entries: journaled, malformed } = await this.journal.read();
    for (const entry of malformed) problems.push({ evidenceId: entry.where, problem: 'journal-malformed', detail: entry.detail });
    const journaledBySeq = new Map(journaled.map((entry) => [entry.seq, entry]));
    const waiting = new Set((await this.catalog.all<{ seq: number }>('SELECT seq FROM journal_waiting')).map((row) => Number(row.seq)));
    let previous = GENESIS;
    let previousSeq = 0;
    for (const row of rows) {
      if (!holdsItsHash(row)) {
        problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `catalog row ${row.seq} does not match its hash` });
      }
      if (row.prevHash !== previous || row.seq !== previousSeq + 1) {
        const missing = journaled.filter((entry) => entry.seq > previousSeq && entry.seq < row.seq);
        for (const entry of missing) problems.push({ evidenceId: entry.id, problem: 'row-deleted', detail: `catalog row ${entry.seq} is gone` });
        if (missing.length === 0)
          problems.push({ evidenceId: row.id, problem: 'chain-broken', detail: `catalog row ${row.seq} does not follow row ${previousSeq}` });
      }
      const entry = journaledBySeq.get(row.seq);
      if (!entry) {
        const detail = waiting.has(row.seq)
          ? `catalog row ${row.seq} is not in the journal yet: its writer stopped before writing the line, and the next write adds it`
          : `catalog row ${row.seq} is not in the journal`;
        problems.push({ evidenceId: row.id, problem: 'row-not-journaled', detail });
      } else if (entry.id !== row.id || entry.rowHash !== row.rowHash) {
        problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `catalog row ${row.seq} differs from the journal` });
      }
      previous = row.rowHash;
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
        problems.push({
          evidenceId: name,
          problem: 'staging-orphaned',
          detail: `${what} of run ${entry.owner.runId}, source ${entry.owner.sourceName}: no run in flight (${why})`,
        });
      }
    }
    return problems;
  }

  private async verifyBlob(row: EvidenceRow): Promise<VerifyProblem[]> {
    const stored = await this.blobs.inspect(row.uri);
    if (!stored) return [{ evidenceId: row.id, problem: 'blob-missing', detail: `blob ${row.uri} is missing from ${this.blobs.location}` }];
    if (stored.storedSize !== row.storedSize) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} is ${stored.storedSize} bytes, catalog says ${row.storedSize}` }];
    }
    const found = await inspectBlob(this.blobs, row.uri);
    if ('unreadable' in found) return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} cannot be read: ${found.unreadable}` }];
    if (found.sha256 !== row.sha256 || found.size !== row.size) {
      return [{ evidenceId: row.id, problem: 'blob-modified', detail: `blob ${row.uri} has sha256 ${found.sha256}, catalog says ${row.sha256}` }];
    }
    return [];
  }
}
