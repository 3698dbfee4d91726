import { z } from 'zod';
import type { Identity } from '../core/records.ts';
import { daysBetween, defineCheck, epochMillis } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { CredentialUseParams, accountLabel, accountSubject, accountValues, isActive, lastCredentialUseAt, severityFor, wholeDays } from './kit/accounts.ts';

export const AccountNeverUsedParams = CredentialUseParams.extend({
  graceDays: z
    .number()
    .nonnegative()
    .default(14)
    .describe(
      'Days a new account may wait for its first use (onboarding), counted from its creation or, when the source knows when its newest usable credential was issued, from that issue if later; exactly this many days is still within the grace. Default: 14.',
    ),
});

/**
 * The newest usable credential, when the source knows when it was issued: an account created long ago and given
 * its first access key three days ago has had three days, not years, to use it. An inactive credential cannot be
 * used, so it gives no reason to wait.
 */
function newestIssuedCredential(identity: Identity): Identity['credentials'][number] | null {
  let newest: Identity['credentials'][number] | null = null;
  let newestTime = 0;
  const { credentials } = identity;
  for (let i = 0; i < credentials.length; i++) {
    const credential = credentials[i]!;
    if (!credential.active || credential.createdAt === null) continue;
    const time = epochMillis(credential.createdAt);
    if (newest === null || time > newestTime) {
      newest = credential;
      newestTime = time;
    }
  }
  return newest;
}

export const accountNeverUsed = defineCheck({
  id: 'account-never-used',
  title: 'Accounts are not left provisioned and unused',
  references: ['A.5.18', 'A.8.5'],
  inputs: ['identity'],
  params: AccountNeverUsedParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const deviations: CheckDeviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      // Only null means never.
      if (!isActive(identity) || identity.lastLoginAt !== null) continue;
      if (params.credentialUseCountsAsActivity && lastCredentialUseAt(identity) !== null) continue;
      const credential = newestIssuedCredential(identity);
      const fromCredential = credential !== null && (identity.createdAt === null || epochMillis(credential.createdAt!) > epochMillis(identity.createdAt));
      const graceStartedAt = fromCredential ? credential.createdAt! : identity.createdAt;
      // Without a creation or issue date the grace period cannot be judged.
      if (graceStartedAt === null) continue;
      const graceAgeDays = daysBetween(graceStartedAt, at);
      if (graceAgeDays <= params.graceDays) continue;
      const since = fromCredential
        ? `${identity.createdAt === null ? 'has no known creation time' : `was created at ${identity.createdAt}`}; its newest credential, ${credential.kind} ${credential.id}, was issued at ${graceStartedAt}, and it has never been used in the ${wholeDays(graceAgeDays)} days since`
        : `was created at ${graceStartedAt} and has never been used in the ${wholeDays(graceAgeDays)} days since`;
      deviations.push({
        subject: accountSubject(identity),
        title: `Account never used: ${accountLabel(identity)}`,
        severity: severityFor('medium', identity),
        detail: `${accountLabel(identity)} ${since}, beyond the ${params.graceDays}-day grace period.`,
        values: {
          ...accountValues(identity),
          lastLoginAt: identity.lastLoginAt,
          createdAt: identity.createdAt,
          accountAgeDays: identity.createdAt === null ? null : wholeDays(daysBetween(identity.createdAt, at)),
          graceStartedAt,
          graceFrom: fromCredential ? `${credential.kind} ${credential.id}` : 'account creation',
          graceDays: params.graceDays,
        },
        evidenceIds: [evidence.evidenceIdOf(identity)],
      });
    }
    return deviations;
  },
});
