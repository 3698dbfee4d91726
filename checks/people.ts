import { z } from 'zod';
import type { HrPerson, Identity } from '../evidence/records.ts';
import type { CheckEvidence } from './contract.ts';

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

/** Characters toLowerCase may change: ASCII capitals and anything beyond ASCII. */
const MAY_CHANGE_CASE = /[A-Z\u0080-\uffff]/;

const PLUS_IGNORED: NormalizeOptions = { ignorePlusAddressing: true };

/**
 * The form in which two addresses are compared: trimmed, lower-case and, optionally, without a `+tag`.
 * Anything that is not shaped like local@domain gives null: a bare username such as "admin" must never join
 * to a person by accident; such accounts are joined through `mappings`.
 */
export function normalizeEmail(value: string | null | undefined, options: NormalizeOptions = PLUS_IGNORED): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  // Lowering allocates a new string even when nothing changes, and nearly every address is lower-case already.
  const address = MAY_CHANGE_CASE.test(trimmed) ? trimmed.toLowerCase() : trimmed;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  if (!options.ignorePlusAddressing) return address;
  // Only a `+` in the local part is a tag, and one that starts the local part is the whole name, not a tag.
  const plus = address.indexOf('+');
  return plus > 0 && plus < at ? address.slice(0, plus) + address.slice(at) : address;
}

export type MatchedBy = 'email' | 'alias' | 'mapping';

export interface PersonMatch {
  readonly person: HrPerson;
  readonly matchedBy: MatchedBy;
}

export interface PeopleIndex {
  /**
   * Every HR person (of any status) the account belongs to, each once, by the strongest way it matched. The list
   * may be shared with other accounts that join the same way, so it is frozen.
   */
  matchesOf(identity: Identity): readonly PersonMatch[];
  /** Every HR person an address that is not an account's (a learner's on a training platform) belongs to, joined as an account's email is. */
  matchesOfAddress(address: string): readonly PersonMatch[];
}

const strength: Record<MatchedBy, number> = { mapping: 3, email: 2, alias: 1 };

const NO_MATCHES: readonly PersonMatch[] = Object.freeze([]);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Each person once, by the strongest way they matched, in the order they were first found. */
function strongestPerPerson(matches: readonly PersonMatch[]): readonly PersonMatch[] {
  const best = new Map<HrPerson, PersonMatch>();
  for (const match of matches) {
    const previous = best.get(match.person);
    if (!previous || strength[match.matchedBy] > strength[previous.matchedBy]) best.set(match.person, match);
  }
  return Object.freeze([...best.values()]);
}

/** Resolves every key's matches in place, so that an account joined by one key (nearly all of them) needs no work of its own. */
function resolved(map: Map<string, PersonMatch[]>): Map<string, readonly PersonMatch[]> {
  const out: Map<string, readonly PersonMatch[]> = map;
  map.forEach((matches, key) => out.set(key, matches.length === 1 ? Object.freeze(matches) : strongestPerPerson(matches)));
  return out;
}

