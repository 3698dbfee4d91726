import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { ConnectorContext } from '../contract.ts';
import { MalformedResponseError, NotFoundError, UnavailableError } from '../errors.ts';
import { awsErrorSummary, awsFailure } from '../kit/aws-errors.ts';
import { awsClientConfig, AwsKeys, countSdkRetries, workerCredentials } from '../kit/aws.ts';
import { RetryTally } from '../kit/retries.ts';
import { nextPageToken, parseResponse } from '../kit/validate.ts';
import type { InputFacts, InputIdentity, ScanInput } from './input.ts';
import { SNIFF_BYTES } from './sniff.ts';

export const S3Settings = z.strictObject({
  region: z.string().min(1).default('us-east-1').describe('The region of the first request; a bucket in another region is followed there.'),
  endpoint: z
    .url()
    .refine((url) => {
      const parsed = new URL(url);
      return parsed.username === '' && parsed.password === '';
    }, 'credentials do not belong in the endpoint URL; use s3.credentials')
    .optional()
    .describe('Another S3 implementation (MinIO, moto) or a VPC endpoint.'),
  forcePathStyle: z.boolean().default(false).describe('`http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`: what MinIO and moto need.'),
  credentials: AwsKeys.optional(),
  pageSize: z.number().int().min(1).max(1000).default(1000).describe('Keys per ListObjectsV2 page (S3 sends at most 1000).'),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(3)
    .describe("Attempts per request, the SDK's retries with backoff included; throttling that outlasts them fails the collection as throttled."),
});
export type S3Settings = z.infer<typeof S3Settings>;

// ---------------------------------------------------------------- s3:// URLs

const SCHEME = 's3://';
/** The current bucket naming rules; older us-east-1 names with capitals or underscores cannot be reached this way. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Url(path: string): boolean {
  return path.startsWith(SCHEME);
}

/** What one configured `s3://` path names: one object, or the objects under a prefix (those whose key matches, for a glob). */
export type S3Location =
  | { readonly kind: 'object'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'prefix'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'glob'; readonly bucket: string; readonly prefix: string; readonly pattern: RegExp };

/**
 * `s3://bucket/` and `s3://bucket/scans/` (a trailing slash) name every object under the prefix, at any depth;
 * `s3://bucket/scans/*.sarif` the objects of that "folder" whose name matches (`*` stays within one segment);
 * anything else one object by its key.
 */
export function parseS3Url(url: string): { location: S3Location } | { problem: string } {
  if (!isS3Url(url)) return { problem: `not an s3:// URL` };
  const rest = url.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET_NAME.test(bucket)) return { problem: `"${bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)` };
  const folderEnd = path.lastIndexOf('/') + 1;
  const folder = path.slice(0, folderEnd);
  const name = path.slice(folderEnd);
  if (folder.includes('*')) return { problem: 'a * may only stand in the last segment of an s3:// URL' };
  if (name === '') return { location: { kind: 'prefix', bucket, prefix: folder } };
  if (!name.includes('*')) return { location: { kind: 'object', bucket, key: path } };
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${literal(folder)}${name.split('*').map(literal).join('[^/]*')}$`, 'u');
  return { location: { kind: 'glob', bucket, prefix: folder + name.slice(0, name.indexOf('*')), pattern } };
}

/** Whether the object at `origin` (`s3://bucket/key`) is one the configured s3:// path names. */
export function namedByS3Url(configured: string, origin: string): boolean {
  const parsed = parseS3Url(configured);
  if ('problem' in parsed) return false;
  const location = parsed.location;
  const bucketPart = `${SCHEME}${location.bucket}/`;
  if (!origin.startsWith(bucketPart)) return false;
  const key = origin.slice(bucketPart.length);
  if (location.kind === 'object') return key === location.key;
  if (location.kind === 'prefix') return key.startsWith(location.prefix);
  return location.pattern.test(key);
}

// ---------------------------------------------------------------- what S3 answers

/*
 * The fields of S3's answers that are read, checked as the SDK hands them over: a missing one is S3's (or a fake's)
 * fault and is named. These schemas shape how objects are found and read; the scan content itself is mapped in
 * mapping.ts.
 */
const ListedObject = z.object({ Key: z.string().min(1), Size: z.number().int().nonnegative(), LastModified: z.date(), ETag: z.string().min(1) });
const ListPage = z.object({
  Contents: z.array(ListedObject).optional(),
  IsTruncated: z.boolean().optional(),
  NextContinuationToken: z.string().min(1).optional(),
});
const ObjectBody = z.custom<AsyncIterable<Uint8Array>>(
  (body) => typeof body === 'object' && body !== null && typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function',
  'expected a readable body',
);
const ObjectResponse = z.object({
  Body: ObjectBody,
  ETag: z.string().min(1),
  VersionId: z.string().min(1).optional(),
  LastModified: z.date(),
  ContentLength: z.number().int().nonnegative(),
  ContentRange: z
    .string()
    .regex(/^bytes \d+-\d+\/\d+$/, 'expected "bytes first-last/size"')
    .optional(),
});
type ObjectResponse = z.infer<typeof ObjectResponse>;

