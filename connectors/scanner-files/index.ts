import { z } from 'zod';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { MalformedResponseError } from '../errors.ts';
import { filesOfPath, fileFailure, localInput } from './files.ts';
import { FileDigest, measuredChunks, recordedRead, sameContent, tooLarge, type ContentRead, type ReadLimit, type ScanInput } from './input.ts';
import { streamJson, type JsonPass } from './json-stream.ts';
import { DEFAULT_MAX_VALUE_BYTES } from './limits.ts';
import { JSON_FORMATS, jsonFormatOfExport, KNOWN_FORMATS, parseScanXml, readScanJson, ScanFormat, xmlFormatOf, type ParseOptions, type ScannerRecord } from './mapping.ts';
import { isS3Url, openS3, parseS3Url, S3Settings, type S3Reader } from './s3.ts';
import { sniffContainer, SNIFF_BYTES } from './sniff.ts';

export { parseGrype, parseNessus, parseOpenVas, parseSarif, parseTrivy, readScanJson, type ParseOptions, type ScannerRecord } from './mapping.ts';

const GiB = 1024 ** 3;

export const ScannerFilesConfig = z.strictObject({
  /**
   * Files, directories (their files) or glob patterns, relative ones resolved against the config's folder; or S3
   * objects: `s3://bucket/prefix/` (every object under it), `s3://bucket/prefix/*.sarif`, `s3://bucket/key`.
   */
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
    .min(1),
  /** Names the asset of every record instead of what the files say (e.g. a repository for a SARIF file). */
  asset: z.string().min(1).optional(),
  /** Reads every file as this format instead of telling it from the content. */
  format: z.enum(['auto', ...ScanFormat.options]).default('auto'),
  /** JSON formats are streamed too, so this bound only stops a runaway file. */
  maxJsonBytes: z.number().int().positive().default(8 * GiB),
  /** XML formats are streamed, so the bound only stops a runaway file. */
  maxXmlBytes: z.number().int().positive().default(8 * GiB),
  /** The longest single value kept from a file (a string; for XML a text, attribute, comment...); longer is malformed. */
  maxValueBytes: z.number().int().positive().default(DEFAULT_MAX_VALUE_BYTES),
  /** How the s3:// paths are reached; without it, us-east-1 (other regions are followed) with the default credential chain. */
  s3: S3Settings.optional(),
});
export type ScannerFilesConfig = z.infer<typeof ScannerFilesConfig>;

/** What provenance keeps of each file or object read. */
export interface FileRead {
  /** The absolute path, or `s3://bucket/key`. */
  path: string;
  format: ScanFormat;
  size: number;
  sha256: string;
  records: number;
  /** An S3 object's ETag (unquoted) and, in a versioned bucket, VersionId: which version of the object was read. */
  etag?: string;
  versionId?: string;
}

function filesAlreadyRead(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d+$/.test(cursor)) throw new MalformedResponseError(`scanner-files: resume cursor "${cursor}" is not a file index`);
  return Number(cursor);
}

/**
 * Vulnerability scanner exports (SARIF, Trivy, Grype, Nessus, OpenVAS) on disk or in S3, one after another in sorted
 * order. Each yields its findings and one scan per asset it covers; after each the heartbeat's cursor is the index of
 * the next, so a retry skips those already done.
 */
export const scannerFiles = defineConnector({
  name: 'scanner-files',
  kinds: ['finding', 'scan'],
  version: '1',
  config: ScannerFilesConfig,
  async *collect(config, ctx) {
    const s3 = config.paths.some(isS3Url) ? await openS3(config.s3 ?? S3Settings.parse({}), ctx) : undefined;
    try {
      const inputs = await resolveInputs(config.paths, ctx.baseDir, s3);
      const start = filesAlreadyRead(ctx.resumeCursor);
      const read: FileRead[] = [];
      ctx.provenance({
        paths: config.paths,
        format: config.format,
        filesMatched: inputs.length,
        ...(s3 === undefined ? {} : { s3: s3.provenance() }),
        ...(start > 0 ? { resumedAtFile: start } : {}),
      });
      for (let index = start; index < inputs.length; index++) {
        ctx.signal.throwIfAborted();
        const input = inputs[index]!;
        try {
          read.push(yield* collectInput(input, config, ctx));
        } catch (error) {
          throw fileFailure(error, input.origin);
        }
        ctx.provenance({ filesRead: read });
        ctx.log.debug({ file: input.origin, format: read.at(-1)?.format, records: read.at(-1)?.records }, 'scan file read');
        await ctx.heartbeat(String(index + 1));
      }
    } finally {
      s3?.destroy();
    }
  },
});

