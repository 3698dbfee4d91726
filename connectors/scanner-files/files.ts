import { createReadStream } from 'node:fs';
import { glob, open, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ConnectorError, NotFoundError, PermissionError, UnavailableError } from '../errors.ts';
import type { ScanInput } from './input.ts';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Files are read 32 KiB at a time. Every chunk still being parsed survives the young generation's collections, and
 * V8 answers survivors by growing that generation; a decoded MiB of XML is also an external string that only a full
 * collection frees. Peak RSS over a 1 GB Nessus export: 1 MiB chunks 330-360 MB, 64 KiB 230 MB, 32 KiB 175 MB,
 * 16 KiB 178 MB; over 100 MB of Trivy JSON: 1 MiB 274 MB, 16-64 KiB 127-129 MB. Speed did not differ beyond noise.
 */
export const READ_CHUNK_BYTES = 32 * 1024;

/**
 * The files one configured local path names (the connector deduplicates and sorts them with the other paths' by code
 * unit, so the order and with it the resume cursor do not depend on the locale). A path that exists is taken as it
 * is: a file, or a directory whose files (not subdirectories: use a glob such as `dir/**\/*` for that) are all read.
 * Otherwise a path with glob characters is a pattern. A path that names nothing is an error: a scan export that went
 * missing is an evidence gap, not an empty result.
 */
export async function filesOfPath(configured: string, index: number, baseDir: string): Promise<string[]> {
  const absolute = resolve(baseDir, configured);
  const matched = (await filesAt(absolute)) ?? (GLOB_CHARACTERS.test(configured) ? await filesMatching(configured, baseDir) : undefined);
  if (matched === undefined) throw new NotFoundError(`scanner-files: paths[${index}] "${configured}": no such file or directory (${absolute})`);
  if (matched.length === 0) throw new NotFoundError(`scanner-files: paths[${index}] "${configured}": matched no files`);
  return matched;
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

/** A file on disk, read through the same surface as an S3 object. */
export function localInput(file: string): ScanInput {
  return {
    origin: file,
    facts: async () => {
      const info = await stat(file);
      return { size: info.size, modifiedAt: info.mtime };
    },
    head: (length) => readHead(file, length),
    chunks: (signal) => createReadStream(file, { highWaterMark: READ_CHUNK_BYTES, signal }) as AsyncIterable<Buffer>,
    version: () => ({}),
  };
}

async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
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
