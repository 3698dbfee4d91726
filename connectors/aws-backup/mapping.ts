import { z } from 'zod';
import type { BackupJob, ProtectedResource } from '../../core/records.ts';

/**
 * The only place that knows AWS Backup's field names. The SDK turns the wire's epoch seconds into Dates and drops
 * nulls, but passes wrong types through untouched, so every page it returns is validated here before it is mapped.
 */

export const SOURCE = 'aws-backup';

/** Where a record was collected: the records name the account, `raw` keeps the region. */
export interface Origin {
  account: string;
  region: string;
}

const AwsDate = z.date().refine((date) => !Number.isNaN(date.getTime()), 'expected a valid timestamp');

const BackupJobWire = z.object({
  BackupJobId: z.string().min(1),
  AccountId: z.string().optional(),
  ResourceArn: z.string().min(1),
  ResourceType: z.string().min(1),
  ResourceName: z.string().optional(),
  State: z.string().min(1),
  StatusMessage: z.string().optional(),
  MessageCategory: z.string().optional(),
  CreationDate: AwsDate,
  CompletionDate: AwsDate.optional(),
  StartBy: AwsDate.optional(),
  ExpectedCompletionDate: AwsDate.optional(),
  BackupVaultName: z.string().optional(),
  BackupVaultArn: z.string().optional(),
  RecoveryPointArn: z.string().optional(),
  BackupSizeInBytes: z.number().optional(),
  BytesTransferred: z.number().optional(),
  PercentDone: z.string().optional(),
  IamRoleArn: z.string().optional(),
  BackupType: z.string().optional(),
  IsParent: z.boolean().optional(),
  ParentJobId: z.string().optional(),
  CreatedBy: z
    .object({
      BackupPlanId: z.string().optional(),
      BackupPlanArn: z.string().optional(),
      BackupPlanName: z.string().optional(),
      BackupPlanVersion: z.string().optional(),
      BackupRuleId: z.string().optional(),
    })
    .optional(),
});

const RestoreJobWire = z.object({
  RestoreJobId: z.string().min(1),
  AccountId: z.string().optional(),
  RecoveryPointArn: z.string().min(1),
  SourceResourceArn: z.string().optional(),
  CreatedResourceArn: z.string().optional(),
  ResourceType: z.string().optional(),
  Status: z.string().min(1),
  StatusMessage: z.string().optional(),
  CreationDate: AwsDate,
  CompletionDate: AwsDate.optional(),
  RecoveryPointCreationDate: AwsDate.optional(),
  BackupVaultArn: z.string().optional(),
  BackupSizeInBytes: z.number().optional(),
  ExpectedCompletionTimeMinutes: z.number().optional(),
  PercentDone: z.string().optional(),
  IamRoleArn: z.string().optional(),
  IsParent: z.boolean().optional(),
  ParentJobId: z.string().optional(),
  CreatedBy: z.object({ RestoreTestingPlanArn: z.string().optional() }).optional(),
  ValidationStatus: z.string().optional(),
  ValidationStatusMessage: z.string().optional(),
  DeletionStatus: z.string().optional(),
  DeletionStatusMessage: z.string().optional(),
});

const ProtectedResourceWire = z.object({
  ResourceArn: z.string().min(1),
  ResourceType: z.string().min(1),
  ResourceName: z.string().optional(),
  LastBackupTime: AwsDate.optional(),
  LastBackupVaultArn: z.string().optional(),
  LastRecoveryPointArn: z.string().optional(),
});

const RestoreTestingPlanWire = z.object({
  RestoreTestingPlanArn: z.string().min(1),
  RestoreTestingPlanName: z.string().min(1),
  ScheduleExpression: z.string(),
  ScheduleExpressionTimezone: z.string().optional(),
  StartWindowHours: z.number().optional(),
  CreationTime: AwsDate,
  LastExecutionTime: AwsDate.optional(),
  LastUpdateTime: AwsDate.optional(),
});

const NextToken = z.string().optional();

/** Pages as the SDK returns them. AWS sends an empty list rather than none, but an absent list is still read as empty. */
export const BackupJobsPage = z.object({ BackupJobs: z.array(BackupJobWire).default([]), NextToken });
export const RestoreJobsPage = z.object({ RestoreJobs: z.array(RestoreJobWire).default([]), NextToken });
export const ProtectedResourcesPage = z.object({ Results: z.array(ProtectedResourceWire).default([]), NextToken });
export const RestoreTestingPlansPage = z.object({ RestoreTestingPlans: z.array(RestoreTestingPlanWire).default([]), NextToken });
export const TagsPage = z.object({ Tags: z.record(z.string(), z.string()).default({}), NextToken });

type BackupJobWire = z.infer<typeof BackupJobWire>;
type RestoreJobWire = z.infer<typeof RestoreJobWire>;
type ProtectedResourceWire = z.infer<typeof ProtectedResourceWire>;
type RestoreTestingPlanWire = z.infer<typeof RestoreTestingPlanWire>;