/** Every input the paths name, deduplicated, in code-unit order of path or URL (not the locale's, so the cursor is stable). */
async function resolveInputs(paths: readonly string[], baseDir: string, s3: S3Reader | undefined): Promise<ScanInput[]> {
  const found = new Map<string, ScanInput>();
  for (const [index, configured] of paths.entries()) {
    const inputs = s3 !== undefined && isS3Url(configured) ? await s3.objectsOf(configured, index) : (await filesOfPath(configured, index, baseDir)).map(localInput);
    for (const input of inputs) if (!found.has(input.origin)) found.set(input.origin, input);
  }
  return [...found.values()].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
}

async function* collectInput(input: ScanInput, config: ScannerFilesConfig, ctx: ConnectorContext): AsyncGenerator<ScannerRecord, FileRead> {
  const origin = input.origin;
  const facts = await input.facts(ctx.signal);
  const options: ParseOptions = { asset: config.asset, fallbackScannedAt: facts.modifiedAt.toISOString(), maxValueBytes: config.maxValueBytes, warn: (message) => ctx.warn(message) };
  const forced = config.format === 'auto' ? undefined : config.format;
  const head = forced === undefined ? await input.head(SNIFF_BYTES, ctx.signal) : undefined;
  const container = head === undefined ? undefined : sniffContainer(head.toString('utf8'));
  let records = 0;

  if (forced !== undefined ? JSON_FORMATS.has(forced) : container?.kind === 'json') {
    const limit: ReadLimit = { maxBytes: config.maxJsonBytes, setting: 'maxJsonBytes' };
    if (facts.size > limit.maxBytes) throw tooLarge(origin, facts.size, limit);
    const reads: ContentRead[] = [];
    const pass: JsonPass = (plan) => streamJson(recordedRead(input, reads, limit, ctx.signal), origin, plan, { maxValueBytes: config.maxValueBytes });
    // A head shorter than asked for is the whole file.
    const { format, context } = forced !== undefined ? { format: forced, context: undefined } : await jsonFormatOfExport(head!, head!.length < SNIFF_BYTES, pass, origin);
    if (format === undefined) throw unknownFormat(origin, 'JSON of no known shape');
    for await (const record of readScanJson(format, pass, origin, options, context)) {
      records += 1;
      yield record;
    }
    const content = sameContent(origin, reads);
    return { path: origin, format, size: content.bytes, sha256: content.sha256, records, ...input.version() };
  }

  if (forced !== undefined || container?.kind === 'xml') {
    const format = forced ?? (container?.kind === 'xml' ? xmlFormatOf(container.root) : undefined);
    if (format === undefined) throw unknownFormat(origin, `XML with root element <${container?.kind === 'xml' ? container.root : '?'}>`);
    const limit: ReadLimit = { maxBytes: config.maxXmlBytes, setting: 'maxXmlBytes' };
    if (facts.size > limit.maxBytes) throw tooLarge(origin, facts.size, limit);
    const digest = new FileDigest();
    for await (const record of parseScanXml(format, measuredChunks(input, digest, limit, ctx.signal), origin, options)) {
      records += 1;
      yield record;
    }
    return { path: origin, format, size: digest.bytes, sha256: digest.sha256(), records, ...input.version() };
  }

  throw unknownFormat(origin, container?.kind === 'unknown' ? container.reason : 'unrecognised content');
}

function unknownFormat(file: string, what: string): MalformedResponseError {
  return new MalformedResponseError(`scanner-files: ${file}: unknown format (${what}); expected ${KNOWN_FORMATS}`);
}
