import { z } from 'zod';
import { Timezone } from '../core/calendar-occurrences.ts';

/** A duration as Temporal takes it: "90s", "2 minutes", "1 day". */
export const Duration = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i,
    'a duration such as "90s", "10 minutes" or "1 day"',
  )
  .describe('A number and a unit: "90s", "10 minutes", "1 day" (ms, s, m, h, d, w, or their names in words).');
export type Duration = z.infer<typeof Duration>;

const CRON_FIELD = /^[\d*?,/LW#A-Z-]+$/i;
const Cron = z
  .string()
  .refine(
    (value) => {
      if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(value.trim())) return true;
      const fields = value.trim().split(/\s+/);
      return (fields.length === 5 || fields.length === 6) && fields.every((field) => CRON_FIELD.test(field));
    },
    { message: 'a cron expression with 5 fields (minute hour day-of-month month day-of-week), or @daily, @weekly, ...' },
  )
  .describe('A cron expression with 5 fields (minute hour day-of-month month day-of-week), or @daily, @weekly, @every 6h, ...');

const CalendarValue = z
  .union([z.number().int(), z.string(), z.array(z.union([z.number().int(), z.string()]))])
  .describe('A value, a name or a range as in a Temporal calendar spec (30, "MONDAY", "1-5", "0-30/10"), or a list of them.');
const CalendarEntry = z.strictObject({
  second: CalendarValue.optional(),
  minute: CalendarValue.optional(),
  hour: CalendarValue.optional(),
  dayOfMonth: CalendarValue.optional(),
  month: CalendarValue.optional(),
  dayOfWeek: CalendarValue.optional(),
  comment: z.string().optional().describe('A note for the reader; Temporal keeps it with the schedule.'),
});
export type CalendarEntry = z.infer<typeof CalendarEntry>;

const ScheduleZone = Timezone.optional().describe("The zone the schedule is read in; the config's `timezone` by default.");
const Jitter = Duration.optional().describe('Each run starts up to this much later, at random, so that many controls do not start at once.');
export const Schedule = z
  .union([
    z.strictObject({ cron: z.union([Cron, z.array(Cron).min(1)]).describe('One cron expression or several.'), timezone: ScheduleZone, jitter: Jitter }),
    z.strictObject({
      every: Duration.describe('A fixed interval between runs, counted from the Unix epoch.'),
      offset: Duration.optional().describe("Shifts the interval's runs: `every: 1 day` with `offset: 6 hours` runs at 06:00 UTC."),
      jitter: Jitter,
    }),
    z.strictObject({
      calendar: z.array(CalendarEntry).min(1).describe('Temporal calendar specs; a run is due when any of them matches.'),
      timezone: ScheduleZone,
      jitter: Jitter,
    }),
  ])
  .describe('When the control runs: `cron`, `every` (an interval) or `calendar` (Temporal calendar specs).');
export type Schedule = z.infer<typeof Schedule>;
