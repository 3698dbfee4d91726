import { statfsSync } from 'node:fs';
import path from 'node:path';

/**
 * A write the disk had no room for, naming the file and the space left on its filesystem. It keeps the code
 * ENOSPC whether the file system or SQLite (SQLITE_FULL) said so, so the fault reaches the operator as itself.
 */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'ENOSPC';
  readonly file: string;
  /** Bytes an unprivileged writer could still use when the write failed; undefined when that could not be read. */
  readonly freeBytes: number | undefined;

  constructor(file: string, what: string, options?: { cause?: unknown }) {
    const freeBytes = freeBytesAt(file);
    super(`ENOSPC: ${what}: ${file} (${freeBytes === undefined ? 'free space unknown' : `${freeBytes} bytes free`} on its filesystem)`, options);
    this.file = file;
    this.freeBytes = freeBytes;
  }
}

/** Error codes of a file system that has no room (or no quota) left. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
/** SQLITE_FULL: its extended codes keep it in the low byte. */
const SQLITE_FULL = 13;

/** `error` as a DiskFullError when it says the disk is full; otherwise `error` itself. */
export function asDiskFull(error: unknown, file: string): unknown {
  if (error instanceof DiskFullError || !(error instanceof Error)) return error;
  const { code, errcode } = error as Error & { code?: unknown; errcode?: unknown };
  if (typeof code === 'string' && FULL_CODES.has(code)) return new DiskFullError(file, 'no space left on device', { cause: error });
  if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) return new DiskFullError(file, error.message, { cause: error });
  return error;
}

function freeBytesAt(file: string): number | undefined {
  // The file itself may not exist yet (a staging file whose open failed): its folder is on the same filesystem.
  for (const candidate of [file, path.dirname(file)]) {
    try {
      const stats = statfsSync(candidate);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch {
      continue;
    }
  }
  return undefined;
}
