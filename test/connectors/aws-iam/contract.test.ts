import { awsIam } from '../../../connectors/aws-iam/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { FakeIam, type FakeAccount } from '../../support/fake-iam.ts';

const MAIN = '111111111111';
const OTHER = '222222222222';
const ACCESS_KEY_ID = 'AKIAISMSCONTRACT0001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/contract-not-leaked';
const ROLE = `arn:aws:iam::${OTHER}:role/isms-reader`;

const account = (id: string, users: number): FakeAccount => ({
  id,
  createdAt: '2020-01-01T00:00:00Z',
  users: Array.from({ length: users }, (_, index) => ({
    name: `user-${index + 1}`,
    createdAt: '2022-01-01T00:00:00Z',
    password: { changedAt: '2022-01-02T00:00:00Z', lastUsedAt: '2024-05-01T10:00:00Z' },
    accessKeys: [{ id: `AKIA${id.slice(0, 4)}USER${String(index + 1).padStart(8, '0')}`, status: 'Active' as const, createdAt: '2022-02-01T00:00:00Z' }],
  })),
});

connectorContract({
  connector: awsIam,
  async start() {
    // Two users a page: ListUsers of the first account takes three pages; each account is a cursor.
    const fake = new FakeIam({
      accounts: [account(MAIN, 5), account(OTHER, 2)],
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, account: MAIN },
      roles: [{ arn: ROLE }],
      maxPageSize: 2,
    });
    const endpoint = await fake.start();
    return {
      server: {
        faults: fake.faults,
        requests: (operation) => fake.count(operation),
        reset: () => fake.reset(),
        close: () => fake.close(),
      },
      config: {
        endpoint,
        credentials: { accessKeyId: { env: 'IAM_KEY_ID' }, secretAccessKey: { env: 'IAM_SECRET' } },
        accounts: [{ id: MAIN }, { roleArn: ROLE }],
        maxAttempts: 3,
        reportPollIntervalMs: 5,
      },
      env: { IAM_KEY_ID: ACCESS_KEY_ID, IAM_SECRET: SECRET },
      secrets: () => [ACCESS_KEY_ID, SECRET, ...fake.issuedSecrets()],
    };
  },
  operation: 'ListUsers',
  names: /^aws-iam: account 111111111111: ListUsers page 2: /,
  key: (record) => `${String(record['tenant'])}/${String(record['id'])}`,
});
