import { z } from 'zod';
import type { BackupJob, Severity } from '../evidence/records.ts';
import { defineCheck } from './contract.ts';
import type { Deviation } from './contract.ts';
import { distinctJobs, endOf, HOUR_MS, isState, resourceKey, roundedHours } from './backup-jobs.ts';

export const BackupJobFailedParams = z.strictObject({
  windowDays: z.number().positive().default(7).describe('Backup jobs that ended within this many days before the evaluation are examined. Default: 7.'),
  toleranceHours: z
    .number()
    .nonnegative()
    .default(24)
    .describe(
      'A failed backup is forgiven when a completed backup of the same resource follows within this many hours (exactly this many still counts). ' +
        'While this time has not yet passed, the failure is not reported: the next scheduled backup may still cover it. Default: 24.',
    ),
});

const FAILED_STATES = ['FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL'];
/** The first completion strictly after `moment`. */
function firstAfter(completions: readonly number[], moment: number): number | undefined {
  return completions.filter((completed) => completed > moment).reduce<number | undefined>((first, completed) => (first === undefined || completed < first ? completed : first), undefined);
}

const severityOf = (job: BackupJob): Severity => (isState(job, 'PARTIAL') ? 'medium' : 'high');

export const backupJobFailed = defineCheck({
  id: 'backup-job-failed',
  title: 'Failed backups are followed by a successful one',
  references: ['A.8.13'],
  inputs: ['backup-job'],
  params: BackupJobFailedParams,
  evaluate(evidence, params, at): Deviation[] {
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
    const tolerance = params.toleranceHours * HOUR_MS;
    const deviations: Deviation[] = [];
    for (const { record: job, evidenceIds } of backups) {
      if (!isState(job, ...FAILED_STATES)) continue;
      const failedAtIso = endOf(job);
      // A job without any time cannot be placed outside the window, so it is examined.
      const failedAt = failedAtIso === null ? null : Date.parse(failedAtIso);
      if (failedAt !== null && (failedAt < windowStart || failedAt > now)) continue;
      const next = failedAt === null ? undefined : firstAfter(completions.get(resourceKey(job)) ?? [], failedAt);
      if (failedAt !== null && next !== undefined && next - failedAt <= tolerance) continue;
      if (failedAt !== null && now - failedAt < tolerance) continue;

      const state = job.state.toUpperCase();
      const followUp =
        failedAt === null
          ? 'the job carries no time, so no later backup can be shown to cover it'
          : next === undefined
            ? 'no completed backup of the resource followed'
            : `the next completed backup came ${roundedHours(next - failedAt)} hours later, at ${new Date(next).toISOString()}`;
      deviations.push({
        checkId: 'backup-job-failed',
        subject: `${job.resourceId}#${job.jobId}`,
        title: `Backup of ${job.resourceType} ${job.resourceId} ended ${state}`,
        severity: severityOf(job),
        detail:
          `Backup job ${job.jobId} of ${job.resourceType} ${job.resourceId} in account ${job.account} ended ${state}` +
          `${failedAtIso === null ? '' : ` at ${failedAtIso}`}${job.message ? ` (${job.message})` : ''}; ${followUp}, ` +
          `and the tolerance is ${params.toleranceHours} hours.`,
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
          toleranceHours: params.toleranceHours,
          windowDays: params.windowDays,
        },
        evidenceIds,
      });
    }
    return deviations;
  },
});
