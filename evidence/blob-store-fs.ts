import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobMissingError, INSPECT_CHUNK_BYTES, type BlobStore } from './blob-store.ts';
import { asDiskFull } from './disk-full.ts';
import { BLOB_SUFFIX } from './staging.ts';

/** Blobs as read-only files under one folder of this host. */
export class FilesystemBlobStore implements BlobStore {
  readonly location: string;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.location = dir;
  }

  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  pathOf(uri: string): string {
    return path.join(this.dir, uri);
  }

  async write(stagingFile: string, uri: string, options: { replace: boolean }): Promise<'written' | 'exists'> {
    const target = this.pathOf(uri);
    if (!options.replace && existsSync(target)) return 'exists';
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await chmod(stagingFile, 0o444);
      // Replaces a broken blob in one step: a reader sees the old file or the new one, never a mix.
      await rename(stagingFile, target);
    } catch (error) {
      throw asDiskFull(error, target);
    }
    return 'written';
  }

  async read(uri: string): Promise<Readable> {
    const file = this.pathOf(uri);
    if (!existsSync(file)) throw new BlobMissingError(this.location, uri);
    return createReadStream(file, { highWaterMark: INSPECT_CHUNK_BYTES });
  }

  async inspect(uri: string): Promise<{ storedSize: number } | undefined> {
    try {
      return { storedSize: (await stat(this.pathOf(uri))).size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async *list(): AsyncIterable<string> {
    if (!existsSync(this.dir)) return;
    for (const entry of await readdir(this.dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(BLOB_SUFFIX)) continue;
      yield path.relative(this.dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    }
  }
}
