import { z } from 'zod';
import { SecretRef } from '../../config/secrets.ts';
import type { Identity } from '../../evidence/records.ts';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import * as errors from '../errors.ts';
import { gitHubClient, principalOf, type GitHubAuth, type GitHubPage } from './client.ts';
import { invitationIdentity, InvitationsPage, userIdentity, UsersPage } from './mapping.ts';

export const GitHubConfig = z
  .strictObject({
    /** The organisation's login, as in https://github.com/ORG. */
    org: z.string().max(39).regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, 'an organisation login'),
    /** https://HOST/api/v3 for GitHub Enterprise Server. */
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
    /** A fine-grained personal access token with the organisation permission Members: read. */
    token: SecretRef.optional(),
    /** A GitHub App installed on the organisation with Members: read; installation tokens are fetched as needed. */
    app: z.strictObject({ appId: z.union([z.number().int().positive(), z.string().min(1)]), installationId: z.number().int().positive(), privateKey: SecretRef }).optional(),
    perPage: z.number().int().min(1).max(100).default(100),
    rateLimit: z.strictObject({ maxRetries: z.number().int().min(0).max(10).default(3), maxWaitSeconds: z.number().int().min(0).max(3600).default(120) }).prefault({}),
  })
  .refine((config) => (config.token === undefined) !== (config.app === undefined), { path: ['token'], message: 'set exactly one of token (a fine-grained token) and app (a GitHub App installation)' });
export type GitHubConfig = z.infer<typeof GitHubConfig>;

const SECTIONS = ['members', 'outside_collaborators', 'invitations'] as const;
type Section = (typeof SECTIONS)[number];

/** Where a retry resumes: the last page kept of a section and the ids on it. */
const Cursor = z.strictObject({ section: z.enum(SECTIONS), page: z.string(), kept: z.array(z.number().int()).max(100) });
type Cursor = z.infer<typeof Cursor>;

