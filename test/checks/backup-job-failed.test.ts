import { describe, expect, it } from 'vitest';
import { backupJobFailed, backupRpo } from '../../checks/index.ts';
import { checkEvidence } from '../../checks/kit/contract.ts';
import type { BackupJob } from '../../core/records.ts';
import {
  BACKUP_AT,
  backupJob,
  hoursBefore,
  JOB_EVIDENCE,
  ORDERS_DB,
  outcome,
  protectedResource,
  restoreJob,
  runBackupCheck,
  SHARED_FS,
} from '../support/backup-records.ts';

/** A job that ended `hours` before BACKUP_AT. */
const failed = (jobId: string, hours: number, overrides: Partial<BackupJob> = {}) =>
  backupJob({ jobId, state: 'FAILED', startedAt: hoursBefore(hours + 1), completedAt: hoursBefore(hours), message: 'Insufficient privileges', ...overrides });
const completed = (jobId: string, hours: number, overrides: Partial<BackupJob> = {}) =>
  backupJob({ jobId, state: 'COMPLETED', startedAt: hoursBefore(hours + 0.5), completedAt: hoursBefore(hours), ...overrides });
const MINUTE = 1 / 60;

describe('backup-job-failed', () => {
  it.each<[string, BackupJob[], Record<string, unknown>, { subject: string; severity: string }[]]>([
    ['only completed backups', [completed('ok-1', 2), completed('ok-2', 26)], {}, []],
    // The wait before an unrecovered failure is reported: 8 hours by default.
    ['a failure with no backup after it, past the wait', [failed('f1', 30)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a failure still inside the wait is not reported yet', [failed('f1', 2)], {}, []],
    ['a failure a minute short of the wait', [failed('f1', 8 - MINUTE)], {}, []],
    ['a failure exactly one wait ago without a success is reported', [failed('f1', 8)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    ['a failure inside the wait with a success after it', [failed('f1', 5), completed('ok', 1)], {}, []],
    // What counts as a recovery: a completed backup within 36 hours of the failure by default.
    ['a failure with a later success inside the recovery window', [failed('f1', 50), completed('ok', 50 - 30)], {}, []],
    ['a failure with a success exactly at the end of the recovery window', [failed('f1', 50), completed('ok', 50 - 36)], {}, []],
    [
      'a failure with a success just outside the recovery window',
      [failed('f1', 50), completed('ok', 50 - 36 - MINUTE)],
      {},
      [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }],
    ],
    ['the next nightly backup, which ran for hours after a quick failure, recovers it', [failed('f1', 30), completed('ok', 30 - 26.5)], {}, []],
    ['a success before the failure does not recover it', [completed('ok', 31), failed('f1', 30)], {}, [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]],
    [
      'a success of another resource does not recover it',
      [failed('f1', 30), completed('ok', 29, { resourceId: SHARED_FS, resourceType: 'EFS' })],
      {},
      [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }],
    ],
    [
      'a failure followed by another failure: the first is reported, the second is still in its wait',
      [failed('f1', 30), failed('f2', 6)],
      {},
      [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }],
    ],
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
    [
      'running and pending jobs are not failures',
      [
        backupJob({ jobId: 'r1', state: 'RUNNING', startedAt: hoursBefore(30), completedAt: null }),
        backupJob({ jobId: 'p1', state: 'PENDING', completedAt: null }),
      ],
      {},
      [],
    ],
    ['a failure just outside the 7-day window', [failed('old', 7 * 24 + MINUTE)], {}, []],
    ['a failure exactly at the edge of the 7-day window', [failed('edge', 7 * 24)], {}, [{ subject: `${ORDERS_DB}#edge`, severity: 'high' }]],
    ['a failure after the evaluation moment', [failed('future', -1)], {}, []],
    ['a narrower window', [failed('f1', 30)], { windowDays: 1 }, []],
    ['a longer wait', [failed('f1', 20)], { reportAfterHours: 24 }, []],
    ['a wider recovery window forgives a later success', [failed('f1', 60), completed('ok', 60 - 40)], { recoveryWithinHours: 48 }, []],
    [
      'a narrower recovery window does not',
      [failed('f1', 60), completed('ok', 60 - 30)],
      { reportAfterHours: 4, recoveryWithinHours: 24 },
      [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }],
    ],
    [
      'no wait: an unrecovered failure is reported at once',
      [failed('f1', MINUTE)],
      { reportAfterHours: 0 },
      [{ subject: `${ORDERS_DB}#f1`, severity: 'high' }],
    ],
    ['no wait, a success right after recovers it', [failed('f1', 2 * MINUTE), completed('ok', MINUTE)], { reportAfterHours: 0 }, []],
    [
      'failed restores are not backup failures',
      [
        restoreJob({ state: 'FAILED', completedAt: hoursBefore(30) }),
        restoreJob({ jobId: 'r2', jobKind: 'restore', state: 'FAILED', completedAt: hoursBefore(30) }),
      ],
      {},
      [],
    ],
    ['no jobs at all', [], {}, []],
  ])('%s', (_case, jobs, params, expected) => {
    expect(outcome(runBackupCheck(backupJobFailed, { jobs, params }))).toEqual(expected);
  });

  it('reports a failure once the wait has passed and lets it go when a success inside the recovery window follows', () => {
    const failure = failed('f1', 12);
    expect(outcome(runBackupCheck(backupJobFailed, { jobs: [failure] }))).toEqual([{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]);
    // A day later the next nightly backup has completed, 20 hours after the failure: recovered, no longer observed.
    const nextDay = new Date(BACKUP_AT.getTime() + 24 * 3_600_000);
    expect(runBackupCheck(backupJobFailed, { jobs: [failure, completed('ok', -8)], at: nextDay })).toEqual([]);
  });

  it('reports an unrecovered failure past its wait even when the resource is also past its RPO', () => {
    const jobs = [completed('ok', 40), failed('f1', 16)];
    const resources = [protectedResource({ lastBackupAt: hoursBefore(40) })];
    expect(outcome(runBackupCheck(backupRpo, { jobs, resources }))).toEqual([{ subject: ORDERS_DB, severity: 'medium' }]);
    expect(outcome(runBackupCheck(backupJobFailed, { jobs, resources }))).toEqual([{ subject: `${ORDERS_DB}#f1`, severity: 'high' }]);
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
        `the next completed backup came 40 hours later, at ${hoursBefore(10)}, after the 36-hour recovery window.`,
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
        hoursSinceFailure: 50,
        reportAfterHours: 8,
        recoveryWithinHours: 36,
        windowDays: 7,
      },
      evidenceIds: [JOB_EVIDENCE],
    });
  });

  it('says how long an unrecovered failure has waited and what would still recover it', () => {
    const [deviation] = runBackupCheck(backupJobFailed, { jobs: [failed('f1', 9.5)] });
    expect(deviation?.detail).toBe(
      `Backup job f1 of RDS ${ORDERS_DB} in account 111111111111 ended FAILED at ${hoursBefore(9.5)} (Insufficient privileges); ` +
        'no completed backup of the resource has followed in the 9.5 hours since (reported after 8 hours; one ending within 36 hours of the failure would still recover it).',
    );
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

  it('refuses parameters that make no sense, and names what replaced toleranceHours', () => {
    expect(backupJobFailed.params.safeParse({ windowDays: 0 }).success).toBe(false);
    expect(backupJobFailed.params.safeParse({ reportAfterHours: -1 }).success).toBe(false);
    expect(backupJobFailed.params.safeParse({ recoveryWithinHours: -1 }).success).toBe(false);
    expect(backupJobFailed.params.safeParse({ tolerance: 24 }).success).toBe(false);
    const waitTooLong = backupJobFailed.params.safeParse({ reportAfterHours: 48, recoveryWithinHours: 24 });
    expect(waitTooLong.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['reportAfterHours', expect.stringContaining('must not exceed recoveryWithinHours')],
    ]);
    const legacy = backupJobFailed.params.safeParse({ toleranceHours: 24 });
    expect(legacy.error?.issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/^toleranceHours: replaced by reportAfterHours .* and recoveryWithinHours/),
    ]);
    expect(backupJobFailed.params.parse({})).toEqual({ windowDays: 7, reportAfterHours: 8, recoveryWithinHours: 36 });
    expect(backupJobFailed.references).toEqual(['A.8.13']);
  });
});
