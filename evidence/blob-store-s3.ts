import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
  type ObjectLockMode,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { BlobMissingError, EvidenceStorageError, type BlobStore } from './blob-store.ts';

/**
 * What the S3 store needs: config/evidence-blobs.ts validates it from isms.yaml (the store stands below config, so
 * it states the shape it takes and the config's parsed value must fit it where the runtime hands it over).
 */
export interface S3BlobsConfig {
  kind: 's3';
  bucket: string;
  prefix: string;
  region?: string;
  endpoint?: string;
  forcePathStyle: boolean;
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retainDays: number };
  serverSideEncryption?: { kind: 'SSE-S3' } | { kind: 'SSE-KMS'; kmsKeyId?: string };
  partSizeMiB: number;
}

export type EvidenceBlobsConfig = { kind: 'filesystem' } | S3BlobsConfig;

/** Error names S3 gives a request that may succeed when sent again. */
const TRANSIENT_S3_ERRORS = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'ConditionalRequestConflict',
  'OperationAborted',
]);
/**
 * Errors the SDK raises before sending anything, because this host cannot say where or as whom to send: they do not
 * pass by retrying. Said in our words, since the SDK's messages can quote a credential process's output.
 */
const LOCAL_CONFIG_FAULTS: Record<string, string> = {
  CredentialsProviderError: 'no AWS credentials found in the default chain (environment, profile, web identity, container or instance role)',
  RegionMissing: 'no region: set evidence.blobs.region or AWS_REGION',
};
/** Names of errors raised before any answer came back: the network, not S3. */
const NETWORK_ERRORS = new Set(['TimeoutError', 'AbortError', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * An S3 request for evidence that failed, naming the bucket, the key and the operation. Only S3's error code and
 * HTTP status are kept: some S3 error bodies carry the access key id and the string that was signed.
 */
export function s3StorageError(operation: string, bucket: string, key: string, error: unknown, knownCode?: string): EvidenceStorageError {
  const fault = s3FaultOf(error);
  const { status } = fault;
  const code = knownCode ?? fault.code;
  const retryable = status === undefined ? NETWORK_ERRORS.has(code) || code === 'network' : status >= 500 || status === 429 || TRANSIENT_S3_ERRORS.has(code);
  const why = code === 'AccessDenied' ? 'access denied' : code === 'NoSuchBucket' ? 'the bucket does not exist' : (LOCAL_CONFIG_FAULTS[code] ?? code);
  return new EvidenceStorageError(
    `S3 ${operation} s3://${bucket}/${key}: ${why}${status === undefined ? '' : ` (HTTP ${status})`}${retryable ? '' : '; not retried'}`,
    {
      retryable,
      location: `s3://${bucket}`,
      operation,
    },
  );
}

function s3FaultOf(error: unknown): { code: string; status: number | undefined } {
  if (!(error instanceof Error)) return { code: 'network', status: undefined };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const errno = (error as NodeJS.ErrnoException).code;
  if (status === undefined && error.message === 'Region is missing') return { code: 'RegionMissing', status };
  const code = status === undefined && typeof errno === 'string' ? errno : error.name;
  // Error names are identifiers; anything else came from somewhere we do not quote.
  return { code: /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'unrecognised error', status };
}

async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    if (bytesRead !== length) throw new Error(`staging file ${file} ended at ${start + bytesRead} bytes, before ${start + length}`);
    return buffer;
  } finally {
    await handle.close();
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

export interface S3BlobStoreOptions {
  /** Credentials other than the default AWS chain's; a test gives keys of a user it made. */
  credentials?: S3ClientConfig['credentials'];
  /** When the retention of an object written now ends; a test moves the clock. */
  now?: () => Date;
}

const MIB = 1024 * 1024;

/**
 * Blobs as objects `<prefix><uri>` in one bucket. Each is written with a conditional put (If-None-Match: *), so
 * content already stored is never written twice and concurrent writers of the same content cannot clobber each
 * other; with Object Lock configured each object gets its retention as it is written.
 */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly config: S3BlobsConfig;
  private readonly now: () => Date;
  /** Whether the bucket exists, asked once when an object is not found. */
  private bucketChecked: Promise<EvidenceStorageError | undefined> | undefined;

  constructor(config: S3BlobsConfig, options: S3BlobStoreOptions = {}) {
    this.config = config;
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.location = `s3://${config.bucket}/${config.prefix}`;
    this.now = options.now ?? (() => new Date());
    this.client = new S3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle, credentials: options.credentials });
  }

  keyOf(uri: string): string {
    return `${this.prefix}${uri}`;
  }

  /** Object Lock and encryption settings every new object is written with. */
  writeParams(): { ObjectLockMode?: ObjectLockMode; ObjectLockRetainUntilDate?: Date; ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
    const lock = this.config.objectLock;
    const sse = this.config.serverSideEncryption;
    return {
      ...(lock && { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(this.now().getTime() + lock.retainDays * 86_400_000) }),
      ...(sse?.kind === 'SSE-S3' && { ServerSideEncryption: 'AES256' as const }),
      ...(sse?.kind === 'SSE-KMS' && { ServerSideEncryption: 'aws:kms' as const, ...(sse.kmsKeyId && { SSEKMSKeyId: sse.kmsKeyId }) }),
    };
  }

  /**
   * Puts `body` at `key` unless something is there already (or, with `replace`, as a new version over it).
   * Returns 'exists' when the condition failed.
   */
  async putObject(key: string, body: Buffer, storedSize: number, replace: boolean): Promise<'written' | 'exists'> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: storedSize,
          ...(replace ? {} : { IfNoneMatch: '*' }),
          ...this.writeParams(),
        }),
      );
      return 'written';
    } catch (error) {
      if (statusOf(error) === 412) return 'exists';
      throw s3StorageError('PutObject', this.bucket, key, error);
    }
  }

  async write(stagingFile: string, uri: string, options: { replace: boolean; storedSize: number }): Promise<'written' | 'exists'> {
    const key = this.keyOf(uri);
    const partSize = this.config.partSizeMiB * MIB;
    // In memory (at most a part), so that the SDK can send it again on a throttled or failed attempt: it cannot replay a stream.
    if (options.storedSize <= partSize) return this.putObject(key, await readFile(stagingFile), options.storedSize, options.replace);
    return this.writeInParts(stagingFile, key, options.storedSize, partSize, options.replace);
  }

  /**
   * A multipart upload whose completion is the conditional write: the object appears whole or not at all. Parts are
   * read from the staging file by range (its size is known), so a part the SDK sends again is read again rather than
   * buffered from a stream; that is all @aws-sdk/lib-storage would add here, so it is not a dependency.
   */
  private async writeInParts(stagingFile: string, key: string, storedSize: number, partSize: number, replace: boolean): Promise<'written' | 'exists'> {
    let uploadId: string | undefined;
    let operation = 'CreateMultipartUpload';
    try {
      uploadId = (await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...this.writeParams() }))).UploadId;
      if (!uploadId) throw new Error('CreateMultipartUpload returned no upload id');
      const parts: { ETag: string | undefined; PartNumber: number }[] = [];
      operation = 'UploadPart';
      for (let start = 0, number = 1; start < storedSize; start += partSize, number++) {
        const end = Math.min(start + partSize, storedSize);
        const body = await readRange(stagingFile, start, end - start);
        const part = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: number, ContentLength: body.length, Body: body }),
        );
        parts.push({ ETag: part.ETag, PartNumber: number });
      }
      operation = 'CompleteMultipartUpload';
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(replace ? {} : { IfNoneMatch: '*' }),
        }),
      );
      return 'written';
    } catch (error) {
      if (uploadId) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      if (operation === 'CompleteMultipartUpload' && statusOf(error) === 412) return 'exists';
      throw s3StorageError(operation, this.bucket, key, error);
    }
  }

  async read(uri: string): Promise<Readable> {
    const key = this.keyOf(uri);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return answer.Body as Readable;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') throw new BlobMissingError(this.location, uri);
      throw s3StorageError('GetObject', this.bucket, key, error);
    }
  }

  async inspect(uri: string): Promise<{ storedSize: number } | undefined> {
    const key = this.keyOf(uri);
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { storedSize: Number(answer.ContentLength) };
    } catch (error) {
      if (statusOf(error) !== 404) throw s3StorageError('HeadObject', this.bucket, key, error);
    }
    // A HEAD answer has no body, so a missing bucket looks like a missing object: ask the bucket before saying the blob is gone.
    this.bucketChecked ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => undefined,
      (error: unknown) => s3StorageError('HeadBucket', this.bucket, '', error, statusOf(error) === 404 ? 'NoSuchBucket' : undefined),
    );
    const failure = await this.bucketChecked;
    if (failure) {
      this.bucketChecked = undefined;
      throw failure;
    }
    return undefined;
  }

  async *list(): AsyncIterable<string> {
    const under = this.keyOf('sha256/');
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: under })) {
        for (const object of page.Contents ?? []) if (object.Key) yield object.Key.slice(this.prefix.length);
      }
    } catch (error) {
      throw s3StorageError('ListObjectsV2', this.bucket, under, error);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** The blob store the config names; undefined for the filesystem default, which the store makes under its data folder. */
export function blobStoreOf(config: EvidenceBlobsConfig, options: S3BlobStoreOptions = {}): S3BlobStore | undefined {
  return config.kind === 's3' ? new S3BlobStore(config, options) : undefined;
}
