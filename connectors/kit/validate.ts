import type { z } from 'zod';
import { MalformedResponseError } from '../errors.ts';
import { describeIssues } from '../../core/zod-issues.ts';

/**
 * Checks what a source answered against the shape the mapping expects. `where` names the source, the call and the
 * page (`aws-backup: account 111111111111 us-east-1: ListBackupJobs page 2`); the error adds the field path and
 * never quotes the value, which may be anything the source sent.
 */
export function parseResponse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MalformedResponseError(`${where}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/**
 * The token of the next page, refused when it is the one just sent: a source that hands back the token it was given
 * would be listed forever. An empty token ends the listing as surely as an absent one.
 */
export function nextPageToken(next: string | undefined, previous: string | undefined, where: string, field: string): string | undefined {
  if (next === undefined || next === '') return undefined;
  if (next === previous) throw new MalformedResponseError(`${where}: field ${field}: repeats the token of the page it answers, so the listing would never end`);
  return next;
}