export function toBackupJob(job: BackupJobWire, origin: Origin): BackupJob {
  return {
    kind: 'backup-job',
    source: SOURCE,
    account: origin.account,
    jobId: job.BackupJobId,
    jobKind: 'backup',
    resourceId: job.ResourceArn,
    resourceType: job.ResourceType,
    state: job.State,
    // AWS lists no actual start time; the job's creation is the closest it tells.
    startedAt: iso(job.CreationDate),
    completedAt: iso(job.CompletionDate),
    message: job.StatusMessage ?? null,
    raw: compact({
      region: origin.region,
      accountId: job.AccountId,
      resourceName: job.ResourceName,
      messageCategory: job.MessageCategory,
      backupVaultName: job.BackupVaultName,
      backupVaultArn: job.BackupVaultArn,
      recoveryPointArn: job.RecoveryPointArn,
      backupSizeInBytes: job.BackupSizeInBytes,
      bytesTransferred: job.BytesTransferred,
      percentDone: job.PercentDone,
      iamRoleArn: job.IamRoleArn,
      backupType: job.BackupType,
      isParent: job.IsParent,
      parentJobId: job.ParentJobId,
      startBy: iso(job.StartBy) ?? undefined,
      expectedCompletionAt: iso(job.ExpectedCompletionDate) ?? undefined,
      backupPlanId: job.CreatedBy?.BackupPlanId,
      backupPlanArn: job.CreatedBy?.BackupPlanArn,
      backupPlanName: job.CreatedBy?.BackupPlanName,
      backupPlanVersion: job.CreatedBy?.BackupPlanVersion,
      backupRuleId: job.CreatedBy?.BackupRuleId,
    }),
  };
}

/** A restore job a restore testing plan launched is a restore test; any other is a (manual or scripted) restore. */
export function toRestoreJob(job: RestoreJobWire, origin: Origin): BackupJob {
  const restoreTestingPlanArn = job.CreatedBy?.RestoreTestingPlanArn || undefined;
  return {
    kind: 'backup-job',
    source: SOURCE,
    account: origin.account,
    jobId: job.RestoreJobId,
    jobKind: restoreTestingPlanArn === undefined ? 'restore' : 'restore-test',
    // The resource whose backup was proven restorable; older jobs name only the recovery point.
    resourceId: job.SourceResourceArn || job.RecoveryPointArn,
    // Guessing a type from the ARN misleads (an EBS snapshot's ARN says ec2): say so instead.
    resourceType: job.ResourceType ?? 'unknown',
    state: job.Status,
    startedAt: iso(job.CreationDate),
    completedAt: iso(job.CompletionDate),
    message: job.StatusMessage ?? null,
    raw: compact({
      region: origin.region,
      accountId: job.AccountId,
      recoveryPointArn: job.RecoveryPointArn,
      recoveryPointCreatedAt: iso(job.RecoveryPointCreationDate) ?? undefined,
      createdResourceArn: job.CreatedResourceArn,
      backupVaultArn: job.BackupVaultArn,
      backupSizeInBytes: job.BackupSizeInBytes,
      expectedCompletionTimeMinutes: job.ExpectedCompletionTimeMinutes,
      percentDone: job.PercentDone,
      iamRoleArn: job.IamRoleArn,
      isParent: job.IsParent,
      parentJobId: job.ParentJobId,
      restoreTestingPlanArn,
      validationStatus: job.ValidationStatus,
      validationStatusMessage: job.ValidationStatusMessage,
      deletionStatus: job.DeletionStatus,
      deletionStatusMessage: job.DeletionStatusMessage,
    }),
  };
}

export function toProtectedResource(resource: ProtectedResourceWire, tags: Record<string, string>, origin: Origin): ProtectedResource {
  return {
    kind: 'protected-resource',
    source: SOURCE,
    account: origin.account,
    resourceId: resource.ResourceArn,
    resourceType: resource.ResourceType,
    lastBackupAt: iso(resource.LastBackupTime),
    tags,
    raw: compact({
      region: origin.region,
      resourceName: resource.ResourceName,
      lastBackupVaultArn: resource.LastBackupVaultArn,
      lastRecoveryPointArn: resource.LastRecoveryPointArn,
    }),
  };
}

/** What the evidence keeps about a restore testing plan: it shows restore tests are scheduled, not only that some ran. */
export function restoreTestingPlanFacts(plan: RestoreTestingPlanWire): Record<string, unknown> {
  return compact({
    arn: plan.RestoreTestingPlanArn,
    name: plan.RestoreTestingPlanName,
    scheduleExpression: plan.ScheduleExpression,
    scheduleExpressionTimezone: plan.ScheduleExpressionTimezone,
    startWindowHours: plan.StartWindowHours,
    createdAt: iso(plan.CreationTime) ?? undefined,
    lastExecutionAt: iso(plan.LastExecutionTime),
    lastUpdatedAt: iso(plan.LastUpdateTime) ?? undefined,
  });
}

function iso(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}

function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
