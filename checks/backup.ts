import { backupJobFailed } from './backup-job-failed.ts';
import { backupRpo } from './backup-rpo.ts';
import type { AnyCheck } from './contract.ts';
import { restoreTest } from './restore-test.ts';

/** The checks that give evidence for A.8.13 (information backup). */
export const backupChecks: readonly AnyCheck[] = [backupJobFailed, backupRpo, restoreTest];

export { backupJobFailed, backupRpo, restoreTest };
