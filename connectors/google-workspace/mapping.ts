import { z } from 'zod';
import type { Identity } from '../../core/records.ts';

/**
 * Everything here speaks Google's field names: the Directory API's user and list shapes, its error bodies,
 * the OAuth token endpoint's error body and the service-account key file. The rest of the connector only
 * sees our records and the small facts extracted below.
 */

const timestamp = z.iso.datetime({ offset: true });

/** A user as `users.list` returns it with `projection=full`; only the fields we read are declared. */
export const DirectoryUser = z.object({
  id: z.string().min(1),
  primaryEmail: z.string().min(1),
  name: z.object({ fullName: z.string().optional(), givenName: z.string().optional(), familyName: z.string().optional() }).optional(),
  customerId: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  nonEditableAliases: z.array(z.string()).optional(),
  suspended: z.boolean().optional(),
  suspensionReason: z.string().optional(),
  archived: z.boolean().optional(),
  isAdmin: z.boolean().optional(),
  isDelegatedAdmin: z.boolean().optional(),
  isEnrolledIn2Sv: z.boolean().optional(),
  isEnforcedIn2Sv: z.boolean().optional(),
  lastLoginTime: timestamp.optional(),
  creationTime: timestamp.optional(),
  orgUnitPath: z.string().optional(),
});
export type DirectoryUser = z.infer<typeof DirectoryUser>;

/** One page of `users.list`. An empty directory (or an empty last page) has no `users` field at all. */
export const UsersPage = z.object({
  kind: z.literal('admin#directory#users'),
  users: z.array(DirectoryUser).optional(),
  nextPageToken: z.string().optional(),
});
export type UsersPage = z.infer<typeof UsersPage>;

/** Google's lastLoginTime for an account that has never signed in. */
export const NEVER_LOGGED_IN = '1970-01-01T00:00:00.000Z';

export function toIdentity(user: DirectoryUser, tenant: string): Identity {
  const aliases = [...new Set([...(user.aliases ?? []), ...(user.nonEditableAliases ?? [])])];
  return {
    kind: 'identity',
    source: 'google-workspace',
    tenant: user.customerId ?? tenant,
    id: user.id,
    username: user.primaryEmail,
    email: user.primaryEmail.toLowerCase(),
    displayName: user.name?.fullName ?? null,
    // Archival is the deliberate offboarding state; it outranks a suspension, which may be temporary.
    status: user.archived === true ? 'disabled' : user.suspended === true ? 'suspended' : 'active',
    privileged: user.isAdmin === true || user.isDelegatedAdmin === true,
    mfaEnabled: user.isEnrolledIn2Sv ?? 'unknown',
    lastLoginAt: lastLoginOf(user.lastLoginTime),
    createdAt: user.creationTime ?? null,
    credentials: [],
    groups: [],
    raw: {
      aliases,
      orgUnitPath: user.orgUnitPath ?? null,
      suspended: user.suspended ?? null,
      suspensionReason: user.suspensionReason ?? null,
      archived: user.archived ?? null,
      isAdmin: user.isAdmin ?? null,
      isDelegatedAdmin: user.isDelegatedAdmin ?? null,
      isEnforcedIn2Sv: user.isEnforcedIn2Sv ?? null,
    },
  };
}

function lastLoginOf(lastLoginTime: string | undefined): Identity['lastLoginAt'] {
  // Absent is not "never": Google writes the epoch for never, so a missing field means we were not told.
  if (lastLoginTime === undefined) return 'unknown';
  return Date.parse(lastLoginTime) === 0 ? null : lastLoginTime;
}

/** Google's JSON error body (`{ error: { code, message, errors: [{ domain, reason, message }], status } }`). */
export const GoogleApiError = z.object({
  error: z.object({
    code: z.number().int(),
    message: z.string(),
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string(), message: z.string().optional() })).optional(),
    status: z.string().optional(),
  }),
});

/** The OAuth 2.0 token endpoint's error body (RFC 6749 section 5.2). */
export const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

/** What an error response says, whichever of the two shapes it came in. */
export interface ErrorDetail {
  reason: string | undefined;
  message: string | undefined;
}

export function errorDetailOf(body: unknown): ErrorDetail {
  const api = GoogleApiError.safeParse(body);
  if (api.success) return { reason: api.data.error.errors?.[0]?.reason ?? api.data.error.status, message: api.data.error.message };
  const oauth = OAuthError.safeParse(body);
  if (oauth.success) return { reason: oauth.data.error, message: oauth.data.error_description };
  return { reason: undefined, message: undefined };
}

/** 403 reasons that mean "slow down", not "you may not": Google does not send these as 429. */
export const RATE_LIMIT_REASONS: ReadonlySet<string> = new Set(['userRateLimitExceeded', 'quotaExceeded', 'rateLimitExceeded']);

/** The service-account JSON key file as the Cloud console downloads it; only the fields the JWT flow needs. */
export const ServiceAccountKey = z.object({
  type: z.literal('service_account'),
  client_email: z.email(),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;
