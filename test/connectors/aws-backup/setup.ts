import { readFileSync } from 'node:fs';
import { awsBackup } from '../../../connectors/aws-backup/index.ts';
import type { AwsBackupConfig } from '../../../connectors/aws-backup/index.ts';
import type { ConnectorContext } from '../../../connectors/contract.ts';
import type { FakeRegion, FakeUser, WireObject } from '../../support/fake-aws-backup.ts';
import type { BackupJob, ProtectedResource } from '../../../core/records.ts';
import { testContext } from '../../support/connector-context.ts';

/** The service clock of the fixture and of every pull in these tests. */
export const NOW = new Date('2025-03-15T12:00:00Z');

export const HOME_ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '222222222222';
export const OTHER_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/IsmsBackupAudit`;
export const EXTERNAL_ID = 'isms-7f3a';

/** The base credentials; the secret key is what the leak tests look for. */
export const AUDITOR: FakeUser = {
  account: HOME_ACCOUNT,
  userName: 'isms-auditor',
  accessKeyId: 'AKIAISMSAUDITOR00001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzz9sEcReT1',
};
export const SECRET_ENV = { AWS_BACKUP_KEY_ID: AUDITOR.accessKeyId, AWS_BACKUP_SECRET: AUDITOR.secretAccessKey };

export function fixtureRegion(): FakeRegion {
  const text = readFileSync(new URL('../../fixtures/aws-backup/account-111111111111-us-east-1.json', import.meta.url), 'utf8');
  const { backupJobs, restoreJobs, protectedResources, restoreTestingPlans, tags, untaggable } = JSON.parse(text) as FakeRegion;
  return { backupJobs, restoreJobs, protectedResources, restoreTestingPlans, tags, untaggable };
}

/** A config reaching the fake with the auditor's keys from environment variables. */
export function configFor(url: string, overrides: Record<string, unknown> = {}): AwsBackupConfig {
  return awsBackup.config.parse({
    endpoint: url,
    stsEndpoint: url,
    credentials: { accessKeyId: { env: 'AWS_BACKUP_KEY_ID' }, secretAccessKey: { env: 'AWS_BACKUP_SECRET' } },
    accounts: [{ id: HOME_ACCOUNT, regions: ['us-east-1'] }],
    ...overrides,
  });
}

/** Runs a pull to the end, keeping what the connector reported even when it fails. */
export async function pull(
  config: AwsBackupConfig,
  overrides: Partial<Omit<ConnectorContext, 'heartbeat' | 'provenance' | 'warn'>> & { env?: NodeJS.ProcessEnv } = {},
) {
  const test = testContext({ now: () => NOW, env: SECRET_ENV, ...overrides });
  const records: (BackupJob | ProtectedResource)[] = [];
  let error: unknown;
  try {
    for await (const record of awsBackup.collect(config, test.ctx)) records.push(record);
  } catch (caught) {
    error = caught;
  }
  return { ...test, records, error };
}

const epoch = (iso: string) => Date.parse(iso) / 1000;

/** `count` backup jobs of one resource, one a day back from `newest`, as the wire carries them. */
export function wireBackupJobs(count: number, prefix: string, newest = '2025-03-14T01:00:00Z'): WireObject[] {
  return Array.from({ length: count }, (_, i) => ({
    AccountId: HOME_ACCOUNT,
    BackupJobId: `${prefix}-job-${i + 1}`,
    ResourceArn: `arn:aws:rds:us-east-1:${HOME_ACCOUNT}:db:${prefix}`,
    ResourceType: 'RDS',
    State: i % 3 === 2 ? 'FAILED' : 'COMPLETED',
    CreationDate: epoch(newest) - i * 86_400,
    CompletionDate: epoch(newest) - i * 86_400 + 600,
  }));
}

export function wireRestoreJobs(count: number, prefix: string, planArn: string | undefined): WireObject[] {
  return Array.from({ length: count }, (_, i) => ({
    RestoreJobId: `${prefix}-restore-${i + 1}`,
    RecoveryPointArn: `arn:aws:backup:us-east-1:${HOME_ACCOUNT}:recovery-point:${prefix}-${i + 1}`,
    SourceResourceArn: `arn:aws:rds:us-east-1:${HOME_ACCOUNT}:db:${prefix}`,
    ResourceType: 'RDS',
    Status: 'COMPLETED',
    CreationDate: epoch('2025-03-13T10:00:00Z') - i * 3600,
    CompletionDate: epoch('2025-03-13T10:30:00Z') - i * 3600,
    ...(planArn === undefined ? {} : { CreatedBy: { RestoreTestingPlanArn: planArn } }),
  }));
}

export function wireProtectedResources(count: number, prefix: string): WireObject[] {
  return Array.from({ length: count }, (_, i) => ({
    ResourceArn: `arn:aws:rds:us-east-1:${HOME_ACCOUNT}:db:${prefix}-${i + 1}`,
    ResourceType: 'RDS',
    LastBackupTime: epoch('2025-03-14T01:10:00Z') - i * 60,
  }));
}

export function wireRestoreTestingPlans(count: number, prefix: string): WireObject[] {
  return Array.from({ length: count }, (_, i) => ({
    RestoreTestingPlanArn: `arn:aws:backup:us-east-1:${HOME_ACCOUNT}:restore-testing-plan:${prefix}_${i + 1}-0a1b2c3d`,
    RestoreTestingPlanName: `${prefix}_${i + 1}`,
    ScheduleExpression: 'cron(0 5 ? * 1 *)',
    CreationTime: epoch('2025-01-01T00:00:00Z'),
  }));
}
