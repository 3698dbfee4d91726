import { z } from 'zod';
import type { Identity } from '../../core/records.ts';

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
// No organisation API tells when an account last signed in: unknown, which no check takes for "never" (null).
const base = { kind: 'identity', source: 'github', lastLoginAt: 'unknown' } as const;

/** `twoFactorOff` is undefined when GitHub would not say (only owners may ask): 2FA is then unknown, never assumed. */
export function userIdentity(
  user: GitHubUser,
  org: string,
  role: 'admin' | 'member' | 'outside-collaborator',
  twoFactorOff: ReadonlySet<number> | undefined,
): Identity {
  return {
    ...base,
    tenant: org,
    id: String(user.id),
    username: user.login,
    email: user.email ? user.email.toLowerCase() : null,
    displayName: user.name ?? null,
    privileged: role === 'admin' || user.site_admin === true, // site_admin: an Enterprise Server administrator, above every organisation
    status: 'active',
    mfaEnabled: twoFactorOff === undefined ? 'unknown' : !twoFactorOff.has(user.id),
    createdAt: null,
    credentials: [],
    groups: [role],
    raw: { role, external: role === 'outside-collaborator', type: user.type ?? null, siteAdmin: user.site_admin ?? null },
  };
}

export function invitationIdentity(invitation: OrgInvitation, org: string): Identity {
  return {
    ...base,
    tenant: org,
    id: `invitation:${invitation.id}`, // invitations have ids of their own, which may equal a user's
    username: invitation.login ?? invitation.email ?? `invitation ${invitation.id}`,
    email: invitation.email ? invitation.email.toLowerCase() : null,
    displayName: null,
    // Not a member until accepted: nothing to sign in to yet, so the access checks and reviews pass it by.
    status: 'suspended',
    privileged: invitation.role === 'admin',
    mfaEnabled: 'unknown',
    createdAt: invitation.created_at,
    credentials: [],
    groups: [],
    raw: { membership: 'pending-invitation', invitedRole: invitation.role, invitedBy: invitation.inviter?.login ?? null },
  };
}
