import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OpenStagingFile, StagingFile } from '../../evidence/staging.ts';

/**
 * A disk that fills up, for full-disk tests. Where the test may mount (root, or a runner that allows it) it is a
 * real tmpfs of a few MiB: the staging writes, the journal and SQLite all meet ENOSPC from the kernel. Elsewhere it
 * is an ordinary folder and `openStagingFile` opens staging files through a shim that stores a byte budget, then
 * makes one short write and answers ENOSPC, as a filling disk does; SQLite and the journal are then not limited.
 */
export interface SmallDisk {
  kind: 'tmpfs' | 'write shim';
  /** Says which of the two the test ran on, for the test's name. */
  description: string;
  dir: string;
  /** Takes all but `leaveBytes` of the free space (tmpfs) or of the staging budget (shim). */
  fill(leaveBytes: number): void;
  /** Gives the space taken by `fill` back. */
  free(): void;
  openStagingFile: OpenStagingFile | undefined;
  close(): void;
}

const TMPFS_BYTES = 4 * 1024 * 1024;

export function smallDisk(): SmallDisk {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir], { stdio: 'ignore' });
    return tmpfsDisk(dir);
  } catch {
    return shimDisk(dir);
  }
}

function tmpfsDisk(dir: string): SmallDisk {
  const filler = path.join(dir, 'filler');
  return {
    kind: 'tmpfs',
    description: `a ${TMPFS_BYTES / 1024 / 1024} MiB tmpfs`,
    dir,
    fill(leaveBytes) {
      const free = Number(execFileSync('df', ['--output=avail', '-B1', dir]).toString().trim().split('\n').at(-1));
      writeFileSync(filler, Buffer.alloc(Math.max(0, free - leaveBytes), 1));
    },
    free() {
      rmSync(filler, { force: true });
    },
    openStagingFile: undefined,
    close() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function shimDisk(dir: string): SmallDisk {
  let budget = Infinity;
  const noSpace = (file: string) =>
    Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const openStagingFile: OpenStagingFile = async (file) => {
    const handle = await open(file, 'w+');
    const shim: StagingFile = {
      async write(buffer, offset, length, position) {
        if (budget <= 0) throw noSpace(file);
        const allowed = Math.min(length, budget);
        budget -= allowed;
        return handle.write(buffer, offset, allowed, position);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
    return shim;
  };
  return {
    kind: 'write shim',
    description: 'a write shim (mounting a tmpfs was refused here)',
    dir,
    fill(leaveBytes) {
      budget = leaveBytes;
    },
    free() {
      budget = Infinity;
    },
    openStagingFile,
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
