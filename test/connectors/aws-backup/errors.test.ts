import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
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
    fake.requests.filter((request) => request.operation === operation && (page === 1 ? request.query['nextToken'] === undefined : request.query['nextToken'] !== undefined)).map((request) => request.status);

  describe('a connection dropped mid-body', () => {
    // In front of the fake: passes requests through byte for byte (the signature still holds) and cuts the next
    // `drops` successful answers off halfway through the body they announced.
    let proxy: Server;
    let proxyUrl = '';
    let drops = 0;
    beforeAll(async () => {
      const upstream = new URL(fake.url);
      proxy = createServer((req, res) => {
        const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            if (answer.statusCode === 200 && drops > 0) {
              drops--;
              return void res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
            }
            res.end(body);
          });
        });
        req.pipe(forward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

    it('once is retried by the SDK, and the pull reads the same records', async () => {
      const clean = await pull(configFor(fake.url));
      fake.reset();
      drops = 1;
      const dropped = await pull(configFor(proxyUrl));
      expect(dropped.error).toBeUndefined();
      expect(dropped.records).toEqual(clean.records);
      expect(fake.requests.filter((entry) => entry.operation === 'ListRestoreTestingPlans').map((entry) => entry.status)).toEqual([200, 200]);
    });

    it('on every attempt is a retryable UnavailableError, not a malformed response', async () => {
      drops = Number.POSITIVE_INFINITY;
      const { error } = await pull(configFor(proxyUrl, { maxAttempts: 2 }));
      drops = 0;
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).retryable).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^${WHERE}: ListRestoreTestingPlans page 1: service unavailable after 2 attempts \\(Error: aborted\\)$`));
    });
  });

  describe('throttling', () => {
    it('is retried by the SDK and then succeeds with the same records', async () => {
      const clean = await pull(configFor(fake.url));
      fake.reset();
      fake.inject({ operation: 'ListBackupJobs', kind: 'throttle', times: 2 });
      const throttled = await pull(configFor(fake.url, { maxAttempts: 3 }));
      expect(throttled.error).toBeUndefined();
      expect(throttled.records).toEqual(clean.records);
      expect(attemptsAt('ListBackupJobs')).toEqual([400, 400, 200]);
    });

    it('is retried on HTTP 429 TooManyRequestsException too', async () => {
      fake.inject({ operation: 'ListProtectedResources', kind: 'too-many-requests', times: 1 });
      const { error, records } = await pull(configFor(fake.url));
      expect(error).toBeUndefined();
      expect(records.filter((record) => record.kind === 'protected-resource')).toHaveLength(3);
      expect(attemptsAt('ListProtectedResources')).toEqual([429, 200]);
    });

    it('becomes a retryable ThrottledError once the attempts are spent, after the earlier pages were yielded and heartbeated', async () => {
      fake.inject({ operation: 'ListBackupJobs', kind: 'throttle', page: 2, retryAfterSeconds: 1 });
      const { error, records, heartbeats } = await pull(configFor(fake.url, { maxAttempts: 2 }));
      expect(error).toBeInstanceOf(ThrottledError);
      const throttled = error as ThrottledError;
      expect(throttled.message).toBe(`${WHERE}: ListBackupJobs page 2: throttled after 2 attempts (ThrottlingException: Rate exceeded)`);
      expect(throttled.retryable).toBe(true);
      expect(throttled.retryAfterMs).toBe(1000);
      expect(attemptsAt('ListBackupJobs', 2)).toEqual([400, 400]);
      // Page 1 is in, and the last cursor points at page 2: a retry resumes there.
      expect(records.map((record) => record.kind === 'backup-job' && record.jobId)).toEqual(['4b5c7d2e-1f3a-4e6b-9c8d-0a1b2c3d4e5f', '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d']);
      expect(JSON.parse(heartbeats.at(-1) ?? '{}')).toMatchObject({ account: 0, region: 0, call: 'ListBackupJobs', page: 2, nextToken: expect.any(String) });
    });
  });

  it('turns AccessDeniedException into a PermissionError, without retrying', async () => {
    fake.inject({ operation: 'ListRestoreJobs', kind: 'access-denied' });
    const { error } = await pull(configFor(fake.url));
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as PermissionError).retryable).toBe(false);
    expect((error as Error).message).toBe(
      `${WHERE}: ListRestoreJobs page 1: permission denied (AccessDeniedException: User: arn:aws:iam::${HOME_ACCOUNT}:user/isms-auditor is not authorized to perform: backup:ListRestoreJobs because no identity-based policy allows the backup:ListRestoreJobs action)`,
    );
    expect(attemptsAt('ListRestoreJobs')).toEqual([403]);
  });

  it('refuses a NextToken the service rejects (InvalidParameterValueException, HTTP 400) as a non-retryable RequestRejectedError naming the page', async () => {
    const cursor = JSON.stringify({ v: 1, createdAfter: '2025-02-13T12:00:00.000Z', account: 0, region: 0, call: 'ListBackupJobs', nextToken: 'not-a-token-the-service-issued', page: 2 });
    const { error, records } = await pull(configFor(fake.url, { maxAttempts: 5 }), { resumeCursor: cursor });
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect((error as RequestRejectedError).retryable).toBe(false);
    expect(toFailure(error).nonRetryable).toBe(true);
    expect((error as Error).message).toBe(`${WHERE}: ListBackupJobs page 2: request refused, HTTP 400 (InvalidParameterValueException: The NextToken is invalid)`);
    expect(records).toEqual([]);
    expect(attemptsAt('ListBackupJobs', 2)).toEqual([400]);
  });

  describe('authentication', () => {
    it('a wrong secret key is refused by the signature check: AuthError, not retried', async () => {
      const { error, records } = await pull(configFor(fake.url), { env: { AWS_BACKUP_KEY_ID: AUDITOR.accessKeyId, AWS_BACKUP_SECRET: 'not-the-secret-key-at-all' } });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        `${WHERE}: ListRestoreTestingPlans page 1: credentials rejected (InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.)`,
      );
      expect(records).toEqual([]);
      expect(fake.requests.map((request) => request.status)).toEqual([403]);
    });

    it('an unknown access key is an AuthError', async () => {
      const { error } = await pull(configFor(fake.url), { env: { AWS_BACKUP_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_BACKUP_SECRET: AUDITOR.secretAccessKey } });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toContain('UnrecognizedClientException: The security token included in the request is invalid.');
    });

    it('an expired role session is an AuthError naming the account reached through the role', async () => {
      fake.inject({ operation: 'ListBackupJobs', kind: 'expired-token', account: OTHER_ACCOUNT });
      const config = configFor(fake.url, { accounts: [{ roleArn: OTHER_ROLE, externalId: EXTERNAL_ID }] });
      const { error } = await pull(config);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        `aws-backup: account ${OTHER_ACCOUNT} us-east-1: ListBackupJobs page 1: credentials rejected (ExpiredTokenException: The security token included in the request is expired)`,
      );
    });

    it('a role that refuses to be assumed is a PermissionError naming the role', async () => {
      const config = configFor(fake.url, { accounts: [{ roleArn: OTHER_ROLE, externalId: 'wrong-external-id' }] });
      const { error, records } = await pull(config);
      expect(error).toBeInstanceOf(PermissionError);
      expect((error as Error).message).toBe(
        `aws-backup: account ${OTHER_ACCOUNT}: AssumeRole ${OTHER_ROLE}: permission denied (AccessDenied: User: arn:aws:iam::${HOME_ACCOUNT}:user/isms-auditor is not authorized to perform: sts:AssumeRole on resource: ${OTHER_ROLE})`,
      );
      expect(records).toEqual([]);
    });
  });

  describe('malformed responses', () => {
    it.each<[string, Parameters<FakeAwsBackup['inject']>[0], string]>([
      [
        'a job id of the wrong type',
        { operation: 'ListBackupJobs', kind: 'malformed', page: 2, body: (page) => ({ ...page, BackupJobs: [{ ...(page['BackupJobs'] as WireObject[])[0], BackupJobId: 42 }] }) },
        `${WHERE}: ListBackupJobs page 2: field BackupJobs[0].BackupJobId: Invalid input: expected string, received number`,
      ],
      [
        'a protected resource without a type',
        { operation: 'ListProtectedResources', kind: 'malformed', body: (page) => ({ Results: [{ ResourceArn: 'arn:aws:rds:us-east-1:111111111111:db:x' }], NextToken: page['NextToken'] }) },
        `${WHERE}: ListProtectedResources page 1: field Results[0].ResourceType: Invalid input: expected string, received undefined`,
      ],
      [
        'a list that is not a list',
        { operation: 'ListRestoreJobs', kind: 'malformed', body: () => ({ RestoreJobs: { RestoreJobId: 'x' } }) },
        `${WHERE}: ListRestoreJobs page 1: field RestoreJobs: Invalid input: expected array, received object`,
      ],
      [
        'a timestamp that is not epoch seconds',
        { operation: 'ListBackupJobs', kind: 'malformed', body: (page) => ({ BackupJobs: [{ ...(page['BackupJobs'] as WireObject[])[0], CreationDate: '2025-03-10T01:00:00Z' }] }) },
        `${WHERE}: ListBackupJobs page 1: response body cannot be read (TypeError: Expected real number, got implicit NaN)`,
      ],
      ['a body that is not JSON', { operation: 'ListRestoreTestingPlans', kind: 'malformed', body: '{"RestoreTestingPlans": [' }, `${WHERE}: ListRestoreTestingPlans page 1: response body cannot be read (SyntaxError:`],
      [
        'a NextToken that does not advance',
        { operation: 'ListBackupJobs', kind: 'malformed', page: 2, body: (page) => ({ ...page, NextToken: fake.requests.at(-1)?.query['nextToken'] }) },
        `${WHERE}: ListBackupJobs page 2: NextToken did not advance; the service returned the token it was given`,
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
      `${WHERE}: ListProtectedResources page 1: service unavailable after 2 attempts (ServiceUnavailableException: The request failed due to a temporary failure of the server.)`,
    );
  });

  it('rejects a lookback the API cannot serve', () => {
    const parsed = awsBackup.config.safeParse({ lookbackDays: 45 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('AWS Backup lists at most the last 30 days of jobs');
  });

  it('never lets a secret reach an error, a record, the provenance, a warning or the log', async () => {
    const twoAccounts = { accounts: [{ id: HOME_ACCOUNT }, { roleArn: OTHER_ROLE, externalId: EXTERNAL_ID }], fetchTags: true };
    const runs = [await pull(configFor(fake.url, twoAccounts))];
    fake.inject({ operation: 'ListBackupJobs', kind: 'access-denied', account: OTHER_ACCOUNT });
    runs.push(await pull(configFor(fake.url, twoAccounts)));
    fake.reset();
    fake.inject({ operation: 'ListRestoreJobs', kind: 'malformed', account: OTHER_ACCOUNT, body: '{"RestoreJobs": [' });
    runs.push(await pull(configFor(fake.url, twoAccounts)));
    fake.reset();
    fake.inject({ operation: 'ListTags', kind: 'throttle' });
    runs.push(await pull(configFor(fake.url, { ...twoAccounts, maxAttempts: 1 })));
    runs.push(await pull(configFor(fake.url, twoAccounts), { env: { AWS_BACKUP_KEY_ID: AUDITOR.accessKeyId, AWS_BACKUP_SECRET: `${AUDITOR.secretAccessKey}x` } }));

    expect(runs[0]?.error).toBeUndefined();
    expect(runs.slice(1).map((run) => (run.error as Error | undefined)?.name)).toEqual(['PermissionError', 'MalformedResponseError', 'ThrottledError', 'AuthError']);
    const secrets = [AUDITOR.secretAccessKey, ...fake.issuedSessions().flatMap((session) => [session.secretAccessKey, session.sessionToken])];
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const run of runs) {
      const exposed = [
        run.error === undefined ? '' : inspect(run.error, { depth: null, showHidden: true }),
        run.error instanceof Error ? `${run.error.message}\n${run.error.stack ?? ''}` : '',
        JSON.stringify(run.records),
        JSON.stringify(run.provenance),
        run.warnings.join('\n'),
        run.logLines.join('\n'),
        run.heartbeats.join('\n'),
      ].join('\n');
      for (const secret of secrets) expect(exposed).not.toContain(secret);
      // The access key id is configured as a secret reference too.
      expect(exposed).not.toContain(AUDITOR.accessKeyId);
    }
  });
});
