import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { glob, open, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ConnectorError, MalformedResponseError, NotFoundError, PermissionError, UnavailableError } from '../errors.ts';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * The files the configured paths name, deduplicated and in sorted order (by code unit, so the order and with it the
 * resume cursor do not depend on the locale). A path that exists is taken as it is: a file, or a directory whose
 * files (not subdirectories: use a glob such as `dir/**\/*` for that) are all read. Otherwise a path with glob
 * characters is a pattern. A path that names nothing is an error: a scan export that went missing is an evidence gap,
 * not an empty result.
 */
export async function resolveScanFiles(paths: readonly string[], baseDir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const [index, configured] of paths.entries()) {
    const absolute = resolve(baseDir, configured);
    const matched = (await filesAt(absolute)) ?? (GLOB_CHARACTERS.test(configured) ? await filesMatching(configured, baseDir) : undefined);
    if (matched === undefined) throw new NotFoundError(`scanner-files: paths[${index}] "${configured}": no such file or directory (${absolute})`);
    if (matched.length === 0) throw new NotFoundError(`scanner-files: paths[${index}] "${configured}": matched no files`);
    for (const file of matched) found.add(file);
  }
  return [...found].sort();
}

async function filesAt(absolute: string): Promise<string[] | undefined> {
  const info = await stat(absolute).catch((error: unknown) => {
    if (isErrno(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
    throw fileFailure(error, absolute);
  });
  if (info === undefined) return undefined;
  if (info.isFile()) return [absolute];
  if (!info.isDirectory()) return [];
  const entries = await readdir(absolute).catch((error: unknown) => {
    throw fileFailure(error, absolute);
  });
  const files: string[] = [];
  for (const entry of entries) {
    const file = join(absolute, entry);
    // Following symlinks, as a scanner's output folder often links to the latest run.
    if ((await stat(file).catch(() => undefined))?.isFile()) files.push(file);
  }
  return files;
}

async function filesMatching(pattern: string, baseDir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const match of glob(pattern, { cwd: baseDir })) {
    const file = isAbsolute(match) ? match : resolve(baseDir, match);
    if ((await stat(file).catch(() => undefined))?.isFile()) files.push(file);
  }
  return files;
}

/** The first `length` bytes of a file, for telling its format. */
export async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
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
 * Reads a file in chunks, passing every byte through `digest`, and refuses to read past `maxBytes` (checked on the
 * bytes actually read, since a file can grow after it was measured).
 */
export async function* fileChunks(file: string, digest: FileDigest, maxBytes: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    digest.update(chunk);
    if (digest.bytes > maxBytes) throw tooLarge(file, digest.bytes, maxBytes, 'maxXmlBytes');
    yield chunk;
  }
}

export function tooLarge(file: string, bytes: number, maxBytes: number, setting: string): ConnectorError {
  return new MalformedResponseError(`scanner-files: ${file}: ${bytes} bytes is more than ${setting} (${maxBytes}); raise ${setting} or split the export`);
}

/**
 * Turns a failure while reading `file` into a typed error that names the file. Errors already typed (they name the
 * file themselves) and aborts pass through unchanged.
 */
export function fileFailure(error: unknown, file: string): Error {
  if (error instanceof ConnectorError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  if (isErrno(error)) {
    switch (error.code) {
      case 'ENOENT':
        return new NotFoundError(`scanner-files: ${file}: the file disappeared before it could be read`, { cause: error });
      case 'EACCES':
      case 'EPERM':
        return new PermissionError(`scanner-files: ${file}: permission denied (${error.code}); let the worker read it`, { cause: error });
      case 'EISDIR':
        return new UnavailableError(`scanner-files: ${file}: is a directory, not a file`, { cause: error });
      default:
        return new UnavailableError(`scanner-files: ${file}: could not be read (${error.code}: ${error.message})`, { cause: error });
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`scanner-files: ${file}: ${message}`, { cause: error });
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
