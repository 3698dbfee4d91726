import { z } from 'zod';
import type { Identity } from '../core/records.ts';
import { defineCheck } from './kit/contract.ts';
import type { CheckDeviation } from './kit/contract.ts';
import { accountLabel, accountSubject, accountValues, isActive } from './kit/accounts.ts';

export const AwsRootAccountParams = z.strictObject({
  unknownCountsAsMissing: z.boolean().default(false).describe('Report a root user whose MFA state the source cannot tell as lacking MFA. Default: false.'),
});

/** IAM's credential report names the root user `<root_account>`; a connector may also mark it in `raw` or keep its ARN there. */
export const ROOT_USERNAME = '<root_account>';

const ROOT_ARN = /^arn:aws[a-z-]*:iam::\d{12}:root$/;

export function isAwsRoot(identity: Identity): boolean {
  if (identity.username === ROOT_USERNAME) return true;
  const raw = identity.raw;
  if (!raw) return false;
  const arn = raw['arn'];
  return raw['isRoot'] === true || raw['root'] === true || raw['user'] === ROOT_USERNAME || (typeof arn === 'string' && ROOT_ARN.test(arn));
}

export const awsRootAccount = defineCheck({
  id: 'aws-root-account',
  title: 'The AWS root user has MFA and no access keys',
  references: ['A.8.2', 'A.8.5'],
  inputs: ['identity'],
  params: AwsRootAccountParams,
  evaluate(evidence, params, _at): CheckDeviation[] {
    const deviations: CheckDeviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      if (!isActive(identity) || !isAwsRoot(identity)) continue;
      const activeKeys = identity.credentials.filter((credential) => credential.kind === 'access-key' && credential.active);
      if (activeKeys.length > 0) {
        deviations.push({
          subject: `${accountSubject(identity)}:access-keys`,
          title: `AWS root user has active access keys: ${accountLabel(identity)}`,
          severity: 'critical',
          detail: `The root user of AWS account ${identity.tenant} (${identity.source}) has ${activeKeys.length} active access key(s): ${activeKeys.map((key) => key.id).join(', ')}.`,
          values: {
            ...accountValues(identity),
            accessKeys: activeKeys.map((key) => ({ id: key.id, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt })),
          },
          evidenceIds: [evidence.evidenceIdOf(identity)],
        });
      }
      if (identity.mfaEnabled === false || (identity.mfaEnabled === 'unknown' && params.unknownCountsAsMissing)) {
        deviations.push({
          subject: `${accountSubject(identity)}:mfa`,
          title: `AWS root user without MFA: ${accountLabel(identity)}`,
          severity: 'critical',
          detail: `The root user of AWS account ${identity.tenant} (${identity.source}) has ${identity.mfaEnabled === 'unknown' ? 'an MFA state the source cannot confirm (counted as missing)' : 'no MFA device'}.`,
          values: { ...accountValues(identity), mfaEnabled: identity.mfaEnabled, lastLoginAt: identity.lastLoginAt },
          evidenceIds: [evidence.evidenceIdOf(identity)],
        });
      }
    }
    return deviations;
  },
});
