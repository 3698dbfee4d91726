import {
  BackupClient,
  ListBackupJobsCommand,
  ListProtectedResourcesCommand,
  ListRestoreJobsCommand,
  ListRestoreTestingPlansCommand,
  ListTagsCommand,
} from '@aws-sdk/client-backup';
import { z } from 'zod';
import type { BackupJob, ProtectedResource } from '../../core/records.ts';
import { defineConnector } from '../contract.ts';
import type { ConnectorContext } from '../contract.ts';
import { awsFailure } from '../kit/aws-errors.ts';
import {
  awsAccountFields,
  awsAccounts,
  awsClientConfig,
  AwsKeys,
  AwsRegion,
  checkAwsAccount,
  countSdkRetries,
  openAwsAccount,
  workerCredentials,
} from '../kit/aws.ts';
import { RetryTally } from '../kit/retries.ts';
import { nextPageToken, parseResponse } from '../kit/validate.ts';
import { CALLS, decodeCursor, encodeCursor, isBefore, nextPosition } from './cursor.ts';
import type { Call, Cursor, Position } from './cursor.ts';
import {
  BackupJobsPage,
  ProtectedResourcesPage,
  RestoreJobsPage,
  RestoreTestingPlansPage,
  restoreTestingPlanFacts,
  SOURCE,
  TagsPage,
  toBackupJob,
  toProtectedResource,
  toRestoreJob,
} from './mapping.ts';
import type { Origin } from './mapping.ts';

export const AwsBackupAccount = z
  .strictObject({
    ...awsAccountFields,
    regions: z.array(AwsRegion).min(1).default(['us-east-1']).describe('The regions whose backup jobs, restore jobs and protected resources are read.'),
  })
  .superRefine(checkAwsAccount);

export const AwsBackupConfig = z
  .strictObject({
    accounts: awsAccounts(AwsBackupAccount).prefault([{}]).describe('The AWS accounts to read; by default the account of the base credentials, in us-east-1.'),
    endpoint: z.url().optional().describe('The AWS Backup endpoint, for VPC endpoints and test servers.'),
    stsEndpoint: z.url().optional().describe('The STS endpoint used for AssumeRole and GetCallerIdentity.'),
    credentials: AwsKeys.optional(),
    lookbackDays: z
      .number()
      .int()
      .min(1)
      .max(30, 'AWS Backup lists at most the last 30 days of jobs')
      .default(30)
      .describe('Days of backup and restore jobs to read; AWS lists the last 30 only, so a longer window would silently read as a shorter one.'),
    maxAttempts: z.number().int().min(1).max(20).default(3).describe("Attempts per request, including the SDK's retries of throttling and transient faults."),
    fetchTags: z.boolean().default(false).describe('One ListTags call per protected resource, so that checks can apply per-tag recovery point objectives.'),
  })
  .describe('AWS Backup of one or more accounts and regions: backup and restore jobs (restore tests told apart), protected resources, restore testing plans.');
export type AwsBackupConfig = z.infer<typeof AwsBackupConfig>;

const PAGE_SIZE = 1000;
const TAG_CONCURRENCY = 4;
const DAY_MS = 86_400_000;
/** ListTags refuses ARNs of resource types AWS Backup does not fully manage, and resources deleted since they were listed. */
const TAGS_UNAVAILABLE = new Set(['InvalidParameterValueException', 'ResourceNotFoundException']);

type AwsBackupRecord = BackupJob | ProtectedResource;

interface Pull {
  ctx: ConnectorContext;
  client: BackupClient;
  origin: Origin;
  /** `aws-backup: account 123456789012 us-east-1`: the start of every message about this account and region. */
  scope: string;
  position: Position;
  createdAfter: Date;
  fetchTags: boolean;
  regionsPerAccount: readonly number[];
  tally: Record<string, number>;
}

