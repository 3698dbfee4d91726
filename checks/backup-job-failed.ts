import { z } from 'zod';
import type { BackupJob, Severity } from '../core/records.ts';
import { defineCheck, replacedParams } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { distinctJobs, endOf, HOUR_MS, isState, resourceKey, roundedHours } from './kit/backup-jobs.ts';

export const BackupJobFailedParams = z
  .strictObject(
    {
      windowDays: z.number().positive().default(7).describe('Backup jobs that ended within this many days before the evaluation are examined. Default: 7.'),
      reportAfterHours: z
        .number()
        .nonnegative()
        .default(8)
        .describe(
          'How long a failure may wait for its recovery before it is reported: time for a retry by the service or an operator. ' +
            'A failure that no completed backup has followed is reported once this many hours have passed (exactly this many included), ' +
            'even while a later success could still recover it; it is then no longer observed. ' +
            "Default: 8 (a failed nightly backup is reported the next morning; it is also AWS Backup's default start window).",
        ),
      recoveryWithinHours: z
        .number()
        .nonnegative()
        .default(36)
        .describe(
          'A completed backup of the same resource that ends within this many hours after the failure (exactly this many still counts) recovers it, and the failure is not reported. ' +
            'A later one does not: the resource went without a backup for longer. ' +
            'Default: 36 (the next daily backup, which may start hours late and run for hours, while a failure often ends minutes after it began).',
        ),
    },
    {
      error: replacedParams({
        toleranceHours:
          'replaced by reportAfterHours (how long to wait for a recovery before reporting) and recoveryWithinHours (how late a success may come and still count as the recovery)',
      }),
    },
  )
  .refine((params) => params.reportAfterHours <= params.recoveryWithinHours, {
    path: ['reportAfterHours'],
    message:
      'must not exceed recoveryWithinHours: once the recovery window has closed without a success the failure is unrecovered, and waiting longer tells no one',
  });

const FAILED_STATES = ['FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL'];
/** The first completion strictly after `moment`. */
function firstAfter(completions: readonly number[], moment: number): number | undefined {
  return completions
    .filter((completed) => completed > moment)
    .reduce<number | undefined>((first, completed) => (first === undefined || completed < first ? completed : first), undefined);
}

const severityOf = (job: BackupJob): Severity => (isState(job, 'PARTIAL') ? 'medium' : 'high');

export const backupJobFailed = defineCheck({
  id: 'backup-job-failed',
  title: 'Failed backups are followed by a successful one',
  references: ['A.8.13'],
  inputs: ['backup-job'],
  params: BackupJobFailedParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const backups = distinctJobs(evidence, ['backup']);
    const completions = new Map<string, number[]>();
    for (const { record: job } of backups) {
      const end = endOf(job);
      if (!isState(job, 'COMPLETED') || end === null) continue;
      const key = resourceKey(job);
      completions.set(key, [...(completions.get(key) ?? []), Date.parse(end)]);
    }

    const now = at.getTime();
    const windowStart = now - params.windowDays * 24 * HOUR_MS;
    const reportAfter = params.reportAfterHours * HOUR_MS;
    const recoveryWithin = params.recoveryWithinHours * HOUR_MS;
    const deviations: CheckDeviation[] = [];
    for (const { record: job, evidenceIds } of backups) {
      if (!isState(job, ...FAILED_STATES)) continue;
      const failedAtIso = endOf(job);
      // A job without any time cannot be placed outside the window, so it is examined.
      const failedAt = failedAtIso === null ? null : Date.parse(failedAtIso);
      if (failedAt !== null && (failedAt < windowStart || failedAt > now)) continue;
      const next = failedAt === null ? undefined : firstAfter(completions.get(resourceKey(job)) ?? [], failedAt);
      if (failedAt !== null && next !== undefined && next - failedAt <= recoveryWithin) continue;
      // Nothing has followed yet: a retry may still come. A success that came too late is reported at once.
      if (failedAt !== null && next === undefined && now - failedAt < reportAfter) continue;

      const state = job.state.toUpperCase();
      const followUp =
        failedAt === null
          ? 'the job carries no time, so no later backup can be shown to recover it'
          : next === undefined
            ? `no completed backup of the resource has followed in the ${roundedHours(now - failedAt)} hours since (reported after ${params.reportAfterHours} hours; one ending within ${params.recoveryWithinHours} hours of the failure would still recover it)`
            : `the next completed backup came ${roundedHours(next - failedAt)} hours later, at ${new Date(next).toISOString()}, after the ${params.recoveryWithinHours}-hour recovery window`;
      deviations.push({
        subject: `${job.resourceId}#${job.jobId}`,
        title: `Backup of ${job.resourceType} ${job.resourceId} ended ${state}`,
        severity: severityOf(job),
        detail:
          `Backup job ${job.jobId} of ${job.resourceType} ${job.resourceId} in account ${job.account} ended ${state}` +
          `${failedAtIso === null ? '' : ` at ${failedAtIso}`}${job.message ? ` (${job.message})` : ''}; ${followUp}.`,
        values: {
          source: job.source,
          account: job.account,
          resourceId: job.resourceId,
          resourceType: job.resourceType,
          jobId: job.jobId,
          state,
          endedAt: failedAtIso,
          message: job.message,
          nextCompletedAt: next === undefined ? null : new Date(next).toISOString(),
          hoursSinceFailure: failedAt === null ? null : roundedHours(now - failedAt),
          reportAfterHours: params.reportAfterHours,
          recoveryWithinHours: params.recoveryWithinHours,
          windowDays: params.windowDays,
        },
        evidenceIds,
      });
    }
    return deviations;
  },
});
