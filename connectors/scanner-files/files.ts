import { constants, type Stats } from 'node:fs';
import { glob, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, matchesGlob, resolve, sep } from 'node:path';
import { ConnectorError, NotFoundError, PermissionError, UnavailableError } from '../errors.ts';
import type { InputFacts, InputIdentity, ScanInput } from './input.ts';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Files are read 32 KiB at a time. Every chunk still being parsed survives the young generation's collections, and
 * V8 answers survivors by growing that generation; a decoded MiB of XML is also an external string that only a full
 * collection frees. Peak RSS over a 1 GB Nessus export: 1 MiB chunks 330-360 MB, 64 KiB 230 MB, 32 KiB 175 MB,
 * 16 KiB 178 MB; over 100 MB of Trivy JSON: 1 MiB 274 MB, 16-64 KiB 127-129 MB. Speed did not differ beyond noise.
 */
export const READ_CHUNK_BYTES = 32 * 1024;

/**
 * The folders a configured path's files may resolve into. Scan folders are written by scanners and CI jobs, not by
 * whoever wrote the config: a symlink placed there (or a glob's `..`) must not make evidence, or error text, of a file
 * elsewhere on the worker (/etc/passwd, /proc/self/environ, a mounted secret).
 */
export interface FileRoots {
  /** Where the configured path names files: the directory itself, a file's directory, a glob's literal folder; real. */
  readonly own: string;
  /** The folders `allowOutside` names, real. */
  readonly allowOutside: readonly string[];
}

/** One file a configured path names, as listed. */
export interface ListedFile {
  /** Absolute, as listed: a symlink keeps its own name. */
  readonly path: string;
  /** What it resolves to, every link followed. */
  readonly realPath: string;
  readonly stats: Stats;
}

/** The `allowOutside` folders, relative ones resolved against the config's folder, each as its real path when it exists. */
export async function allowedOutside(folders: readonly string[], baseDir: string): Promise<string[]> {
  return Promise.all(folders.map((folder) => realOrResolved(resolve(baseDir, folder))));
}

/**
 * The files one configured local path names (the connector deduplicates and sorts them with the other paths' by code
 * unit). A path that exists is taken as it is: a file, or a directory whose files (not subdirectories: use a glob such
 * as `dir/**\/*` for that) are all read. Otherwise a path with glob characters is a pattern. Links in the configured
 * path itself are followed, as the config's author wrote them; a file that resolves outside the folder the path
 * names, and outside `allowOutside`, is refused before anything is read. A path that names nothing is undefined,
 * for the caller to judge (a scan export that went missing is an evidence gap, not an empty result).
 */
export async function filesOfPath(configured: string, index: number, baseDir: string, allowOutside: readonly string[]): Promise<LocalFile[] | undefined> {
  const absolute = resolve(baseDir, configured);
  const found = (await filesAt(absolute)) ?? (GLOB_CHARACTERS.test(configured) ? await filesMatching(configured, baseDir) : undefined);
  if (found === undefined) return undefined;
  const roots: FileRoots = { own: found.root, allowOutside };
  const files: LocalFile[] = [];
  for (const file of found.files) {
    const resolved = await resolvedFile(file);
    if (resolved === undefined) continue;
    if (!isInside(resolved.realPath, roots)) throw outsideRoots(`scanner-files: paths[${index}] "${configured}"`, file, resolved.realPath, roots);
    files.push(new LocalFile({ path: file, ...resolved }, roots));
  }
  return files;
}

/** What a configured path that names nothing says, for the caller to throw. */
export function namesNothing(configured: string, index: number, baseDir: string, matchedNone: boolean): NotFoundError {
  const where = `scanner-files: paths[${index}] "${configured}"`;
  if (matchedNone) return new NotFoundError(`${where}: matched no files`);
  return new NotFoundError(`${where}: no such file or directory (${resolve(baseDir, configured)})`);
}

/** Whether `file` (absolute, as listed) is one the configured path could name: how a resumed collection tells which path read it. */
export function namedByPath(configured: string, baseDir: string, file: string): boolean {
  const absolute = resolve(baseDir, configured);
  if (file === absolute || file.startsWith(absolute.endsWith(sep) ? absolute : absolute + sep)) return true;
  return GLOB_CHARACTERS.test(configured) && matchesGlob(file, resolve(baseDir, configured));
}

interface Found {
  readonly root: string;
  readonly files: string[];
}

