import { z } from 'zod';
import { DAY_MS, defineCheck, epochMillis } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { CredentialUseParams, accountLabel, accountSubject, accountValues, isActive, lastCredentialUseAt, severityFor, wholeDays } from './kit/accounts.ts';

export const InactiveAccountParams = CredentialUseParams.extend({
  maxInactiveDays: z
    .number()
    .positive()
    .default(90)
    .describe(
      'Days without use after which an active account is inactive; exactly this many days is still within the limit. Default: 90 (PCI DSS 8.2.6); CIS Controls v8 5.3 uses 45.',
    ),
});

export const inactiveAccount = defineCheck({
  id: 'inactive-account',
  title: 'Active accounts are in use',
  references: ['A.5.18', 'A.8.5'],
  inputs: ['identity'],
  params: InactiveAccountParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const now = at.getTime();
    const atIso = at.toISOString();
    const deviations: CheckDeviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      // 'unknown' means the source could not say (the connector has already warned); judging it would guess.
      if (!isActive(identity) || identity.lastLoginAt === 'unknown') continue;
      const lastLoginAt = identity.lastLoginAt;
      const loginTime = lastLoginAt === null ? null : epochMillis(lastLoginAt);
      // A recent sign-in settles it whatever the credentials say, and spares reading them for nearly every account.
      if (loginTime !== null && (now - loginTime) / DAY_MS <= params.maxInactiveDays) continue;
      const lastCredentialUse = params.credentialUseCountsAsActivity ? lastCredentialUseAt(identity) : null;
      // The later of the two; on a tie, the sign-in.
      let lastActivityAt = lastLoginAt;
      let lastActivityTime = loginTime;
      if (lastCredentialUse !== null) {
        const useTime = epochMillis(lastCredentialUse);
        if (lastActivityTime === null || useTime > lastActivityTime) {
          lastActivityAt = lastCredentialUse;
          lastActivityTime = useTime;
        }
      }
      // Never used at all is account-never-used's question, with its own grace period.
      if (lastActivityAt === null || lastActivityTime === null) continue;
      const daysInactive = (now - lastActivityTime) / DAY_MS;
      if (daysInactive <= params.maxInactiveDays) continue;
      const how = lastActivityAt === lastLoginAt ? 'last signed in' : 'last used a credential';
      deviations.push({
        subject: accountSubject(identity),
        title: `Inactive account: ${accountLabel(identity)}`,
        severity: severityFor('medium', identity),
        detail: `${accountLabel(identity)} is active but ${how} at ${lastActivityAt}, ${wholeDays(daysInactive)} days before ${atIso}, beyond the ${params.maxInactiveDays}-day inactivity limit.`,
        values: {
          ...accountValues(identity),
          lastLoginAt: identity.lastLoginAt,
          lastCredentialUseAt: lastCredentialUse,
          lastActivityAt,
          daysInactive: wholeDays(daysInactive),
          maxInactiveDays: params.maxInactiveDays,
        },
        evidenceIds: [evidence.evidenceIdOf(identity)],
      });
    }
    return deviations;
  },
});
