import { defineCheck } from './contract.ts';
import type { Deviation } from './contract.ts';
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
} from './accounts.ts';
import { PersonMatchingParams, indexPeople } from './people.ts';

export const OrphanAccountParams = PersonMatchingParams.extend({
  ...ServiceAccountParams.shape,
  exemptAccounts: UsernamePatterns.default([]).describe(
    'Usernames (`*` wildcard, case-insensitive) that belong to no person by design, such as root or break-glass accounts. Default: none.',
  ),
});

export const orphanAccount = defineCheck({
  id: 'orphan-account',
  title: 'Every active account belongs to a person HR knows',
  references: ['A.5.16', 'A.5.18'],
  inputs: ['identity', 'hr-person'],
  params: OrphanAccountParams,
  evaluate(evidence, params, _at): Deviation[] {
    const people = indexPeople(evidence.records('hr-person'), params);
    const isServiceAccount = serviceAccountTest(params);
    const exempt = usernameMatcher(params.exemptAccounts);
    return evidence.records('identity').flatMap((identity): Deviation[] => {
      if (!isActive(identity) || exempt(identity) || isServiceAccount(identity)) return [];
      // A leaver still counts as an owner here: that account is leaver-still-active's deviation, not an orphan.
      if (people.matchesOf(identity).length > 0) return [];
      return [
        {
          checkId: 'orphan-account',
          subject: accountSubject(identity),
          title: `Account owned by no known person: ${accountLabel(identity)}`,
          severity: severityFor('medium', identity),
          detail: `${accountLabel(identity)}${identity.email ? `, email ${identity.email},` : ''} is active but matches no HR person by email, alias or mapping, and is neither a recognised service account nor exempt.`,
          values: { ...accountValues(identity), lastLoginAt: identity.lastLoginAt, createdAt: identity.createdAt },
          evidenceIds: [evidence.evidenceIdOf(identity)],
        },
      ];
    });
  },
});
