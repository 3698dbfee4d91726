import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toFailure } from '../../../activities/failures.ts';
import { AuthError, MalformedResponseError, PermissionError, RequestRejectedError, ThrottledError, UnavailableError } from '../../../connectors/errors.ts';
import { awsBackup } from '../../../connectors/aws-backup/index.ts';
import { startFakeAwsBackup } from '../../support/fake-aws-backup.ts';
import type { FakeAwsBackup, WireObject } from '../../support/fake-aws-backup.ts';
import { AUDITOR, configFor, EXTERNAL_ID, fixtureRegion, HOME_ACCOUNT, NOW, OTHER_ACCOUNT, OTHER_ROLE, pull } from './setup.ts';

const WHERE = `aws-backup: account ${HOME_ACCOUNT} us-east-1`;

describe('aws-backup failures', () => {
  let fake: FakeAwsBackup;
  beforeAll(async () => {
    fake = await startFakeAwsBackup({
      users: [AUDITOR],
      roles: [{ arn: OTHER_ROLE, externalId: EXTERNAL_ID }],
      // Two items a page: the fixture's three listed backup jobs take two pages.
      pageSize: 2,
      now: () => NOW,
      data: { [HOME_ACCOUNT]: { 'us-east-1': fixtureRegion() }, [OTHER_ACCOUNT]: { 'us-east-1': fixtureRegion() } },
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const attemptsAt = (operation: string, page = 1) =>
    fake.requests
      .filter(
        (request) => request.operation === operation && (page === 1 ? request.query['nextToken'] === undefined : request.query['nextToken'] !== undefined),
      )
      .map((request) => request.status);

  describe('throttling', () => {
    it.each(['SlowDown', 'RequestThrottled'])(
      'calls %s throttling, as every AWS connector does: retried by the SDK and counted in provenance',
      async (code) => {
        fake.inject({ operation: 'ListBackupJobs', kind: 'throttle', code, times: 1 });
        const retried = await pull(configFor(fake.url, { maxAttempts: 2 }));
        expect(retried.error).toBeUndefined();
        expect(retried.provenance).toMatchObject({ retries: 1 });
        fake.inject({ operation: 'ListBackupJobs', kind: 'throttle', code });
        const { error } = await pull(configFor(fake.url, { maxAttempts: 2 }));
        expect(error).toBeInstanceOf(ThrottledError);
        expect((error as Error).message).toMatch(new RegExp(`^${WHERE}: ListBackupJobs page 1: ${code} \\(HTTP \\d+, after 2 attempts\\): Rate exceeded$`));
      },
    );

    it('becomes a retryable ThrottledError once the attempts are spent, after the earlier pages were yielded and heartbeated', async () => {
      fake.inject({ operation: 'ListBackupJobs', kind: 'throttle', page: 2, retryAfterSeconds: 1 });
      const { error, records, heartbeats } = await pull(configFor(fake.url, { maxAttempts: 2 }));
      expect(error).toBeInstanceOf(ThrottledError);
      const throttled = error as ThrottledError;
      expect(throttled.message).toBe(`${WHERE}: ListBackupJobs page 2: ThrottlingException (HTTP 400, after 2 attempts): Rate exceeded`);
      expect(throttled.retryable).toBe(true);
      expect(throttled.retryAfterMs).toBe(1000);
      expect(attemptsAt('ListBackupJobs', 2)).toEqual([400, 400]);
      // Page 1 is in, and the last cursor points at page 2: a retry resumes there.
      expect(records.map((record) => record.kind === 'backup-job' && record.jobId)).toEqual([
        '4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f',
        '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      ]);
      expect(JSON.parse(heartbeats.at(-1) ?? '{}')).toMatchObject({ account: 0, region: 0, call: 'ListBackupJobs', page: 2, nextToken: expect.any(String) });
    });
  });

  it('refuses a NextToken the service rejects (InvalidParameterValueException, HTTP 400) as a non-retryable RequestRejectedError naming the page', async () => {
    const cursor = JSON.stringify({
      v: 1,
      createdAfter: '2025-02-13T12:00:00.000Z',
      account: 0,
      region: 0,
      call: 'ListBackupJobs',
      nextToken: 'not-a-token-the-service-issued',
      page: 2,
    });
    const { error, records } = await pull(configFor(fake.url, { maxAttempts: 5 }), { resumeCursor: cursor });
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect((error as RequestRejectedError).retryable).toBe(false);
    expect(toFailure(error).nonRetryable).toBe(true);
    expect((error as Error).message).toBe(`${WHERE}: ListBackupJobs page 2: InvalidParameterValueException (HTTP 400): The NextToken is invalid`);
    expect(records).toEqual([]);
    expect(attemptsAt('ListBackupJobs', 2)).toEqual([400]);
  });

  describe('authentication', () => {
    it('a wrong secret key is refused by the signature check: AuthError, not retried', async () => {
      const { error, records } = await pull(configFor(fake.url), {
        env: { AWS_BACKUP_KEY_ID: AUDITOR.accessKeyId, AWS_BACKUP_SECRET: 'not-the-secret-key-at-all' },
      });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        `${WHERE}: ListRestoreTestingPlans page 1: InvalidSignatureException (HTTP 403): The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.`,
      );
      expect(records).toEqual([]);
      expect(fake.requests.map((request) => request.status)).toEqual([403]);
    });

    it('an unknown access key is an AuthError', async () => {
      const { error } = await pull(configFor(fake.url), { env: { AWS_BACKUP_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_BACKUP_SECRET: AUDITOR.secretAccessKey } });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toContain('UnrecognizedClientException (HTTP 403): The security token included in the request is invalid.');
    });

    it('an expired role session is an AuthError naming the account reached through the role', async () => {
      fake.inject({ operation: 'ListBackupJobs', kind: 'expired-token', account: OTHER_ACCOUNT });
      const config = configFor(fake.url, { accounts: [{ roleArn: OTHER_ROLE, externalId: EXTERNAL_ID }] });
      const { error } = await pull(config);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        `aws-backup: account ${OTHER_ACCOUNT} us-east-1: ListBackupJobs page 1: ExpiredTokenException (HTTP 403): The security token included in the request is expired`,
      );
    });

    it('a role that refuses to be assumed is a PermissionError naming the role', async () => {
      const config = configFor(fake.url, { accounts: [{ roleArn: OTHER_ROLE, externalId: 'wrong-external-id' }] });
      const { error, records } = await pull(config);
      expect(error).toBeInstanceOf(PermissionError);
      expect((error as Error).message).toBe(
        `aws-backup: account ${OTHER_ACCOUNT}: AssumeRole ${OTHER_ROLE}: AccessDenied (HTTP 403): User: arn:aws:iam::${HOME_ACCOUNT}:user/isms-auditor is not authorized to perform: sts:AssumeRole on resource: ${OTHER_ROLE}`,
      );
      expect(records).toEqual([]);
    });
  });

  describe('malformed responses', () => {
    it.each<[string, Parameters<FakeAwsBackup['inject']>[0], string]>([
      [
        'a protected resource without a type',
        {
          operation: 'ListProtectedResources',
          kind: 'malformed',
          body: (page) => ({ Results: [{ ResourceArn: 'arn:aws:rds:us-east-1:111111111111:db:x' }], NextToken: page['NextToken'] }),
        },
        `${WHERE}: ListProtectedResources page 1: field Results[0].ResourceType: Invalid input: expected string, received undefined`,
      ],
      [
        'a list that is not a list',
        { operation: 'ListRestoreJobs', kind: 'malformed', body: () => ({ RestoreJobs: { RestoreJobId: 'x' } }) },
        `${WHERE}: ListRestoreJobs page 1: field RestoreJobs: Invalid input: expected array, received object`,
      ],
      [
        'a timestamp that is not epoch seconds',
        {
          operation: 'ListBackupJobs',
          kind: 'malformed',
          body: (page) => ({ BackupJobs: [{ ...(page['BackupJobs'] as WireObject[])[0], CreationDate: '2025-03-10T01:00:00Z' }] }),
        },
        `${WHERE}: ListBackupJobs page 1: unreadable response (HTTP 200): Expected real number, got implicit NaN`,
      ],
      [
        'a body that is not JSON',
        { operation: 'ListRestoreTestingPlans', kind: 'malformed', body: '{"RestoreTestingPlans": [' },
        `${WHERE}: ListRestoreTestingPlans page 1: unreadable response (HTTP 200): `,
      ],
      [
        'a NextToken that does not advance',
        { operation: 'ListBackupJobs', kind: 'malformed', page: 2, body: (page) => ({ ...page, NextToken: fake.requests.at(-1)?.query['nextToken'] }) },
        `${WHERE}: ListBackupJobs page 2: field NextToken: repeats the token of the page it answers, so the listing would never end`,
      ],
    ])('%s is a MalformedResponseError naming the call, page and field', async (_case, fault, message) => {
      fake.inject(fault);
      const { error } = await pull(configFor(fake.url));
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect((error as Error).message.startsWith(message)).toBe(true);
      expect((error as MalformedResponseError).retryable).toBe(false);
    });
  });

  it('an unavailable service becomes a retryable UnavailableError once the SDK gives up', async () => {
    fake.inject({ operation: 'ListProtectedResources', kind: 'service-unavailable' });
    const { error } = await pull(configFor(fake.url, { maxAttempts: 2 }));
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryable).toBe(true);
    expect((error as Error).message).toBe(
      `${WHERE}: ListProtectedResources page 1: ServiceUnavailableException (HTTP 503, after 2 attempts): The request failed due to a temporary failure of the server.`,
    );
  });

  it('rejects a lookback the API cannot serve', () => {
    const parsed = awsBackup.config.safeParse({ lookbackDays: 45 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('AWS Backup lists at most the last 30 days of jobs');
  });
});
