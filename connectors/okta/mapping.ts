import { z } from 'zod';
import type { Identity } from '../../core/records.ts';

const timestamp = z.iso.datetime({ offset: true });
/** A user as `/api/v1/users` returns it; only the fields we read. */
export const OktaUser = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  created: timestamp.nullish(),
  activated: timestamp.nullish(),
  statusChanged: timestamp.nullish(),
  /** null until the user first signs in. */
  lastLogin: timestamp.nullish(),
  passwordChanged: timestamp.nullish(),
  profile: z.object({
    login: z.string().min(1),
    email: z.string().nullish(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    displayName: z.string().nullish(),
  }),
});
export type OktaUser = z.infer<typeof OktaUser>;
/** An enrolled factor (`/api/v1/users/{id}/factors`). */
export const OktaFactor = z.object({ id: z.string(), factorType: z.string(), provider: z.string().optional(), status: z.string() });
export type OktaFactor = z.infer<typeof OktaFactor>;
/** An admin role assignment (`/api/v1/users/{id}/roles`), direct or through a group. */
export const OktaRole = z.object({
  id: z.string(),
  type: z.string(),
  label: z.string().optional(),
  status: z.string().optional(),
  assignmentType: z.string().optional(),
});
export type OktaRole = z.infer<typeof OktaRole>;
export const OktaGroup = z.object({ id: z.string(), type: z.string().optional(), profile: z.object({ name: z.string() }) });
export type OktaGroup = z.infer<typeof OktaGroup>;

/**
 * Okta's lifecycle states. PROVISIONED (activation mail sent), RECOVERY, PASSWORD_EXPIRED and LOCKED_OUT keep the account and a way
 * into it, so they count as active for every access check; STAGED has no credentials yet; DEPROVISIONED is deactivated.
 */
const STATUS: Record<string, Identity['status']> = {
  ACTIVE: 'active',
  PROVISIONED: 'active',
  RECOVERY: 'active',
  PASSWORD_EXPIRED: 'active',
  LOCKED_OUT: 'active',
  STAGED: 'suspended',
  SUSPENDED: 'suspended',
  DEPROVISIONED: 'disabled',
};
/** A security question is something the user knows, like the password: it is no second factor. */
const NOT_A_SECOND_FACTOR = new Set(['question']);

export function identityStatus(status: string): Identity['status'] {
  // An unknown future state is taken as active, so a check flags it rather than passes it by.
  return STATUS[status] ?? 'active';
}

/** MFA counts only factors Okta says are ACTIVE: one merely enrolling (PENDING_ACTIVATION) protects nothing yet. */
export function mfaEnabled(factors: readonly OktaFactor[]): boolean {
  return factors.some((factor) => factor.status === 'ACTIVE' && !NOT_A_SECOND_FACTOR.has(factor.factorType));
}

export function userIdentity(
  user: OktaUser,
  tenant: string,
  details: { factors: readonly OktaFactor[]; roles: readonly OktaRole[]; groups: readonly OktaGroup[] },
): Identity {
  const { profile } = user;
  const name = profile.displayName ?? ([profile.firstName, profile.lastName].filter(Boolean).join(' ') || null);
  return {
    kind: 'identity',
    source: 'okta',
    tenant,
    id: user.id,
    username: profile.login,
    email: profile.email ? profile.email.toLowerCase() : null,
    displayName: name,
    status: identityStatus(user.status),
    privileged: details.roles.length > 0, // every admin role, read-only included, reaches other people's data or settings
    mfaEnabled: mfaEnabled(details.factors),
    lastLoginAt: user.lastLogin ?? null, // Okta leaves lastLogin null until the first sign-in: never
    createdAt: user.created ?? null,
    credentials: [],
    groups: details.groups.map((group) => group.profile.name),
    raw: {
      oktaStatus: user.status,
      statusChanged: user.statusChanged ?? null,
      passwordChanged: user.passwordChanged ?? null,
      adminRoles: details.roles.map((role) => ({ type: role.type, assignment: role.assignmentType ?? null })),
      factors: details.factors.map((factor) => ({ type: factor.factorType, provider: factor.provider ?? null, status: factor.status })),
    },
  };
}
