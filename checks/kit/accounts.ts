import { z } from 'zod';
import type { Identity, Severity } from '../../core/records.ts';
import { epochMillis } from './contract.ts';
import { patternMatcher } from './patterns.ts';

/**
 * What the access-control checks share about accounts: which accounts count as active, how a deviation names
 * an account, how privilege raises severity, and which accounts are service accounts rather than people.
 *
 * The checks walk the accounts by index rather than with for-of or flatMap: an evaluate runs once per evidence, so
 * its loop is optimized mid-run, and there for-of was measured allocating an iterator result per account (12 MB per
 * check over 300k accounts, bench/access-review.ts) and flatMap an array per account; the garbage is GC time.
 */

/** Suspended, disabled and deleted accounts cannot be used to sign in, so no access-control check counts them. */
export function isActive(identity: Identity): boolean {
  return identity.status === 'active';
}

/** Stable across runs (it becomes part of the nonconformity fingerprint): the source's own id, never a display name. */
export function accountSubject(identity: Identity): string {
  return `${identity.source}:${identity.tenant}:${identity.id}`;
}

/** How titles and details name an account: the username, the system and the tenant it lives in. */
export function accountLabel(identity: Identity): string {
  return `${identity.username} in ${identity.source} (${identity.tenant})`;
}

/** The identity values every access deviation carries, so a reader need not open the evidence blob. */
export function accountValues(identity: Identity): Record<string, unknown> {
  return {
    system: identity.source,
    tenant: identity.tenant,
    accountId: identity.id,
    account: identity.username,
    email: identity.email,
    status: identity.status,
    privileged: identity.privileged,
  };
}

const raised: Record<Severity, Severity> = { info: 'low', low: 'medium', medium: 'high', high: 'critical', critical: 'critical' };

/** A privileged account widens the blast radius of any weakness, so it is one step more severe. */
export function severityFor(base: Severity, identity: Identity): Severity {
  return identity.privileged ? raised[base] : base;
}

/** Whole days, rounded down, for sentences; the exact fraction stays in the comparisons. */
export function wholeDays(days: number): number {
  return Math.floor(days);
}

/** Evidence ids in first-seen order, once each. */
export function distinctIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * Username patterns with `*` as the only wildcard, matched case-insensitively against the whole username
 * (directories treat usernames and email addresses without regard to case).
 */
export function usernameMatcher(patterns: readonly string[]): (identity: Identity) => boolean {
  const matches = patternMatcher(patterns);
  return (identity) => matches(identity.username);
}

export const UsernamePatterns = z.array(z.string().min(1));

export const ServiceAccountParams = z.strictObject({
  serviceAccountPatterns: UsernamePatterns.default(['svc-*', '*-bot', '*@*.iam.gserviceaccount.com']).describe(
    'Usernames (`*` wildcard, case-insensitive) of machine accounts that no person owns. Default: svc-*, *-bot, *@*.iam.gserviceaccount.com.',
  ),
  serviceAccountTag: z
    .string()
    .min(1)
    .default('service-account')
    .describe("A tag in the account's raw `tags` (a list of strings, or key/value tags) marking a machine account. Default: service-account."),
});
export type ServiceAccountParams = z.infer<typeof ServiceAccountParams>;

const falseTagValues = new Set(['false', 'no', '0', 'off']);

function tagMatches(key: unknown, value: unknown, tag: string): boolean {
  const wanted = tag.toLowerCase();
  const keyText = typeof key === 'string' ? key.toLowerCase() : undefined;
  const valueText = typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? String(value).toLowerCase() : undefined;
  // `{ "service-account": "true" }` and `{ "type": "service-account" }` are both how people tag in the wild.
  if (keyText === wanted) return valueText === undefined || !falseTagValues.has(valueText);
  return valueText === wanted;
}

/** The key/value tags of the source's raw `tags`: `{ Key, Value }` pairs (AWS) or a key/value record; bare strings are keys without a value. */
function tagPairs(identity: Identity): [key: unknown, value: unknown][] {
  const tags = identity.raw?.['tags'];
  if (Array.isArray(tags)) {
    return tags.flatMap((entry: unknown): [unknown, unknown][] => {
      if (typeof entry === 'string') return [[entry, undefined]];
      if (entry !== null && typeof entry === 'object') {
        const pair = entry as Record<string, unknown>;
        return [[pair['Key'] ?? pair['key'], pair['Value'] ?? pair['value']]];
      }
      return [];
    });
  }
  if (tags !== null && typeof tags === 'object') return Object.entries(tags as Record<string, unknown>);
  return [];
}

/** Whether the source's raw tags carry `tag`: a list of strings, a list of `{ Key, Value }` pairs (AWS), or a key/value record. */
export function hasTag(identity: Identity, tag: string): boolean {
  if (identity.raw?.['tags'] === undefined) return false;
  return tagPairs(identity).some(([key, value]) => tagMatches(key, value, tag));
}

/** The text of the account's tag `key` (compared without regard to case, as hasTag does); null when it has none. */
export function tagValue(identity: Identity, key: string): string | null {
  if (identity.raw?.['tags'] === undefined) return null;
  const wanted = key.toLowerCase();
  for (const [name, value] of tagPairs(identity)) {
    if (typeof name === 'string' && name.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return null;
}

/** Machine accounts: owned by no person, so joins to HR data and per-person rules (MFA) do not apply to them. */
export function serviceAccountTest(params: ServiceAccountParams): (identity: Identity) => boolean {
  const byName = usernameMatcher(params.serviceAccountPatterns);
  return (identity) => byName(identity) || hasTag(identity, params.serviceAccountTag);
}

export const CredentialUseParams = z.strictObject({
  credentialUseCountsAsActivity: z
    .boolean()
    .default(true)
    .describe(
      "Count the last use of any of the account's credentials (e.g. an access key) as activity, so API-only accounts that never sign in interactively are not reported as unused. Default: true.",
    ),
});

/** The latest use of any credential, active or not: a key used yesterday and deactivated today still shows the account in use. */
export function lastCredentialUseAt(identity: Identity): string | null {
  let latest: string | null = null;
  let latestTime = 0;
  const { credentials } = identity;
  for (let i = 0; i < credentials.length; i++) {
    const credential = credentials[i]!;
    if (credential.lastUsedAt === null) continue;
    const time = epochMillis(credential.lastUsedAt);
    if (latest === null || time > latestTime) {
      latest = credential.lastUsedAt;
      latestTime = time;
    }
  }
  return latest;
}
