import { z } from 'zod';
import { SecretRef } from '../../core/secrets.ts';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { MalformedResponseError } from '../errors.ts';
import { parseResponse } from '../kit/validate.ts';
import { GraphRefusal, graphConnection, type GraphConnection } from './client.ts';
import { RegistrationPage, SIGN_IN_ACTIVITY, toIdentity, USER_PROPERTIES, UsersPage, type UserRegistration } from './mapping.ts';

/** Graph's page-size caps for `/users`: 999, but 500 while signInActivity is selected. */
const MAX_PAGE_SIZE = 999;
const MAX_PAGE_SIZE_WITH_SIGN_IN_ACTIVITY = 500;
const REGISTRATION_REPORT = '/reports/authenticationMethods/userRegistrationDetails';

// The Graph client attaches the bearer token to https hosts only.
const httpsUrl = z.url({ protocol: /^https$/ });

export const MicrosoftGraphConfig = z
  .strictObject({
    tenantId: z
      .string()
      .regex(/^[0-9A-Za-z.-]+$/, 'a tenant id (GUID) or a verified domain')
      .describe('The Entra ID tenant (directory) id, or one of its verified domains.'),
    clientId: z.string().min(1).describe('The application (client) id of the app registration granted User.Read.All and AuditLog.Read.All.'),
    clientSecret: SecretRef.describe("The app registration's client secret, as a secret reference."),
    baseUrl: httpsUrl
      .default('https://graph.microsoft.com')
      .describe("Graph's origin: https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn for national clouds."),
    authorityHost: httpsUrl
      .default('https://login.microsoftonline.com')
      .describe('The sign-in authority: https://login.microsoftonline.us, https://login.chinacloudapi.cn for national clouds.'),
    pageSize: z
      .number()
      .int()
      .min(1)
      .max(MAX_PAGE_SIZE)
      .default(MAX_PAGE_SIZE_WITH_SIGN_IN_ACTIVITY)
      .describe('Users per page; at most 500 while includeSignInActivity is on.'),
    includeSignInActivity: z
      .boolean()
      .default(true)
      .describe('Read last sign-in times; they need Entra ID P1/P2 and AuditLog.Read.All, and without them lastLoginAt is unknown.'),
    includeMfaRegistration: z
      .boolean()
      .default(true)
      .describe('Read MFA registration and admin roles from the registration report (same licence and permission).'),
    retry: z
      .strictObject({
        maxRetries: z.number().int().min(0).max(10).default(3).describe('Retries of a throttled or unavailable request.'),
        delaySeconds: z
          .number()
          .min(0)
          .max(180)
          .default(3)
          .describe('Seconds before a retry when Graph sends no Retry-After; from the second retry on, an exponential backoff is added.'),
      })
      .prefault({})
      .describe("The Graph client's retries of 429, 503 and 504, waiting Retry-After when Graph sends it."),
  })
  .superRefine((config, issues) => {
    if (config.includeSignInActivity && config.pageSize > MAX_PAGE_SIZE_WITH_SIGN_IN_ACTIVITY) {
      issues.addIssue({
        code: 'custom',
        path: ['pageSize'],
        message: `at most ${MAX_PAGE_SIZE_WITH_SIGN_IN_ACTIVITY} while includeSignInActivity is on: Graph refuses larger pages when signInActivity is selected`,
      });
    }
  })
  .describe('Microsoft Entra ID users as identities, from Microsoft Graph, with last sign-in times and MFA registration where the licence allows.');
export type MicrosoftGraphConfig = z.infer<typeof MicrosoftGraphConfig>;

