import { z } from 'zod';
import { SecretRef } from '../../core/secrets.ts';

export const GitHubConfig = z
  .strictObject({
    org: z
      .string()
      .max(39)
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, 'an organisation login')
      .describe('The organisation login, as in https://github.com/ORG.'),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://api.github.com')
      .describe('The REST API root; https://HOST/api/v3 for GitHub Enterprise Server.'),
    token: SecretRef.optional().describe(
      "A fine-grained personal access token with the organisation permission Members: read (an owner's, to learn two-factor status).",
    ),
    app: z
      .strictObject({
        appId: z.union([z.number().int().positive(), z.string().min(1)]).describe("The GitHub App's id."),
        installationId: z.number().int().positive().describe('The id of its installation on the organisation.'),
        privateKey: SecretRef.describe("The App's private key (PEM)."),
      })
      .optional()
      .describe('A GitHub App installed on the organisation with Members: read, instead of a token.'),
    perPage: z.number().int().min(1).max(100).default(100).describe('Accounts asked for a page (GitHub allows 100 at most).'),
    rateLimit: z
      .strictObject({
        maxRetries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(3)
          .describe('Retries of a page within one attempt (rate limited, 5xx, cut short) before the attempt fails.'),
        maxWaitSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(120)
          .describe('The longest single wait; a longer reset fails the attempt as throttled, retried later.'),
      })
      .prefault({})
      .describe('How rate limits and passing failures are waited out and retried.'),
  })
  .refine((config) => (config.token === undefined) !== (config.app === undefined), {
    path: ['token'],
    message: 'set exactly one of token (a fine-grained token) and app (a GitHub App installation)',
  })
  .describe('A GitHub organisation: members with their role and two-factor status, outside collaborators, pending invitations.');
export type GitHubConfig = z.infer<typeof GitHubConfig>;
