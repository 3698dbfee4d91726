import { z } from 'zod';
import { SecretRef } from '../../config/secrets.ts';

const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');

export const AwsIamAccount = z
  .strictObject({
    id: AccountId.optional().describe('The 12-digit account id; taken from roleArn, or asked of STS (GetCallerIdentity) for the default credential chain.'),
    label: z.string().min(1).optional().describe('A name for the account in messages and provenance, e.g. "production".'),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN such as arn:aws:iam::123456789012:role/isms-reader')
      .optional()
      .describe('The role the worker assumes to read this account; without it, the worker\'s own credentials are used.'),
    // An external id guards against the confused deputy; it is not a secret, so it is plain config.
    externalId: z.string().min(2).max(1224).optional().describe('The external id the role\'s trust policy requires; needs roleArn.'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1')
      .default('us-east-1')
      .describe('The region the IAM and STS clients sign for (IAM itself is global).'),
  })
  .refine((account) => account.externalId === undefined || account.roleArn !== undefined, { message: 'externalId needs a roleArn', path: ['externalId'] })
  .refine((account) => account.id === undefined || account.roleArn === undefined || account.roleArn.split(':')[4] === account.id, {
    message: 'the roleArn belongs to another account than id',
    path: ['roleArn'],
  });

export const AwsIamConfig = z
  .strictObject({
    accounts: z
      .array(AwsIamAccount)
      .min(1)
      .refine((accounts) => accounts.filter((account) => account.roleArn === undefined).length <= 1, {
        message: 'only one account can use the worker credentials as they are; give the others a roleArn',
      })
      .prefault([{}])
      .describe('The AWS accounts to read; by default the one account the worker\'s credentials reach. At most one entry without a roleArn.'),
    endpoint: z.url().optional().describe('Overrides the IAM and STS endpoints (a VPC endpoint, a local test server).'),
    credentials: z
      .strictObject({
        accessKeyId: SecretRef.describe('The access key id, as a secret reference.'),
        secretAccessKey: SecretRef.describe('The secret access key, as a secret reference.'),
      })
      .optional()
      .describe('Static keys; without them the SDK\'s default credential chain (environment, profile, instance or task role) is used.'),
    maxAttempts: z.number().int().min(1).max(20).default(5).describe('Attempts per request, the SDK\'s retries of throttling and transient faults included.'),
    reportPollIntervalMs: z.number().int().min(0).default(2000).describe('Milliseconds between polls while IAM generates the credential report.'),
    reportTimeoutMs: z.number().int().min(0).default(120_000).describe('Milliseconds to wait for the credential report before the account fails.'),
    perUserDetails: z
      .boolean()
      .default(true)
      .describe('Per-user calls for groups, policies and real key ids; off, privilege cannot be judged (only root is privileged).'),
    privilegedPolicies: z
      .array(z.string().min(1))
      .default(['AdministratorAccess', 'IAMFullAccess'])
      .describe('Policies (attached or inline, directly or through a group) that make a user privileged.'),
    userTags: z
      .boolean()
      .default(false)
      .describe("Each user's tags into `raw.tags` (ListUserTags per user, iam:ListUserTags); set for a source whose join reads a tag."),
  })
  .describe('AWS IAM users of one or more accounts as identities: the credential report, ListUsers and per-user details.');
export type AwsIamConfig = z.infer<typeof AwsIamConfig>;
export type AwsIamAccount = z.infer<typeof AwsIamAccount>;
