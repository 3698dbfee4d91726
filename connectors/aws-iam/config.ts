import { z } from 'zod';
import { awsAccountFields, awsAccounts, AwsKeys, AwsRegion, checkAwsAccount } from '../kit/aws.ts';

export const AwsIamAccount = z
  .strictObject({ ...awsAccountFields, region: AwsRegion.default('us-east-1').describe('The region the IAM and STS clients sign for (IAM itself is global).') })
  .superRefine(checkAwsAccount);

export const AwsIamConfig = z
  .strictObject({
    accounts: awsAccounts(AwsIamAccount)
      .prefault([{}])
      .describe("The AWS accounts to read; by default the one account the worker's credentials reach. At most one entry without a roleArn."),
    endpoint: z.url().optional().describe('Overrides the IAM and STS endpoints (a VPC endpoint, a local test server).'),
    credentials: AwsKeys.optional(),
    maxAttempts: z.number().int().min(1).max(20).default(5).describe("Attempts per request, the SDK's retries of throttling and transient faults included."),
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