async function filesAt(absolute: string): Promise<Found | undefined> {
  const info = await stat(absolute).catch((error: unknown) => {
    if (isErrno(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
    throw fileFailure(error, absolute);
  });
  if (info === undefined) return undefined;
  if (info.isFile()) return { root: await realOrResolved(dirname(absolute)), files: [absolute] };
  if (!info.isDirectory()) return { root: await realOrResolved(dirname(absolute)), files: [] };
  const entries = await readdir(absolute).catch((error: unknown) => {
    throw fileFailure(error, absolute);
  });
  const files: string[] = [];
  for (const entry of entries) {
    const file = join(absolute, entry);
    // Symlinks are followed (a scanner's output folder often links to the latest run), within the roots.
    if ((await stat(file).catch(() => undefined))?.isFile()) files.push(file);
  }
  return { root: await realOrResolved(absolute), files };
}

async function filesMatching(pattern: string, baseDir: string): Promise<Found> {
  const files: string[] = [];
  for await (const match of glob(pattern, { cwd: baseDir })) {
    const file = isAbsolute(match) ? match : resolve(baseDir, match);
    if ((await stat(file).catch(() => undefined))?.isFile()) files.push(file);
  }
  return { root: await realOrResolved(literalFolderOf(pattern, baseDir)), files };
}

/** The folder a glob pattern starts from: its segments before the first with a glob character. */
function literalFolderOf(pattern: string, baseDir: string): string {
  const segments = pattern.split('/');
  const firstGlob = segments.findIndex((segment) => GLOB_CHARACTERS.test(segment));
  return resolve(baseDir, segments.slice(0, firstGlob).join('/') || '.');
}

async function realOrResolved(folder: string): Promise<string> {
  return realpath(folder).catch(() => folder);
}

/** Where a listed file resolves to and its stats there; undefined when it vanished since it was listed. */
async function resolvedFile(file: string): Promise<{ realPath: string; stats: Stats } | undefined> {
  try {
    const realPath = await realpath(file);
    const stats = await stat(realPath);
    return stats.isFile() ? { realPath, stats } : undefined;
  } catch (error) {
    if (isErrno(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
    throw fileFailure(error, file);
  }
}

function isInside(realPath: string, roots: FileRoots): boolean {
  return [roots.own, ...roots.allowOutside].some((root) => realPath === root || realPath.startsWith(root.endsWith(sep) ? root : root + sep));
}

/** Names the file, where it resolves and the roots, never anything of its content. */
function outsideRoots(where: string, file: string, realPath: string, roots: FileRoots): PermissionError {
  const allowed = roots.allowOutside.length === 0 ? 'no allowOutside folders are configured' : `nor in allowOutside (${roots.allowOutside.join(', ')})`;
  return new PermissionError(
    `${where}: ${file} resolves to ${realPath}, outside the configured root ${roots.own} (${allowed}); refused, not read. ` +
      `If files there are meant to be read, add their folder to allowOutside`,
  );
}

/**
 * A file on disk, read through the same surface as an S3 object. It is opened once and every read (the head, one or
 * two streamed passes) goes through that handle, so what was checked against the roots is what is read even if the
 * link is replaced meanwhile.
 */
export class LocalFile implements ScanInput {
  readonly origin: string;
  readonly #listed: ListedFile;
  readonly #roots: FileRoots;
  #handle: FileHandle | undefined;
  #opened: { stats: Stats; realPath: string } | undefined;

  constructor(listed: ListedFile, roots: FileRoots) {
    this.origin = listed.path;
    this.#listed = listed;
    this.#roots = roots;
  }

  identity(): InputIdentity {
    const { stats, realPath } = this.#opened ?? this.#listed;
    return { size: stats.size, modifiedAt: stats.mtime.toISOString(), ...(realPath === this.origin ? {} : { realPath }) };
  }

  async facts(): Promise<InputFacts> {
    const { stats } = await this.#open();
    return { size: stats.size, modifiedAt: stats.mtime };
  }

  async head(length: number): Promise<Buffer> {
    const { handle } = await this.#open();
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      throw fileFailure(error, this.origin);
    }
  }

  /**
   * Positioned reads rather than a FileHandle's read stream: a stream left before its end (the first of two JSON
   * passes stops at the item it needs) keeps the handle busy, and the next stream on it never reads.
   */
  async *chunks(signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const { handle } = await this.#open();
    for (let position = 0; ;) {
      signal.throwIfAborted();
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, READ_CHUNK_BYTES, position));
      } catch (error) {
        throw fileFailure(error, this.origin);
      }
      if (bytesRead === 0) return;
      position += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  }

  async settle(): Promise<void> {
    const { handle, stats } = await this.#open();
    const now = await handle.stat();
    if (now.size !== stats.size || now.mtimeMs !== stats.mtimeMs) {
      throw new UnavailableError(`scanner-files: ${this.origin}: changed while it was read (size ${stats.size} then ${now.size}); it is read again on retry`);
    }
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  /**
   * Opens the file, then proves that what was opened is a regular file inside the roots: the path's real location is
   * checked and must be the very file (device and inode) the handle holds. O_NONBLOCK keeps a FIFO put in place of
   * the file from blocking the open; a regular file ignores it.
   */
  async #open(): Promise<{ handle: FileHandle; stats: Stats }> {
    if (this.#handle !== undefined && this.#opened !== undefined) return { handle: this.#handle, stats: this.#opened.stats };
    const where = `scanner-files: ${this.origin}`;
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.origin, constants.O_RDONLY | constants.O_NONBLOCK);
      const stats = await handle.stat();
      if (!stats.isFile()) throw new UnavailableError(`${where}: is no longer a regular file; it is listed again on retry`);
      const realPath = await realpath(this.origin);
      if (!isInside(realPath, this.#roots)) throw outsideRoots(where, this.origin, realPath, this.#roots);
      const there = await stat(realPath);
      if (there.dev !== stats.dev || there.ino !== stats.ino)
        throw new UnavailableError(`${where}: was replaced while it was opened; it is read again on retry`);
      this.#handle = handle;
      this.#opened = { stats, realPath };
      return { handle, stats };
    } catch (error) {
      await handle?.close();
      throw fileFailure(error, this.origin);
    }
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
        // The list is made again by the next attempt, which resumes by what it already read.
        return new UnavailableError(`scanner-files: ${file}: disappeared after it was listed; the retry lists the files again`, { cause: error });
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
