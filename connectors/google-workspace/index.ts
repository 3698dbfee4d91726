import { z } from 'zod';
import { SecretRef } from '../../core/secrets.ts';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { nextPageToken, parseResponse } from '../kit/validate.ts';
import { DEFAULT_ROOT_URL, directoryClient, parseServiceAccountKey, type DirectoryCredentials, type UsersListParams } from './client.ts';
import { toIdentity, UsersPage } from './mapping.ts';

const httpUrl = z.url({ protocol: /^https?$/ });

export const GoogleWorkspaceConfig = z
  .strictObject({
    customer: z.string().min(1).optional().describe('The Workspace customer ID, or `my_customer` (the default) for the account the credentials belong to.'),
    domain: z.string().min(1).optional().describe('One domain of a multi-domain account, instead of the whole customer.'),
    serviceAccountKey: SecretRef.optional().describe("The service account's JSON key, for domain-wide delegation, as a secret reference; or give accessToken."),
    subject: z.email().optional().describe('The administrator the service account acts as; required with serviceAccountKey.'),
    accessToken: SecretRef.optional().describe('A ready OAuth access token, e.g. from workload identity federation, instead of a key.'),
    rootUrl: httpUrl.optional().describe("Replaces Google's API origin (private endpoints, tests); only its origin is used, as by the Google client itself."),
    tokenUrl: httpUrl.optional().describe("Replaces Google's OAuth token endpoint for the service-account grant (private endpoints, tests)."),
    maxResults: z.number().int().min(1).max(500).default(500).describe('Users per page of users.list.'),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(5)
      .describe('Retries of a rate-limited or failing request (403 and 429 rate limits, 5xx, network errors).'),
    retryBaseMs: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(1000)
      .describe('Milliseconds of backoff before the first retry; it doubles with each further retry (with jitter), up to 64 seconds.'),
  })
  .superRefine((config, issues) => {
    const problem = (path: string, message: string) => issues.addIssue({ code: 'custom', path: [path], message });
    if (config.customer !== undefined && config.domain !== undefined) problem('domain', 'set either customer or domain, not both');
    if (config.serviceAccountKey === undefined && config.accessToken === undefined) {
      problem('serviceAccountKey', 'set serviceAccountKey (with subject) or accessToken');
    }
    if (config.serviceAccountKey !== undefined && config.accessToken !== undefined)
      problem('accessToken', 'set either serviceAccountKey or accessToken, not both');
    if (config.serviceAccountKey !== undefined && config.subject === undefined) {
      problem('subject', 'required with serviceAccountKey: the administrator the service account acts as');
    }
    if (config.serviceAccountKey === undefined && config.subject !== undefined) problem('subject', 'is used only with serviceAccountKey');
    if (config.serviceAccountKey === undefined && config.tokenUrl !== undefined) problem('tokenUrl', 'is used only with serviceAccountKey');
  })
  .describe('Google Workspace users as identities, from the Admin SDK Directory API, with a service account (domain-wide delegation) or an access token.');
export type GoogleWorkspaceConfig = z.infer<typeof GoogleWorkspaceConfig>;

export const googleWorkspace = defineConnector({
  name: 'google-workspace',
  kinds: ['identity'],
  version: '1',
  config: GoogleWorkspaceConfig,
  async *collect(config, ctx) {
    const credentials = await credentialsOf(config, ctx);
    const directory = directoryClient(
      { credentials, rootUrl: config.rootUrl, tokenUrl: config.tokenUrl, retry: { maxRetries: config.maxRetries, baseMs: config.retryBaseMs } },
      ctx,
    );
    const tenant = config.domain ?? config.customer ?? 'my_customer';
    const scope: Pick<UsersListParams, 'customer' | 'domain'> = config.domain === undefined ? { customer: tenant } : { domain: tenant };
    ctx.provenance({
      api: 'Admin SDK Directory API directory_v1 users.list',
      endpoint: new URL(config.rootUrl ?? DEFAULT_ROOT_URL).origin,
      ...scope,
      projection: 'full',
      orderBy: 'email',
      showDeleted: false,
      maxResults: config.maxResults,
      auth: credentials.kind === 'service-account' ? 'service account with domain-wide delegation' : 'access token',
      ...(credentials.kind === 'service-account' ? { serviceAccount: credentials.key.client_email, subject: credentials.subject } : {}),
      resumed: ctx.resumeCursor !== undefined,
    });

    let pageToken = ctx.resumeCursor;
    let page = 0;
    let users = 0;
    let mfaUnknown = 0;
    let lastLoginUnknown = 0;
    do {
      page++;
      const where = `users.list page ${page}${ctx.resumeCursor === undefined ? '' : ' after resume'}`;
      const params: UsersListParams = { ...scope, maxResults: config.maxResults, pageToken };
      const body = parseResponse(UsersPage, await directory.listUsers(params, where), `google-workspace: ${where}`);
      for (const user of body.users ?? []) {
        const identity = toIdentity(user, tenant);
        if (identity.mfaEnabled === 'unknown') mfaUnknown++;
        if (identity.lastLoginAt === 'unknown') lastLoginUnknown++;
        users++;
        yield identity;
      }
      pageToken = nextPageToken(body.nextPageToken, pageToken, `google-workspace: ${where}`, 'nextPageToken');
      ctx.log.debug({ page, users: body.users?.length ?? 0, more: pageToken !== undefined }, 'google-workspace: users.list page read');
      // No heartbeat after the last page: a cursor-less checkpoint would make a retry start over on top of kept records.
      if (pageToken !== undefined) await ctx.heartbeat(pageToken);
      ctx.provenance({ pages: page, users });
    } while (pageToken !== undefined);

    if (mfaUnknown > 0) ctx.warn(`google-workspace: ${mfaUnknown} users came without isEnrolledIn2Sv; their mfaEnabled is recorded as unknown`);
    if (lastLoginUnknown > 0) ctx.warn(`google-workspace: ${lastLoginUnknown} users came without lastLoginTime; their lastLoginAt is recorded as unknown`);
  },
});

async function credentialsOf(config: GoogleWorkspaceConfig, ctx: ConnectorContext): Promise<DirectoryCredentials> {
  if (config.serviceAccountKey !== undefined && config.subject !== undefined) {
    const key = parseServiceAccountKey(await ctx.secret(config.serviceAccountKey), config.serviceAccountKey);
    return { kind: 'service-account', key, subject: config.subject };
  }
  if (config.accessToken !== undefined) return { kind: 'access-token', token: (await ctx.secret(config.accessToken)).reveal() };
  // The config schema refuses this combination; reaching it means the config was not parsed.
  throw new Error('google-workspace: config has neither serviceAccountKey with subject nor accessToken');
}
