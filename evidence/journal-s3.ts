import { GetObjectCommand, ListObjectVersionsCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3BlobStore } from './blob-store-s3.ts';
import { s3StorageError } from './blob-store-s3.ts';
import { JOURNAL_LINE, journalLine, type Journal, type JournalContents, type JournalEntry, type MalformedJournalEntry } from './journal.ts';

/** Digits of the sequence number in an entry's key: keys sort as numbers, up to 10^12 rows. */
const SEQ_DIGITS = 12;
/** Entries a writer reads back from the end of the journal. */
const TAIL_ENTRIES = 64;
/** Entries fetched at once when the whole journal is read. */
const READ_CONCURRENCY = 16;

/** A journal entry already written with other content: two writers gave one sequence number to different rows. */
export class JournalConflictError extends Error {
  override readonly name = 'JournalConflictError';
}

/**
 * The journal in the bucket of the blobs: one object per entry, `<prefix>journal/<seq>`, created with a conditional
 * put so that a sequence number is written once, and with the blob store's Object Lock retention and encryption.
 * The bucket is versioned (Object Lock requires it), so an entry written over shows as a second version.
 */
export class S3Journal implements Journal {
  readonly location: string;
  private readonly blobs: S3BlobStore;
  private readonly under: string;

  constructor(blobs: S3BlobStore) {
    this.blobs = blobs;
    this.under = `${blobs.prefix}journal/`;
    this.location = `s3://${blobs.bucket}/${this.under}`;
  }

  keyOf(seq: number): string {
    return `${this.under}${String(seq).padStart(SEQ_DIGITS, '0')}`;
  }

  async append(entries: readonly JournalEntry[]): Promise<void> {
    for (const entry of entries) {
      const body = Buffer.from(journalLine(entry));
      const key = this.keyOf(entry.seq);
      if ((await this.blobs.putObject(key, body, body.length, false)) === 'exists') {
        // A writer that stopped after its put and before clearing its waiting rows wrote this very entry.
        const stored = await this.getText(key);
        if (stored !== body.toString())
          throw new JournalConflictError(`journal entry ${entry.seq} at ${this.location} already holds another row; not overwritten`);
      }
    }
  }

  async tail(): Promise<JournalEntry[]> {
    const keys = await this.keys();
    return (await this.fetch(keys.slice(-TAIL_ENTRIES))).entries;
  }

  async read(): Promise<JournalContents> {
    const keys = await this.keys();
    const contents = await this.fetch(keys);
    const rewritten = await this.rewrittenKeys();
    for (const key of keys.filter((candidate) => rewritten.has(candidate))) {
      contents.malformed.push({
        where: `journal entry ${key}`,
        detail: `journal entry ${this.location}${key.slice(this.under.length)} was written over: it has ${rewritten.get(key)} versions`,
      });
    }
    return contents;
  }

  private async keys(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.blobs.client }, { Bucket: this.blobs.bucket, Prefix: this.under })) {
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      }
    } catch (error) {
      throw s3StorageError('ListObjectsV2', this.blobs.bucket, this.under, error);
    }
    return keys.sort();
  }

  /** Keys with more than one version, and how many. */
  private async rewrittenKeys(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    try {
      let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await this.blobs.client.send(new ListObjectVersionsCommand({ Bucket: this.blobs.bucket, Prefix: this.under, ...marker }));
        for (const version of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
          if (version.Key) counts.set(version.Key, (counts.get(version.Key) ?? 0) + 1);
        if (!page.IsTruncated) break;
        marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
      }
    } catch (error) {
      throw s3StorageError('ListObjectVersions', this.blobs.bucket, this.under, error);
    }
    return new Map([...counts].filter(([, count]) => count > 1));
  }

  private async fetch(keys: readonly string[]): Promise<JournalContents> {
    const texts: string[] = [];
    for (let start = 0; start < keys.length; start += READ_CONCURRENCY) {
      texts.push(...(await Promise.all(keys.slice(start, start + READ_CONCURRENCY).map((key) => this.getText(key)))));
    }
    const entries: JournalEntry[] = [];
    const malformed: MalformedJournalEntry[] = [];
    keys.forEach((key, index) => {
      const name = key.slice(this.under.length);
      const match = JOURNAL_LINE.exec(texts[index]!.replace(/\n$/, ''));
      if (match && /^\d+$/.test(name) && Number(match[1]) === Number(name)) entries.push({ seq: Number(match[1]), id: match[2]!, rowHash: match[3]! });
      else
        malformed.push({
          where: `journal entry ${key}`,
          detail: `journal entry ${this.location}${name} is not "<seq> <evidence id> <row hash>" for sequence number ${name}`,
        });
    });
    return { entries, malformed };
  }

  private async getText(key: string): Promise<string> {
    try {
      const answer = await this.blobs.client.send(new GetObjectCommand({ Bucket: this.blobs.bucket, Key: key }));
      return (await answer.Body?.transformToString()) ?? '';
    } catch (error) {
      throw s3StorageError('GetObject', this.blobs.bucket, key, error);
    }
  }
}
