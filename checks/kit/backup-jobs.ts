import type { BackupJob, ProtectedResource } from '../../core/records.ts';
import type { CheckEvidence } from './contract.ts';

/** What the backup checks share: jobs seen once however many snapshots hold them, and the moment a job ended. */

export const HOUR_MS = 3_600_000;

/** A job or resource as the checks see it: once, with every snapshot that holds it. */
export interface Sighting<T> {
  record: T;
  evidenceIds: string[];
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED', 'PARTIAL']);

/**
 * Each job once. Successive pulls overlap (AWS lists 30 days of jobs every day), so the same job sits in many snapshots,
 * sometimes RUNNING in an older one and ended in a newer one: the ended state is the one that counts.
 */
export function distinctJobs(evidence: CheckEvidence, kinds: readonly BackupJob['jobKind'][]): Sighting<BackupJob>[] {
  const byJob = new Map<string, Sighting<BackupJob>>();
  for (const job of evidence.records('backup-job')) {
    if (!kinds.includes(job.jobKind)) continue;
    const key = `${job.source}\u0000${job.account}\u0000${job.jobKind}\u0000${job.jobId}`;
    const evidenceId = evidence.evidenceIdOf(job);
    const known = byJob.get(key);
    if (known === undefined) {
      byJob.set(key, { record: job, evidenceIds: [evidenceId] });
      continue;
    }
    if (!known.evidenceIds.includes(evidenceId)) known.evidenceIds.push(evidenceId);
    if (!TERMINAL.has(known.record.state.toUpperCase()) && TERMINAL.has(job.state.toUpperCase())) known.record = job;
  }
  return [...byJob.values()];
}

/** Each protected resource once, with the newest last backup any snapshot reports and the tags of the newest sighting. */
export function distinctResources(evidence: CheckEvidence): Sighting<ProtectedResource>[] {
  const byResource = new Map<string, Sighting<ProtectedResource>>();
  for (const resource of evidence.records('protected-resource')) {
    const key = resourceKey(resource);
    const evidenceId = evidence.evidenceIdOf(resource);
    const known = byResource.get(key);
    if (known === undefined) {
      byResource.set(key, { record: resource, evidenceIds: [evidenceId] });
      continue;
    }
    if (!known.evidenceIds.includes(evidenceId)) known.evidenceIds.push(evidenceId);
    if (timeOf(resource.lastBackupAt) > timeOf(known.record.lastBackupAt)) known.record = resource;
  }
  return [...byResource.values()];
}

/** A job and a resource belong together when the same source names the same resource. */
export function resourceKey(record: { source: string; resourceId: string }): string {
  return `${record.source}\u0000${record.resourceId}`;
}

/** When a job ended, or, when the source gives no end, when it began. */
export function endOf(job: BackupJob): string | null {
  return job.completedAt ?? job.startedAt;
}

export function isState(job: BackupJob, ...states: string[]): boolean {
  return states.includes(job.state.toUpperCase());
}

/** Milliseconds since the epoch; a missing time sorts before every real one. */
export function timeOf(iso: string | null): number {
  return iso === null ? Number.NEGATIVE_INFINITY : Date.parse(iso);
}

/** Hours with one decimal, for sentences; comparisons use the exact value. */
export function roundedHours(ms: number): number {
  return Math.round((ms / HOUR_MS) * 10) / 10;
}
