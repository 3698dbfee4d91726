import { awsBackup } from '../../../connectors/aws-backup/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeAwsBackup } from '../../support/fake-aws-backup.ts';
import { AUDITOR, EXTERNAL_ID, fixtureRegion, HOME_ACCOUNT, NOW, OTHER_ACCOUNT, OTHER_ROLE, SECRET_ENV } from './setup.ts';

connectorContract({
  connector: awsBackup,
  async start() {
    const fake = await startFakeAwsBackup({
      users: [AUDITOR],
      roles: [{ arn: OTHER_ROLE, externalId: EXTERNAL_ID }],
      // Two items a page: every call of the fixture takes one or two pages, each a cursor.
      pageSize: 2,
      now: () => NOW,
      data: { [HOME_ACCOUNT]: { 'us-east-1': fixtureRegion() }, [OTHER_ACCOUNT]: { 'us-east-1': fixtureRegion() } },
    });
    return {
      server: {
        faults: fake.faults,
        requests: (operation) => fake.requests.filter((request) => request.operation === operation).length,
        reset: () => fake.reset(),
        close: () => fake.close(),
      },
      config: {
        endpoint: fake.url,
        stsEndpoint: fake.url,
        credentials: { accessKeyId: { env: 'AWS_BACKUP_KEY_ID' }, secretAccessKey: { env: 'AWS_BACKUP_SECRET' } },
        accounts: [{ id: HOME_ACCOUNT }, { roleArn: OTHER_ROLE, externalId: EXTERNAL_ID }],
        maxAttempts: 3,
      },
      env: SECRET_ENV,
      secrets: () => [
        AUDITOR.accessKeyId,
        AUDITOR.secretAccessKey,
        ...fake.issuedSessions().flatMap((session) => [session.secretAccessKey, session.sessionToken]),
      ],
      now: () => NOW,
    };
  },
  operation: 'ListBackupJobs',
  names: /^aws-backup: account 111111111111 us-east-1: ListBackupJobs page 2: /,
  key: (record) => `${String(record['account'])}/${record.kind}/${String(record['jobId'] ?? record['resourceId'])}`,
});
