import { createHash } from 'node:crypto';
import { MalformedResponseError, type ConnectorError } from '../errors.ts';

/** What is known of an input before its content is read. */
export interface InputFacts {
  /** Bytes as stated before reading (stat, or the S3 listing); the size bounds are checked on it first. */
  readonly size: number;
  /** The scan time of last resort, for exports that state none. */
  readonly modifiedAt: Date;
}

/** A size bound and the config setting that raises it, for the message that refuses an input above it. */
export interface ReadLimit {
  readonly maxBytes: number;
  readonly setting: 'maxJsonBytes' | 'maxXmlBytes';
}

/**
 * One scan export, wherever it is kept: a local file or an S3 object. The connector reads every input the same way
 * (the head to tell its format, then the content once, hashing every byte that goes through), so only this small
 * surface differs between the stores. Failures come out typed and naming `origin`.
 */
export interface ScanInput {
  /** What records, messages and provenance call it: an absolute path, or `s3://bucket/key`. */
  readonly origin: string;
  facts(signal: AbortSignal): Promise<InputFacts>;
  /** The first `length` bytes (all of them when the input is shorter). */
  head(length: number, signal: AbortSignal): Promise<Buffer>;
  /** The whole content in chunks as they arrive, for the streamed formats: only the current chunk is held. */
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
  /** The whole content in one buffer, for the formats parsed whole; refused past the limit. */
  bytes(limit: ReadLimit, signal: AbortSignal): Promise<Buffer>;
  /** What names the version that was read besides its sha256 (an S3 object's ETag and VersionId); complete once read. */
  version(): Readonly<Record<string, string>>;
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

export function tooLarge(origin: string, bytes: number, limit: ReadLimit): ConnectorError {
  return new MalformedResponseError(
    `scanner-files: ${origin}: ${bytes} bytes is more than ${limit.setting} (${limit.maxBytes}); raise ${limit.setting} or split the export`,
  );
}