export function indexPeople(people: readonly HrPerson[], params: PersonMatchingParams): PeopleIndex {
  const options: NormalizeOptions = { ignorePlusAddressing: params.ignorePlusAddressing };
  const addressMatches = new Map<string, PersonMatch[]>();
  const byEmployeeId = new Map<string, HrPerson[]>();
  for (const person of people) {
    push(byEmployeeId, person.employeeId, person);
    const primary = normalizeEmail(person.email, options);
    if (primary) push(addressMatches, primary, { person, matchedBy: 'email' });
    for (const alias of person.aliases) {
      const address = normalizeEmail(alias, options);
      if (address) push(addressMatches, address, { person, matchedBy: 'alias' });
    }
  }
  // An explicit mapping says exactly which account is meant, so it is compared as written (case aside), never plus-stripped.
  const mappedAccountMatches = new Map<string, PersonMatch[]>();
  for (const [employeeId, accounts] of Object.entries(params.mappings)) {
    for (const person of byEmployeeId.get(employeeId) ?? []) {
      for (const account of accounts) push(mappedAccountMatches, account.trim().toLowerCase(), { person, matchedBy: 'mapping' });
    }
  }
  const byAddress = resolved(addressMatches);
  const byMappedAccount = resolved(mappedAccountMatches);

  // The lists one account joins through, kept from call to call (matchesOf runs to completion and never re-enters)
  // so that joining an account allocates nothing.
  const joined: (readonly PersonMatch[])[] = [];
  let joinedCount = 0;
  const join = (matches: readonly PersonMatch[] | undefined): void => {
    if (matches === undefined) return;
    for (let i = 0; i < joinedCount; i++) if (joined[i] === matches) return;
    joined[joinedCount++] = matches;
  };
  const joinAddress = (value: string | null | undefined): void => {
    const address = normalizeEmail(value, options);
    if (address !== null) join(byAddress.get(address));
  };
  const joinMappedAccount = (account: string | null | undefined): void => {
    if (account) join(byMappedAccount.get(account.trim().toLowerCase()));
  };

  return {
    matchesOf(identity) {
      joinedCount = 0;
      joinAddress(identity.email);
      if (identity.username !== identity.email) joinAddress(identity.username);
      // Addresses the directory itself lists for the account (Google Workspace keeps them in `raw.aliases`).
      const aliases = identity.raw?.['aliases'];
      if (Array.isArray(aliases)) {
        for (let i = 0; i < aliases.length; i++) {
          const alias: unknown = aliases[i];
          if (typeof alias === 'string') joinAddress(alias);
        }
      }
      if (byMappedAccount.size > 0) {
        // A mapping may name the system by its source name or, for connectors that serve many systems, by its tenant.
        joinMappedAccount(identity.username);
        joinMappedAccount(identity.email);
        joinMappedAccount(`${identity.source}:${identity.username}`);
        joinMappedAccount(`${identity.tenant}:${identity.username}`);
      }
      return joinedMatches();
    },
    matchesOfAddress(address) {
      joinedCount = 0;
      joinAddress(address);
      if (byMappedAccount.size > 0) joinMappedAccount(address);
      return joinedMatches();
    },
  };

  function joinedMatches(): readonly PersonMatch[] {
    if (joinedCount === 0) return NO_MATCHES;
    if (joinedCount === 1) return joined[0]!;
    return strongestPerPerson(joined.slice(0, joinedCount).flat());
  }
}

/** Who owns each account of one evidence: matches in the order of its `records('identity')`. */
export type AccountOwners = readonly (readonly PersonMatch[])[];

interface SharedJoin {
  readonly people: PeopleIndex;
  readonly owners: WeakMap<readonly Identity[], AccountOwners>;
}

const joins = new WeakMap<readonly HrPerson[], Map<string, SharedJoin>>();

/**
 * The join of the evidence's accounts to its people, done once per evaluation however many checks ask for it.
 * CheckEvidence hands out the same array for every request of a kind and never changes it, so the arrays are the
 * keys: a later evaluation has arrays of its own.
 */
function sharedJoin(evidence: CheckEvidence, params: PersonMatchingParams): SharedJoin {
  const people = evidence.records('hr-person');
  const key = JSON.stringify([params.ignorePlusAddressing, params.mappings]);
  let byParams = joins.get(people);
  if (!byParams) joins.set(people, (byParams = new Map()));
  let join = byParams.get(key);
  if (!join) byParams.set(key, (join = { people: indexPeople(people, params), owners: new WeakMap() }));
  return join;
}

/** For every account of `evidence.records('identity')`, at the same position, the people it belongs to. */
export function accountOwners(evidence: CheckEvidence, params: PersonMatchingParams): AccountOwners {
  const join = sharedJoin(evidence, params);
  const identities = evidence.records('identity');
  let owners = join.owners.get(identities);
  if (!owners) {
    const matches = new Array<readonly PersonMatch[]>(identities.length);
    for (let position = 0; position < identities.length; position++) matches[position] = join.people.matchesOf(identities[position]!);
    join.owners.set(identities, (owners = matches));
  }
  return owners;
}
