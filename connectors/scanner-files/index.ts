import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { MalformedResponseError } from '../errors.ts';
import { FileDigest, fileChunks, fileFailure, readHead, resolveScanFiles, tooLarge } from './files.ts';
import { JSON_FORMATS, jsonFormatOf, KNOWN_FORMATS, parseScanJson, parseScanXml, ScanFormat, xmlFormatOf, type ParseOptions, type ScannerRecord } from './mapping.ts';
import { sniffContainer, SNIFF_BYTES } from './sniff.ts';

export { parseGrype, parseNessus, parseOpenVas, parseSarif, parseTrivy, type ParseOptions, type ScannerRecord } from './mapping.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export const ScannerFilesConfig = z.strictObject({
  /** Files, directories (their files) or glob patterns; relative ones are resolved against the config's folder. */
  paths: z.array(z.string().min(1)).min(1),
  /** Names the asset of every record instead of what the files say (e.g. a repository for a SARIF file). */
  asset: z.string().min(1).optional(),
  /** Reads every file as this format instead of telling it from the content. */
  format: z.enum(['auto', ...ScanFormat.options]).default('auto'),
  /** JSON formats are parsed whole, so their size is bounded; V8 cannot hold one string above 536,870,888 bytes anyway. */
  maxJsonBytes: z.number().int().positive().default(512 * MiB),
  /** XML formats are streamed, so the bound only stops a runaway file. */
  maxXmlBytes: z.number().int().positive().default(8 * GiB),
});
export type ScannerFilesConfig = z.infer<typeof ScannerFilesConfig>;

/** What provenance keeps of each file read. */
export interface FileRead {
  path: string;
  format: ScanFormat;
  size: number;
  sha256: string;
  records: number;
}

function filesAlreadyRead(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d+$/.test(cursor)) throw new MalformedResponseError(`scanner-files: resume cursor "${cursor}" is not a file index`);
  return Number(cursor);
}

/**
 * Vulnerability scanner exports on disk (SARIF, Trivy, Grype, Nessus, OpenVAS), one file after another in sorted
 * order. Each file yields its findings and one scan per asset it covers; after each file the heartbeat's cursor is the
 * index of the next file, so a retry skips the files already done.
 */
export const scannerFiles = defineConnector({
  name: 'scanner-files',
  kinds: ['finding', 'scan'],
  version: '1',
  config: ScannerFilesConfig,
  async *collect(config, ctx) {
    const files = await resolveScanFiles(config.paths, ctx.baseDir);
    const start = filesAlreadyRead(ctx.resumeCursor);
    const read: FileRead[] = [];
    ctx.provenance({ paths: config.paths, format: config.format, filesMatched: files.length, ...(start > 0 ? { resumedAtFile: start } : {}) });
    for (let index = start; index < files.length; index++) {
      ctx.signal.throwIfAborted();
      const file = files[index]!;
      try {
        read.push(yield* collectFile(file, config, ctx));
      } catch (error) {
        throw fileFailure(error, file);
      }
      ctx.provenance({ filesRead: read });
      ctx.log.debug({ file, format: read.at(-1)?.format, records: read.at(-1)?.records }, 'scan file read');
      await ctx.heartbeat(String(index + 1));
    }
  },
});

async function* collectFile(file: string, config: ScannerFilesConfig, ctx: ConnectorContext): AsyncGenerator<ScannerRecord, FileRead> {
  const info = await stat(file);
  const options: ParseOptions = { asset: config.asset, fallbackScannedAt: info.mtime.toISOString(), warn: (message) => ctx.warn(message) };
  const forced = config.format === 'auto' ? undefined : config.format;
  const container = forced === undefined ? sniffContainer((await readHead(file, SNIFF_BYTES)).toString('utf8')) : undefined;
  let records = 0;

  if (forced !== undefined ? JSON_FORMATS.has(forced) : container?.kind === 'json') {
    if (info.size > config.maxJsonBytes) throw tooLarge(file, info.size, config.maxJsonBytes, 'maxJsonBytes');
    const bytes = await readFile(file, { signal: ctx.signal });
    if (bytes.length > config.maxJsonBytes) throw tooLarge(file, bytes.length, config.maxJsonBytes, 'maxJsonBytes');
    const digest = new FileDigest();
    digest.update(bytes);
    const document = parseJson(bytes, file);
    const format = forced ?? jsonFormatOf(document);
    if (format === undefined) throw unknownFormat(file, 'JSON of no known shape');
    for (const record of parseScanJson(format, document, file, options)) {
      records += 1;
      yield record;
    }
    return { path: file, format, size: digest.bytes, sha256: digest.sha256(), records };
  }

  if (forced !== undefined || container?.kind === 'xml') {
    const format = forced ?? (container?.kind === 'xml' ? xmlFormatOf(container.root) : undefined);
    if (format === undefined) throw unknownFormat(file, `XML with root element <${container?.kind === 'xml' ? container.root : '?'}>`);
    if (info.size > config.maxXmlBytes) throw tooLarge(file, info.size, config.maxXmlBytes, 'maxXmlBytes');
    const digest = new FileDigest();
    for await (const record of parseScanXml(format, fileChunks(file, digest, config.maxXmlBytes, ctx.signal), file, options)) {
      records += 1;
      yield record;
    }
    return { path: file, format, size: digest.bytes, sha256: digest.sha256(), records };
  }

  throw unknownFormat(file, container?.kind === 'unknown' ? container.reason : 'unrecognised content');
}

function parseJson(bytes: Buffer, file: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA' ? 'is not valid UTF-8' : `is too large for one JavaScript string (${(error as Error).message})`;
    throw new MalformedResponseError(`scanner-files: ${file}: ${reason}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedResponseError(`scanner-files: ${file}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function unknownFormat(file: string, what: string): MalformedResponseError {
  return new MalformedResponseError(`scanner-files: ${file}: unknown format (${what}); expected ${KNOWN_FORMATS}`);
}
