import { constants, createDeflateRaw, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { MalformedResponseError, NotFoundError } from '../errors.ts';
import { describeIssues } from '../../core/zod-issues.ts';
import { allowedOutside, fileFailure, filesOfPath, namedByPath, namesNothing } from './files.ts';
import {
  FileDigest,
  measuredChunks,
  recordedRead,
  sameContent,
  tooLarge,
  type ContentRead,
  type InputIdentity,
  type ReadLimit,
  type ScanInput,
} from './input.ts';
import { streamJson, type JsonPass } from './json-stream.ts';
import { DEFAULT_MAX_VALUE_BYTES } from './limits.ts';
import { formatNamed, KNOWN_FORMATS, parseScanXml, readScanJson, ScanFormat, type ParseOptions, type ScannerRecord } from './formats/index.ts';
import { isS3Url, namedByS3Url, openS3, parseS3Url, S3Settings, type S3Reader } from './s3.ts';
import { jsonFormatOfExport, sniffContainer, SNIFF_BYTES, xmlFormatOf } from './sniff.ts';

export { parseGrype, parseNessus, parseOpenVas, parseSarif, parseTrivy, readScanJson, type ParseOptions, type ScannerRecord } from './formats/index.ts';

const GiB = 1024 ** 3;

export const ScannerFilesConfig = z
  .strictObject({
    paths: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((path, issues) => {
            const parsed = isS3Url(path) ? parseS3Url(path) : undefined;
            if (parsed !== undefined && 'problem' in parsed) issues.addIssue({ code: 'custom', message: parsed.problem });
          }),
      )
      .min(1)
      .describe(
        "Files, directories (their files) or glob patterns, relative ones resolved against the config's folder; or S3 objects: `s3://bucket/prefix/` (every object under it), `s3://bucket/prefix/*.sarif`, `s3://bucket/key`.",
      ),
    allowOutside: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Folders outside those `paths` name that a listed file may resolve into (through a symlink, or a glob's `..`). None by default: such a file is refused, never read.",
      ),
    asset: z.string().min(1).optional().describe('Names the asset of every record instead of what the files say (e.g. a repository for a SARIF file).'),
    format: z
      .enum(['auto', ...ScanFormat.options])
      .default('auto')
      .describe('Reads every file as this format instead of telling it from the content.'),
    maxJsonBytes: z
      .number()
      .int()
      .positive()
      .default(8 * GiB)
      .describe('The largest JSON file read, in bytes; JSON is streamed too, so this bound only stops a runaway file.'),
    maxXmlBytes: z
      .number()
      .int()
      .positive()
      .default(8 * GiB)
      .describe('The largest XML file read, in bytes; XML is streamed, so the bound only stops a runaway file.'),
    maxValueBytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_MAX_VALUE_BYTES)
      .describe(
        'The longest single value kept from a file, in bytes (a string; for XML a text, attribute, comment...); a longer one makes the file malformed.',
      ),
    s3: S3Settings.optional().describe(
      'How the s3:// paths are reached; without it, us-east-1 (other regions are followed) with the default credential chain.',
    ),
  })
  .describe('Vulnerability scanner exports (SARIF, Trivy, Grype, Nessus, OpenVAS) on disk or in S3, as findings and scans.');
export type ScannerFilesConfig = z.infer<typeof ScannerFilesConfig>;

