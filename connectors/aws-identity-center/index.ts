import { z } from 'zod';
import type { Identity } from '../../core/records.ts';
import { defineConnector } from '../contract.ts';
import * as errors from '../errors.ts';
import { workerCredentials } from '../kit/aws.ts';
import { RetryTally } from '../kit/retries.ts';
import { IdentityCenter } from './client.ts';
import { AwsIdentityCenterConfig } from './config.ts';
import { SOURCE, toIdentity, type IdcUser } from './mapping.ts';

export { AwsIdentityCenterConfig } from './config.ts';

/**
 * Where a retry resumes: the id of the last user kept. Users are read in id order (the whole listing is read first,
 * a request per hundred users), so a retry skips exactly the users already kept whatever the listing's own order.
 */
const Cursor = z.strictObject({ after: z.string().min(1) });

function resumeOf(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const parsed = Cursor.safeParse(
    (() => {
      try {
        return JSON.parse(cursor) as unknown;
      } catch {
        return undefined;
      }
    })(),
  );
  if (!parsed.success) throw new errors.MalformedResponseError(`${SOURCE}: the resume cursor is not a user id: ${cursor.slice(0, 200)}`);
  return parsed.data.after;
}

/**
 * AWS IAM Identity Center: the identity store's users, each with the accounts they reach and the permission set
 * that grants each (assigned to them or to a group of theirs). Sign-ins and MFA devices are not in these APIs, so
 * both are 'unknown'. Read calls only (README, Least-privilege permissions).
 */
export const awsIdentityCenter = defineConnector({
  name: SOURCE,
  kinds: ['identity'],
  version: '1',
  config: AwsIdentityCenterConfig,
  async *collect(config, ctx) {
    const after = resumeOf(ctx.resumeCursor);
    const tally = new RetryTally(ctx);
    const center = await IdentityCenter.open(config, await workerCredentials(config.credentials, ctx), tally, ctx);
    try {
      const counts = { users: 0, removedDuringCollection: 0 };
      const report = () => ctx.provenance({ ...counts, requests: { ...center.requests } });
      const instance = await center.instance(config.instanceArn);
      ctx.provenance({
        api: 'AWS IAM Identity Center: sso-admin and identitystore',
        endpoint: config.endpoint ?? 'AWS',
        account: center.accountId,
        region: config.region,
        ...instance,
        pageSize: config.pageSize,
        privilegedPolicies: config.privilegedPolicies,
        lastLogin: 'unknown: sign-in activity is not in the Identity Center APIs (it is in CloudTrail)',
        ...(after === undefined ? {} : { resumedAfter: after }),
      });
      ctx.warn(
        `${SOURCE}: the Identity Center APIs do not say when a user last signed in or which MFA devices they hold: lastLoginAt and mfaEnabled are 'unknown'`,
      );
      const directory = await center.directory(instance, config.privilegedPolicies, config.pageSize);
      ctx.provenance({
        permissionSets: directory.permissionSets.size,
        privilegedPermissionSets: [...directory.permissionSets.values()]
          .filter((set) => set.privilegedBy !== undefined)
          .map((set) => set.name)
          .sort(),
        groups: directory.groupNames.size,
      });

      const users = (await center.users(instance.identityStoreId, config.pageSize)).sort((a, b) => (a.UserId < b.UserId ? -1 : a.UserId > b.UserId ? 1 : 0));
      const pending = after === undefined ? users : users.filter((user) => user.UserId > after);
      const groupsOf = async (user: IdcUser): Promise<string[] | undefined> => {
        try {
          return await center.groupsOf(instance.identityStoreId, user, config.pageSize);
        } catch (error) {
          if (!(error instanceof errors.NotFoundError)) throw error;
          counts.removedDuringCollection++;
          ctx.warn(`${SOURCE}: user ${user.UserName} (${user.UserId}) was deleted while the collection ran: not recorded`);
          return undefined;
        }
      };
      for (let start = 0; start < pending.length; start += config.pageSize) {
        const chunk = pending.slice(start, start + config.pageSize);
        const records: Identity[] = [];
        for (let i = 0; i < chunk.length; i += config.concurrency) {
          const batch = chunk.slice(i, i + config.concurrency);
          // allSettled: a failure waits for its siblings, so no request of this attempt is still running once it has failed.
          const settled = await Promise.allSettled(batch.map(groupsOf));
          const failed = settled.find((result) => result.status === 'rejected');
          if (failed) throw failed.reason;
          batch.forEach((user, j) => {
            const groupIds = (settled[j] as PromiseFulfilledResult<string[] | undefined>).value;
            if (groupIds !== undefined) records.push(toIdentity(user, groupIds, directory));
          });
        }
        for (const record of records) {
          counts.users++;
          yield record;
        }
        await ctx.heartbeat(JSON.stringify({ after: chunk.at(-1)!.UserId } satisfies z.infer<typeof Cursor>));
        report();
      }
      report();
    } finally {
      center.close();
    }
  },
});
