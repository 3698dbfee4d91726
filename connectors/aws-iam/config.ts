import { z } from 'zod';
import { awsAccountFields, awsAccounts, AwsKeys, AwsRegion, checkAwsAccount } from '../kit/aws.ts';

export const AwsIamAccount = z.strictObject({ ...awsAccountFields, region: AwsRegion.default('us-east-1') }).superRefine(checkAwsAccount);

export const AwsIamConfig = z.strictObject({
  /** Without entries: the one account the worker's default credential chain reaches. */
  accounts: awsAccounts(AwsIamAccount).prefault([{}]),
  /** Overrides the IAM and STS endpoints (a VPC endpoint, a local test server). */
  endpoint: z.url().optional(),
  /** Static keys; without them the SDK's default credential chain (environment, profile, instance role) is used. */
  credentials: AwsKeys.optional(),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  reportPollIntervalMs: z.number().int().min(0).default(2000),
  reportTimeoutMs: z.number().int().min(0).default(120_000),
  /** Per-user calls for groups, policies and real key ids; off, privilege cannot be judged (only root is privileged). */
  perUserDetails: z.boolean().default(true),
  /** Policies (attached or inline, directly or through a group) that make a user privileged. */
  privilegedPolicies: z.array(z.string().min(1)).default(['AdministratorAccess', 'IAMFullAccess']),
});
export type AwsIamConfig = z.infer<typeof AwsIamConfig>;
export type AwsIamAccount = z.infer<typeof AwsIamAccount>;
