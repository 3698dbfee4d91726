import { createHash } from 'node:crypto';
import { MalformedResponseError, UnavailableError, type ConnectorError } from '../errors.ts';

/** What is known of an input before its content is read. */
export interface InputFacts {
  /** Bytes as stated before reading (stat, or the S3 listing); the size bounds are checked on it first. */
  readonly size: number;
  /** The scan time of last resort, for exports that state none. */
  readonly modifiedAt: Date;
}

/**
 * What names one version of an input besides its content hash: compared, when a collection resumes, with what an
 * earlier attempt read, and kept in provenance.
 */
export interface InputIdentity {
  /** Bytes, as stated (stat, the S3 listing or the object's answer). */
  readonly size: number;
  /** ISO timestamp: a file's mtime, an object's Last-Modified. */
  readonly modifiedAt: string;
  /** A local path that is, or goes through, a symlink: the file it resolves to. */
  readonly realPath?: string;
  /** An S3 object's ETag, unquoted. */
  readonly etag?: string;
  /** An S3 object's VersionId in a versioned bucket, once read. */
  readonly versionId?: string;
}

/** A size bound and the config setting that raises it, for the message that refuses an input above it. */
export interface ReadLimit {
  readonly maxBytes: number;
  readonly setting: 'maxJsonBytes' | 'maxXmlBytes';
}

/**
 * One scan export, wherever it is kept: a local file or an S3 object. The connector reads every input the same way
 * (the head to tell its format, then the content streamed, hashing every byte that goes through; a JSON export whose
 * context comes after its items is streamed twice), so only this small surface differs between the stores. Failures
 * come out typed and naming `origin`.
 */
export interface ScanInput {
  /** What records, messages and provenance call it: an absolute path, or `s3://bucket/key`. */
  readonly origin: string;
  facts(signal: AbortSignal): Promise<InputFacts>;
  /** The first `length` bytes (all of them when the input is shorter). */
  head(length: number, signal: AbortSignal): Promise<Buffer>;
  /** The whole content in chunks as they arrive: only the current chunk is held. Each call reads it again. */
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
  /** The version as listed before the input is read; once it has been read, the version read. */
  identity(): InputIdentity;
  /**
   * Called once the content has been read: fails retryably when the input changed while it was read (the bytes
   * hashed would then be of no one version).
   */
  settle(): Promise<void>;
  /** Frees what reading held (a file handle); called whether the read succeeded or not. */
  close(): Promise<void>;
}

/** The sha256 and size of the bytes that went through it, for provenance. */
export class FileDigest {
  private readonly hash = createHash('sha256');
  bytes = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }
  sha256(): string {
    return this.hash.digest('hex');
  }
}

/**
 * An input's chunks, each passed through `digest`, refused once past the limit (checked on the bytes actually read,
 * since a file can grow, or an object be replaced, after it was measured).
 */
export async function* measuredChunks(input: ScanInput, digest: FileDigest, limit: ReadLimit, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const chunk of input.chunks(signal)) {
    digest.update(chunk);
    if (digest.bytes > limit.maxBytes) throw tooLarge(input.origin, digest.bytes, limit);
    yield chunk;
  }
}

/** The size and sha256 of one complete read of an input. */
export interface ContentRead {
  readonly bytes: number;
  readonly sha256: string;
}

/** An input's chunks as `measuredChunks` gives them; once the last has been read, the read is added to `reads`. */
export async function* recordedRead(input: ScanInput, reads: ContentRead[], limit: ReadLimit, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const digest = new FileDigest();
  yield* measuredChunks(input, digest, limit, signal);
  reads.push({ bytes: digest.bytes, sha256: digest.sha256() });
}

/**
 * The content every complete read saw. Reads that differ mean the file was rewritten (or the object replaced) between
 * them, and records mapped from one with context from the other would be wrong: retryable, as the next attempt
 * reads a settled file.
 */
export function sameContent(origin: string, reads: readonly ContentRead[]): ContentRead {
  const last = reads.at(-1);
  if (last === undefined) throw new Error(`scanner-files: ${origin}: read no content`);
  const other = reads.find((read) => read.sha256 !== last.sha256);
  if (other !== undefined) {
    throw new UnavailableError(`scanner-files: ${origin}: changed while it was read (sha256 ${other.sha256} then ${last.sha256}); it is read again on retry`);
  }
  return last;
}

export function tooLarge(origin: string, bytes: number, limit: ReadLimit): ConnectorError {
  return new MalformedResponseError(
    `scanner-files: ${origin}: ${bytes} bytes is more than ${limit.setting} (${limit.maxBytes}); raise ${limit.setting} or split the export`,
  );
}
