import { z } from 'zod';
import type { ProtectedResource } from '../core/records.ts';
import { defineCheck } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { distinctJobs, distinctResources, endOf, HOUR_MS, isState, resourceKey, roundedHours, timeOf } from './kit/backup-jobs.ts';

const TagObjective = z.strictObject({
  key: z.string().min(1).describe("The tag's key."),
  value: z.string().describe("The tag's value."),
  rpoHours: z.number().positive().describe('Hours a resource with this tag may go without a successful backup.'),
});

export const BackupRpoParams = z.strictObject({
  rpoHours: z
    .number()
    .positive()
    .default(24)
    .describe('Hours a protected resource may go without a successful backup; exactly this age is still within it. Default: 24.'),
  byResourceType: z
    .record(z.string().min(1), z.number().positive())
    .default({})
    .describe('Recovery point objectives by resource type (e.g. { RDS: 24, EFS: 48 }), matched without regard to case; they override rpoHours.'),
  byTag: z
    .array(TagObjective)
    .default([])
    .describe(
      'Recovery point objectives for resources carrying a tag key and value; they override type and default. When several match, the strictest applies.',
    ),
  requireProtectedResources: z
    .boolean()
    .default(true)
    .describe(
      'When no protected resource is in the evidence at all, that is a deviation: nothing being backed up must not read as every backup being on time. Default: true.',
    ),
});
type BackupRpoParams = z.output<typeof BackupRpoParams>;

interface Objective {
  rpoHours: number;
  /** Which rule set it, for the reader: the default, a resource type or a tag. */
  basis: string;
}

/** The most specific rule wins: a tag over a resource type over the default. */
function objectiveFor(resource: ProtectedResource, params: BackupRpoParams): Objective {
  const tagged = params.byTag.filter((rule) => resource.tags[rule.key] === rule.value);
  if (tagged.length > 0) {
    const strictest = tagged.reduce((best, rule) => (rule.rpoHours < best.rpoHours ? rule : best));
    return { rpoHours: strictest.rpoHours, basis: `tag ${strictest.key}=${strictest.value}` };
  }
  const type = resource.resourceType.toLowerCase();
  const byType = Object.entries(params.byResourceType).find(([name]) => name.toLowerCase() === type);
  if (byType !== undefined) return { rpoHours: byType[1], basis: `resource type ${byType[0]}` };
  return { rpoHours: params.rpoHours, basis: 'default' };
}

export const backupRpo = defineCheck({
  id: 'backup-rpo',
  title: 'Every protected resource has a backup within its recovery point objective',
  references: ['A.8.13'],
  inputs: ['protected-resource', 'backup-job'],
  params: BackupRpoParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const resources = distinctResources(evidence);
    if (resources.length === 0) {
      if (!params.requireProtectedResources) return [];
      return [
        {
          subject: 'protected-resources',
          title: 'No protected resources in the backup evidence',
          severity: 'high',
          detail: 'The evidence lists no resource under backup protection, so no recovery point objective can be shown to be met.',
          values: { protectedResources: 0 },
          evidenceIds: [],
        },
      ];
    }

    // The newest successful backup job per resource; the service's own last-backup time may lag behind it, or the reverse.
    const newestJob = new Map<string, { end: string; evidenceIds: string[] }>();
    for (const { record: job, evidenceIds } of distinctJobs(evidence, ['backup'])) {
      const end = endOf(job);
      if (!isState(job, 'COMPLETED') || end === null) continue;
      const key = resourceKey(job);
      if (Date.parse(end) > timeOf(newestJob.get(key)?.end ?? null)) newestJob.set(key, { end, evidenceIds });
    }

    const deviations: CheckDeviation[] = [];
    for (const { record: resource, evidenceIds } of resources) {
      const objective = objectiveFor(resource, params);
      const job = newestJob.get(resourceKey(resource));
      const fromJob = job !== undefined && Date.parse(job.end) > timeOf(resource.lastBackupAt);
      const lastBackupAt = fromJob ? job.end : resource.lastBackupAt;
      const cited = fromJob ? [...new Set([...evidenceIds, ...job.evidenceIds])] : evidenceIds;
      const values = {
        source: resource.source,
        account: resource.account,
        resourceId: resource.resourceId,
        resourceType: resource.resourceType,
        lastBackupAt,
        rpoHours: objective.rpoHours,
        rpoBasis: objective.basis,
      };
      if (lastBackupAt === null) {
        deviations.push({
          subject: resource.resourceId,
          title: `${resource.resourceType} ${resource.resourceId} has never been backed up`,
          severity: 'high',
          detail: `Protected ${resource.resourceType} ${resource.resourceId} in account ${resource.account} has no successful backup in the evidence; its recovery point objective is ${objective.rpoHours} hours (${objective.basis}).`,
          values: { ...values, ageHours: null },
          evidenceIds: cited,
        });
        continue;
      }
      const age = at.getTime() - Date.parse(lastBackupAt);
      if (age <= objective.rpoHours * HOUR_MS) continue;
      deviations.push({
        subject: resource.resourceId,
        title: `${resource.resourceType} ${resource.resourceId} has no backup within its ${objective.rpoHours}-hour recovery point objective`,
        severity: age > 2 * objective.rpoHours * HOUR_MS ? 'high' : 'medium',
        detail:
          `The last successful backup of ${resource.resourceType} ${resource.resourceId} in account ${resource.account} was at ${lastBackupAt}, ` +
          `${roundedHours(age)} hours ago; its recovery point objective is ${objective.rpoHours} hours (${objective.basis}).`,
        values: { ...values, ageHours: roundedHours(age) },
        evidenceIds: cited,
      });
    }
    return deviations;
  },
});