/** What provenance keeps of each file or object read, and the resume cursor of what is done. */
export const FileRead = z.strictObject({
  /** The absolute path as listed (a symlink keeps its own name), or `s3://bucket/key`. */
  path: z.string().min(1),
  /** Where a path that goes through a symlink resolves to. */
  realPath: z.string().min(1).optional(),
  format: ScanFormat,
  /** Bytes read. */
  size: z.number().int().nonnegative(),
  /** The file's mtime or the object's Last-Modified, as it was when read. */
  modifiedAt: z.iso.datetime(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  records: z.number().int().nonnegative(),
  /** An S3 object's ETag (unquoted) and, in a versioned bucket, VersionId: which version of the object was read. */
  etag: z.string().min(1).optional(),
  versionId: z.string().min(1).optional(),
});
export type FileRead = z.infer<typeof FileRead>;

/**
 * The heartbeat cursor: every file read so far, by identity. A retry lists the files again and skips those it names,
 * whatever their position in the new list, so a file added, removed or renamed meanwhile moves no other file's
 * records; and provenance lists every file read, by whichever attempt. It is a raw deflate stream of NDJSON (this
 * header, then one FileRead a line), flushed after each file so that adding a file compresses only that file's line:
 * deflating the whole list after each of 3,500 files took 57 s, the flushed stream 2.8 s, at 105 characters of
 * base64url a file (70 deflated whole, 250 as plain JSON).
 */
const CursorHeader = z.strictObject({ v: z.literal(2) });

/**
 * Beyond this the cursor is not sent (Temporal warns at 512 KB of heartbeat details and refuses 2 MB, and the last
 * details land in history when an attempt times out): some 2,500 files. The files read after it are still complete,
 * but a retry resumes from the last cursor sent and reads them again.
 */
const MAX_CURSOR_CHARS = 256 * 1024;

/** Writes the cursor as files are read. */
export class ResumeCursorWriter {
  readonly #deflate = createDeflateRaw();
  readonly #compressed: Buffer[] = [];

  constructor(earlier: readonly FileRead[] = []) {
    // Flowing, so output never backs up behind a flush (an earlier attempt's list can exceed the stream's buffer);
    // zlib works off the main thread, so its output is pushed, and seen here, before the flush's callback runs.
    this.#deflate.on('data', (chunk: Buffer) => this.#compressed.push(chunk));
    this.#deflate.write(`${JSON.stringify({ v: 2 } satisfies z.input<typeof CursorHeader>)}\n`);
    for (const read of earlier) this.#deflate.write(`${JSON.stringify(read)}\n`);
  }

  /** The cursor once `read` is added to what the writer holds. */
  async add(read: FileRead): Promise<string> {
    this.#deflate.write(`${JSON.stringify(read)}\n`);
    await new Promise<void>((resolve) => this.#deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    return Buffer.concat(this.#compressed).toString('base64url');
  }

  close(): void {
    this.#deflate.close();
  }
}

/** The files an earlier attempt read, from its cursor; a cursor this connector did not write is refused, not guessed at. */
export function decodeResumeCursor(cursor: string | undefined): FileRead[] {
  if (cursor === undefined) return [];
  if (/^\d+$/.test(cursor)) {
    throw new MalformedResponseError(
      `scanner-files: resume cursor "${cursor}" is a file index from an earlier version, which cannot say which files were read; run the collection again`,
    );
  }
  const foreign = new MalformedResponseError('scanner-files: resume cursor is not one this connector wrote (deflated NDJSON of the files read)');
  let lines: unknown[];
  try {
    const text = inflateRawSync(Buffer.from(cursor, 'base64url'), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
    lines = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line): unknown => JSON.parse(line));
  } catch {
    throw foreign;
  }
  if (!CursorHeader.safeParse(lines[0]).success) throw foreign;
  return lines.slice(1).map((line, index) => {
    const parsed = FileRead.safeParse(line);
    if (!parsed.success)
      throw new MalformedResponseError(
        `scanner-files: resume cursor is not a list of the files read: entry ${index + 1}: ${describeIssues(parsed.error.issues)}`,
      );
    return parsed.data;
  });
}

/** Whether `now` is the version an earlier attempt read: the ETag for an object; size, mtime and link target for a file. */
function changeSinceRead(read: FileRead, now: InputIdentity): string | undefined {
  const changes: string[] = [];
  if (read.etag !== now.etag) changes.push(`ETag ${read.etag ?? 'none'} then ${now.etag ?? 'none'}`);
  if (read.size !== now.size) changes.push(`size ${read.size} then ${now.size}`);
  if (read.etag === undefined && read.modifiedAt !== now.modifiedAt) changes.push(`modified ${read.modifiedAt} then ${now.modifiedAt}`);
  if (read.realPath !== now.realPath) changes.push(`resolving to ${read.realPath ?? 'itself'} then ${now.realPath ?? 'itself'}`);
  return changes.length === 0 ? undefined : changes.join(', ');
}

/**
 * Vulnerability scanner exports (SARIF, Trivy, Grype, Nessus, OpenVAS) on disk or in S3, one after another in sorted
 * order. Each yields its findings and one scan per asset it covers; after each the heartbeat's cursor lists every
 * file read, so a retry skips exactly those.
 *
 * A file an earlier attempt read that has changed since (or gone) is not read again: its records are already durable
 * in the staged snapshot, and the connector cannot withdraw them, so reading the new version too would count the file
 * twice. The snapshot keeps the version read, which provenance names by size, mtime (or ETag) and sha256, as an
 * uninterrupted collection would had the file changed just after it was read; a warning says so. A file being read
 * when the attempt failed has no durable records (the stage is cut back to the last checkpoint) and is read again
 * whole, at its current version.
 */
export const scannerFiles = defineConnector({
  name: 'scanner-files',
  kinds: ['finding', 'scan'],
  version: '1',
  config: ScannerFilesConfig,
  async *collect(config, ctx) {
    const earlier = decodeResumeCursor(ctx.resumeCursor);
    const s3 = config.paths.some(isS3Url) ? await openS3(config.s3 ?? S3Settings.parse({}), ctx) : undefined;
    try {
      const inputs = await resolveInputs(config, ctx.baseDir, s3, earlier);
      const readBefore = new Map(earlier.map((read) => [read.path, read]));
      const pending: ScanInput[] = [];
      const changedSinceRead: string[] = [];
      for (const input of inputs) {
        const before = readBefore.get(input.origin);
        if (before === undefined) {
          pending.push(input);
          continue;
        }
        readBefore.delete(input.origin);
        const change = changeSinceRead(before, input.identity());
        if (change === undefined) continue;
        changedSinceRead.push(input.origin);
        ctx.warn(
          `scanner-files: ${input.origin}: changed since an earlier attempt of this collection read it (${change}); ` +
            `the evidence keeps the records of the version read (sha256 ${before.sha256}), and the next collection reads the new one`,
        );
      }
      const goneSinceRead = [...readBefore.values()];
      for (const read of goneSinceRead) {
        ctx.warn(
          `scanner-files: ${read.path}: gone since an earlier attempt of this collection read it; the evidence keeps the records of the version read (sha256 ${read.sha256})`,
        );
      }

      const read: FileRead[] = [...earlier];
      ctx.provenance({
        paths: config.paths,
        format: config.format,
        ...(config.allowOutside.length === 0 ? {} : { allowOutside: config.allowOutside }),
        filesMatched: inputs.length,
        ...(s3 === undefined ? {} : { s3: s3.provenance() }),
        ...(earlier.length === 0
          ? {}
          : { earlierAttempts: { filesRead: earlier.length, changedSinceRead, goneSinceRead: goneSinceRead.map((gone) => gone.path) } }),
        filesRead: read,
      });
      const cursor = new ResumeCursorWriter(earlier);
      let cursorOutgrown = false;
      try {
        for (const input of pending) {
          ctx.signal.throwIfAborted();
          try {
            read.push(yield* collectInput(input, config, ctx));
          } catch (error) {
            throw fileFailure(error, input.origin);
          } finally {
            await input.close();
          }
          ctx.provenance({ filesRead: read });
          ctx.log.debug({ file: input.origin, format: read.at(-1)?.format, records: read.at(-1)?.records }, 'scan file read');
          if (cursorOutgrown) continue;
          const next = await cursor.add(read.at(-1)!);
          if (next.length <= MAX_CURSOR_CHARS) {
            await ctx.heartbeat(next);
          } else {
            cursorOutgrown = true;
            ctx.log.info({ files: read.length }, 'the list of files read outgrew the resume cursor; a retry resumes after the last file it lists');
          }
        }
      } finally {
        cursor.close();
      }
    } finally {
      s3?.destroy();
    }
  },
});

/**
 * Every input the paths name, deduplicated, in code-unit order of path or URL (not the locale's). A path that names
 * nothing fails the collection, unless an earlier attempt read files it named: they have gone since, and their
 * records are kept.
 */
async function resolveInputs(config: ScannerFilesConfig, baseDir: string, s3: S3Reader | undefined, earlier: readonly FileRead[]): Promise<ScanInput[]> {
  const allowOutside = await allowedOutside(config.allowOutside, baseDir);
  const found = new Map<string, ScanInput>();
  for (const [index, configured] of config.paths.entries()) {
    const inputs = await inputsOf(configured, index, baseDir, s3, allowOutside, earlier);
    for (const input of inputs) if (!found.has(input.origin)) found.set(input.origin, input);
  }
  return [...found.values()].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
}

async function inputsOf(
  configured: string,
  index: number,
  baseDir: string,
  s3: S3Reader | undefined,
  allowOutside: readonly string[],
  earlier: readonly FileRead[],
): Promise<ScanInput[]> {
  const s3Path = s3 !== undefined && isS3Url(configured);
  const namedEarlier = earlier.some((read) => (s3Path ? namedByS3Url(configured, read.path) : namedByPath(configured, baseDir, read.path)));
  if (s3Path) {
    try {
      return await s3.objectsOf(configured, index);
    } catch (error) {
      if (error instanceof NotFoundError && namedEarlier) return [];
      throw error;
    }
  }
  const files = await filesOfPath(configured, index, baseDir, allowOutside);
  if (files !== undefined && files.length > 0) return files;
  if (namedEarlier) return [];
  throw namesNothing(configured, index, baseDir, files !== undefined);
}

async function* collectInput(input: ScanInput, config: ScannerFilesConfig, ctx: ConnectorContext): AsyncGenerator<ScannerRecord, FileRead> {
  const origin = input.origin;
  const facts = await input.facts(ctx.signal);
  const options: ParseOptions = {
    asset: config.asset,
    fallbackScannedAt: facts.modifiedAt.toISOString(),
    maxValueBytes: config.maxValueBytes,
    warn: (message) => ctx.warn(message),
  };
  const forced = config.format === 'auto' ? undefined : config.format;
  const head = forced === undefined ? await input.head(SNIFF_BYTES, ctx.signal) : undefined;
  const container = head === undefined ? undefined : sniffContainer(head);
  let records = 0;

  if (forced !== undefined ? formatNamed(forced).container === 'json' : container?.kind === 'json') {
    const limit: ReadLimit = { maxBytes: config.maxJsonBytes, setting: 'maxJsonBytes' };
    if (facts.size > limit.maxBytes) throw tooLarge(origin, facts.size, limit);
    const reads: ContentRead[] = [];
    const pass: JsonPass = (plan) => streamJson(recordedRead(input, reads, limit, ctx.signal), origin, plan, { maxValueBytes: config.maxValueBytes });
    // A head shorter than asked for is the whole file.
    const { format, context } =
      forced !== undefined ? { format: forced, context: undefined } : await jsonFormatOfExport(head!, head!.length < SNIFF_BYTES, pass, origin);
    if (format === undefined) throw unknownFormat(origin, 'JSON of no known shape', facts.size);
    for await (const record of readScanJson(format, pass, origin, options, context)) {
      records += 1;
      yield record;
    }
    const content = sameContent(origin, reads);
    await input.settle();
    return fileRead(origin, format, input.identity(), content, records);
  }

  if (forced !== undefined || container?.kind === 'xml') {
    const format = forced ?? (container?.kind === 'xml' ? xmlFormatOf(container.root) : undefined);
    if (format === undefined) throw unknownFormat(origin, 'XML whose root element no known format uses', facts.size);
    const limit: ReadLimit = { maxBytes: config.maxXmlBytes, setting: 'maxXmlBytes' };
    if (facts.size > limit.maxBytes) throw tooLarge(origin, facts.size, limit);
    const digest = new FileDigest();
    for await (const record of parseScanXml(format, measuredChunks(input, digest, limit, ctx.signal), origin, options)) {
      records += 1;
      yield record;
    }
    await input.settle();
    return fileRead(origin, format, input.identity(), { bytes: digest.bytes, sha256: digest.sha256() }, records);
  }

  throw unknownFormat(origin, container?.kind === 'unknown' ? container.reason : 'unrecognised content', facts.size);
}

/** In the schema's key order, so an entry reads the same whether this attempt made it or a cursor brought it back. */
function fileRead(path: string, format: ScanFormat, identity: InputIdentity, content: ContentRead, records: number): FileRead {
  const { realPath, modifiedAt, etag, versionId } = identity;
  return {
    path,
    ...(realPath === undefined ? {} : { realPath }),
    format,
    size: content.bytes,
    modifiedAt,
    sha256: content.sha256,
    records,
    ...(etag === undefined ? {} : { etag }),
    ...(versionId === undefined ? {} : { versionId }),
  };
}

/** Says what the file is like, never what it says: this text becomes the gap's reason and travels to webhooks. */
function unknownFormat(file: string, what: string, size: number): MalformedResponseError {
  return new MalformedResponseError(`scanner-files: ${file}: unknown format (${what}; ${size} bytes); expected ${KNOWN_FORMATS}`);
}
