import { z } from 'zod';
import { Duration, Schedule } from './schedule.ts';

/**
 * The access review campaign of a control (A.5.18): on its own schedule the control's identity sources are
 * listed for their owners to approve, revoke or defer.
 */

export const ReviewCadence = z.enum(['monthly', 'quarterly', 'semiannually', 'annually']);
export type ReviewCadence = z.infer<typeof ReviewCadence>;

export const ReviewConfig = z.strictObject({
  every: z
    .union([ReviewCadence, Schedule])
    .describe("A cadence (campaigns open on the 1st of the period at 09:00 in the config's zone), or a schedule like the control's."),
  dueInDays: z.number().positive().default(14).describe('Days reviewers have to decide every entry; fractions are allowed (short campaigns in tests).'),
  reviewers: z
    .record(z.string().min(1), z.string().min(1))
    .default({})
    .describe("Source name -> who reviews that system's accounts; the control owner for the others."),
  sources: z.array(z.string().min(1)).min(1).optional().describe("Identity sources under review; all the control's identity sources by default."),
  verifyAfter: Duration.default('3 days').describe('How long after a `revoke` decision a fresh collection must show the account gone or disabled.'),
  maxVerifications: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe('Verifications of revocations still found active, each `verifyAfter` after the previous, before the campaign leaves them to the register.'),
});
export type ReviewConfig = z.infer<typeof ReviewConfig>;