// ---------------------------------------------------------------- errors

/** If-Match pins the version that was listed or sniffed; a replaced object is read again, whole, by the next attempt. */
const OBJECT_CHANGED: ReadonlyMap<string, string> = new Map([['PreconditionFailed', 'the object changed while it was being read']]);

/**
 * Maps what the SDK throws to our typed errors, saying where (the configured path or the object's URL), which call,
 * S3's code, and for a refusal which permission the worker lacks. Our own errors and aborts pass through.
 */
export function s3Failure(error: unknown, where: string, operation: string, needs?: string): Error {
  return awsFailure(error, `${where}: ${operation}`, {
    ...(needs === undefined ? {} : { needs }),
    authHint: "check the configured s3.credentials (or the worker's AWS credentials)",
    transient: OBJECT_CHANGED,
  });
}

// ---------------------------------------------------------------- reading

/** Reaches the s3:// paths of one collection through one client. */
export interface S3Reader {
  /** The objects one configured s3:// path names; a path that names none is a NotFoundError. */
  objectsOf(configured: string, index: number): Promise<ScanInput[]>;
  /** How the bucket was reached, for provenance; never credentials. */
  provenance(): Record<string, unknown>;
  destroy(): void;
}

export async function openS3(settings: S3Settings, ctx: ConnectorContext): Promise<S3Reader> {
  const credentials = await workerCredentials(settings.credentials, ctx);
  const client = new S3Client({
    ...awsClientConfig({ region: settings.region, endpoint: settings.endpoint, maxAttempts: settings.maxAttempts, credentials }),
    forcePathStyle: settings.forcePathStyle,
    // A bucket in another region than configured is followed there instead of failing with PermanentRedirect.
    followRegionRedirects: true,
  });
  countSdkRetries(client, new RetryTally(ctx), (command) => `scanner-files: S3 ${command}`);
  let listPages = 0;

  async function listed(location: Extract<S3Location, { kind: 'prefix' | 'glob' }>, where: string): Promise<S3Object[]> {
    const objects: S3Object[] = [];
    const needs = `s3:ListBucket on arn:aws:s3:::${location.bucket}`;
    let token: string | undefined;
    for (let page = 1; ; page++) {
      const operation = page === 1 ? 'ListObjectsV2' : `ListObjectsV2 page ${page}`;
      const request = new ListObjectsV2Command({
        Bucket: location.bucket,
        MaxKeys: settings.pageSize,
        ...(location.prefix === '' ? {} : { Prefix: location.prefix }),
        // A glob stays within one "folder": the delimiter keeps S3 from listing the subtrees below it.
        ...(location.kind === 'glob' ? { Delimiter: '/' } : {}),
        ...(token === undefined ? {} : { ContinuationToken: token }),
      });
      let output: unknown;
      try {
        output = await client.send(request, { abortSignal: ctx.signal });
      } catch (error) {
        throw s3Failure(error, where, operation, needs);
      }
      listPages += 1;
      const answer = parseResponse(ListPage, output, `${where}: ${operation}`);
      for (const object of answer.Contents ?? []) {
        // A key ending in "/" is the empty placeholder the console creates for a folder, never an export.
        if (object.Key.endsWith('/')) continue;
        if (location.kind === 'glob' && !location.pattern.test(object.Key)) continue;
        objects.push(new S3Object(client, location.bucket, object.Key, { etag: object.ETag, size: object.Size, modifiedAt: object.LastModified }));
      }
      if (answer.IsTruncated !== true) return objects;
      if (answer.NextContinuationToken === undefined) throw new MalformedResponseError(`${where}: ${operation}: IsTruncated without a NextContinuationToken`);
      token = nextPageToken(answer.NextContinuationToken, token, `${where}: ${operation}`, 'NextContinuationToken');
    }
  }

  return {
    async objectsOf(configured, index) {
      const where = `scanner-files: paths[${index}] "${configured}"`;
      const parsed = parseS3Url(configured);
      // The config schema refuses these already; a config built without it still gets a clear message.
      if ('problem' in parsed) throw new MalformedResponseError(`${where}: ${parsed.problem}`);
      const location = parsed.location;
      if (location.kind === 'object') {
        const object = new S3Object(client, location.bucket, location.key, undefined);
        // Reading the head now proves the object is there, and gives its size and version; the sniff reuses it.
        await object.probe(where, ctx.signal);
        return [object];
      }
      const objects = await listed(location, where);
      if (objects.length === 0) throw new NotFoundError(`${where}: ${location.kind === 'glob' ? 'matched no objects' : 'no objects under this prefix'}`);
      return objects;
    },
    provenance: () => ({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      forcePathStyle: settings.forcePathStyle,
      pageSize: settings.pageSize,
      listPages,
    }),
    destroy: () => client.destroy(),
  };
}

interface Listing {
  /** As S3 sends it, quoted: the If-Match value that pins the reads to the version listed. */
  etag: string;
  size: number;
  modifiedAt: Date;
}

