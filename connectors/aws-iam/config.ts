import { z } from 'zod';
import { SecretRef } from '../../config/secrets.ts';

const AccountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');

export const AwsIamAccount = z
  .strictObject({
    /** Optional: taken from roleArn, or asked of STS (GetCallerIdentity) for the default credential chain. */
    id: AccountId.optional(),
    label: z.string().min(1).optional(),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN such as arn:aws:iam::123456789012:role/isms-reader')
      .optional(),
    // An external id guards against the confused deputy; it is not a secret, so it is plain config.
    externalId: z.string().min(2).max(1224).optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1').default('us-east-1'),
  })
  .refine((account) => account.externalId === undefined || account.roleArn !== undefined, { message: 'externalId needs a roleArn', path: ['externalId'] })
  .refine((account) => account.id === undefined || account.roleArn === undefined || account.roleArn.split(':')[4] === account.id, {
    message: 'the roleArn belongs to another account than id',
    path: ['roleArn'],
  });

export const AwsIamConfig = z.strictObject({
  /** Without entries: the one account the worker's default credential chain reaches. */
  accounts: z
    .array(AwsIamAccount)
    .min(1)
    .refine((accounts) => accounts.filter((account) => account.roleArn === undefined).length <= 1, {
      message: 'only one account can use the worker credentials as they are; give the others a roleArn',
    })
    .prefault([{}]),
  /** Overrides the IAM and STS endpoints (a VPC endpoint, a local test server). */
  endpoint: z.url().optional(),
  /** Static keys; without them the SDK's default credential chain (environment, profile, instance role) is used. */
  credentials: z.strictObject({ accessKeyId: SecretRef, secretAccessKey: SecretRef }).optional(),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  reportPollIntervalMs: z.number().int().min(0).default(2000),
  reportTimeoutMs: z.number().int().min(0).default(120_000),
  /** Per-user calls for groups, policies and real key ids; off, privilege cannot be judged (only root is privileged). */
  perUserDetails: z.boolean().default(true),
  /** Policies (attached or inline, directly or through a group) that make a user privileged. */
  privilegedPolicies: z.array(z.string().min(1)).default(['AdministratorAccess', 'IAMFullAccess']),
  /** Each user's tags into `raw.tags` (ListUserTags per user, iam:ListUserTags); set for a source whose join reads a tag. */
  userTags: z.boolean().default(false),
});
export type AwsIamConfig = z.infer<typeof AwsIamConfig>;
export type AwsIamAccount = z.infer<typeof AwsIamAccount>;
