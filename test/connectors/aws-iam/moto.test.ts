// @module-tag moto
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  PutUserPolicyCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsIam } from '../../../connectors/aws-iam/index.ts';
import { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { startMoto, type MotoServer } from '../../support/moto-iam.ts';

/** moto's default account. */
const ACCOUNT = '123456789012';
const SECRET = 'moto-secret-key-never-in-evidence';

let moto: MotoServer | undefined;
const keys: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto({ MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' });
  const iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: SECRET } });
  try {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new CreateUserCommand({ UserName: 'bob', Path: '/ops/' }));
    await iam.send(new CreateUserCommand({ UserName: 'nobody' }));
    await iam.send(new CreateUserCommand({ UserName: 'former' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'Correct-Horse-9' }));
    keys.alice = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey?.AccessKeyId ?? '';
    keys.bob1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey?.AccessKeyId ?? '';
    keys.bob2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey?.AccessKeyId ?? '';
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.bob2, Status: 'Inactive' }));
    keys.former = (await iam.send(new CreateAccessKeyCommand({ UserName: 'former' }))).AccessKey?.AccessKeyId ?? '';
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'former', AccessKeyId: keys.former, Status: 'Inactive' }));
    await iam.send(
      new TagUserCommand({
        UserName: 'bob',
        Tags: [
          { Key: 'email', Value: 'bob@example.com' },
          { Key: 'team', Value: 'ops' },
        ],
      }),
    );
    const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'alice' }));
    await iam.send(
      new EnableMFADeviceCommand({
        UserName: 'alice',
        SerialNumber: device.VirtualMFADevice?.SerialNumber,
        AuthenticationCode1: '123456',
        AuthenticationCode2: '654321',
      }),
    );
    await iam.send(new CreateGroupCommand({ GroupName: 'admins' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'admins', UserName: 'alice' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'admins', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] });
    await iam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'IAMFullAccess', PolicyDocument: document }));
  } finally {
    iam.destroy();
  }
});

afterAll(async () => {
  await moto?.stop();
});

async function collect(overrides: Record<string, unknown> = {}) {
  const test = testContext({ env: { MOTO_KEY_ID: 'testing', MOTO_SECRET: SECRET } });
  const config = awsIam.config.parse({
    ...overrides,
    endpoint: moto?.endpoint,
    credentials: { accessKeyId: { env: 'MOTO_KEY_ID' }, secretAccessKey: { env: 'MOTO_SECRET' } },
    // No id: the connector asks STS (GetCallerIdentity) which account the credentials reach.
    accounts: [{}],
    reportPollIntervalMs: 10,
  });
  return { records: await collectAll(awsIam.collect(config, test.ctx)), ...test };
}

describe('aws-iam against moto', () => {
  it('maps the users moto reports, with groups, policies, keys, password and MFA', async () => {
    const { records, provenance, heartbeats } = await collect();
    for (const record of records) expect(Identity.parse(record)).toEqual(record);
    // moto's report has no root row; it writes users in creation order.
    expect(records.map((record) => record.id)).toEqual([
      `arn:aws:iam::${ACCOUNT}:user/alice`,
      `arn:aws:iam::${ACCOUNT}:user/ops/bob`,
      `arn:aws:iam::${ACCOUNT}:user/nobody`,
      `arn:aws:iam::${ACCOUNT}:user/former`,
    ]);
    const [alice, bob, nobody, former] = records;
    expect(alice).toMatchObject({
      tenant: ACCOUNT,
      username: 'alice',
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: null,
      groups: ['admins'],
      credentials: [
        { kind: 'password', id: 'password', active: true, lastUsedAt: null },
        { kind: 'access-key', id: keys.alice, active: true, lastUsedAt: null },
      ],
      raw: { privilegedVia: ['AdministratorAccess (group admins, attached)'], credentialReport: { password_last_used: 'no_information' } },
    });
    expect(bob).toMatchObject({
      username: 'bob',
      privileged: true,
      mfaEnabled: false,
      groups: [],
      credentials: [
        { kind: 'access-key', id: keys.bob1, active: true },
        { kind: 'access-key', id: keys.bob2, active: false },
      ],
      raw: { path: '/ops/', privilegedVia: ['IAMFullAccess (inline)'] },
    });
    expect(alice).toMatchObject({ interactiveSignIn: true });
    expect(bob).toMatchObject({ status: 'active', interactiveSignIn: false });
    // Neither a console password nor an active access key: no one can sign in as them.
    expect(nobody).toMatchObject({ privileged: false, mfaEnabled: false, credentials: [], lastLoginAt: null, status: 'disabled', interactiveSignIn: false });
    expect(former).toMatchObject({ status: 'disabled', credentials: [{ kind: 'access-key', id: keys.former, active: false }] });
    expect(heartbeats).toEqual(['1']);
    expect(provenance.accounts).toMatchObject({
      [ACCOUNT]: {
        credentialReport: { rows: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        users: 4,
        usersMissingFromReport: 0,
        usersDeletedSinceReport: 0,
      },
    });
    expect(bob?.raw).not.toHaveProperty('tags');
  });

  it("reads the users' tags with ListUserTags when asked, in the shape IAM gives them", async () => {
    const { records } = await collect({ userTags: true });
    expect(records.map((record) => [record.username, record.raw?.['tags']])).toEqual([
      ['alice', []],
      [
        'bob',
        [
          { Key: 'email', Value: 'bob@example.com' },
          { Key: 'team', Value: 'ops' },
        ],
      ],
      ['nobody', []],
      ['former', []],
    ]);
  });

  it('keeps the secret key out of what it collects', async () => {
    const { records, provenance, warnings, logLines } = await collect();
    expect(JSON.stringify({ records, provenance, warnings, logLines })).not.toContain(SECRET);
  });
});
