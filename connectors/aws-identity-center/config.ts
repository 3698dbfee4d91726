import { z } from 'zod';
import { awsAccountFields, AwsKeys, AwsRegion, checkAwsAccount } from '../kit/aws.ts';

export const AwsIdentityCenterConfig = z
  .strictObject({
    account: z
      .strictObject(awsAccountFields)
      .superRefine(checkAwsAccount)
      .prefault({})
      .describe('The account holding the Identity Center instance: the management account or its delegated administrator.'),
    region: AwsRegion.describe('The region Identity Center is enabled in.'),
    instanceArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
        'an Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-1234567890abcdef',
      )
      .optional()
      .describe('The instance to read; needed only when the account has more than one (an organization instance and account instances).'),
    endpoint: z.url().optional().describe('Overrides the Identity Store, SSO admin and STS endpoints (a VPC endpoint, a local test server).'),
    credentials: AwsKeys.optional(),
    maxAttempts: z.number().int().min(1).max(20).default(5).describe("Attempts per request, the SDK's retries of throttling and transient faults included."),
    pageSize: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe('Items asked for a page (the APIs allow 100 at most); also the users between two cursors.'),
    concurrency: z.number().int().min(1).max(10).default(4).describe('Users whose group memberships are read at once.'),
    privilegedPolicies: z
      .array(z.string().min(1))
      .default(['AdministratorAccess', 'IAMFullAccess'])
      .describe('AWS managed policies that make a permission set privileged; an inline policy allowing *, iam:* or NotAction always does.'),
  })
  .describe('AWS IAM Identity Center: every identity store user with the accounts each reaches and through which permission set.');
export type AwsIdentityCenterConfig = z.infer<typeof AwsIdentityCenterConfig>;
