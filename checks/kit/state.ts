import type { LeaverClockEntry } from '../../core/check-results.ts';

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

/** What a check hands over, per kind of state it writes. */
export interface StateWrites {
  'leaver-clock'?: readonly LeaverClockEntry[];
}

export type StateKind = 'finding-first-seen' | 'leaver-clock';
