import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceRecord } from '../../../core/records.ts';
import { startFakeAwsBackup } from '../../support/fake-aws-backup.ts';
import type { FakeAwsBackup } from '../../support/fake-aws-backup.ts';
import { AUDITOR, configFor, fixtureRegion, HOME_ACCOUNT, NOW, pull } from './setup.ts';

const VAULT = 'arn:aws:backup:us-east-1:111111111111:backup-vault:Default';
const ROLE = 'arn:aws:iam::111111111111:role/service-role/AWSBackupDefaultServiceRole';
const PLAN = 'arn:aws:backup:us-east-1:111111111111:restore-testing-plan:weekly_restore_test-2a3b4c5d-6e7f';
const ORDERS = 'arn:aws:rds:us-east-1:111111111111:db:orders';
const SHARED_HOME = 'arn:aws:elasticfilesystem:us-east-1:111111111111:file-system/fs-0123456789abcdef0';

describe('aws-backup mapping: the real SDK reading recorded-shape responses', () => {
  let fake: FakeAwsBackup;
  beforeAll(async () => {
    fake = await startFakeAwsBackup({ users: [AUDITOR], data: { [HOME_ACCOUNT]: { 'us-east-1': fixtureRegion() } }, now: () => NOW });
  });
  afterAll(() => fake.close());

  it('maps every field of backup jobs, restore jobs, restore tests and protected resources', async () => {
    const { records, error, provenance, warnings } = await pull(configFor(fake.url, { fetchTags: true }));
    expect(error).toBeUndefined();
    // Every record is a valid evidence record.
    for (const record of records) expect(EvidenceRecord.safeParse(record).success).toBe(true);

    expect(records).toEqual([
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: '4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f',
        jobKind: 'backup',
        resourceId: ORDERS,
        resourceType: 'RDS',
        state: 'COMPLETED',
        // Fractional epoch seconds keep their milliseconds.
        startedAt: '2025-03-10T01:00:00.123Z',
        completedAt: '2025-03-10T01:30:00.500Z',
        message: null,
        raw: {
          region: 'us-east-1',
          accountId: HOME_ACCOUNT,
          resourceName: 'orders',
          messageCategory: 'SUCCESS',
          backupVaultName: 'Default',
          backupVaultArn: VAULT,
          recoveryPointArn: 'arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f',
          backupSizeInBytes: 21474836480,
          bytesTransferred: 0,
          percentDone: '100.0',
          iamRoleArn: ROLE,
          backupType: '',
          isParent: false,
          startBy: '2025-03-10T09:00:00.000Z',
          expectedCompletionAt: '2025-03-10T01:43:20.000Z',
          backupPlanId: '8f2c1a4e-7b3d-4c9e-a1f0-2d3e4f5a6b7c',
          backupPlanArn: 'arn:aws:backup:us-east-1:111111111111:backup-plan:8f2c1a4e-7b3d-4c9e-a1f0-2d3e4f5a6b7c',
          backupPlanVersion: 'ZjQ0MmVhNjktYjE3Yy00YjE1LWE5ZjktNzU2MDBhNGU0ZWM0',
          backupRuleId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
        },
      },
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        jobKind: 'backup',
        resourceId: SHARED_HOME,
        resourceType: 'EFS',
        state: 'FAILED',
        startedAt: '2025-03-11T01:00:00.000Z',
        completedAt: '2025-03-11T01:05:42.000Z',
        message: 'Insufficient privileges to perform this action.',
        raw: expect.objectContaining({ region: 'us-east-1', messageCategory: 'ACCESS_DENIED', resourceName: 'shared-home', backupSizeInBytes: 0 }),
      },
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',
        jobKind: 'backup',
        resourceId: 'arn:aws:ec2:us-east-1:111111111111:volume/vol-0fedcba9876543210',
        resourceType: 'EBS',
        state: 'EXPIRED',
        startedAt: '2025-03-12T01:00:00.000Z',
        // An expired job never ran, so it has no completion.
        completedAt: null,
        message: 'Backup job expired because it did not start within the start window.',
        raw: { region: 'us-east-1', accountId: HOME_ACCOUNT, backupVaultName: 'Default', backupVaultArn: VAULT, isParent: false, messageCategory: 'EXPIRED' },
      },
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: 'B1C2D3E4-F5A6-4B7C-8D9E-0F1A2B3C4D5E',
        jobKind: 'restore-test',
        resourceId: ORDERS,
        resourceType: 'RDS',
        state: 'COMPLETED',
        startedAt: '2025-03-13T10:00:00.000Z',
        completedAt: '2025-03-13T10:40:00.000Z',
        // AWS sends an empty status message on success; it is kept as sent.
        message: '',
        raw: {
          region: 'us-east-1',
          accountId: HOME_ACCOUNT,
          recoveryPointArn: 'arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f',
          recoveryPointCreatedAt: '2025-03-10T01:30:00.500Z',
          createdResourceArn: 'arn:aws:rds:us-east-1:111111111111:db:awsbackup-restore-test-b1c2d3e4',
          backupVaultArn: VAULT,
          backupSizeInBytes: 21474836480,
          expectedCompletionTimeMinutes: 45,
          percentDone: '100.00%',
          iamRoleArn: ROLE,
          isParent: false,
          restoreTestingPlanArn: PLAN,
          validationStatus: 'SUCCESSFUL',
          validationStatusMessage: '',
          deletionStatus: 'SUCCESSFUL',
          deletionStatusMessage: '',
        },
      },
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: 'C9D8E7F6-A5B4-4C3D-9E2F-1A0B9C8D7E6F',
        jobKind: 'restore',
        // Without SourceResourceArn the recovery point is what the job names.
        resourceId: 'arn:aws:backup:us-east-1:111111111111:recovery-point:a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
        resourceType: 'EFS',
        state: 'FAILED',
        startedAt: '2025-03-09T23:46:40.000Z',
        completedAt: '2025-03-09T23:59:59.999Z',
        message: 'Access denied to KMS key arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        raw: {
          region: 'us-east-1',
          accountId: HOME_ACCOUNT,
          recoveryPointArn: 'arn:aws:backup:us-east-1:111111111111:recovery-point:a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
          backupVaultArn: VAULT,
          percentDone: '0.00%',
          isParent: false,
        },
      },
      {
        kind: 'backup-job',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        jobId: 'D4E5F6A7-B8C9-4D0E-8F1A-2B3C4D5E6F7A',
        // An empty CreatedBy is not a restore testing plan.
        jobKind: 'restore',
        resourceId: 'arn:aws:backup:us-east-1:111111111111:recovery-point:f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f',
        resourceType: 'unknown',
        state: 'RUNNING',
        startedAt: '2025-03-14T02:00:00.000Z',
        completedAt: null,
        message: null,
        raw: {
          region: 'us-east-1',
          accountId: HOME_ACCOUNT,
          recoveryPointArn: 'arn:aws:backup:us-east-1:111111111111:recovery-point:f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f',
        },
      },
      {
        kind: 'protected-resource',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        resourceId: ORDERS,
        resourceType: 'RDS',
        lastBackupAt: '2025-03-10T01:30:00.500Z',
        tags: { env: 'prod', 'backup-tier': 'gold' },
        raw: {
          region: 'us-east-1',
          resourceName: 'orders',
          lastBackupVaultArn: VAULT,
          lastRecoveryPointArn: 'arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f',
        },
      },
      {
        kind: 'protected-resource',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        resourceId: SHARED_HOME,
        resourceType: 'EFS',
        lastBackupAt: '2025-03-01T04:20:00.000Z',
        // ListTags refused this ARN: no tags, and a warning below.
        tags: {},
        raw: {
          region: 'us-east-1',
          resourceName: 'shared-home',
          lastBackupVaultArn: VAULT,
          lastRecoveryPointArn: 'arn:aws:backup:us-east-1:111111111111:recovery-point:a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
        },
      },
      {
        kind: 'protected-resource',
        source: 'aws-backup',
        account: HOME_ACCOUNT,
        resourceId: 'arn:aws:dynamodb:us-east-1:111111111111:table/sessions',
        resourceType: 'DynamoDB',
        lastBackupAt: null,
        tags: {},
        raw: { region: 'us-east-1' },
      },
    ]);

    // The job older than AWS's 30-day window is not listed.
    expect(records.some((record) => record.kind === 'backup-job' && record.jobId.startsWith('0ld'))).toBe(false);
    expect(warnings).toEqual([
      `aws-backup: account ${HOME_ACCOUNT} us-east-1: ListTags refused 1 protected resource(s); they are recorded without tags, so tag-based rules do not apply to them: ${SHARED_HOME}`,
    ]);
    expect(provenance['restoreTestingPlans']).toEqual({
      [`${HOME_ACCOUNT}/us-east-1`]: [
        {
          arn: PLAN,
          name: 'weekly_restore_test',
          scheduleExpression: 'cron(0 10 ? * 5 *)',
          scheduleExpressionTimezone: 'Etc/UTC',
          startWindowHours: 24,
          createdAt: '2025-01-05T09:00:00.000Z',
          lastExecutionAt: '2025-03-13T10:00:00.000Z',
          lastUpdatedAt: '2025-01-05T09:00:00.000Z',
        },
      ],
    });
    expect(provenance['collected']).toEqual({ [`${HOME_ACCOUNT}/us-east-1`]: { backupJobs: 3, restoreJobs: 3, restoreTests: 1, protectedResources: 3 } });
    expect(provenance).toMatchObject({ pageSize: 1000, createdAfter: '2025-02-13T12:00:00.000Z', lookbackDays: 30, tagsFetched: true, jobStates: 'all' });
  });

  it('asks ListBackupJobs and ListRestoreJobs for the lookback window, in every state, and calls ListTags only when asked', async () => {
    fake.reset();
    const { records, error } = await pull(configFor(fake.url, { lookbackDays: 4 }));
    expect(error).toBeUndefined();
    const byOperation = (operation: string) => fake.requests.filter((request) => request.operation === operation);
    expect(byOperation('ListBackupJobs').map((request) => request.query)).toEqual([{ createdAfter: '2025-03-11T12:00:00Z', maxResults: '1000' }]);
    expect(byOperation('ListRestoreJobs').map((request) => request.query)).toEqual([{ createdAfter: '2025-03-11T12:00:00Z', maxResults: '1000' }]);
    expect(byOperation('ListProtectedResources').map((request) => request.query)).toEqual([{ maxResults: '1000' }]);
    expect(byOperation('ListRestoreTestingPlans').map((request) => request.query)).toEqual([{ MaxResults: '1000' }]);
    expect(byOperation('ListTags')).toEqual([]);
    // Only jobs created after 2025-03-11T12:00Z: the EXPIRED backup job, the restore test and the running restore.
    expect(records.filter((record) => record.kind === 'backup-job').map((record) => record.kind === 'backup-job' && record.state)).toEqual([
      'EXPIRED',
      'COMPLETED',
      'RUNNING',
    ]);
    // Without fetchTags, tags are empty rather than guessed.
    expect(
      records
        .filter((record) => record.kind === 'protected-resource')
        .every((record) => record.kind === 'protected-resource' && Object.keys(record.tags).length === 0),
    ).toBe(true);
  });
});
