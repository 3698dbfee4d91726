import type { z } from 'zod';
import { checkEvidence } from '../../checks/kit/contract.ts';
import { Deviation } from '../../core/check-results.ts';
import type { AnyCheck } from '../../checks/kit/contract.ts';
import { BackupJob, ProtectedResource } from '../../core/records.ts';

/**
 * Factories for backup evidence. Every record goes through its zod schema, so a factory (or an override) that makes an
 * invalid record fails the test instead of testing a shape no connector can produce.
 */

/** The evaluation moment the backup check tests share: a Sunday in the middle of Q2. */
export const BACKUP_AT = new Date('2025-05-18T12:00:00.000Z');

export const JOB_EVIDENCE = 'ev-backup-jobs';
export const RESOURCE_EVIDENCE = 'ev-protected-resources';

const HOUR_MS = 3_600_000;
export const ORDERS_DB = 'arn:aws:rds:us-east-1:111111111111:db:orders';
export const SHARED_FS = 'arn:aws:elasticfilesystem:us-east-1:111111111111:file-system/fs-0123456789abcdef0';

/** An ISO timestamp `hours` (fractions allowed) before `from`; negative hours lie after it. */
export function hoursBefore(hours: number, from: Date = BACKUP_AT): string {
  return new Date(from.getTime() - hours * HOUR_MS).toISOString();
}

/** A completed backup of the orders database that ended two hours before BACKUP_AT. */
export function backupJob(overrides: Partial<z.input<typeof BackupJob>> = {}): BackupJob {
  return BackupJob.parse({
    kind: 'backup-job',
    source: 'aws-backup',
    account: '111111111111',
    jobId: 'job-1',
    jobKind: 'backup',
    resourceId: ORDERS_DB,
    resourceType: 'RDS',
    state: 'COMPLETED',
    startedAt: hoursBefore(3),
    completedAt: hoursBefore(2),
    message: null,
    ...overrides,
  });
}

/** A restore test of the orders database, launched by a restore testing plan, completed two hours before BACKUP_AT. */
export function restoreJob(overrides: Partial<z.input<typeof BackupJob>> = {}): BackupJob {
  return backupJob({ jobId: 'restore-1', jobKind: 'restore-test', ...overrides });
}

/** The orders database under protection, last backed up two hours before BACKUP_AT, without tags. */
export function protectedResource(overrides: Partial<z.input<typeof ProtectedResource>> = {}): ProtectedResource {
  return ProtectedResource.parse({
    kind: 'protected-resource',
    source: 'aws-backup',
    account: '111111111111',
    resourceId: ORDERS_DB,
    resourceType: 'RDS',
    lastBackupAt: hoursBefore(2),
    tags: {},
    ...overrides,
  });
}

export interface BackupCheckInput {
  jobs?: readonly BackupJob[];
  resources?: readonly ProtectedResource[];
  params?: Record<string, unknown>;
  at?: Date;
}

/** Evaluates a check as the worker does: params through the check's schema, jobs and resources from two snapshots, every deviation valid. */
export function runBackupCheck(check: AnyCheck, { jobs = [], resources = [], params = {}, at = BACKUP_AT }: BackupCheckInput): Deviation[] {
  const evidence = checkEvidence([
    { evidenceId: JOB_EVIDENCE, records: jobs },
    { evidenceId: RESOURCE_EVIDENCE, records: resources },
  ]);
  return check.evaluate(evidence, check.params.parse(params), at).map((deviation) => Deviation.parse(deviation));
}

/** The part of a deviation table rows compare. */
export function outcome(deviations: readonly Deviation[]): { subject: string; severity: string }[] {
  return deviations.map(({ subject, severity }) => ({ subject, severity }));
}
