import type { z } from 'zod';
import type { AccountJoin, MappedOwner } from '../../checks/kit/join.ts';
import { SourceJoin } from '../../config/join.ts';
import { resolveJoin } from '../../config/resolve-join.ts';

/** A source's join as the config loader resolves it from its `join:` (without a mapping file: see `withMapping`). */
export function join(config: z.input<typeof SourceJoin> = {}): AccountJoin {
  const resolved = resolveJoin(SourceJoin.parse(config), process.cwd());
  if (!resolved.join) throw new Error(`test join refused: ${resolved.issues.map((issue) => issue.message).join('; ')}`);
  return resolved.join;
}

/** `base` with a mapping file's rows, as read from `file`: account -> owner's email (or employee id with `matches`). */
export function withMapping(base: AccountJoin, rows: Record<string, string>, matches: MappedOwner['matches'] = 'email', file = 'exceptions.csv'): AccountJoin {
  const owners = new Map<string, MappedOwner>(
    Object.entries(rows).map(([account, value], index) => [account.trim().toLowerCase(), { matches, value, line: index + 2 }]),
  );
  return { ...base, mapping: { file, owners } };
}
