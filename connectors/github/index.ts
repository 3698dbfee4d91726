import { z } from 'zod';
import type { Identity } from '../../core/records.ts';
import { defineConnector } from '../contract.ts';
import * as errors from '../errors.ts';
import { gitHubClient } from './client.ts';
import { GitHubConfig } from './config.ts';
import { GitHubUser, invitationIdentity, OrgInvitation, userIdentity } from './mapping.ts';

const SECTIONS = ['members', 'outside_collaborators', 'invitations'] as const;
type Section = (typeof SECTIONS)[number];
/** Where a retry resumes: a section, the last page of it kept, and the ids on that page. */
const Cursor = z.strictObject({ section: z.enum(SECTIONS), page: z.string(), kept: z.array(z.number().int()).max(100) });

export const gitHub = defineConnector({
  name: 'github',
  kinds: ['identity'],
  version: '1',
  config: GitHubConfig,
  async *collect(config, ctx) {
    const { org } = config;
    const github = await gitHubClient(config, ctx);
    const resume = ctx.resumeCursor === undefined ? undefined : resumeOf(ctx.resumeCursor, github.origin, org);
    const list = (section: Section, filter = '') => `/orgs/${org}/${section}?${filter}per_page=${config.perPage}`;
    const counts = { members: 0, outside_collaborators: 0, invitations: 0, pages: 0 };
    ctx.provenance({
      api: 'GitHub REST API 2022-11-28',
      baseUrl: config.baseUrl,
      org,
      auth: github.principal,
      perPage: config.perPage,
      ...(resume && { resumedFrom: resume.page }),
    });
    const idsOf = async (start: string, what: string, ids = new Set<number>()) => {
      for await (const page of github.pages(start, what, z.array(GitHubUser))) page.items.forEach((user) => ids.add(user.id));
      return ids;
    };
    /** Only owners may filter by two-factor status; anyone else is refused (422 "Only owners can use this filter."). */
    const twoFactorOff = (section: Section, who: string) =>
      idsOf(list(section, 'filter=2fa_disabled&'), `${section} without 2FA`).catch((error: unknown) => {
        if (!refused(error)) throw error;
        ctx.provenance({ [`twoFactor.${section}`]: 'unavailable' });
        ctx.warn(`github: two-factor status is unknown for every ${who}: GitHub answers filter=2fa_disabled to organisation owners only (${error.message})`);
        return undefined;
      });
    // Owners are read first and then all members: someone promoted meanwhile is missed as owner, never as member.
    const owners = await idsOf(list('members', 'role=admin&'), 'owners');
    const membersOff = await twoFactorOff('members', 'member');
    const collaboratorsOff = await twoFactorOff('outside_collaborators', 'outside collaborator');
    // GitHub pages by number, so accounts added or removed between attempts shift the pages: a retry re-reads the last
    // kept page (or the section from its start, if none of its accounts remains), skips to the first account it kept there
    // and keeps what follows. This holds as long as GitHub keeps the order of the accounts that stay.
    async function* section<T extends { id: number }>(name: Section, schema: z.ZodType<T[]>, toRecord: (item: T) => Identity): AsyncGenerator<Identity> {
      if (resume && SECTIONS.indexOf(name) < SECTIONS.indexOf(resume.section)) return;
      const from = resume?.section === name ? resume : undefined;
      const kept = new Set(from?.kept);
      let placed = from === undefined;
      for (const start of from === undefined ? [list(name)] : [from.page, list(name)]) {
        for await (const page of github.pages(start, name, schema)) {
          counts.pages++;
          for (const item of page.items) {
            if (kept.has(item.id)) placed = true;
            else if (placed) {
              counts[name]++;
              yield toRecord(item);
            }
          }
          if (!placed && start !== list(name)) break;
          if (placed && page.items.length > 0)
            await ctx.heartbeat(JSON.stringify({ section: name, page: page.url, kept: page.items.map((item) => item.id) } satisfies z.infer<typeof Cursor>));
          ctx.provenance({ owners: owners.size, ...counts });
        }
        if (placed) return;
      }
      throw new errors.RequestRejectedError(
        `github: ${name}: none of the ${kept.size} accounts on the page the last attempt kept is listed any more, so the listing cannot resume without losing or doubling accounts`,
      );
    }
    yield* section('members', z.array(GitHubUser), (user) => userIdentity(user, org, owners.has(user.id) ? 'admin' : 'member', membersOff));
    yield* section('outside_collaborators', z.array(GitHubUser), (user) => userIdentity(user, org, 'outside-collaborator', collaboratorsOff));
    try {
      yield* section('invitations', z.array(OrgInvitation), (invitation) => invitationIdentity(invitation, org));
    } catch (error) {
      if (!refused(error) || counts.invitations > 0) throw error; // organisations of Enterprise Managed Users have no invitations
      ctx.warn(`github: pending invitations are not recorded: GitHub refused to list them (${error.message})`);
    }
    ctx.warn("github: GitHub's organisation APIs do not tell when an account last signed in: lastLoginAt is unknown for every account");
  },
});

const refused = (error: unknown): error is Error =>
  error instanceof errors.PermissionError || error instanceof errors.RequestRejectedError || error instanceof errors.NotFoundError;

/** GitHub's next links name the organisation by id (`/organizations/123/members`), so either form is taken. */
function resumeOf(cursor: string, origin: string, org: string): z.infer<typeof Cursor> {
  try {
    const parsed = Cursor.parse(JSON.parse(cursor));
    const url = new URL(parsed.page);
    if (url.origin === origin && new RegExp(`/(orgs/${org}|organizations/\\d+)/${parsed.section}$`, 'i').test(url.pathname)) return parsed;
  } catch {
    // Not JSON, not a cursor, or no URL: refused below like any other.
  }
  throw new errors.MalformedResponseError(`github: the resume cursor is not a page of organisation ${org} on ${origin}: ${cursor.slice(0, 200)}`);
}
