import { checkEvidence } from '../../checks/kit/contract.ts';
import { Deviation } from '../../core/check-results.ts';
import type { AnyCheck } from '../../checks/kit/contract.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import type { HrPerson, Identity } from '../../core/records.ts';
import { AT } from '../support/records.ts';

export const IDENTITY_EVIDENCE = 'ev-identities';
export const HR_EVIDENCE = 'ev-hr';

export interface CheckInput {
  identities?: readonly Identity[];
  people?: readonly HrPerson[];
  params?: Record<string, unknown>;
  at?: Date;
  /** The identity source's join; the default join by email when absent. */
  join?: AccountJoin;
}

/** Evaluates a check the way the worker does: params through the check's schema, records from two snapshots; every deviation must satisfy the contract. */
export function runCheck(check: AnyCheck, { identities = [], people = [], params = {}, at = AT, join }: CheckInput): Deviation[] {
  const evidence = checkEvidence([
    { evidenceId: IDENTITY_EVIDENCE, records: identities, join },
    { evidenceId: HR_EVIDENCE, records: people },
  ]);
  return check.evaluate(evidence, check.params.parse(params), at).map((deviation) => Deviation.parse(deviation));
}

/** The part of a deviation table rows compare. */
export function outcome(deviations: readonly Deviation[]): { subject: string; severity: string }[] {
  return deviations.map(({ subject, severity }) => ({ subject, severity }));
}
