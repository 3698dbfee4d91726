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
  evaluate(evidence, params, at): Deviation[] {
    return evidence.records('identity').flatMap((identity): Deviation[] => {
      // 'unknown' means the source could not say (the connector has already warned); judging it would guess.
      if (!isActive(identity) || identity.lastLoginAt === 'unknown') return [];
      const lastCredentialUse = params.credentialUseCountsAsActivity ? lastCredentialUseAt(identity) : null;
      const candidates = [identity.lastLoginAt, lastCredentialUse].filter((moment): moment is string => moment !== null);
      // Never used at all is account-never-used's question, with its own grace period.
      if (candidates.length === 0) return [];
      const lastActivityAt = candidates.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
      const daysInactive = daysBetween(lastActivityAt, at);
      if (daysInactive <= params.maxInactiveDays) return [];
      const how = lastActivityAt === identity.lastLoginAt ? 'last signed in' : 'last used a credential';
      return [
        {
          checkId: 'inactive-account',
          subject: accountSubject(identity),
          title: `Inactive account: ${accountLabel(identity)}`,
          severity: severityFor('medium', identity),
          detail: `${accountLabel(identity)} is active but ${how} at ${lastActivityAt}, ${wholeDays(daysInactive)} days before ${at.toISOString()}, beyond the ${params.maxInactiveDays}-day inactivity limit.`,
          values: {
            ...accountValues(identity),
            lastLoginAt: identity.lastLoginAt,
            lastCredentialUseAt: lastCredentialUse,
            lastActivityAt,
            daysInactive: wholeDays(daysInactive),
            maxInactiveDays: params.maxInactiveDays,
          },
          evidenceIds: [evidence.evidenceIdOf(identity)],
        },
      ];
    });
  },
});
