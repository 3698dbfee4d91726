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

export const MfaMissingParams = ServiceAccountParams.extend({
  requireForAll: z
    .boolean()
    .default(true)
    .describe(
      "Require MFA of every person's account, not only of privileged ones; service accounts are never required. Accounts that cannot sign in interactively (an AWS IAM user with access keys and no console password) are never judged. Default: true.",
    ),
  unknownCountsAsMissing: z
    .boolean()
    .default(false)
    .describe('Report accounts whose source cannot tell whether MFA is enrolled (the connector has warned about it). Default: false.'),
  exemptAccounts: UsernamePatterns.default([]).describe(
    'Usernames (`*` wildcard, case-insensitive) exempt by a recorded decision, such as a break-glass account whose password is kept in a safe. Default: none.',
  ),
});

export const mfaMissing = defineCheck({
  id: 'mfa-missing',
  title: 'Accounts sign in with multi-factor authentication',
  references: ['A.8.5'],
  inputs: ['identity'],
  params: MfaMissingParams,
  evaluate(evidence, params, _at): CheckDeviation[] {
    const exempt = usernameMatcher(params.exemptAccounts);
    const isServiceAccount = serviceAccountTest(params);
    const deviations: CheckDeviation[] = [];
    const identities = evidence.records('identity');
    for (let position = 0; position < identities.length; position++) {
      const identity = identities[position]!;
      if (!isActive(identity) || exempt(identity) || identity.mfaEnabled === true) continue;
      // MFA protects interactive sign-in. An account without one (an IAM user with access keys and no console
      // password) has nothing for MFA to protect: the risk of its keys is their age and use, stale-credentials' question.
      if (identity.interactiveSignIn === false) continue;
      if (identity.mfaEnabled === 'unknown' && !params.unknownCountsAsMissing) continue;
      if (!identity.privileged && (!params.requireForAll || isServiceAccount(identity))) continue;
      const state = identity.mfaEnabled === 'unknown' ? 'MFA enrolment the source cannot confirm (counted as missing)' : 'no MFA enrolled';
      deviations.push({
        subject: accountSubject(identity),
        title: `${identity.privileged ? 'Privileged account' : 'Account'} without MFA: ${accountLabel(identity)}`,
        severity: severityFor('medium', identity),
        detail: `${accountLabel(identity)} is an active${identity.privileged ? ' privileged' : ''} account with ${state}.`,
        values: { ...accountValues(identity), mfaEnabled: identity.mfaEnabled, lastLoginAt: identity.lastLoginAt },
        evidenceIds: [evidence.evidenceIdOf(identity)],
      });
    }
    return deviations;
  },
});
