import { ConfigError } from '../../core/errors.ts';
import { defineConnector } from '../contract.ts';
import { workerCredentials } from '../kit/aws.ts';
import { RetryTally } from '../kit/retries.ts';
import { collectAccount, type AccountProvenance } from './account.ts';
import { AwsIamConfig } from './config.ts';
import { SOURCE } from './mapping.ts';
import { openSession } from './session.ts';

export { AwsIamConfig } from './config.ts';

/** The cursor is the index of the next account to collect: accounts are the unit that is durable. */
function firstAccount(cursor: string | undefined, accounts: number): number {
  if (cursor === undefined) return 0;
  const index = /^\d+$/.test(cursor) ? Number(cursor) : Number.NaN;
  if (!Number.isSafeInteger(index) || index > accounts) {
    throw new ConfigError(`${SOURCE}: resume cursor ${JSON.stringify(cursor)} is not an account index between 0 and ${accounts}; did the accounts change?`);
  }
  return index;
}

/**
 * AWS IAM users as identities, per account: the credential report is the primary source (one call covers every
 * user, and the CSV is kept as raw evidence), ListUsers says who exists now, and per-user calls add groups,
 * policies and real key ids. IAM users have no disabled state, so every existing user is 'active'; a user
 * deleted since the report is 'deleted'.
 *
 * The role (or the worker's credentials) needs iam:GenerateCredentialReport, iam:GetCredentialReport,
 * iam:ListUsers, iam:ListGroupsForUser, iam:ListAttachedUserPolicies, iam:ListUserPolicies,
 * iam:ListAttachedGroupPolicies, iam:ListGroupPolicies, iam:ListAccessKeys, iam:GetAccessKeyLastUsed,
 * iam:ListMFADevices and iam:GetLoginProfile (the AWS managed SecurityAudit policy has them all), and
 * iam:ListUserTags when the source's join reads a tag; the worker needs sts:AssumeRole on each role, and
 * sts:GetCallerIdentity when an account has neither id nor role.
 */
export const awsIam = defineConnector({
  name: SOURCE,
  kinds: ['identity'],
  // 1.1.0: a user without any usable credential is 'disabled'; interactiveSignIn; tags for a join by tag.
  version: '1.1.0',
  config: AwsIamConfig,
  withAccountTags: (config) => ({ ...config, userTags: true }),
  async *collect(config, ctx) {
    const start = firstAccount(ctx.resumeCursor, config.accounts.length);
    const credentials = await workerCredentials(config.credentials, ctx);
    const accounts: Record<string, AccountProvenance> = {};
    ctx.provenance({ api: 'iam:GetCredentialReport, iam:ListUsers and per-user IAM calls', endpoint: config.endpoint ?? 'AWS', accounts });
    const settings = { endpoint: config.endpoint, maxAttempts: config.maxAttempts, credentials, tally: new RetryTally(ctx) };

    for (let index = start; index < config.accounts.length; index++) {
      ctx.signal.throwIfAborted();
      const target = config.accounts[index]!;
      const session = await openSession(target, index, settings, ctx);
      try {
        yield* collectAccount(session, config, ctx, (facts) => {
          accounts[session.accountId] = facts;
          ctx.provenance({ accounts });
        });
      } finally {
        session.destroy();
      }
      await ctx.heartbeat(String(index + 1));
    }
  },
});
