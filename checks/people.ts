import { z } from 'zod';
import type { HrPerson, Identity } from '../evidence/records.ts';

/**
 * Joining accounts to the people HR knows. Shared by every check that asks "whose account is this?", so that
 * leaver-still-active and orphan-account can never disagree about who owns an account.
 */

export const PersonMatchingParams = z.strictObject({
  ignorePlusAddressing: z
    .boolean()
    .default(true)
    .describe('Treat jane+tag@example.com as jane@example.com when joining accounts to people. Default: true.'),
  mappings: z
    .record(z.string().min(1), z.array(z.string().min(1)))
    .default({})
    .describe(
      'For accounts no email or alias joins: HR employeeId -> account usernames or emails, optionally qualified by system ("aws-prod:jdoe"). Matched without regard to case. Default: none.',
    ),
});
export type PersonMatchingParams = z.infer<typeof PersonMatchingParams>;

export interface NormalizeOptions {
  readonly ignorePlusAddressing: boolean;
}

/**
 * The form in which two addresses are compared: trimmed, lower-case and, optionally, without a `+tag`.
 * Anything that is not shaped like local@domain gives null: a bare username such as "admin" must never join
 * to a person by accident; such accounts are joined through `mappings`.
 */
export function normalizeEmail(value: string | null | undefined, options: NormalizeOptions = { ignorePlusAddressing: true }): string | null {
  const address = value?.trim().toLowerCase() ?? '';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const plus = local.indexOf('+');
  return options.ignorePlusAddressing && plus > 0 ? `${local.slice(0, plus)}@${domain}` : address;
}

export type MatchedBy = 'email' | 'alias' | 'mapping';

export interface PersonMatch {
  readonly person: HrPerson;
  readonly matchedBy: MatchedBy;
}

export interface PeopleIndex {
  /** Every HR person (of any status) the account belongs to, each once, by the strongest way it matched. */
  matchesOf(identity: Identity): PersonMatch[];
}

const strength: Record<MatchedBy, number> = { mapping: 3, email: 2, alias: 1 };

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Addresses the directory itself lists for the account (Google Workspace keeps them in `raw.aliases`). */
function accountAliases(identity: Identity): string[] {
  const aliases = identity.raw?.['aliases'];
  return Array.isArray(aliases) ? aliases.filter((alias): alias is string => typeof alias === 'string') : [];
}

export function indexPeople(people: readonly HrPerson[], params: PersonMatchingParams): PeopleIndex {
  const options: NormalizeOptions = { ignorePlusAddressing: params.ignorePlusAddressing };
  const byAddress = new Map<string, PersonMatch[]>();
  const byEmployeeId = new Map<string, HrPerson[]>();
  for (const person of people) {
    push(byEmployeeId, person.employeeId, person);
    const primary = normalizeEmail(person.email, options);
    if (primary) push(byAddress, primary, { person, matchedBy: 'email' });
    for (const alias of person.aliases) {
      const address = normalizeEmail(alias, options);
      if (address) push(byAddress, address, { person, matchedBy: 'alias' });
    }
  }
  // An explicit mapping says exactly which account is meant, so it is compared as written (case aside), never plus-stripped.
  const byMappedAccount = new Map<string, PersonMatch[]>();
  for (const [employeeId, accounts] of Object.entries(params.mappings)) {
    for (const person of byEmployeeId.get(employeeId) ?? []) {
      for (const account of accounts) push(byMappedAccount, account.trim().toLowerCase(), { person, matchedBy: 'mapping' });
    }
  }

  return {
    matchesOf(identity) {
      const found: PersonMatch[] = [];
      const addresses = [identity.email, identity.username, ...accountAliases(identity)].map((value) => normalizeEmail(value, options));
      for (const address of new Set(addresses)) {
        if (address) found.push(...(byAddress.get(address) ?? []));
      }
      // A mapping may name the system by its source name or, for connectors that serve many systems, by its tenant.
      const accountKeys = [identity.username, identity.email, `${identity.source}:${identity.username}`, `${identity.tenant}:${identity.username}`];
      for (const key of new Set(accountKeys.flatMap((account) => (account ? [account.trim().toLowerCase()] : [])))) {
        found.push(...(byMappedAccount.get(key) ?? []));
      }
      const best = new Map<HrPerson, PersonMatch>();
      for (const match of found) {
        const previous = best.get(match.person);
        if (!previous || strength[match.matchedBy] > strength[previous.matchedBy]) best.set(match.person, match);
      }
      return [...best.values()];
    },
  };
}
