import { describe, expect, it } from 'vitest';
import { AwsBackupConfig } from '../../../connectors/aws-backup/index.ts';
import { AwsIamConfig } from '../../../connectors/aws-iam/config.ts';
import { describeIssues } from '../../../core/zod-issues.ts';

const ROLE = 'arn:aws:iam::222222222222:role/isms-reader';
const keys = { accessKeyId: { env: 'K' }, secretAccessKey: { env: 'S' } };

/** The AWS connectors' account entries and keys are one schema now: what one accepts or refuses, so does the other. */
describe.each([
  ['aws-iam', AwsIamConfig],
  ['aws-backup', AwsBackupConfig],
] as const)('%s AWS accounts and keys (connectors/kit/aws.ts)', (_name, schema) => {
  const problem = (config: unknown) => {
    const parsed = schema.safeParse(config);
    return parsed.success ? undefined : describeIssues(parsed.error.issues);
  };

  it('accepts a role with an external id, and static keys with a session token', () => {
    expect(
      problem({ accounts: [{ roleArn: ROLE, externalId: 'isms-7f3a' }, { id: '111111111111' }], credentials: { ...keys, sessionToken: { env: 'T' } } }),
    ).toBeUndefined();
    expect(problem({ accounts: [{ roleArn: 'arn:aws-us-gov:iam::222222222222:role/path/to/isms+reader' }] })).toBeUndefined();
  });

  it.each([
    [
      'a role of another account than the id',
      { accounts: [{ id: '111111111111', roleArn: ROLE }] },
      'field accounts[0].roleArn: the roleArn belongs to account 222222222222, not to id 111111111111',
    ],
    [
      'a role name IAM would refuse',
      { accounts: [{ roleArn: 'arn:aws:iam::222222222222:role/isms reader' }] },
      'field accounts[0].roleArn: an IAM role ARN such as arn:aws:iam::123456789012:role/isms-reader',
    ],
    ['an account id that is not 12 digits', { accounts: [{ id: '1234' }] }, 'field accounts[0].id: a 12-digit AWS account id'],
    [
      'an external id without a role',
      { accounts: [{ id: '111111111111', externalId: 'isms-7f3a' }] },
      'field accounts[0].externalId: externalId needs a roleArn',
    ],
    [
      'two accounts on the worker credentials as they are',
      { accounts: [{ id: '111111111111' }, { id: '333333333333' }] },
      'field accounts: only one account can use the worker credentials as they are; give the others a roleArn',
    ],
    ['a literal secret key', { credentials: { accessKeyId: { env: 'K' }, secretAccessKey: 'wJalrXUtnFEMI' } }, 'field credentials.secretAccessKey:'],
  ])('refuses %s', (_case, config, message) => {
    expect(problem(config)).toContain(message);
  });
});
