import { z } from 'zod';
import { Severity, type Finding } from './records.ts';

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

/** A scanner finding's identity across scans and scanners: the ledger and the SLA check must agree on it. */
export function findingSubject(finding: Pick<Finding, 'asset' | 'id' | 'location'>): string {
  return `${finding.asset}|${finding.id}|${finding.location}`;
}

/** A leaver's account as one snapshot shows it: the check computes it, the leaver clock keeps it across runs. */
export interface LeaverClockEntry {
  employeeId: string;
  system: string;
  tenant: string;
  account: string;
  terminationDate: string;
  /** Whether the account could still be used when the evidence was taken; false means revoked as far as the evidence shows. */
  active: boolean;
  hoursSinceTermination: number;
}
