import type { HrPerson, Identity } from '../../core/records.ts';
import { tagValue } from './accounts.ts';
import { replacedParams, type CheckEvidence } from './contract.ts';
import { applyTemplate, attributeValues, type AccountJoin, type JoinTarget } from './join.ts';

/**
 * Joining accounts to the people HR knows, by the join of each account's source (checks/join.ts). Shared by every
 * check that asks "whose account is this?", so that leaver-still-active and orphan-account can never disagree
 * about who owns an account.
 */

/**
 * Parameters that moved to the source's `join`: a check that kept its own mappings would join differently from
 * the others, so an old config is refused with a message that says where they went.
 */
export const movedToJoin = replacedParams({
  mappings: "moved to the source's join: list the exceptions in a CSV file (account,email) named by join.mappingFile on the source or connector instance",
  ignorePlusAddressing: "moved to the source's join: join.ignorePlusAddressing on the source or connector instance",
});

export interface NormalizeOptions {
  readonly ignorePlusAddressing: boolean;
}

/** Characters toLowerCase may change: ASCII capitals and anything beyond ASCII. */
const MAY_CHANGE_CASE = /[A-Z\u0080-\uffff]/;

const PLUS_IGNORED: NormalizeOptions = { ignorePlusAddressing: true };

/**
 * The form in which two addresses are compared: trimmed, lower-case and, optionally, without a `+tag`.
 * Anything that is not shaped like local@domain gives null: a bare username such as "admin" must never join
 * to a person by accident; such accounts are joined by a template, a tag or the mapping file.
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

/** Employee ids and mapped accounts are compared trimmed and without regard to case. */
export function foldKey(value: string): string {
  const trimmed = value.trim();
  return MAY_CHANGE_CASE.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}

/** Which of the join's methods joined the account: its email, a directory alias, a template, an attribute, a tag or the mapping file. */
export type MatchedBy = 'mapping' | 'tag' | 'attribute' | 'email' | 'template' | 'alias';
/** What the joined value was found as on the HR side. */
export type PersonField = 'email' | 'alias' | 'employeeId';

export interface PersonMatch {
  readonly person: HrPerson;
  readonly matchedBy: MatchedBy;
  readonly personField: PersonField;
}

export interface PeopleIndex {
  /**
   * Every HR person (of any status) the account belongs to by its source's join, each once, by the strongest way
   * it matched. The list may be shared with other accounts that join the same way, so it is frozen.
   */
  matchesOf(identity: Identity, join: AccountJoin): readonly PersonMatch[];
  /**
   * Every HR person an address that is not an account's (a learner's on a training platform) belongs to: the join's
   * mapping file first, as for an account, else the address against HR emails and aliases.
   */
  matchesOfAddress(address: string, join: AccountJoin): readonly PersonMatch[];
}

const methodStrength: Record<MatchedBy, number> = { mapping: 6, tag: 5, attribute: 4, email: 3, template: 2, alias: 1 };
const fieldStrength: Record<PersonField, number> = { employeeId: 3, email: 2, alias: 1 };

const methodSlot: Record<MatchedBy, number> = { mapping: 0, tag: 1, attribute: 2, email: 3, template: 4, alias: 5 };
const METHODS = 6;

const NO_MATCHES: readonly PersonMatch[] = Object.freeze([]);

function stronger(a: PersonMatch, than: PersonMatch): boolean {
  const byMethod = methodStrength[a.matchedBy] - methodStrength[than.matchedBy];
  return byMethod > 0 || (byMethod === 0 && fieldStrength[a.personField] > fieldStrength[than.personField]);
}

