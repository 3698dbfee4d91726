import { z } from 'zod';
import type { EvidenceRecord, RecordKind, RecordOf } from '../evidence/records.ts';
import { Severity } from '../evidence/records.ts';

/** The records a check reads, grouped by kind, and a way back from a record to the evidence that holds it. */
export interface CheckEvidence {
  records<K extends RecordKind>(kind: K): readonly RecordOf<K>[];
  evidenceIdOf(record: EvidenceRecord): string;
}

/** One way in which the evidence falls short of the control. It becomes, or keeps alive, a nonconformity. */
export const Deviation = z.object({
  checkId: z.string(),
  /** What the deviation is about, stable across runs (an account, a finding, an asset): part of the fingerprint. */
  subject: z.string().min(1),
  title: z.string().min(1),
  severity: Severity,
  detail: z.string(),
  /** The record values that triggered it, so a reader need not open the blob. */
  values: z.record(z.string(), z.unknown()),
  evidenceIds: z.array(z.string()),
});
export type Deviation = z.infer<typeof Deviation>;

export interface Check<S extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly title: string;
  /** ISO/IEC 27001:2022 clauses or Annex A controls this check gives evidence for. */
  readonly references: readonly string[];
  /** Record kinds this check reads; if a source of one of these kinds had an evidence gap the check is not run. */
  readonly inputs: readonly RecordKind[];
  readonly params: S;
  evaluate(evidence: CheckEvidence, params: z.output<S>, at: Date): Deviation[];
}

export function defineCheck<S extends z.ZodType>(check: Check<S>): Check<S> {
  return check;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = Check<any>;

/** Builds CheckEvidence from in-memory records; evaluation and tests both use it. */
export function checkEvidence(snapshots: readonly { evidenceId: string; records: readonly EvidenceRecord[] }[]): CheckEvidence {
  const byKind = new Map<RecordKind, EvidenceRecord[]>();
  const owner = new WeakMap<EvidenceRecord, string>();
  for (const snapshot of snapshots) {
    for (const record of snapshot.records) {
      owner.set(record, snapshot.evidenceId);
      const list = byKind.get(record.kind) ?? [];
      list.push(record);
      byKind.set(record.kind, list);
    }
  }
  return {
    records: <K extends RecordKind>(kind: K) => (byKind.get(kind) ?? []) as RecordOf<K>[],
    evidenceIdOf: (record) => owner.get(record) ?? 'unknown',
  };
}

const DAY_MS = 86_400_000;
export function daysBetween(from: Date | string, to: Date | string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / DAY_MS;
}
