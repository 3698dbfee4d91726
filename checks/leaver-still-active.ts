import { z } from 'zod';
import type { HrPerson, Identity } from '../core/records.ts';
import { accountLabel, accountSubject, accountValues, distinctIds, isActive, severityFor } from './kit/accounts.ts';
import type { CheckEvidence, CheckDeviation } from './kit/contract.ts';
import { defineCheck, epochMillis } from './kit/contract.ts';
import type { PersonMatch } from './kit/people.ts';
import { accountOwners, describeMatch, movedToJoin } from './kit/people.ts';
import type { LeaverClockEntry } from '../core/check-results.ts';

const HOUR_MS = 3_600_000;

export const LeaverStillActiveParams = z.strictObject(
  {
    slaHours: z
      .number()
      .positive()
      .default(24)
      .describe(
        'Hours after the termination date within which every account must be revoked. An account still active exactly at the SLA is within it; one millisecond later it is a deviation. Default: 24.',
      ),
  },
  { error: movedToJoin },
);

/** A person HR has terminated, as of `at`: a termination date in the future is a notice period, not a leaver yet. */
function terminatedBy(person: HrPerson, at: Date): person is HrPerson & { terminationDate: string } {
  return person.status === 'leaver' && person.terminationDate !== null && epochMillis(person.terminationDate) <= at.getTime();
}

function belongsToCurrentEmployee(matches: readonly PersonMatch[]): boolean {
  for (let i = 0; i < matches.length; i++) if (matches[i]!.person.status === 'active') return true;
  return false;
}

interface LeaverAccount {
  readonly leaver: HrPerson & { terminationDate: string };
  readonly identity: Identity;
  readonly match: PersonMatch;
  readonly hoursSinceTermination: number;
}

/**
 * Every account, in any status, that belongs to a leaver. An account that also belongs to a current employee is
 * theirs now (a rehire under a new employee id, or an address handed on), so it is not the leaver's.
 */
function leaverAccounts(evidence: CheckEvidence, at: Date): LeaverAccount[] {
  const identities = evidence.records('identity');
  const owners = accountOwners(evidence);
  const accounts: LeaverAccount[] = [];
  for (let position = 0; position < identities.length; position++) {
    const identity = identities[position]!;
    const matches = owners[position]!;
    if (matches.length === 0 || belongsToCurrentEmployee(matches)) continue;
    for (let i = 0; i < matches.length; i++) {
      const match = matches[i]!;
      const { person } = match;
      if (terminatedBy(person, at)) {
        accounts.push({ leaver: person, identity, match, hoursSinceTermination: (at.getTime() - epochMillis(person.terminationDate)) / HOUR_MS });
      }
    }
  }
  return accounts;
}

/**
 * For each leaver and each account matched to them: is access revoked, as far as this snapshot shows? When it was
 * revoked is not knowable from one snapshot, so a report derives time-to-revoke by comparing successive snapshots.
 * Leavers with no matched account give no entry.
 */
export function leaverClock(evidence: CheckEvidence, at: Date): LeaverClockEntry[] {
  return leaverAccounts(evidence, at).map(({ leaver, identity, hoursSinceTermination }) => ({
    employeeId: leaver.employeeId,
    system: identity.source,
    tenant: identity.tenant,
    account: identity.username,
    terminationDate: leaver.terminationDate,
    active: isActive(identity),
    hoursSinceTermination,
  }));
}

export const leaverStillActive = defineCheck({
  id: 'leaver-still-active',
  title: 'Leavers lose access within the revocation SLA',
  references: ['A.5.18', 'A.6.5'],
  inputs: ['identity', 'hr-person'],
  state: ['leaver-clock'],
  params: LeaverStillActiveParams,
  keep: (evidence, at) => ({ 'leaver-clock': leaverClock(evidence, at) }),
  evaluate(evidence, params, at): CheckDeviation[] {
    const overdueByAccount = new Map<Identity, LeaverAccount[]>();
    for (const entry of leaverAccounts(evidence, at)) {
      if (!isActive(entry.identity) || entry.hoursSinceTermination <= params.slaHours) continue;
      overdueByAccount.set(entry.identity, [...(overdueByAccount.get(entry.identity) ?? []), entry]);
    }
    return [...overdueByAccount].map(([identity, entries]) => {
      // Several HR sources may list the same person; the earliest termination is the one the SLA has been running on longest.
      const longest = entries.reduce((a, b) => (b.hoursSinceTermination > a.hoursSinceTermination ? b : a));
      const { leaver } = longest;
      const hours = Math.floor(longest.hoursSinceTermination);
      return {
        subject: accountSubject(identity),
        title: `Leaver's account still active: ${accountLabel(identity)}`,
        severity: severityFor('high', identity),
        detail: `${accountLabel(identity)} belongs to leaver ${leaver.employeeId}${leaver.email ? ` (${leaver.email})` : ''}, terminated ${leaver.terminationDate}, and is still active ${hours} hours later, beyond the ${params.slaHours}-hour revocation SLA.`,
        values: {
          ...accountValues(identity),
          lastLoginAt: identity.lastLoginAt,
          employeeId: leaver.employeeId,
          personEmail: leaver.email,
          terminationDate: leaver.terminationDate,
          hoursSinceTermination: Math.round(longest.hoursSinceTermination * 100) / 100,
          slaHours: params.slaHours,
          matchedBy: longest.match.matchedBy,
          joinedBy: describeMatch(longest.match, evidence.joinOf(identity)),
        },
        evidenceIds: distinctIds([evidence.evidenceIdOf(identity), ...entries.map((entry) => evidence.evidenceIdOf(entry.leaver))]),
      };
    });
  },
});
