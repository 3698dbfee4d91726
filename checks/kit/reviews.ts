import { z } from 'zod';
import { DAY_MS, epochMillis } from './contract.ts';

/** What register entries (risks, suppliers) share about their reviews: see reviewFields in core/records.ts. */
export interface Reviewed {
  readonly reviewInterval: string;
  readonly lastReviewAt: string | null;
  readonly reviewDue: string | null;
  readonly overdueFrom: string | null;
}

export const ReviewParams = z.strictObject({
  graceDays: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('Whole days after the due day during which a review is not yet reported late. Default: 0 (late from the day after the due day).'),
});

export interface ReviewLapse {
  /** Null when the entry was never reviewed. */
  readonly daysLate: number | null;
  readonly detail: string;
  readonly values: Record<string, unknown>;
}

/**
 * Whether an entry's review is late at `at`: a review is on time through its due day (in the register's zone, as the
 * connector worked out `overdueFrom`), plus the grace. An entry with no review recorded is late: nothing shows it was
 * ever assessed.
 */
export function reviewLapse(entry: Reviewed, at: Date, graceDays: number): ReviewLapse | undefined {
  const values = { lastReviewAt: entry.lastReviewAt, reviewInterval: entry.reviewInterval, reviewDue: entry.reviewDue, graceDays };
  if (entry.overdueFrom === null) {
    return { daysLate: null, detail: `no review is recorded (reviewed every ${entry.reviewInterval})`, values: { ...values, daysLate: null } };
  }
  const lateFrom = epochMillis(entry.overdueFrom) + graceDays * DAY_MS;
  if (at.getTime() < lateFrom) return undefined;
  // The first day after the due day (and grace) is one day late.
  const daysLate = Math.floor((at.getTime() - epochMillis(entry.overdueFrom)) / DAY_MS) + 1;
  const grace = graceDays > 0 ? ` and ${graceDays} day(s) of grace` : '';
  return {
    daysLate,
    detail: `the review due on ${entry.reviewDue} (every ${entry.reviewInterval}) is ${daysLate} day(s) late${grace}`,
    values: { ...values, daysLate },
  };
}
