import { z } from 'zod';
import type { Identity } from '../core/records.ts';
import { daysBetween, defineCheck } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { accountLabel, accountSubject, accountValues, isActive, severityFor, wholeDays } from './kit/accounts.ts';

export const StaleCredentialsParams = z.strictObject({
  maxKeyAgeDays: z
    .number()
    .positive()
    .default(90)
    .describe('Days after creation by which an active access key must have been rotated; exactly this age is still within the limit. Default: 90.'),
  maxUnusedDays: z
    .number()
    .positive()
    .default(45)
    .describe(
      'Days an active access key may go unused (or, never used, exist) before it must be deactivated; exactly this many days is still within the limit. Default: 45 (CIS AWS Foundations 1.4+).',
    ),
});

type Credential = Identity['credentials'][number];
type StaleReason = 'too-old' | 'unused';

function staleReasons(key: Credential, params: z.output<typeof StaleCredentialsParams>, at: Date): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (key.createdAt !== null && daysBetween(key.createdAt, at) > params.maxKeyAgeDays) reasons.push('too-old');
  // A key never used counts from its creation: a key rotated yesterday and not yet used is not stale.
  const idleSince = key.lastUsedAt ?? key.createdAt;
  if (idleSince !== null && daysBetween(idleSince, at) > params.maxUnusedDays) reasons.push('unused');
  return reasons;
}

export const staleCredentials = defineCheck({
  id: 'stale-credentials',
  title: 'Access keys are rotated and used',
  references: ['A.5.17', 'A.8.5'],
  inputs: ['identity'],
  params: StaleCredentialsParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const deviations: CheckDeviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      if (!isActive(identity)) continue;
      const { credentials } = identity;
      for (let i = 0; i < credentials.length; i++) {
        const key = credentials[i]!;
        // An inactive key cannot authenticate, whatever its age.
        if (key.kind !== 'access-key' || !key.active) continue;
        const reasons = staleReasons(key, params, at);
        if (reasons.length === 0) continue;
        const ageDays = key.createdAt === null ? null : wholeDays(daysBetween(key.createdAt, at));
        const idleDays = key.lastUsedAt === null ? null : wholeDays(daysBetween(key.lastUsedAt, at));
        const facts = [
          reasons.includes('too-old') ? `is ${ageDays} days old (limit ${params.maxKeyAgeDays})` : null,
          reasons.includes('unused')
            ? idleDays === null
              ? `has never been used in the ${ageDays} days since its creation (limit ${params.maxUnusedDays})`
              : `was last used ${idleDays} days ago at ${key.lastUsedAt} (limit ${params.maxUnusedDays})`
            : null,
        ].filter((fact) => fact !== null);
        deviations.push({
          subject: `${accountSubject(identity)}:access-key:${key.id}`,
          title: `Stale access key ${key.id} of ${accountLabel(identity)}`,
          severity: severityFor('medium', identity),
          detail: `Active access key ${key.id} of ${accountLabel(identity)} ${facts.join(' and ')}.`,
          values: {
            ...accountValues(identity),
            keyId: key.id,
            keyCreatedAt: key.createdAt,
            keyLastUsedAt: key.lastUsedAt,
            keyAgeDays: ageDays,
            daysSinceKeyUse: idleDays,
            reasons,
            maxKeyAgeDays: params.maxKeyAgeDays,
            maxUnusedDays: params.maxUnusedDays,
          },
          evidenceIds: [evidence.evidenceIdOf(identity)],
        });
      }
    }
    return deviations;
  },
});
