import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { awsBackup } from '../../../connectors/aws-backup/index.ts';
import { startFakeAwsBackup } from '../../support/fake-aws-backup.ts';
import type { FakeAwsBackup } from '../../support/fake-aws-backup.ts';
import { testContext } from '../../support/connector-context.ts';
import {
  AUDITOR,
  configFor,
  EXTERNAL_ID,
  HOME_ACCOUNT,
  NOW,
  OTHER_ACCOUNT,
  OTHER_ROLE,
  pull,
  SECRET_ENV,
  wireBackupJobs,
  wireProtectedResources,
  wireRestoreJobs,
  wireRestoreTestingPlans,
} from './setup.ts';

const PLAN = `arn:aws:backup:us-east-1:${HOME_ACCOUNT}:restore-testing-plan:nightly-0a1b2c3d`;

describe('aws-backup paging, accounts, regions and resumption', () => {
  let fake: FakeAwsBackup;
  beforeAll(async () => {
    fake = await startFakeAwsBackup({
      users: [AUDITOR],
      roles: [{ arn: OTHER_ROLE, externalId: EXTERNAL_ID }],
      // Two items a page, whatever maxResults asks: every call pages.
      pageSize: 2,
      now: () => NOW,
      data: {
        [HOME_ACCOUNT]: {
          'us-east-1': {
            backupJobs: wireBackupJobs(5, 'home-east'),
            restoreJobs: [...wireRestoreJobs(2, 'home-east-test', PLAN), ...wireRestoreJobs(1, 'home-east-manual', undefined)],
            protectedResources: wireProtectedResources(5, 'home-east'),
            restoreTestingPlans: wireRestoreTestingPlans(3, 'home_east'),
          },
          'eu-west-1': { backupJobs: wireBackupJobs(2, 'home-west') },
        },
        [OTHER_ACCOUNT]: {
          'us-east-1': {
            backupJobs: wireBackupJobs(3, 'other-east'),
            restoreJobs: wireRestoreJobs(2, 'other-east', undefined),
            protectedResources: wireProtectedResources(1, 'other-east'),
          },
        },
      },
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const twoAccounts = () =>
    configFor(fake.url, {
      accounts: [
        { id: HOME_ACCOUNT, regions: ['us-east-1', 'eu-west-1'] },
        { roleArn: OTHER_ROLE, externalId: EXTERNAL_ID, regions: ['us-east-1'] },
      ],
    });

  it('reads every page of every call in two accounts (one through AssumeRole) and two regions', async () => {
    const { records, error, heartbeats, provenance } = await pull(twoAccounts());
    expect(error).toBeUndefined();

    const ids = records.map((record) => (record.kind === 'backup-job' ? record.jobId : record.resourceId));
    expect(ids).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `home-east-job-${i + 1}`),
      'home-east-test-restore-1',
      'home-east-test-restore-2',
      'home-east-manual-restore-1',
      ...Array.from({ length: 5 }, (_, i) => `arn:aws:rds:us-east-1:${HOME_ACCOUNT}:db:home-east-${i + 1}`),
      'home-west-job-1',
      'home-west-job-2',
      ...Array.from({ length: 3 }, (_, i) => `other-east-job-${i + 1}`),
      'other-east-restore-1',
      'other-east-restore-2',
      `arn:aws:rds:us-east-1:${HOME_ACCOUNT}:db:other-east-1`,
    ]);
    // The records name the account the role reaches, and jobs launched by a restore testing plan are restore tests.
    expect(new Set(records.slice(0, 15).map((record) => record.account))).toEqual(new Set([HOME_ACCOUNT]));
    expect(new Set(records.slice(15).map((record) => record.account))).toEqual(new Set([OTHER_ACCOUNT]));
    expect(
      records
        .filter((record) => record.kind === 'backup-job' && record.jobKind === 'restore-test')
        .map((record) => record.kind === 'backup-job' && record.jobId),
    ).toEqual(['home-east-test-restore-1', 'home-east-test-restore-2']);
    expect(records.find((record) => record.kind === 'backup-job' && record.jobId === 'home-west-job-1')?.raw?.['region']).toBe('eu-west-1');

    // The role was assumed once, with the external id, by the base credentials; the other account was read with the session.
    const assumeRoles = fake.requests.filter((request) => request.operation === 'AssumeRole');
    expect(assumeRoles).toHaveLength(1);
    expect(assumeRoles[0]?.form).toMatchObject({
      RoleArn: OTHER_ROLE,
      ExternalId: EXTERNAL_ID,
      RoleSessionName: 'isms-worker-aws-backup',
      DurationSeconds: '3600',
    });
    expect(assumeRoles[0]?.accessKeyId).toBe(AUDITOR.accessKeyId);
    const session = fake.issuedSessions()[0];
    const otherAccountCalls = fake.requests.filter((request) => request.account === OTHER_ACCOUNT);
    expect(otherAccountCalls.length).toBeGreaterThan(0);
    expect(otherAccountCalls.every((request) => request.accessKeyId === session?.accessKeyId)).toBe(true);
    expect(fake.requests.filter((request) => request.region === 'eu-west-1' && request.account === HOME_ACCOUNT).map((request) => request.operation)).toEqual([
      'ListRestoreTestingPlans',
      'ListBackupJobs',
      'ListRestoreJobs',
      'ListProtectedResources',
    ]);

    // Each page after the first carries the NextToken of the page before.
    const homeEastJobs = fake.requests.filter(
      (request) => request.operation === 'ListBackupJobs' && request.account === HOME_ACCOUNT && request.region === 'us-east-1',
    );
    expect(homeEastJobs).toHaveLength(3);
    expect(homeEastJobs[0]?.query['nextToken']).toBeUndefined();
    expect(homeEastJobs[1]?.query['nextToken']).toBeDefined();
    expect(homeEastJobs[2]?.query['nextToken']).not.toBe(homeEastJobs[1]?.query['nextToken']);

    // One heartbeat per page, each naming where to resume; the last says the pull is complete.
    const cursors = heartbeats.map((cursor) => JSON.parse(cursor ?? 'null') as Record<string, unknown>);
    const pagesRead = fake.requests.filter((request) => request.operation.startsWith('List')).length;
    expect(cursors).toHaveLength(pagesRead);
    expect(cursors[0]).toEqual({
      v: 1,
      createdAfter: '2025-02-13T12:00:00.000Z',
      account: 0,
      region: 0,
      call: 'ListRestoreTestingPlans',
      nextToken: expect.any(String),
      page: 2,
    });
    // Three plans fill two pages; after the second, the cursor moves on to the first page of backup jobs.
    expect(cursors[1]).toEqual({ v: 1, createdAfter: '2025-02-13T12:00:00.000Z', account: 0, region: 0, call: 'ListBackupJobs', page: 1 });
    expect(cursors.at(-1)).toEqual({ v: 1, createdAfter: '2025-02-13T12:00:00.000Z', account: 2, region: 0, call: 'ListRestoreTestingPlans', page: 1 });

    expect(provenance['collected']).toEqual({
      [`${HOME_ACCOUNT}/us-east-1`]: { backupJobs: 5, restoreJobs: 3, restoreTests: 2, protectedResources: 5 },
      [`${HOME_ACCOUNT}/eu-west-1`]: { backupJobs: 2, restoreJobs: 0, restoreTests: 0, protectedResources: 0 },
      [`${OTHER_ACCOUNT}/us-east-1`]: { backupJobs: 3, restoreJobs: 2, restoreTests: 0, protectedResources: 1 },
    });
    expect((provenance['restoreTestingPlans'] as Record<string, unknown[]>)[`${HOME_ACCOUNT}/us-east-1`]).toHaveLength(3);
  });

  it('resumes from a cursor in the middle of a call with the same window and NextToken, without doubling records', async () => {
    const first = await pull(twoAccounts());
    expect(first.error).toBeUndefined();
    // The cursor reported after the second page of backup jobs in the first account and region.
    const cursor = first.heartbeats.find((beat) => {
      const parsed = JSON.parse(beat ?? '{}') as { call?: string; page?: number; account?: number };
      return parsed.call === 'ListBackupJobs' && parsed.page === 3 && parsed.account === 0;
    });
    expect(cursor).toBeDefined();
    fake.reset();

    // An hour later: the window must still be the first attempt's, or the NextToken would belong to another query.
    const resumed = await pull(twoAccounts(), { resumeCursor: cursor, now: () => new Date(NOW.getTime() + 3_600_000) });
    expect(resumed.error).toBeUndefined();
    expect(resumed.records).toEqual(first.records.slice(4));
    const firstRequest = fake.requests.find((request) => request.operation.startsWith('List'));
    expect(firstRequest?.operation).toBe('ListBackupJobs');
    expect(firstRequest?.query).toEqual({ createdAfter: '2025-02-13T12:00:00Z', maxResults: '1000', nextToken: JSON.parse(cursor ?? '{}').nextToken });
    expect(resumed.provenance['resumedFrom']).toBe(cursor);
  });

  it('resumes at the next account without touching the accounts already read', async () => {
    const first = await pull(twoAccounts());
    fake.reset();
    const cursor = JSON.stringify({ v: 1, createdAfter: '2025-02-13T12:00:00.000Z', account: 1, region: 0, call: 'ListBackupJobs', page: 1 });
    const resumed = await pull(twoAccounts(), { resumeCursor: cursor });
    expect(resumed.error).toBeUndefined();
    expect(resumed.records).toEqual(first.records.filter((record) => record.account === OTHER_ACCOUNT));
    expect(fake.requests.some((request) => request.account === HOME_ACCOUNT && request.operation !== 'AssumeRole')).toBe(false);
    expect(fake.requests.some((request) => request.operation === 'ListRestoreTestingPlans')).toBe(false);
  });

  it('yields nothing when resumed from the cursor of a finished pull', async () => {
    const first = await pull(twoAccounts());
    fake.reset();
    const resumed = await pull(twoAccounts(), { resumeCursor: first.heartbeats.at(-1) });
    expect(resumed.error).toBeUndefined();
    expect(resumed.records).toEqual([]);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ['not JSON', 'ListBackupJobs:2', /resume cursor is not JSON/],
    ['of another shape', JSON.stringify({ v: 1, account: 0 }), /resume cursor is not one this connector writes: field createdAfter/],
    [
      'beyond the configured regions',
      JSON.stringify({ v: 1, createdAfter: '2025-02-13T12:00:00.000Z', account: 1, region: 3, call: 'ListBackupJobs', page: 1 }),
      /account 1 region 3/,
    ],
  ])('refuses a resume cursor that is %s instead of starting over and doubling records', async (_case, cursor, message) => {
    const resumed = await pull(twoAccounts(), { resumeCursor: cursor });
    expect(resumed.error).toBeInstanceOf(ConfigError);
    expect((resumed.error as Error).message).toMatch(message);
    expect(resumed.records).toEqual([]);
  });

  it('finds the account of the base credentials with GetCallerIdentity when none is configured', async () => {
    const config = configFor(fake.url, { accounts: undefined });
    expect(config.accounts).toEqual([{ regions: ['us-east-1'] }]);
    const { records, error } = await pull(config);
    expect(error).toBeUndefined();
    expect(fake.requests[0]?.operation).toBe('GetCallerIdentity');
    expect(records).toHaveLength(13);
    expect(new Set(records.map((record) => record.account))).toEqual(new Set([HOME_ACCOUNT]));
  });

  it('stops when the pull is aborted', async () => {
    const controller = new AbortController();
    const { ctx } = testContext({ now: () => NOW, env: SECRET_ENV, signal: controller.signal });
    const seen: unknown[] = [];
    const run = async () => {
      for await (const record of awsBackup.collect(twoAccounts(), ctx)) {
        seen.push(record);
        controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.length).toBeLessThanOrEqual(2);
  });
});
