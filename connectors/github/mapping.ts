import { z } from 'zod';
import type { Identity } from '../../evidence/records.ts';

/** Everything here speaks GitHub's field names; the rest of the connector sees only our records. */

export const SOURCE = 'github';

/** A user as the organisation lists return it (`simple-user`); only the fields we read. */
export const GitHubUser = z.object({
  login: z.string().min(1),
  id: z.number().int().positive(),
  type: z.string().optional(),
  site_admin: z.boolean().optional(),
  name: z.string().nullish(),
  email: z.string().nullish(),
});
export type GitHubUser = z.infer<typeof GitHubUser>;

/** A pending invitation: `login` is null for an address that has no GitHub account yet. */
export const OrgInvitation = z.object({
  id: z.number().int().positive(),
  login: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  inviter: z.object({ login: z.string() }).nullish(),
});
export type OrgInvitation = z.infer<typeof OrgInvitation>;

export const UsersPage = z.array(GitHubUser);
export const InvitationsPage = z.array(OrgInvitation);

export type Role = 'admin' | 'member' | 'outside-collaborator';

/** `twoFactorOff` is undefined when GitHub would not say (the filter needs an owner). */
export function userIdentity(user: GitHubUser, org: string, role: Role, twoFactorOff: ReadonlySet<number> | undefined): Identity {
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: org,
    id: String(user.id),
    username: user.login,
    email: user.email ? user.email.toLowerCase() : null,
    displayName: user.name ?? null,
    status: 'active',
    // site_admin is a GitHub Enterprise Server administrator: above every organisation of the instance.
    privileged: role === 'admin' || user.site_admin === true,
    mfaEnabled: twoFactorOff === undefined ? 'unknown' : !twoFactorOff.has(user.id),
    // No organisation API tells when an account last signed in: unknown, never "never".
    lastLoginAt: 'unknown',
    createdAt: null,
    credentials: [],
    groups: [role],
    raw: { role, external: role === 'outside-collaborator', type: user.type ?? null, siteAdmin: user.site_admin ?? null },
  };
}

export function invitationIdentity(invitation: OrgInvitation, org: string): Identity {
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: org,
    // Invitations have ids of their own, which may equal a user's id.
    id: `invitation:${invitation.id}`,
    username: invitation.login ?? invitation.email ?? `invitation ${invitation.id}`,
    email: invitation.email ? invitation.email.toLowerCase() : null,
    displayName: null,
    // Not a member until accepted: nothing to sign in to yet, so the access checks and reviews pass it by.
    status: 'suspended',
    privileged: invitation.role === 'admin',
    mfaEnabled: 'unknown',
    lastLoginAt: 'unknown',
    createdAt: invitation.created_at,
    credentials: [],
    groups: [],
    raw: { membership: 'pending-invitation', invitedRole: invitation.role, invitedBy: invitation.inviter?.login ?? null },
  };
}
