import { z } from 'zod';
import { daysBetween, defineCheck } from './contract.ts';
import type { Deviation } from './contract.ts';
import {
  CredentialUseParams,
  accountLabel,
  accountSubject,
  accountValues,
  isActive,
  lastCredentialUseAt,
  severityFor,
  wholeDays,
} from './accounts.ts';

export const AccountNeverUsedParams = CredentialUseParams.extend({
  graceDays: z
    .number()
    .nonnegative()
    .default(14)
    .describe(
      'Days a new account may wait for its first use (onboarding); exactly this many days after creation is still within the grace. Default: 14.',
    ),
});

export const accountNeverUsed = defineCheck({
  id: 'account-never-used',
  title: 'Accounts are not left provisioned and unused',
  references: ['A.5.18', 'A.8.5'],
  inputs: ['identity'],
  params: AccountNeverUsedParams,
  evaluate(evidence, params, at): Deviation[] {
    const deviations: Deviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      // Only null means never; without a creation date the grace period cannot be judged.
      if (!isActive(identity) || identity.lastLoginAt !== null || identity.createdAt === null) continue;
      if (params.credentialUseCountsAsActivity && lastCredentialUseAt(identity) !== null) continue;
      const ageDays = daysBetween(identity.createdAt, at);
      if (ageDays <= params.graceDays) continue;
      deviations.push({
        checkId: 'account-never-used',
        subject: accountSubject(identity),
        title: `Account never used: ${accountLabel(identity)}`,
        severity: severityFor('medium', identity),
        detail: `${accountLabel(identity)} was created at ${identity.createdAt} and has never been used in the ${wholeDays(ageDays)} days since, beyond the ${params.graceDays}-day grace period.`,
        values: {
          ...accountValues(identity),
          lastLoginAt: identity.lastLoginAt,
          createdAt: identity.createdAt,
          accountAgeDays: wholeDays(ageDays),
          graceDays: params.graceDays,
        },
        evidenceIds: [evidence.evidenceIdOf(identity)],
      });
    }
    return deviations;
  },
});
