import type { Identity } from '../../core/records.ts';

/**
 * How one system's accounts are joined to the people HR knows. It is said once per source in the config (`join:`)
 * and handed to every check with the evidence, so that every access check and the review lists join the same way.
 */

/** What a joined value names on the HR side: an address (primary email or alias) or an employee id. */
export type JoinTarget = 'email' | 'employeeId';

export type TemplatePlaceholder = 'username' | 'localPart';

/** An address built from an account's fields, such as `{username}@example.com`. */
export interface AddressTemplate {
  /** As written in the config, for messages and review lists. */
  readonly text: string;
  readonly parts: readonly (string | { readonly placeholder: TemplatePlaceholder })[];
}

/** Who owns one account, as a mapping file says: an address or an employee id, and the line that says so. */
export interface MappedOwner {
  readonly matches: JoinTarget;
  readonly value: string;
  readonly line: number;
}

/** The exceptions no rule joins, from a CSV file: each listed account is joined by its row alone. */
export interface AccountMapping {
  /** The file as the config names it. */
  readonly file: string;
  /** By account (username or id), trimmed and lower-cased. */
  readonly owners: ReadonlyMap<string, MappedOwner>;
}

export interface AccountJoin {
  /** The account's own email, and its username when that is an address. */
  readonly email: boolean;
  /** Addresses the directory itself lists for the account (Google Workspace's `aliases`). */
  readonly aliases: boolean;
  readonly templates: readonly AddressTemplate[];
  /** A field of the account's raw record (a dotted path), holding an address or an employee id. */
  readonly attribute: { readonly name: string; readonly path: readonly string[]; readonly matches: JoinTarget } | null;
  /** A tag of the account (AWS IAM user tags), holding an address or an employee id. */
  readonly tag: { readonly key: string; readonly matches: JoinTarget } | null;
  readonly mapping: AccountMapping | null;
  /** Treat jane+tag@example.com as jane@example.com on both sides. */
  readonly ignorePlusAddressing: boolean;
}

/** The join of a source whose config says nothing: by email and by the directory's aliases. */
export const DEFAULT_JOIN: AccountJoin = Object.freeze({
  email: true,
  aliases: true,
  templates: Object.freeze([]),
  attribute: null,
  tag: null,
  mapping: null,
  ignorePlusAddressing: true,
});

const PLACEHOLDERS: Readonly<Record<TemplatePlaceholder, (identity: Identity) => string>> = {
  username: (identity) => identity.username,
  // An Entra UPN (jdoe@corp.onmicrosoft.com) whose mail domain is another one: the name before the last @.
  localPart: (identity) => {
    const at = identity.username.lastIndexOf('@');
    return at < 0 ? identity.username : identity.username.slice(0, at);
  },
};

const KNOWN_PLACEHOLDERS = Object.keys(PLACEHOLDERS)
  .map((name) => `{${name}}`)
  .join(', ');

function isPlaceholder(name: string): name is TemplatePlaceholder {
  return Object.hasOwn(PLACEHOLDERS, name);
}

/** The template, or what is wrong with it. */
export function parseAddressTemplate(text: string): AddressTemplate | { readonly problem: string } {
  const parts: AddressTemplate['parts'][number][] = [];
  let literal = '';
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close >= 0 && (open < 0 || close < open)) return { problem: 'a "}" without its "{"' };
    if (open < 0) {
      literal += rest;
      break;
    }
    const end = rest.indexOf('}', open);
    if (end < 0) return { problem: 'a "{" without its "}"' };
    const name = rest.slice(open + 1, end);
    if (!isPlaceholder(name)) return { problem: `unknown placeholder {${name}} (known: ${KNOWN_PLACEHOLDERS})` };
    literal += rest.slice(0, open);
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ placeholder: name });
    rest = rest.slice(end + 1);
  }
  if (literal) parts.push(literal);
  if (!parts.some((part) => typeof part !== 'string')) {
    return { problem: `no placeholder such as {username}: it would join every account to one address (known: ${KNOWN_PLACEHOLDERS})` };
  }
  if (!parts.some((part) => typeof part === 'string' && part.includes('@'))) {
    return { problem: 'it makes no address: it needs an "@" and a domain, such as {username}@example.com' };
  }
  return { text, parts };
}

export function applyTemplate(template: AddressTemplate, identity: Identity): string {
  let out = '';
  for (const part of template.parts) out += typeof part === 'string' ? part : PLACEHOLDERS[part.placeholder](identity);
  return out;
}

/** The string values at a dotted path of the account's raw record: a string, or the strings of a list. */
export function attributeValues(identity: Identity, path: readonly string[]): string[] {
  let value: unknown = identity.raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** How a join is described to a reader: the methods it tries, in the words of the config. */
export function describeJoin(join: AccountJoin): string {
  const methods = [
    join.email ? 'email' : null,
    join.aliases ? 'directory aliases' : null,
    ...join.templates.map((template) => `template ${template.text}`),
    join.attribute ? `attribute ${join.attribute.name}` : null,
    join.tag ? `tag ${join.tag.key}` : null,
    join.mapping ? `mapping file ${join.mapping.file}` : null,
  ].filter((method) => method !== null);
  return methods.join(', ');
}