/** Each person once, by the strongest way they matched, in the order they were first found. */
function strongestPerPerson(matches: readonly PersonMatch[]): readonly PersonMatch[] {
  const best = new Map<HrPerson, PersonMatch>();
  for (const match of matches) {
    const previous = best.get(match.person);
    if (!previous || stronger(match, previous)) best.set(match.person, match);
  }
  return Object.freeze([...best.values()]);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

interface Found {
  readonly person: HrPerson;
  readonly field: PersonField;
}

/**
 * The people found under each key, as match lists for one method: built on first use and shared by every account
 * that joins through the same key, so that joining an account (nearly all join by one key) allocates nothing.
 */
function matchLists(found: ReadonlyMap<string, readonly Found[]>, matchedBy: MatchedBy): Map<string, readonly PersonMatch[]> {
  const lists = new Map<string, readonly PersonMatch[]>();
  found.forEach((people, key) => {
    const matches = people.map(({ person, field }): PersonMatch => ({ person, matchedBy, personField: field }));
    lists.set(key, matches.length === 1 ? Object.freeze(matches) : strongestPerPerson(matches));
  });
  return lists;
}

export function indexPeople(people: readonly HrPerson[]): PeopleIndex {
  const addressesBy = new Map<boolean, Map<string, Found[]>>();
  const addresses = (ignorePlusAddressing: boolean): Map<string, Found[]> => {
    let byAddress = addressesBy.get(ignorePlusAddressing);
    if (!byAddress) {
      byAddress = new Map();
      const options: NormalizeOptions = { ignorePlusAddressing };
      for (const person of people) {
        const primary = normalizeEmail(person.email, options);
        if (primary) push(byAddress, primary, { person, field: 'email' });
        for (const alias of person.aliases) {
          const address = normalizeEmail(alias, options);
          if (address) push(byAddress, address, { person, field: 'alias' });
        }
      }
      addressesBy.set(ignorePlusAddressing, byAddress);
    }
    return byAddress;
  };
  let employeeIds: Map<string, Found[]> | undefined;
  const byEmployeeId = (): Map<string, Found[]> => {
    if (!employeeIds) {
      employeeIds = new Map();
      for (const person of people) push(employeeIds, foldKey(person.employeeId), { person, field: 'employeeId' });
    }
    return employeeIds;
  };

  // One slot per kind of key (address with or without plus-addressing, employee id) and method: no key is built per lookup.
  const lists: (Map<string, readonly PersonMatch[]> | undefined)[] = [];
  const listsFor = (target: JoinTarget, matchedBy: MatchedBy, ignorePlusAddressing: boolean): Map<string, readonly PersonMatch[]> => {
    const slot = (target === 'employeeId' ? 2 : ignorePlusAddressing ? 0 : 1) * METHODS + methodSlot[matchedBy];
    let byKey = lists[slot];
    if (!byKey) lists[slot] = byKey = matchLists(target === 'email' ? addresses(ignorePlusAddressing) : byEmployeeId(), matchedBy);
    return byKey;
  };

  // The lists one account joins through, kept from call to call (matchesOf runs to completion and never re-enters).
  const joined: (readonly PersonMatch[])[] = [];
  let joinedCount = 0;
  const join = (matches: readonly PersonMatch[] | undefined): void => {
    if (matches === undefined) return;
    for (let i = 0; i < joinedCount; i++) if (joined[i] === matches) return;
    joined[joinedCount++] = matches;
  };
  const joinValue = (lists: Map<string, readonly PersonMatch[]>, value: string | null | undefined, target: JoinTarget, options: NormalizeOptions): void => {
    if (!value) return;
    const key = target === 'email' ? normalizeEmail(value, options) : foldKey(value);
    if (key !== null) join(lists.get(key));
  };

  return {
    matchesOf(identity, rules) {
      joinedCount = 0;
      const plus = rules.ignorePlusAddressing;
      const options: NormalizeOptions = plus ? PLUS_IGNORED : { ignorePlusAddressing: false };
      const mapped = rules.mapping && (rules.mapping.owners.get(foldKey(identity.username)) ?? rules.mapping.owners.get(foldKey(identity.id)));
      if (mapped) {
        // An exception is an exception: the file says who owns the account, and the rules that got it wrong are not asked.
        joinValue(listsFor(mapped.matches, 'mapping', plus), mapped.value, mapped.matches, options);
      } else {
        if (rules.email) {
          const byEmail = listsFor('email', 'email', plus);
          joinValue(byEmail, identity.email, 'email', options);
          if (identity.username !== identity.email) joinValue(byEmail, identity.username, 'email', options);
        }
        // Addresses the directory itself lists for the account (Google Workspace keeps them in `raw.aliases`).
        const aliases = rules.aliases ? identity.raw?.['aliases'] : undefined;
        if (Array.isArray(aliases)) {
          const byAlias = listsFor('email', 'alias', plus);
          for (let i = 0; i < aliases.length; i++) {
            const alias: unknown = aliases[i];
            if (typeof alias === 'string') joinValue(byAlias, alias, 'email', options);
          }
        }
        const { templates, attribute, tag } = rules;
        for (let i = 0; i < templates.length; i++) joinValue(listsFor('email', 'template', plus), applyTemplate(templates[i]!, identity), 'email', options);
        if (attribute) {
          for (const value of attributeValues(identity, attribute.path))
            joinValue(listsFor(attribute.matches, 'attribute', plus), value, attribute.matches, options);
        }
        if (tag) joinValue(listsFor(tag.matches, 'tag', plus), tagValue(identity, tag.key), tag.matches, options);
      }
      return joinedMatches();
    },
    matchesOfAddress(address, rules) {
      joinedCount = 0;
      const plus = rules.ignorePlusAddressing;
      const options: NormalizeOptions = plus ? PLUS_IGNORED : { ignorePlusAddressing: false };
      const mapped = rules.mapping?.owners.get(foldKey(address));
      if (mapped) joinValue(listsFor(mapped.matches, 'mapping', plus), mapped.value, mapped.matches, options);
      else {
        joinValue(listsFor('email', 'email', plus), address, 'email', options);
        joinValue(listsFor('email', 'alias', plus), address, 'email', options);
      }
      return joinedMatches();
    },
  };

  function joinedMatches(): readonly PersonMatch[] {
    if (joinedCount === 0) return NO_MATCHES;
    if (joinedCount === 1) return joined[0]!;
    return strongestPerPerson(joined.slice(0, joinedCount).flat());
  }
}

/** How an account was joined, in the words of its source's join, for deviations and review lists. */
export function describeMatch(match: PersonMatch, join: AccountJoin): string {
  const method =
    match.matchedBy === 'template'
      ? `template ${join.templates.map((template) => template.text).join(' or ')}`
      : match.matchedBy === 'attribute'
        ? `attribute ${join.attribute?.name ?? ''}`
        : match.matchedBy === 'tag'
          ? `tag ${join.tag?.key ?? ''}`
          : match.matchedBy === 'mapping'
            ? `mapping file ${join.mapping?.file ?? ''}`
            : match.matchedBy === 'alias'
              ? 'directory alias'
              : 'email';
  const field = match.personField === 'alias' ? ' (an HR alias)' : match.personField === 'employeeId' ? ' (HR employee id)' : '';
  return `${method}${field}`;
}

/** Who owns each account of one evidence: matches in the order of its `records('identity')`. */
export type AccountOwners = readonly (readonly PersonMatch[])[];

const peopleIndexes = new WeakMap<readonly HrPerson[], PeopleIndex>();
const ownersByAccounts = new WeakMap<readonly Identity[], { people: readonly HrPerson[]; owners: AccountOwners }>();

/**
 * For every account of `evidence.records('identity')`, at the same position, the people it belongs to by its
 * source's join. Done once per evaluation however many checks ask: CheckEvidence hands out the same array for every
 * request of a kind and never changes it, so the arrays are the keys, and a later evaluation has arrays of its own.
 */
export function accountOwners(evidence: CheckEvidence): AccountOwners {
  const people = evidence.records('hr-person');
  const identities = evidence.records('identity');
  const known = ownersByAccounts.get(identities);
  if (known && known.people === people) return known.owners;
  let index = peopleIndexes.get(people);
  if (!index) peopleIndexes.set(people, (index = indexPeople(people)));
  const owners = new Array<readonly PersonMatch[]>(identities.length);
  for (let position = 0; position < identities.length; position++) {
    const identity = identities[position]!;
    owners[position] = index.matchesOf(identity, evidence.joinOf(identity));
  }
  ownersByAccounts.set(identities, { people, owners });
  return owners;
}
