import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { describeIssues } from '../../core/zod-issues.ts';
import { SOURCE } from './mapping.ts';

/** The calls made in each account and region, in this order. Restore testing plans come first: they yield no records, only provenance. */
export const CALLS = ['ListRestoreTestingPlans', 'ListBackupJobs', 'ListRestoreJobs', 'ListProtectedResources'] as const;
export type Call = (typeof CALLS)[number];

/**
 * Where a pull stands: the next page to fetch. `createdAfter` is the pull's window, kept so that a retry an hour later
 * asks for the same jobs its NextToken belongs to. An `account` equal to the number of accounts means the pull is done.
 */
export const Cursor = z.strictObject({
  v: z.literal(1),
  createdAfter: z.iso.datetime({ offset: true }),
  account: z.number().int().nonnegative(),
  region: z.number().int().nonnegative(),
  call: z.enum(CALLS),
  nextToken: z.string().min(1).optional(),
  page: z.number().int().min(1),
});
export type Cursor = z.infer<typeof Cursor>;
export type Position = Pick<Cursor, 'account' | 'region' | 'call'>;

export function encodeCursor(cursor: Cursor): string {
  return JSON.stringify(cursor);
}

/** A cursor this connector did not write for this configuration cannot be resumed: starting over would double records. */
export function decodeCursor(text: string, regionsPerAccount: readonly number[]): Cursor {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${SOURCE}: resume cursor is not JSON: ${text.slice(0, 80)}`);
  }
  const parsed = Cursor.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${SOURCE}: resume cursor is not one this connector writes: ${describeIssues(parsed.error.issues)}`);
  const cursor = parsed.data;
  const regions = regionsPerAccount[cursor.account];
  const fits = cursor.account === regionsPerAccount.length ? cursor.region === 0 : regions !== undefined && cursor.region < regions;
  if (!fits)
    throw new ConfigError(`${SOURCE}: resume cursor points at account ${cursor.account} region ${cursor.region}, which the configuration does not have`);
  return cursor;
}

/** The position after every page of `position`'s call has been read. */
export function nextPosition(position: Position, regionsPerAccount: readonly number[]): Position {
  const call = CALLS.indexOf(position.call);
  const following = CALLS[call + 1];
  if (following !== undefined) return { ...position, call: following };
  if (position.region + 1 < (regionsPerAccount[position.account] ?? 0)) return { account: position.account, region: position.region + 1, call: CALLS[0] };
  return { account: position.account + 1, region: 0, call: CALLS[0] };
}

/** Whether `position` comes before `start` in the order of a pull, so a resumed pull skips it. */
export function isBefore(position: Position, start: Position): boolean {
  if (position.account !== start.account) return position.account < start.account;
  if (position.region !== start.region) return position.region < start.region;
  return CALLS.indexOf(position.call) < CALLS.indexOf(start.call);
}
