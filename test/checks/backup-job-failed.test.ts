import { describe, expect, it } from 'vitest';
import { backupJobFailed } from '../../checks/backup.ts';
import { checkEvidence } from '../../checks/contract.ts';
import type { BackupJob } from '../../evidence/records.ts';
import { BACKUP_AT, backupJob, hoursBefore, JOB_EVIDENCE, ORDERS_DB, outcome, restoreJob, runBackupCheck, SHARED_FS } from '../support/backup-records.ts';

/** A job that ended `hours` before BACKUP_AT. */
const failed = (jobId: string, hours: number, overrides: Partial<BackupJob> = {}) =>
  backupJob({ jobId, state: 'FAILED', startedAt: hoursBefore(hours + 1), completedAt: hoursBefore(hours), message: 'Insufficient privileges', ...overrides });
const completed = (jobId: string, hours: number, overrides: Partial<BackupJob> = {}) =>
  backupJob({ jobId, state: 'COMPLETED', startedAt: hoursBefore(hours + 0.5), completedAt: hoursBefore(hours), ...overrides });
const MINUTE = 1 / 60;

describe('backup-job-failed', () => {
  it.each<[string, BackupJob[], Record<string, unknown>, { subject: string; severity: string }[]]>([
    ['only completed backups', [completed('ok-1', 2), completed('ok-2', 26)], {}, []],
    ['a failure with no backup after it', [failed('f1', 30)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a failure followed by a success just inside the tolerance', [failed('f1', 30), completed('ok', 30 - 24 + MINUTE)], {}, []],
    ['a failure followed by a success exactly at the tolerance', [failed('f1', 30), completed('ok', 6)], {}, []],
    ['a failure followed by a success just outside the tolerance', [failed('f1', 30), completed('ok', 6 - MINUTE)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a success before the failure does not cover it', [completed('ok', 31), failed('f1', 30)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a success of another resource does not cover it', [failed('f1', 30), completed('ok', 29, { resourceId: SHARED_FS, resourceType: 'EFS' })], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a failure still inside its tolerance is not reported yet', [failed('f1', 2)], {}, []],
    ['a failure exactly one tolerance ago without a success is reported', [failed('f1', 24)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a failure followed by another failure: the first is reported, the second is still in its tolerance', [failed('f1', 30), failed('f2', 20)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    [
      'aborted, expired (which never ends) and partial jobs',
      [
        failed('a1', 40, { state: 'ABORTED' }),
        backupJob({ jobId: 'e1', state: 'EXPIRED', startedAt: hoursBefore(50), completedAt: null }),
        failed('p1', 60, { state: 'PARTIAL', resourceId: SHARED_FS, resourceType: 'EFS' }),
      ],
      {},
      [
        { subject: `${ORDERS_DB}#a1`, severity: 'high' },
        { subject: `${ORDERS_DB}#e1`, severity: 'high' },
        { subject: `${SHARED_FS}#p1`, severity: 'medium' },
      ],
    ],
    ['running and pending jobs are not failures', [backupJob({ jobId: 'r1', state: 'RUNNING', startedAt: hoursBefore(30), completedAt: null }), backupJob({ jobId: 'p1', state: 'PENDING', completedAt: null })], {}, []],
    ['a failure just outside the 7-day window', [failed('old', 7 * 24 + MINUTE)], {}, []],
    ['a failure exactly at the edge of the 7-day window', [failed('edge', 7 * 24)], {}, [{ subject: `${ORDERS_DB}#edge`, severity: 'high' }]],
    ['a failure after the evaluation moment', [failed('future', -1)], {}, []],
    ['a narrower window', [failed('f1', 30)], { windowDays: 1 }, []],
    ['a wider tolerance forgives a later success', [failed('f1', 60), completed('ok', 60 - 30)], { toleranceHours: 36 }, []],
    ['no tolerance: any failure is reported at once', [failed('f1', MINUTE), completed('ok', 0)], { toleranceHours: 0 }, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['failed restores are not backup failures', [restoreJob({ state: 'FAILED', completedAt: hoursBefore(30) }), restoreJob({ jobId: 'r2', jobKind: 'restore', state: 'FAILED', completedAt: hoursBefore(30) })], {}, []],
    ['no jobs at all', [], {}, []],
  ])('%s', (_case, jobs, params, expected) => {
    expect(outcome(runBackupCheck(backupJobFailed, { jobs, params }))).toEqual(expected);
  });

  it('says what failed, when, why, and when (if ever) the next backup completed', () => {
    const [deviation] = runBackupCheck(backupJobFailed, { jobs: [failed('f1', 50), completed('ok', 10)] });
    expect(deviation).toEqual({
      checkId: 'backup-job-failed',
      subject: `${ORDERS_DB}#f1`,
      title: `Backup of RDS ${ORDERS_DB} ended FAILED`,
      severity: 'high',
      detail:
        `Backup job f1 of RDS ${ORDERS_DB} in account 111111111111 ended FAILED at ${hoursBefore(50)} (Insufficient privileges); ` +
        `the next completed backup came 40 hours later, at ${hoursBefore(10)}, and the tolerance is 24 hours.`,
      values: {
        source: 'aws-backup',
        account: '111111111111',
        resourceId: ORDERS_DB,
        resourceType: 'RDS',
        jobId: 'f1',
        state: 'FAILED',
        endedAt: hoursBefore(50),
        message: 'Insufficient privileges',
        nextCompletedAt: hoursBefore(10),
        toleranceHours: 24,
        windowDays: 7,
      },
      evidenceIds: [JOB_EVIDENCE],
    });
  });

  it('counts a job seen in overlapping snapshots once, citing both, with its ended state', () => {
    const running = backupJob({ jobId: 'f1', state: 'RUNNING', startedAt: hoursBefore(31), completedAt: null });
    const ended = failed('f1', 30);
    const evidence = checkEvidence([
      { evidenceId: 'ev-monday', records: [running] },
      { evidenceId: 'ev-tuesday', records: [ended] },
      { evidenceId: 'ev-wednesday', records: [{ ...ended }] },
    ]);
    const deviations = backupJobFailed.evaluate(evidence, backupJobFailed.params.parse({}), BACKUP_AT);
    expect(deviations.map(({ subject, evidenceIds, values }) => ({ subject, evidenceIds, state: values['state'] }))).toEqual([
      { subject: `${ORDERS_DB}#f1`, evidenceIds: ['ev-monday', 'ev-tuesday', 'ev-wednesday'], state: 'FAILED' },
    ]);
  });

  it('refuses parameters that make no sense', () => {
    expect(backupJobFailed.params.safeParse({ windowDays: 0 }).success).toBe(false);
    expect(backupJobFailed.params.safeParse({ toleranceHours: -1 }).success).toBe(false);
    expect(backupJobFailed.params.safeParse({ tolerance: 24 }).success).toBe(false);
    expect(backupJobFailed.references).toEqual(['A.8.13']);
  });
});
