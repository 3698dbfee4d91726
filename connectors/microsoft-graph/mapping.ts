import { z } from 'zod';
import type { Identity } from '../../core/records.ts';

/**
 * Everything here speaks Microsoft Graph's field names: the user and registration-report shapes and their list
 * pages (Graph's error body is read by the SDK). The rest of the connector only sees our records and the facts extracted below.
 */

export const SOURCE = 'microsoft-graph';

/** The user properties every listing selects; `signInActivity` is added only while the tenant can give it. */
export const USER_PROPERTIES = ['id', 'userPrincipalName', 'mail', 'displayName', 'accountEnabled', 'userType', 'createdDateTime'] as const;
export const SIGN_IN_ACTIVITY = 'signInActivity';

const timestamp = z.iso.datetime({ offset: true });

/** Graph writes "no sign-in recorded" three ways: null, an empty string, or DateTime.MinValue. */
const signInTimestamp = z.union([z.literal(''), timestamp]).nullish();

export const SignInActivity = z.object({
  lastSignInDateTime: signInTimestamp,
  lastNonInteractiveSignInDateTime: signInTimestamp,
  /** Recorded only since December 2023, so older tenants lack it for users who have not signed in since. */
  lastSuccessfulSignInDateTime: signInTimestamp,
});
export type SignInActivity = z.infer<typeof SignInActivity>;

/** A user as `GET /v1.0/users?$select=...` returns it: a selected property without a value comes back as null. */
export const GraphUser = z.object({
  id: z.string().min(1),
  userPrincipalName: z.string().min(1),
  mail: z.string().nullable(),
  displayName: z.string().nullable(),
  accountEnabled: z.boolean(),
  /** Member or Guest; null on some accounts created before the property existed. */
  userType: z.string().nullable(),
  /** Null for accounts created before June 2018. */
  createdDateTime: timestamp.nullable(),
  /** Present only when selected; null for a user with no sign-in on record. */
  signInActivity: SignInActivity.nullish(),
});
export type GraphUser = z.infer<typeof GraphUser>;

const nextLink = z.url({ protocol: /^https$/ });

/** One page of a Graph collection; the last page has no `@odata.nextLink`. */
function collectionPage<T extends z.ZodType>(item: T) {
  return z.object({ value: z.array(item), '@odata.nextLink': nextLink.optional() });
}

export const UsersPage = collectionPage(GraphUser);
export type UsersPage = z.infer<typeof UsersPage>;

/** A row of `GET /v1.0/reports/authenticationMethods/userRegistrationDetails`; `id` is the user's object id. */
export const UserRegistration = z.object({
  id: z.string().min(1),
  userPrincipalName: z.string().nullish(),
  isAdmin: z.boolean(),
  isMfaRegistered: z.boolean(),
  isMfaCapable: z.boolean().nullish(),
  methodsRegistered: z.array(z.string()).nullish(),
});
export type UserRegistration = z.infer<typeof UserRegistration>;

export const RegistrationPage = collectionPage(UserRegistration);
export type RegistrationPage = z.infer<typeof RegistrationPage>;

/** What the collection knows beyond the user object itself. */
export interface UserContext {
  tenant: string;
  /** False when Graph refused `signInActivity` (no P1/P2 licence or no AuditLog.Read.All). */
  signInActivityKnown: boolean;
  /** The user's row of the registration report; 'unavailable' when the report itself could not be read. */
  registration: UserRegistration | undefined | 'unavailable';
}

export function toIdentity(user: GraphUser, context: UserContext): Identity {
  const registration = context.registration === 'unavailable' ? undefined : context.registration;
  return {
    kind: 'identity',
    source: SOURCE,
    tenant: context.tenant,
    id: user.id,
    username: user.userPrincipalName,
    email: user.mail === null ? null : user.mail.toLowerCase(),
    displayName: user.displayName,
    // Graph has no suspension: an account is either allowed to sign in or blocked.
    status: user.accountEnabled ? 'active' : 'disabled',
    // isAdmin exists only in the registration report; without it nothing says the account is privileged.
    privileged: registration?.isAdmin ?? false,
    mfaEnabled: registration?.isMfaRegistered ?? 'unknown',
    lastLoginAt: context.signInActivityKnown ? latestSignIn(user.signInActivity) : 'unknown',
    createdAt: user.createdDateTime,
    credentials: [],
    groups: [],
    raw: {
      userType: user.userType,
      ...(registration === undefined ? {} : { mfaMethodsRegistered: registration.methodsRegistered ?? [] }),
    },
  };
}

/**
 * The latest of the interactive, non-interactive and successful sign-ins; null (never) when none is recorded.
 * Non-interactive sign-ins count: a service or a refresh token still using the account keeps it in use.
 */
export function latestSignIn(activity: SignInActivity | null | undefined): string | null {
  if (!activity) return null;
  let latest: string | null = null;
  // Three fields read in turn rather than collected and filtered: this runs once per user of the tenant.
  for (const value of [activity.lastSignInDateTime, activity.lastNonInteractiveSignInDateTime, activity.lastSuccessfulSignInDateTime]) {
    if (value === null || value === undefined || isNoSignIn(value)) continue;
    if (latest === null || isLater(value, latest)) latest = value;
  }
  return latest;
}

/**
 * Graph writes UTC as `2024-05-01T08:15:00Z`: two such strings of one length compare as text, without the two
 * Date.parse calls (a third of this mapping's time over 100k users); any other pair is compared as instants.
 */
function isLater(a: string, b: string): boolean {
  if (a.length === b.length && a.endsWith('Z') && b.endsWith('Z') && a[10] === 'T' && b[10] === 'T') return a > b;
  return Date.parse(a) > Date.parse(b);
}

/** DateTime.MinValue (0001-01-01, with or without fractional seconds) is .NET's "no value", not a date. */
function isNoSignIn(value: string): boolean {
  return value === '' || value.startsWith('0001-01-01');
}
