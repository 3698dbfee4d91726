import { z } from 'zod';
import { defineCheck } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import {
  ServiceAccountParams,
  UsernamePatterns,
  accountLabel,
  accountSubject,
  accountValues,
  isActive,
  serviceAccountTest,
  severityFor,
  usernameMatcher,
} from './kit/accounts.ts';
import { describeJoin } from './kit/join.ts';
import { accountOwners, movedToJoin } from './kit/people.ts';

export const OrphanAccountParams = z.strictObject(
  {
    ...ServiceAccountParams.shape,
    exemptAccounts: UsernamePatterns.default([]).describe(
      'Usernames (`*` wildcard, case-insensitive) that belong to no person by design, such as root or break-glass accounts. Default: none.',
    ),
  },
  { error: movedToJoin },
);

export const orphanAccount = defineCheck({
  id: 'orphan-account',
  title: 'Every active account belongs to a person HR knows',
  references: ['A.5.16', 'A.5.18'],
  inputs: ['identity', 'hr-person'],
  params: OrphanAccountParams,
  evaluate(evidence, params, _at): CheckDeviation[] {
    const identities = evidence.records('identity');
    const owners = accountOwners(evidence);
    const isServiceAccount = serviceAccountTest(params);
    const exempt = usernameMatcher(params.exemptAccounts);
    const deviations: CheckDeviation[] = [];
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      // A leaver still counts as an owner here: that account is leaver-still-active's deviation, not an orphan.
      // Owned accounts are most of them and their owners are already known, so that test comes first.
      if (owners[position]!.length > 0 || !isActive(identity)) continue;
      if (exempt(identity) || isServiceAccount(identity)) continue;
      const joinTried = describeJoin(evidence.joinOf(identity));
      deviations.push({
        subject: accountSubject(identity),
        title: `Account owned by no known person: ${accountLabel(identity)}`,
        severity: severityFor('medium', identity),
        detail: `${accountLabel(identity)}${identity.email ? `, email ${identity.email},` : ''} is active but matches no HR person by ${joinTried}, and is neither a recognised service account nor exempt.`,
        values: { ...accountValues(identity), lastLoginAt: identity.lastLoginAt, createdAt: identity.createdAt, joinTried },
        evidenceIds: [evidence.evidenceIdOf(identity)],
      });
    }
    return deviations;
  },
});
