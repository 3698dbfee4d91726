import { z } from 'zod';
import type { BackupJob } from '../core/records.ts';
import { defineCheck } from './kit/contract.ts';
import type { CheckEvidence, CheckDeviation } from './kit/contract.ts';
import { distinctJobs, distinctResources, endOf, isState } from './kit/backup-jobs.ts';
import type { Sighting } from './kit/backup-jobs.ts';

export const RestoreTestParams = z.strictObject({
  period: z
    .enum(['month', 'quarter', 'year'])
    .default('quarter')
    .describe(
      'The calendar period (UTC) in which a completed restore test must exist: the current one, from its first instant up to the evaluation. Default: quarter.',
    ),
  perResourceType: z
    .boolean()
    .default(false)
    .describe('Require a completed restore test for every resource type that is protected or backed up, instead of one overall. Default: false.'),
  countManualRestores: z
    .boolean()
    .default(false)
    .describe('Count restores not launched by a restore testing plan as tests too (and their failures as failed tests). Default: false.'),
});

type Period = z.output<typeof RestoreTestParams>['period'];

/** The first instant (UTC) of the period `at` lies in, and how people name that period. */
export function currentPeriod(at: Date, period: Period): { start: Date; label: string } {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  switch (period) {
    case 'month':
      return { start: new Date(Date.UTC(year, month, 1)), label: `${year}-${String(month + 1).padStart(2, '0')}` };
    case 'quarter': {
      const quarter = Math.floor(month / 3);
      return { start: new Date(Date.UTC(year, quarter * 3, 1)), label: `${year}-Q${quarter + 1}` };
    }
    case 'year':
      return { start: new Date(Date.UTC(year, 0, 1)), label: String(year) };
  }
}

/**
 * Restores are only proven by testing them. The evidence must hold the tests of the whole period: AWS Backup lists the
 * last 30 days of jobs, so for a quarter or a year the evaluation needs the period's earlier snapshots as well.
 */
export const restoreTest = defineCheck({
  id: 'restore-test',
  title: 'Backups are restore-tested every period',
  references: ['A.8.13'],
  inputs: ['backup-job', 'protected-resource'],
  params: RestoreTestParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const { start, label } = currentPeriod(at, params.period);
    const inPeriod = (job: BackupJob) => {
      const end = endOf(job);
      return end !== null && Date.parse(end) >= start.getTime() && Date.parse(end) <= at.getTime();
    };
    const tests = distinctJobs(evidence, params.countManualRestores ? ['restore-test', 'restore'] : ['restore-test']).filter(({ record }) => inPeriod(record));
    const completed = tests.filter(({ record }) => isState(record, 'COMPLETED'));
    const periodValues = { period: params.period, periodLabel: label, periodStart: start.toISOString(), countManualRestores: params.countManualRestores };
    const deviations: CheckDeviation[] = [];

    const types = params.perResourceType ? protectedTypes(evidence) : [];
    if (types.length === 0) {
      if (completed.length === 0) {
        deviations.push({
          subject: 'restore-test',
          title: `No completed restore test in ${label}`,
          severity: 'medium',
          detail: `No ${testNoun(params.countManualRestores)} completed between ${start.toISOString()} and ${at.toISOString()}.`,
          values: { ...periodValues, resourceType: null, testsInPeriod: tests.length },
          evidenceIds: [],
        });
      }
    } else {
      for (const [type, typeEvidence] of types) {
        const ofType = completed.filter(({ record }) => record.resourceType.toLowerCase() === type.toLowerCase());
        if (ofType.length > 0) continue;
        deviations.push({
          subject: `restore-test:${type}`,
          title: `No completed restore test of ${type} in ${label}`,
          severity: 'medium',
          detail: `${type} resources are backed up, but no ${testNoun(params.countManualRestores)} of ${type} completed between ${start.toISOString()} and ${at.toISOString()}.`,
          values: {
            ...periodValues,
            resourceType: type,
            testsInPeriod: tests.filter(({ record }) => record.resourceType.toLowerCase() === type.toLowerCase()).length,
          },
          evidenceIds: typeEvidence,
        });
      }
    }

    for (const { record: job, evidenceIds } of tests) {
      if (!isState(job, 'FAILED')) continue;
      const kind = job.jobKind === 'restore-test' ? 'Restore test' : 'Restore';
      deviations.push({
        subject: `${job.resourceId}#${job.jobId}`,
        title: `${kind} of ${job.resourceType} ${job.resourceId} failed`,
        severity: 'high',
        detail: `${kind} job ${job.jobId} of ${job.resourceType} ${job.resourceId} in account ${job.account} failed at ${endOf(job)}${job.message ? ` (${job.message})` : ''}.`,
        values: {
          ...periodValues,
          source: job.source,
          account: job.account,
          resourceId: job.resourceId,
          resourceType: job.resourceType,
          jobId: job.jobId,
          jobKind: job.jobKind,
          endedAt: endOf(job),
          message: job.message,
        },
        evidenceIds,
      });
    }
    return deviations;
  },
});

function testNoun(countManualRestores: boolean): string {
  return countManualRestores ? 'restore test or restore' : 'restore test';
}

/** Resource types that need a test: those protected, or, without an inventory, those backed up; with the evidence naming them. */
function protectedTypes(evidence: CheckEvidence): [string, string[]][] {
  const types = new Map<string, { name: string; evidenceIds: Set<string> }>();
  const note = (sightings: Sighting<{ resourceType: string }>[]) => {
    for (const { record, evidenceIds } of sightings) {
      const key = record.resourceType.toLowerCase();
      const entry = types.get(key) ?? { name: record.resourceType, evidenceIds: new Set<string>() };
      for (const id of evidenceIds) entry.evidenceIds.add(id);
      types.set(key, entry);
    }
  };
  note(distinctResources(evidence));
  if (types.size === 0) note(distinctJobs(evidence, ['backup']));
  return [...types.values()].sort((a, b) => a.name.localeCompare(b.name)).map(({ name, evidenceIds }) => [name, [...evidenceIds]]);
}
