import { describe, expect, it } from 'vitest';
import { backupRpo } from '../../checks/index.ts';
import { checkEvidence } from '../../checks/kit/contract.ts';
import type { BackupJob, ProtectedResource } from '../../core/records.ts';
import {
  BACKUP_AT,
  backupJob,
  hoursBefore,
  JOB_EVIDENCE,
  ORDERS_DB,
  outcome,
  protectedResource,
  RESOURCE_EVIDENCE,
  runBackupCheck,
  SHARED_FS,
} from '../support/backup-records.ts';

const SECOND = 1 / 3600;
const orders = (hours: number | null, overrides: Partial<ProtectedResource> = {}) =>
  protectedResource({ lastBackupAt: hours === null ? null : hoursBefore(hours), ...overrides });
const sharedFs = (hours: number | null, overrides: Partial<ProtectedResource> = {}) =>
  protectedResource({ resourceId: SHARED_FS, resourceType: 'EFS', lastBackupAt: hours === null ? null : hoursBefore(hours), ...overrides });
const job = (state: string, hours: number, overrides: Partial<BackupJob> = {}) =>
  backupJob({ jobId: `${state}-${hours}`, state, startedAt: hoursBefore(hours + 1), completedAt: hoursBefore(hours), ...overrides });

describe('backup-rpo', () => {
  it.each<[string, ProtectedResource[], BackupJob[], Record<string, unknown>, { subject: string; severity: string }[]]>([
    ['backed up two hours ago', [orders(2)], [], {}, []],
    ['backed up exactly at the RPO', [orders(24)], [], {}, []],
    ['backed up one second beyond the RPO', [orders(24 + SECOND)], [], {}, [{ subject: ORDERS_DB, severity: 'medium' }]],
    ['more than twice the RPO ago', [orders(49)], [], {}, [{ subject: ORDERS_DB, severity: 'high' }]],
    ['never backed up', [orders(null)], [], {}, [{ subject: ORDERS_DB, severity: 'high' }]],
    ['no last backup time, but a completed backup job within the RPO', [orders(null)], [job('COMPLETED', 3)], {}, []],
    ['an old last backup time, but a newer completed backup job', [orders(30)], [job('COMPLETED', 2)], {}, []],
    ['a newer backup job that failed does not count', [orders(30)], [job('FAILED', 2)], {}, [{ subject: ORDERS_DB, severity: 'medium' }]],
    [
      'a newer backup job of another resource does not count',
      [orders(30)],
      [job('COMPLETED', 2, { resourceId: SHARED_FS, resourceType: 'EFS' })],
      {},
      [{ subject: ORDERS_DB, severity: 'medium' }],
    ],
    ['a completed restore is not a backup', [orders(30)], [job('COMPLETED', 2, { jobKind: 'restore-test' })], {}, [{ subject: ORDERS_DB, severity: 'medium' }]],
    ['a resource type override loosens the RPO', [sharedFs(30)], [], { byResourceType: { RDS: 24, EFS: 48 } }, []],
    [
      'a resource type override at its edge',
      [sharedFs(48), sharedFs(48 + SECOND, { resourceId: `${SHARED_FS}-2` })],
      [],
      { byResourceType: { EFS: 48 } },
      [{ subject: `${SHARED_FS}-2`, severity: 'medium' }],
    ],
    [
      'a resource type override tightens the RPO, matched without regard to case',
      [orders(13)],
      [],
      { byResourceType: { rds: 12 } },
      [{ subject: ORDERS_DB, severity: 'medium' }],
    ],
    ['a resource type override does not touch other types', [orders(30)], [], { byResourceType: { EFS: 48 } }, [{ subject: ORDERS_DB, severity: 'medium' }]],
    [
      'a tag override beats the resource type',
      [orders(5, { tags: { tier: 'gold' } }), orders(5, { resourceId: `${ORDERS_DB}-replica` })],
      [],
      { byResourceType: { RDS: 48 }, byTag: [{ key: 'tier', value: 'gold', rpoHours: 4 }] },
      [{ subject: ORDERS_DB, severity: 'medium' }],
    ],
    [
      'a tag override with another value does not apply',
      [orders(30, { tags: { tier: 'silver' } })],
      [],
      { byResourceType: { RDS: 48 }, byTag: [{ key: 'tier', value: 'gold', rpoHours: 4 }] },
      [],
    ],
    [
      'of two matching tag overrides, the strictest applies',
      [orders(3, { tags: { tier: 'gold', pci: 'yes' } })],
      [],
      {
        byTag: [
          { key: 'tier', value: 'gold', rpoHours: 4 },
          { key: 'pci', value: 'yes', rpoHours: 2 },
        ],
      },
      [{ subject: ORDERS_DB, severity: 'medium' }],
    ],
    [
      'a tag override loosening the RPO beats the default',
      [orders(60, { tags: { tier: 'archive' } })],
      [],
      { byTag: [{ key: 'tier', value: 'archive', rpoHours: 168 }] },
      [],
    ],
    ['no protected resources at all', [], [job('COMPLETED', 2)], {}, [{ subject: 'protected-resources', severity: 'high' }]],
    ['no protected resources, when that is allowed', [], [], { requireProtectedResources: false }, []],
    [
      'several resources, each judged on its own',
      [orders(2), sharedFs(30), sharedFs(null, { resourceId: `${SHARED_FS}-new` })],
      [],
      {},
      [
        { subject: SHARED_FS, severity: 'medium' },
        { subject: `${SHARED_FS}-new`, severity: 'high' },
      ],
    ],
  ])('%s', (_case, resources, jobs, params, expected) => {
    expect(outcome(runBackupCheck(backupRpo, { resources, jobs, params }))).toEqual(expected);
  });

  it('says how old the last backup is, which objective applies and why, citing the evidence of the newest backup', () => {
    const deviations = runBackupCheck(backupRpo, {
      resources: [orders(40, { tags: { tier: 'gold' } })],
      jobs: [job('COMPLETED', 30)],
      params: { byTag: [{ key: 'tier', value: 'gold', rpoHours: 12 }] },
    });
    expect(deviations).toEqual([
      {
        checkId: 'backup-rpo',
        subject: ORDERS_DB,
        title: `RDS ${ORDERS_DB} has no backup within its 12-hour recovery point objective`,
        severity: 'high',
        detail: `The last successful backup of RDS ${ORDERS_DB} in account 111111111111 was at ${hoursBefore(30)}, 30 hours ago; its recovery point objective is 12 hours (tag tier=gold).`,
        values: {
          source: 'aws-backup',
          account: '111111111111',
          resourceId: ORDERS_DB,
          resourceType: 'RDS',
          lastBackupAt: hoursBefore(30),
          rpoHours: 12,
          rpoBasis: 'tag tier=gold',
          ageHours: 30,
        },
        evidenceIds: [RESOURCE_EVIDENCE, JOB_EVIDENCE],
      },
    ]);
  });

  it('reads a resource seen in several snapshots once, with its newest last backup', () => {
    const evidence = checkEvidence([
      { evidenceId: 'ev-old', records: [orders(40)] },
      { evidenceId: 'ev-new', records: [orders(20)] },
    ]);
    expect(backupRpo.evaluate(evidence, backupRpo.params.parse({}), BACKUP_AT)).toEqual([]);
    const stale = backupRpo.evaluate(evidence, backupRpo.params.parse({ rpoHours: 10 }), BACKUP_AT);
    expect(stale.map(({ subject, evidenceIds, values }) => ({ subject, evidenceIds, lastBackupAt: values['lastBackupAt'] }))).toEqual([
      { subject: ORDERS_DB, evidenceIds: ['ev-old', 'ev-new'], lastBackupAt: hoursBefore(20) },
    ]);
  });

  it('refuses objectives that make no sense', () => {
    expect(backupRpo.params.safeParse({ rpoHours: 0 }).success).toBe(false);
    expect(backupRpo.params.safeParse({ byResourceType: { RDS: -1 } }).success).toBe(false);
    expect(backupRpo.params.safeParse({ byTag: [{ key: 'tier', rpoHours: 4 }] }).success).toBe(false);
    expect(backupRpo.inputs).toEqual(['protected-resource', 'backup-job']);
  });
});