export const awsBackup = defineConnector({
  name: SOURCE,
  kinds: ['backup-job', 'protected-resource'],
  version: '1',
  config: AwsBackupConfig,
  async *collect(config, ctx) {
    const regionsPerAccount = config.accounts.map((account) => account.regions.length);
    const resumed = ctx.resumeCursor === undefined ? undefined : decodeCursor(ctx.resumeCursor, regionsPerAccount);
    const createdAfter = resumed === undefined ? new Date(ctx.now().getTime() - config.lookbackDays * DAY_MS) : new Date(resumed.createdAfter);
    const start: Cursor = resumed ?? { v: 1, createdAfter: createdAfter.toISOString(), account: 0, region: 0, call: CALLS[0], page: 1 };
    const base = await workerCredentials(config.credentials, ctx);

    const tallies: Record<string, Record<string, number>> = {};
    const restoreTestingPlans: Record<string, Record<string, unknown>[]> = {};
    ctx.provenance({
      api: 'AWS Backup ListBackupJobs, ListRestoreJobs, ListProtectedResources, ListRestoreTestingPlans' + (config.fetchTags ? ', ListTags' : ''),
      pageSize: PAGE_SIZE,
      createdAfter: createdAfter.toISOString(),
      lookbackDays: config.lookbackDays,
      jobStates: 'all',
      tagsFetched: config.fetchTags,
      accounts: config.accounts.map((account) => ({ id: account.id ?? null, roleArn: account.roleArn ?? null, regions: account.regions })),
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      ...(resumed === undefined ? {} : { resumedFrom: ctx.resumeCursor }),
    });
    const tally = new RetryTally(ctx);

    for (let a = start.account; a < config.accounts.length; a++) {
      const entry = config.accounts[a];
      if (entry === undefined) break;
      ctx.signal.throwIfAborted();
      const access = await openAwsAccount(entry, a, entry.regions[0] ?? 'us-east-1', {
        source: SOURCE,
        sessionName: 'isms-worker-aws-backup',
        stsEndpoint: config.stsEndpoint,
        maxAttempts: config.maxAttempts,
        credentials: base,
        tally,
        signal: ctx.signal,
      });
      try {
        for (let r = a === start.account ? start.region : 0; r < entry.regions.length; r++) {
          const region = entry.regions[r] ?? 'us-east-1';
          const key = `${access.accountId}/${region}`;
          const collected = (tallies[key] ??= {});
          const scope = `${SOURCE}: account ${access.accountId} ${region}`;
          const client = new BackupClient(
            awsClientConfig({ region, endpoint: config.endpoint, maxAttempts: config.maxAttempts, credentials: access.credentials }),
          );
          countSdkRetries(client, tally, (command) => `${scope}: ${command}`);
          try {
            for (const call of CALLS) {
              const position: Position = { account: a, region: r, call };
              if (isBefore(position, start)) continue;
              const atStart = position.account === start.account && position.region === start.region && call === start.call;
              const pull: Pull = {
                ctx,
                client,
                origin: { account: access.accountId, region },
                scope,
                position,
                createdAfter,
                fetchTags: config.fetchTags,
                regionsPerAccount,
                tally: collected,
              };
              const from = atStart ? { nextToken: start.nextToken, page: start.page } : { nextToken: undefined, page: 1 };
              if (call === 'ListRestoreTestingPlans') {
                const plans = (restoreTestingPlans[key] ??= []);
                for await (const page of pages(pull, from, RestoreTestingPlansPage, (token) =>
                  client.send(new ListRestoreTestingPlansCommand({ MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal: ctx.signal }),
                )) {
                  plans.push(...page.RestoreTestingPlans.map(restoreTestingPlanFacts));
                }
                ctx.provenance({ restoreTestingPlans });
              } else {
                yield* records(pull, call, from);
              }
              ctx.provenance({ collected: tallies });
            }
          } finally {
            client.destroy();
          }
        }
      } finally {
        access.close();
      }
    }
  },
});

async function* records(pull: Pull, call: Exclude<Call, 'ListRestoreTestingPlans'>, from: PageStart): AsyncGenerator<AwsBackupRecord> {
  const { client, ctx, createdAfter, origin, tally } = pull;
  const abortSignal = ctx.signal;
  switch (call) {
    case 'ListBackupJobs':
      // No ByState: failed, aborted, expired and partial jobs are the evidence that matters most.
      for await (const page of pages(pull, from, BackupJobsPage, (token) =>
        client.send(new ListBackupJobsCommand({ ByCreatedAfter: createdAfter, MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal }),
      )) {
        tally['backupJobs'] = (tally['backupJobs'] ?? 0) + page.BackupJobs.length;
        yield* page.BackupJobs.map((job) => toBackupJob(job, origin));
      }
      return;
    case 'ListRestoreJobs':
      for await (const page of pages(pull, from, RestoreJobsPage, (token) =>
        client.send(new ListRestoreJobsCommand({ ByCreatedAfter: createdAfter, MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal }),
      )) {
        const jobs = page.RestoreJobs.map((job) => toRestoreJob(job, origin));
        tally['restoreJobs'] = (tally['restoreJobs'] ?? 0) + jobs.length;
        tally['restoreTests'] = (tally['restoreTests'] ?? 0) + jobs.filter((job) => job.jobKind === 'restore-test').length;
        yield* jobs;
      }
      return;
    case 'ListProtectedResources':
      for await (const page of pages(pull, from, ProtectedResourcesPage, (token) =>
        client.send(new ListProtectedResourcesCommand({ MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal }),
      )) {
        const tags = pull.fetchTags
          ? await tagsOfPage(
              pull,
              page.Results.map((resource) => resource.ResourceArn),
            )
          : new Map<string, Record<string, string>>();
        tally['protectedResources'] = (tally['protectedResources'] ?? 0) + page.Results.length;
        yield* page.Results.map((resource) => toProtectedResource(resource, tags.get(resource.ResourceArn) ?? {}, origin));
      }
      return;
  }
}

interface PageStart {
  nextToken: string | undefined;
  page: number;
}

/**
 * Reads every page of one call from `from`. Each page is validated before it is handed out; once the caller has
 * yielded its records, the cursor of the next page (or of the next call) is heartbeated, so a retry resumes there.
 */
async function* pages<S extends z.ZodType>(
  pull: Pull,
  from: PageStart,
  schema: S,
  request: (nextToken: string | undefined) => Promise<unknown>,
): AsyncGenerator<z.output<S>> {
  let token = from.nextToken;
  for (let page = from.page; ; page++) {
    pull.ctx.signal.throwIfAborted();
    const where = `${pull.scope}: ${pull.position.call} page ${page}`;
    const body = parseResponse(schema, await send(where, () => request(token)), where);
    const next = nextPageToken((body as { NextToken?: string }).NextToken, token, where, 'NextToken');
    pull.ctx.log.debug({ where, morePages: next !== undefined }, 'aws-backup page read');
    yield body;
    const resumeAt: Omit<Cursor, 'v' | 'createdAfter'> =
      next === undefined ? { ...nextPosition(pull.position, pull.regionsPerAccount), page: 1 } : { ...pull.position, nextToken: next, page: page + 1 };
    await pull.ctx.heartbeat(encodeCursor({ v: 1, createdAfter: pull.createdAfter.toISOString(), ...resumeAt }));
    if (next === undefined) return;
    token = next;
  }
}

/** Tags of one page of protected resources. Resources ListTags refuses keep no tags, and the auditor is told which. */
async function tagsOfPage(pull: Pull, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  const refused: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < arns.length; i = next++) {
      const arn = arns[i] ?? '';
      const found = await tagsOf(pull, arn);
      if (found === undefined) refused.push(arn);
      else tags.set(arn, found);
    }
  };
  await Promise.all(Array.from({ length: Math.min(TAG_CONCURRENCY, arns.length) }, worker));
  if (refused.length > 0) {
    const shown = refused.slice(0, 10).join(', ') + (refused.length > 10 ? `, and ${refused.length - 10} more` : '');
    pull.ctx.warn(
      `${pull.scope}: ListTags refused ${refused.length} protected resource(s); they are recorded without tags, so tag-based rules do not apply to them: ${shown}`,
    );
  }
  return tags;
}

async function tagsOf(pull: Pull, arn: string): Promise<Record<string, string> | undefined> {
  const tags: Record<string, string> = {};
  let token: string | undefined;
  do {
    pull.ctx.signal.throwIfAborted();
    const where = `${pull.scope}: ListTags ${arn}`;
    let output: unknown;
    try {
      output = await pull.client.send(new ListTagsCommand({ ResourceArn: arn, MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal: pull.ctx.signal });
    } catch (error) {
      if (error instanceof Error && TAGS_UNAVAILABLE.has(error.name)) return undefined;
      throw awsFailure(error, where);
    }
    const body = parseResponse(TagsPage, output, where);
    Object.assign(tags, body.Tags);
    token = nextPageToken(body.NextToken, token, where, 'NextToken');
  } while (token !== undefined);
  return tags;
}

/** Runs one AWS call and turns whatever it throws into a typed connector error that says where. */
async function send<T>(where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw awsFailure(error, where);
  }
}