/**
 * One S3 object. The sniff is a range GET of its first bytes and the content a streamed GET (two for a JSON export
 * whose context comes after its items); all carry If-Match with the ETag first seen (listed, or from the first read),
 * so the bytes parsed and hashed are one version even when the object is replaced meanwhile. GetObject by VersionId would need s3:GetObjectVersion as well.
 */
class S3Object implements ScanInput {
  readonly origin: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #key: string;
  #listing: Listing | undefined;
  #versionId: string | undefined;
  #probed: { length: number; bytes: Buffer } | undefined;

  constructor(client: S3Client, bucket: string, key: string, listing: Listing | undefined) {
    this.origin = `s3://${bucket}/${key}`;
    this.#client = client;
    this.#bucket = bucket;
    this.#key = key;
    this.#listing = listing;
  }

  async facts(signal: AbortSignal): Promise<InputFacts> {
    if (this.#listing === undefined) await this.probe(`scanner-files: ${this.origin}`, signal);
    const { size, modifiedAt } = this.#listing!;
    return { size, modifiedAt };
  }

  /** Reads the head ahead of time (and with it the size and version), naming `where` on failure. */
  async probe(where: string, signal: AbortSignal): Promise<void> {
    this.#probed = { length: SNIFF_BYTES, bytes: await this.#head(SNIFF_BYTES, where, signal) };
  }

  async head(length: number, signal: AbortSignal): Promise<Buffer> {
    const probed = this.#probed;
    this.#probed = undefined;
    if (probed?.length === length) return probed.bytes;
    return this.#head(length, `scanner-files: ${this.origin}`, signal);
  }

  async #head(length: number, where: string, signal: AbortSignal): Promise<Buffer> {
    if (this.#listing?.size === 0) return Buffer.alloc(0);
    const range = `bytes=0-${length - 1}`;
    let response: ObjectResponse;
    try {
      response = await this.#get(where, `GetObject ${range}`, signal, range);
    } catch (error) {
      // S3 cannot satisfy any range of an empty object (416 InvalidRange); the empty object itself is its head.
      if (awsErrorSummary(error)?.code !== 'InvalidRange') throw error;
      response = await this.#get(where, 'GetObject', signal);
    }
    const parts: Uint8Array[] = [];
    let read = 0;
    // Stops at `length` even when a server ignores the Range and sends everything; leaving the loop closes the stream.
    for await (const chunk of this.#body(response, where, signal)) {
      parts.push(chunk);
      read += chunk.byteLength;
      if (read >= length) break;
    }
    return Buffer.concat(parts).subarray(0, length);
  }

  async *chunks(signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const where = `scanner-files: ${this.origin}`;
    yield* this.#body(await this.#get(where, 'GetObject', signal), where, signal);
  }

  /**
   * The ETag listed (or first read), which every GET pins with If-Match, so it names the version read as well; the
   * VersionId once a GET has answered with one.
   */
  identity(): InputIdentity {
    const listing = this.#listing;
    if (listing === undefined) throw new Error(`scanner-files: ${this.origin}: identity asked before the object was listed or read`);
    return {
      size: listing.size,
      modifiedAt: listing.modifiedAt.toISOString(),
      etag: listing.etag.replace(/^"|"$/g, ''),
      ...(this.#versionId === undefined ? {} : { versionId: this.#versionId }),
    };
  }

  /** If-Match already refused any other version while it was read. */
  async settle(): Promise<void> {}

  async close(): Promise<void> {}

  async #get(where: string, operation: string, signal: AbortSignal, range?: string): Promise<ObjectResponse> {
    const request = new GetObjectCommand({
      Bucket: this.#bucket,
      Key: this.#key,
      ...(range === undefined ? {} : { Range: range }),
      ...(this.#listing === undefined ? {} : { IfMatch: this.#listing.etag }),
    });
    let output: unknown;
    try {
      output = await this.#client.send(request, { abortSignal: signal });
    } catch (error) {
      const failure = s3Failure(error, where, operation, `s3:GetObject on arn:aws:s3:::${this.#bucket}/${this.#key}`);
      // Listed (or read) a moment ago: deleted since, not misnamed; the next attempt lists again and resumes by identity.
      if (failure instanceof NotFoundError && this.#listing !== undefined) {
        throw new UnavailableError(`${where}: ${operation}: the object disappeared after it was listed; the retry lists the objects again`, {
          cause: failure.cause,
        });
      }
      throw failure;
    }
    const response = parseResponse(ObjectResponse, output, `${where}: ${operation}`);
    const total =
      response.ContentRange === undefined ? response.ContentLength : Number(response.ContentRange.slice(response.ContentRange.lastIndexOf('/') + 1));
    this.#listing ??= { etag: response.ETag, size: total, modifiedAt: response.LastModified };
    this.#versionId = response.VersionId;
    return response;
  }

  async *#body(response: ObjectResponse, where: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of response.Body) {
        signal.throwIfAborted();
        yield chunk;
      }
    } catch (error) {
      signal.throwIfAborted();
      throw s3Failure(error, where, 'GetObject body');
    }
  }
}
