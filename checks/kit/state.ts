/**
 * What a check may keep across runs, in the catalog. A check names the kinds it keeps in `state`; the evaluation
 * loads and saves each kind through one provider (activities/check-state.ts), whatever check declares it, so the
 * check itself stays a pure function of what it is given.
 *
 * - `finding-first-seen`: the finding ledger. Every finding the check reads carries as `firstSeenAt` the start of its
 *   current episode across all earlier runs, so a remediation SLA clock survives the scans that follow.
 * - `leaver-clock`: for every leaver's account, whether it was still usable at each run, so time-to-revoke is known
 *   across runs. The check hands over this run's entries through `keep`.
 */

/** For each leaver and each account matched to them: is access revoked, as far as this snapshot shows? */
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

/** What a check hands over, per kind of state it writes. */
export interface StateWrites {
  'leaver-clock'?: readonly LeaverClockEntry[];
}

export type StateKind = 'finding-first-seen' | 'leaver-clock';