export const microsoftGraph = defineConnector({
  name: 'microsoft-graph',
  kinds: ['identity'],
  version: '1',
  config: MicrosoftGraphConfig,
  async *collect(config, ctx) {
    const graph = graphConnection(config, await ctx.secret(config.clientSecret), ctx);
    const resumeLink = ctx.resumeCursor === undefined ? undefined : resumeLinkOf(ctx.resumeCursor, graph.origin);
    // A resumed listing keeps the $select it started with: the skip token belongs to that query.
    let withSignInActivity = resumeLink === undefined ? config.includeSignInActivity : selectsSignInActivity(resumeLink);
    ctx.provenance({
      api: 'Microsoft Graph v1.0 GET /users',
      baseUrl: graph.origin,
      authority: `${config.authorityHost.replace(/\/$/, '')}/${config.tenantId}`,
      tenantId: config.tenantId,
      clientId: config.clientId,
      pageSize: config.pageSize,
      ...(resumeLink === undefined ? {} : { resumedFrom: resumeLink }),
    });

    await graph.authenticate();

    let registrations: Map<string, UserRegistration> | 'unavailable' = 'unavailable';
    if (config.includeMfaRegistration) {
      registrations = await readRegistrations(graph, ctx);
    } else {
      ctx.provenance({ mfaRegistration: 'not requested' });
      ctx.warn('microsoft-graph: includeMfaRegistration is off: mfaEnabled is unknown and privileged is false for every identity');
    }
    if (!config.includeSignInActivity) {
      ctx.provenance({ signInActivity: 'not requested' });
      ctx.warn('microsoft-graph: includeSignInActivity is off: lastLoginAt is unknown for every identity');
    } else if (!withSignInActivity) {
      ctx.provenance({ signInActivity: 'unavailable (the interrupted listing had already gone without it)' });
      ctx.warn(signInActivityWarning('the listing this run resumes had already been refused signInActivity'));
    }

    let link = resumeLink ?? usersQuery(withSignInActivity, config.pageSize);
    let page = 0;
    let identities = 0;
    let withoutRegistration = 0;
    for (;;) {
      page++;
      const where = `users page ${page}${resumeLink === undefined ? '' : ' after resume'}`;
      let body: unknown;
      try {
        body = await graph.get(link);
      } catch (error) {
        if (page === 1 && resumeLink === undefined && withSignInActivity && error instanceof GraphRefusal && error.status === 403) {
          // Without Entra ID P1/P2 (or AuditLog.Read.All) Graph refuses the whole listing, not just the property.
          withSignInActivity = false;
          link = usersQuery(false, config.pageSize);
          page--;
          ctx.provenance({ signInActivity: `unavailable (${error.message})` });
          ctx.warn(signInActivityWarning(`Graph refused it with ${error.message}`));
          continue;
        }
        throw graph.failure(error, where);
      }
      if (page === 1 && withSignInActivity) ctx.provenance({ signInActivity: 'selected' });
      const users = parsePage(UsersPage, body, where);
      for (const user of users.value) {
        const registration = registrations === 'unavailable' ? 'unavailable' : registrations.get(user.id);
        if (registration === undefined) withoutRegistration++;
        identities++;
        yield toIdentity(user, { tenant: config.tenantId, signInActivityKnown: withSignInActivity, registration });
      }
      const next = nextLinkOf(users, graph.origin, where);
      ctx.log.debug({ page, users: users.value.length, more: next !== undefined }, 'microsoft-graph: users page read');
      ctx.provenance({ pages: page, identities });
      if (next === undefined) break;
      link = next;
      await ctx.heartbeat(link);
    }

    if (withoutRegistration > 0) {
      ctx.warn(
        `microsoft-graph: ${withoutRegistration === 1 ? '1 user has' : `${withoutRegistration} users have`} no row in the MFA registration report ` +
          '(it lags behind new accounts): their mfaEnabled is unknown and privileged is false',
      );
    }
  },
});

function usersQuery(withSignInActivity: boolean, pageSize: number): string {
  const select = withSignInActivity ? [...USER_PROPERTIES, SIGN_IN_ACTIVITY] : [...USER_PROPERTIES];
  return `/users?$select=${select.join(',')}&$top=${pageSize}`;
}

function selectsSignInActivity(link: string): boolean {
  const select = new URL(link).searchParams.get('$select') ?? '';
  return select.split(',').some((property) => property.trim().toLowerCase() === SIGN_IN_ACTIVITY.toLowerCase());
}

function signInActivityWarning(why: string): string {
  return (
    `microsoft-graph: sign-in activity is unavailable (${why}). It needs a Microsoft Entra ID P1 or P2 licence and the ` +
    'AuditLog.Read.All application permission; users were listed without it, so lastLoginAt is unknown for every identity ' +
    'and dormant-account checks cannot judge them'
  );
}

/**
 * The registration report joined by user id. It is read whole before the users because every identity needs its
 * row; one small entry per user keeps that bounded even for large tenants.
 */
async function readRegistrations(graph: GraphConnection, ctx: ConnectorContext): Promise<Map<string, UserRegistration> | 'unavailable'> {
  const byUser = new Map<string, UserRegistration>();
  let link: string | undefined = REGISTRATION_REPORT;
  for (let page = 1; link !== undefined; page++) {
    const where = `userRegistrationDetails page ${page}`;
    let body: unknown;
    try {
      body = await graph.get(link);
    } catch (error) {
      if (page === 1 && error instanceof GraphRefusal && error.status === 403) {
        ctx.provenance({ mfaRegistration: `unavailable (${error.message})` });
        ctx.warn(
          `microsoft-graph: the MFA registration report is unavailable (Graph refused it with ${error.message}). It needs a Microsoft Entra ID ` +
            'P1 or P2 licence and the AuditLog.Read.All application permission; mfaEnabled is unknown for every identity, and privileged is ' +
            'false for every identity because admin roles come from the same report',
        );
        return 'unavailable';
      }
      throw graph.failure(error, where);
    }
    const rows = parsePage(RegistrationPage, body, where);
    for (const row of rows.value) byUser.set(row.id, row);
    link = nextLinkOf(rows, graph.origin, where);
    ctx.provenance({ mfaRegistration: `joined from GET ${REGISTRATION_REPORT} (${byUser.size} rows, ${page} pages)` });
  }
  return byUser;
}

function parsePage<T extends z.ZodType>(schema: T, body: unknown, where: string): z.output<T> {
  return parseResponse(schema, body, `microsoft-graph: ${where}`);
}

/** A next link elsewhere than Graph's origin would go out without the token (or leak it), so it is refused. */
function nextLinkOf(page: { '@odata.nextLink'?: string | undefined }, origin: string, where: string): string | undefined {
  const link = page['@odata.nextLink'];
  if (link === undefined || new URL(link).origin === origin) return link;
  throw new MalformedResponseError(`microsoft-graph: ${where}: field @odata.nextLink: points to ${new URL(link).origin}, not to ${origin}`);
}

function resumeLinkOf(cursor: string, origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(cursor);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.origin !== origin || !url.pathname.endsWith('/users')) {
    throw new MalformedResponseError(`microsoft-graph: resume cursor is not a /users next link on ${origin}: ${cursor.slice(0, 200)}`);
  }
  return cursor;
}