export const gitHub = defineConnector({
  name: 'github',
  kinds: ['identity'],
  version: '1',
  config: GitHubConfig,
  async *collect(config, ctx) {
    const { org } = config;
    const auth = await authOf(config, ctx);
    const github = gitHubClient({ baseUrl: config.baseUrl, org, auth, rateLimit: config.rateLimit }, ctx);
    const resume = ctx.resumeCursor === undefined ? undefined : resumeOf(ctx.resumeCursor, github.origin, org);
    const list = (section: string, query = '') => `/orgs/${org}/${section}?${query}per_page=${config.perPage}`;
    const counts: Record<Section | 'owners' | 'pages', number> = { owners: 0, members: 0, outside_collaborators: 0, invitations: 0, pages: 0 };
    const report = () => ctx.provenance({ ...counts, rateLimitWaits: github.waits.count, rateLimitWaitedMs: github.waits.ms });
    ctx.provenance({ api: 'GitHub REST API 2022-11-28', baseUrl: config.baseUrl, org, auth: principalOf(auth), perPage: config.perPage, ...(resume && { resumedFrom: resume.page }) });

    async function idsOf(start: string, what: string): Promise<Set<number>> {
      const ids = new Set<number>();
      for await (const page of github.pages(start, what)) for (const user of parsePage(UsersPage, page)) ids.add(user.id);
      return ids;
    }
    /** Only owners may filter by two-factor status; anyone else is refused (422 "Only owners can use this filter."). */
    async function twoFactorOff(section: Section, who: string): Promise<Set<number> | undefined> {
      try {
        return await idsOf(list(section, 'filter=2fa_disabled&'), `${section} without 2FA`);
      } catch (error) {
        if (!(error instanceof errors.PermissionError || error instanceof errors.RequestRejectedError)) throw error;
        ctx.provenance({ [`twoFactor.${section}`]: 'unavailable' });
        ctx.warn(`github: two-factor status is unknown for every ${who}: GitHub answers filter=2fa_disabled to organisation owners only (${error.message})`);
        return undefined;
      }
    }

    // Owners are read first and members then listed whole: someone promoted meanwhile is missed as owner, never as member.
    const owners = await idsOf(list('members', 'role=admin&'), 'owners');
    counts.owners = owners.size;
    const membersOff = await twoFactorOff('members', 'member');
    const collaboratorsOff = await twoFactorOff('outside_collaborators', 'outside collaborator');
    const readers: Record<Section, (page: GitHubPage) => [number, Identity][]> = {
      members: (page) => parsePage(UsersPage, page).map((user) => [user.id, userIdentity(user, org, owners.has(user.id) ? 'admin' : 'member', membersOff)]),
      outside_collaborators: (page) => parsePage(UsersPage, page).map((user) => [user.id, userIdentity(user, org, 'outside-collaborator', collaboratorsOff)]),
      invitations: (page) => parsePage(InvitationsPage, page).map((invitation) => [invitation.id, invitationIdentity(invitation, org)]),
    };

    /**
     * GitHub pages by number, so accounts added or removed between attempts shift the pages. A retry therefore
     * finds the records it kept by id, not by position: it reads the last kept page again (or, if none of its
     * accounts is on it any more, the section from its start), skips up to the first account it kept there, and
     * keeps whatever follows that it had not kept. This holds as long as GitHub keeps the order of the accounts
     * that stay, whatever it sorts by.
     */
    async function* section(name: Section, from: Cursor | undefined): AsyncGenerator<Identity> {
      const kept = new Set(from?.kept);
      let placed = from === undefined;
      for (const start of from === undefined ? [list(name)] : [from.page, list(name)]) {
        const fromFirstPage = start === list(name);
        for await (const page of github.pages(start, name)) {
          counts.pages++;
          const items = readers[name](page);
          for (const [id, record] of items) {
            if (kept.has(id)) placed = true;
            else if (placed) {
              counts[name]++;
              yield record;
            }
          }
          if (!placed && !fromFirstPage) break;
          if (placed && items.length > 0) await ctx.heartbeat(JSON.stringify({ section: name, page: page.url, kept: items.map(([id]) => id) } satisfies Cursor));
          report();
        }
        if (placed) return;
      }
      throw new errors.RequestRejectedError(`github: ${name}: none of the ${kept.size} accounts on the page the last attempt kept is listed any more, so the listing cannot resume without losing or doubling accounts`);
    }

    for (const name of SECTIONS.slice(resume === undefined ? 0 : SECTIONS.indexOf(resume.section))) {
      yield* section(name, resume?.section === name ? resume : undefined);
    }
    report();
    ctx.warn('github: GitHub\'s organisation APIs do not tell when an account last signed in: lastLoginAt is unknown for every account');
  },
});

async function authOf(config: GitHubConfig, ctx: ConnectorContext): Promise<GitHubAuth> {
  if (config.app !== undefined) {
    // A PEM kept in an environment variable often has its line breaks written as \n.
    const privateKey = (await ctx.secret(config.app.privateKey)).reveal().replace(/\\n/g, '\n');
    return { kind: 'app', appId: config.app.appId, installationId: config.app.installationId, privateKey, keyRef: config.app.privateKey };
  }
  if (config.token !== undefined) return { kind: 'token', token: (await ctx.secret(config.token)).reveal() };
  throw new Error('github: config has neither token nor app; it was not parsed');
}

function parsePage<T extends z.ZodType>(schema: T, page: GitHubPage): z.output<T> {
  const parsed = schema.safeParse(page.data);
  if (!parsed.success) throw new errors.MalformedResponseError(`github: ${page.where}: ${errors.describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** GitHub's next links name the organisation by id (`/organizations/123/members`), so either form is accepted. */
function resumeOf(cursor: string, origin: string, org: string): Cursor {
  let parsed: Cursor | undefined;
  try {
    parsed = Cursor.parse(JSON.parse(cursor));
  } catch {
    parsed = undefined;
  }
  const url = parsed && URL.parse(parsed.page);
  const path = new RegExp(`/(orgs/${org}|organizations/\\d+)/${parsed?.section}$`, 'i');
  if (!parsed || url?.origin !== origin || !path.test(url.pathname)) {
    throw new errors.MalformedResponseError(`github: the resume cursor is not a page of organisation ${org} on ${origin}: ${cursor.slice(0, 200)}`);
  }
  return parsed;
}
