import { describe, expect, it } from 'vitest';
import { restoreTest } from '../../checks/index.ts';
import { currentPeriod } from '../../checks/restore-test.ts';
import type { BackupJob, ProtectedResource } from '../../core/records.ts';
import {
  backupJob,
  JOB_EVIDENCE,
  ORDERS_DB,
  outcome,
  protectedResource,
  RESOURCE_EVIDENCE,
  restoreJob,
  runBackupCheck,
  SHARED_FS,
} from '../support/backup-records.ts';

/** A restore test that ended at `completedAt`. */
const tested = (completedAt: string, overrides: Partial<BackupJob> = {}) =>
  restoreJob({ jobId: `rt-${completedAt}`, startedAt: new Date(Date.parse(completedAt) - 1_800_000).toISOString(), completedAt, ...overrides });
const efs = (overrides: Partial<ProtectedResource> = {}) => protectedResource({ resourceId: SHARED_FS, resourceType: 'EFS', ...overrides });

const MID_Q2 = new Date('2025-05-18T12:00:00.000Z');
const Q2_START = new Date('2025-04-01T00:00:00.000Z');
const MISSING = { subject: 'restore-test', severity: 'medium' };

describe('restore-test', () => {
  it.each<[string, Date, BackupJob[], ProtectedResource[], Record<string, unknown>, { subject: string; severity: string }[]]>([
    ['a completed restore test this quarter', MID_Q2, [tested('2025-04-10T10:00:00.000Z')], [], {}, []],
    ['no restore test at all', MID_Q2, [], [], {}, [MISSING]],
    ['the last restore test was in the previous quarter, a millisecond before this one', MID_Q2, [tested('2025-03-31T23:59:59.999Z')], [], {}, [MISSING]],
    ['a restore test at the first instant of the quarter', MID_Q2, [tested('2025-04-01T00:00:00.000Z')], [], {}, []],
    ['evaluated at the first instant of a quarter, a test that same instant', Q2_START, [tested('2025-04-01T00:00:00.000Z')], [], {}, []],
    ['evaluated at the first instant of a quarter, a test a second earlier', Q2_START, [tested('2025-03-31T23:59:59.000Z')], [], {}, [MISSING]],
    ['evaluated on the last day of Q4, a test in October', new Date('2025-12-31T23:59:59.000Z'), [tested('2025-10-01T08:00:00.000Z')], [], {}, []],
    ['evaluated on 1 January, a test in December', new Date('2026-01-01T06:00:00.000Z'), [tested('2025-12-31T22:00:00.000Z')], [], {}, [MISSING]],
    ['a test after the evaluation moment does not count', MID_Q2, [tested('2025-05-18T12:00:01.000Z')], [], {}, [MISSING]],
    ['a running restore test does not count', MID_Q2, [tested('2025-05-01T00:00:00.000Z', { state: 'RUNNING', completedAt: null })], [], {}, [MISSING]],
    ['a manual restore is not a test by default', MID_Q2, [tested('2025-05-01T00:00:00.000Z', { jobKind: 'restore' })], [], {}, [MISSING]],
    ['a manual restore counts when asked to', MID_Q2, [tested('2025-05-01T00:00:00.000Z', { jobKind: 'restore' })], [], { countManualRestores: true }, []],
    ['a backup job is not a restore test', MID_Q2, [backupJob()], [], {}, [MISSING]],
    [
      'a failed restore test this quarter and no completed one',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z', { jobId: 'rt-failed', state: 'FAILED', message: 'Validation script failed' })],
      [],
      {},
      [MISSING, { subject: `${ORDERS_DB}#rt-failed`, severity: 'high' }],
    ],
    [
      'a failed restore test is reported even when another one completed',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z', { jobId: 'rt-failed', state: 'FAILED' }), tested('2025-05-02T00:00:00.000Z')],
      [],
      {},
      [{ subject: `${ORDERS_DB}#rt-failed`, severity: 'high' }],
    ],
    [
      'a failed restore test of the previous quarter is not reported again',
      MID_Q2,
      [tested('2025-03-20T00:00:00.000Z', { state: 'FAILED' }), tested('2025-05-02T00:00:00.000Z')],
      [],
      {},
      [],
    ],
    [
      'a failed manual restore is a failed test only when manual restores count',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z', { jobId: 'r-failed', jobKind: 'restore', state: 'FAILED' }), tested('2025-05-02T00:00:00.000Z')],
      [],
      {},
      [],
    ],
    [
      'a failed manual restore counted as a test',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z', { jobId: 'r-failed', jobKind: 'restore', state: 'FAILED' }), tested('2025-05-02T00:00:00.000Z')],
      [],
      { countManualRestores: true },
      [{ subject: `${ORDERS_DB}#r-failed`, severity: 'high' }],
    ],
    ['monthly: a test last month is not enough', MID_Q2, [tested('2025-04-30T23:00:00.000Z')], [], { period: 'month' }, [MISSING]],
    ['monthly: a test this month', MID_Q2, [tested('2025-05-01T00:00:00.000Z')], [], { period: 'month' }, []],
    ['yearly: a test in January', MID_Q2, [tested('2025-01-02T00:00:00.000Z')], [], { period: 'year' }, []],
    ['yearly: a test last December', MID_Q2, [tested('2024-12-31T23:59:59.999Z')], [], { period: 'year' }, [MISSING]],
    [
      'per resource type: every protected type tested',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z'), tested('2025-05-02T00:00:00.000Z', { resourceId: SHARED_FS, resourceType: 'EFS' })],
      [protectedResource(), efs()],
      { perResourceType: true },
      [],
    ],
    [
      'per resource type: one protected type untested',
      MID_Q2,
      [tested('2025-05-01T00:00:00.000Z')],
      [protectedResource(), efs()],
      { perResourceType: true },
      [{ subject: 'restore-test:EFS', severity: 'medium' }],
    ],
    [
      'per resource type: nothing tested',
      MID_Q2,
      [],
      [protectedResource(), efs()],
      { perResourceType: true },
      [
        { subject: 'restore-test:EFS', severity: 'medium' },
        { subject: 'restore-test:RDS', severity: 'medium' },
      ],
    ],
    [
      'per resource type without an inventory: the backed-up types',
      MID_Q2,
      [backupJob({ resourceId: SHARED_FS, resourceType: 'EFS' }), tested('2025-05-01T00:00:00.000Z')],
      [],
      { perResourceType: true },
      [{ subject: 'restore-test:EFS', severity: 'medium' }],
    ],
    ['per resource type with nothing known: one test overall is still required', MID_Q2, [], [], { perResourceType: true }, [MISSING]],
    ['overall: one test covers every type', MID_Q2, [tested('2025-05-01T00:00:00.000Z')], [protectedResource(), efs()], {}, []],
  ])('%s', (_case, at, jobs, resources, params, expected) => {
    expect(outcome(runBackupCheck(restoreTest, { jobs, resources, params, at }))).toEqual(expected);
  });

  it('names the period and the type, citing the evidence that shows the type is protected', () => {
    const deviations = runBackupCheck(restoreTest, { at: MID_Q2, resources: [efs()], params: { perResourceType: true } });
    expect(deviations).toEqual([
      {
        checkId: 'restore-test',
        subject: 'restore-test:EFS',
        title: 'No completed restore test of EFS in 2025-Q2',
        severity: 'medium',
        detail: 'EFS resources are backed up, but no restore test of EFS completed between 2025-04-01T00:00:00.000Z and 2025-05-18T12:00:00.000Z.',
        values: {
          period: 'quarter',
          periodLabel: '2025-Q2',
          periodStart: '2025-04-01T00:00:00.000Z',
          countManualRestores: false,
          resourceType: 'EFS',
          testsInPeriod: 0,
        },
        evidenceIds: [RESOURCE_EVIDENCE],
      },
    ]);
  });

  it('reports a failed restore test with its message and evidence', () => {
    const deviations = runBackupCheck(restoreTest, {
      at: MID_Q2,
      jobs: [tested('2025-05-01T00:00:00.000Z', { jobId: 'rt-9', state: 'FAILED', message: 'Validation script failed' }), tested('2025-05-02T00:00:00.000Z')],
    });
    expect(deviations).toEqual([
      {
        checkId: 'restore-test',
        subject: `${ORDERS_DB}#rt-9`,
        title: `Restore test of RDS ${ORDERS_DB} failed`,
        severity: 'high',
        detail: `Restore test job rt-9 of RDS ${ORDERS_DB} in account 111111111111 failed at 2025-05-01T00:00:00.000Z (Validation script failed).`,
        values: {
          period: 'quarter',
          periodLabel: '2025-Q2',
          periodStart: '2025-04-01T00:00:00.000Z',
          countManualRestores: false,
          source: 'aws-backup',
          account: '111111111111',
          resourceId: ORDERS_DB,
          resourceType: 'RDS',
          jobId: 'rt-9',
          jobKind: 'restore-test',
          endedAt: '2025-05-01T00:00:00.000Z',
          message: 'Validation script failed',
        },
        evidenceIds: [JOB_EVIDENCE],
      },
    ]);
  });

  it.each<[string, 'month' | 'quarter' | 'year', string, string]>([
    ['2025-01-01T00:00:00.000Z', 'quarter', '2025-01-01T00:00:00.000Z', '2025-Q1'],
    ['2025-03-31T23:59:59.999Z', 'quarter', '2025-01-01T00:00:00.000Z', '2025-Q1'],
    ['2025-04-01T00:00:00.000Z', 'quarter', '2025-04-01T00:00:00.000Z', '2025-Q2'],
    ['2025-06-30T23:59:59.999Z', 'quarter', '2025-04-01T00:00:00.000Z', '2025-Q2'],
    ['2025-07-01T00:00:00.000Z', 'quarter', '2025-07-01T00:00:00.000Z', '2025-Q3'],
    ['2025-12-31T23:59:59.999Z', 'quarter', '2025-10-01T00:00:00.000Z', '2025-Q4'],
    ['2025-02-28T12:00:00.000Z', 'month', '2025-02-01T00:00:00.000Z', '2025-02'],
    ['2025-12-31T23:00:00.000Z', 'month', '2025-12-01T00:00:00.000Z', '2025-12'],
    ['2025-08-15T00:00:00.000Z', 'year', '2025-01-01T00:00:00.000Z', '2025'],
  ])('at %s the current %s began %s (%s), in UTC', (at, period, start, label) => {
    expect(currentPeriod(new Date(at), period)).toEqual({ start: new Date(start), label });
  });
});
