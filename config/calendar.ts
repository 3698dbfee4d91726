import { z } from 'zod';
import {
  addDays,
  addMonthsClamped,
  isTimeZone,
  parseLocalDate,
  parseLocalTime,
  parseRecurrenceRule,
  parseSpan,
  RecurrenceError,
  type LocalDate,
  type LocalTime,
  type Recurrence,
  type Span,
} from '../core/calendar-occurrences.ts';
import { References } from './frameworks/reference.ts';

/*
 * The `calendar:` section of isms.yaml: recurring human activities (the maintenance calendar), the certification
 * audit cycle and change reviews. schema.ts imports this file, so nothing here may import values from schema.ts.
 */

const ActivityId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const SpanText = z.string().refine((text) => parseSpan(text) !== undefined, 'a span such as "14d", "2h", "3 months" or "1 year"');
const DateText = z.string().refine((text) => parseLocalDate(text) !== undefined, 'a date such as 2026-01-31');
const TimeText = z.string().refine((text) => parseLocalTime(text) !== undefined, 'a time of day such as "09:00"');
const TimeZoneText = z.string().refine(isTimeZone, 'an IANA time zone such as "Europe/Berlin" or "UTC"');

/** One rung of a reminder ladder: `14d` before due, `0d` on the due date, `overdue 3d` once after, `overdue every 7d`. */
export type Rung = { when: 'before'; span: Span } | { when: 'overdue'; span: Span } | { when: 'overdue-every'; span: Span };

export function parseRung(text: string): Rung | undefined {
  const match = /^(overdue\s+(every\s+)?)?(.+)$/i.exec(text.trim());
  const span = match && parseSpan(match[3]!);
  if (!match || !span) return undefined;
  if (!match[1]) return { when: 'before', span };
  if (span.amount === 0) return undefined;
  return { when: match[2] ? 'overdue-every' : 'overdue', span };
}

const RungText = z
  .string()
  .refine((text) => parseRung(text) !== undefined, 'a reminder such as "14d" (before due), "0d" (on the due date), "overdue 3d" or "overdue every 7d"');

export const EvidenceExpectation = z.strictObject({
  name: z.string().min(1).describe('What the evidence is, e.g. "reviewed rule set".'),
  required: z.boolean().default(true).describe('A completion without this evidence is refused.'),
});
export type EvidenceExpectation = z.infer<typeof EvidenceExpectation>;

/** An activity entry. Every field but `id` is optional so that an entry can adjust a shipped default by id. */
export const ActivityEntry = z.strictObject({
  id: ActivityId.describe('Stable id of the activity; an entry with the id of a shipped activity adjusts it.'),
  title: z.string().min(1).optional().describe('What is to be done.'),
  reference: References.optional().describe('ISO/IEC 27001:2022 clauses or Annex A controls the activity gives evidence for; one or a list.'),
  owner: z.string().min(1).optional().describe('Who does it and receives its reminders; calendar.owner by default.'),
  rrule: z.string().min(1).optional().describe('RFC 5545 RRULE, optionally with a DTSTART line; without DTSTART, `anchor` is the start.'),
  every: SpanText.optional().describe('A simple frequency counted from `anchor`: `3 months`, `1 year`, `2 weeks`.'),
  anchor: DateText.optional().describe('The date `every` (or an rrule without DTSTART) counts from, e.g. 2026-01-31.'),
  dueTime: TimeText.optional().describe('The time of day an occurrence is due; calendar.dueTime by default.'),
  timezone: TimeZoneText.optional().describe('The zone of the due dates and time; calendar.timezone by default.'),
  grace: SpanText.optional().describe('How long after due a missing completion raises a missed-activity nonconformity; calendar.grace by default.'),
  reminders: z.array(RungText).optional().describe('The reminder ladder; calendar.reminders by default.'),
  evidence: z.array(EvidenceExpectation).optional().describe('The evidence a completion brings.'),
  paused: z.boolean().optional().describe('A paused activity keeps its schedule, paused, and opens no occurrences.'),
  description: z.string().optional().describe('Free text about the activity, kept with it.'),
});
export type ActivityEntry = z.infer<typeof ActivityEntry>;

export const Certification = z.strictObject({
  issued: DateText.describe("The certificate's issue date: surveillance audits follow at 12 and 24 months, and it expires at 36."),
  body: z.string().min(1).describe('The certification body.'),
  readinessWeeks: z.number().int().min(0).max(52).default(6).describe('A readiness check is due this many weeks before each audit.'),
  recertificationLeadWeeks: z
    .number()
    .int()
    .min(0)
    .max(52)
    .default(12)
    .describe('The recertification audit is due this many weeks before the certificate expires (issued + 36 months), so the body can decide before it lapses.'),
  owner: z.string().min(1).optional().describe('Who prepares the audits; calendar.owner by default.'),
});
export type Certification = z.infer<typeof Certification>;

export const ChangeReview = z.strictObject({
  dueInDays: z.number().int().min(1).max(365).default(14).describe("Days from `isms change record` to the review's due date."),
  owner: z.string().min(1).describe('Who reviews scope, risks and the SoA after a change.'),
  evidence: z
    .array(EvidenceExpectation)
    .default([{ name: 'change impact assessment', required: true }])
    .describe('The evidence a completed review brings.'),
});

const DEFAULT_LADDER = ['14d', '7d', '1d', '0d', 'overdue every 7d'];

const CalendarShape = z.strictObject({
  defaults: z.boolean().default(false).describe('Include the ten shipped activities ISO/IEC 27001 expects; entries with the same id adjust them.'),
  owner: z.string().min(1).optional().describe('Owner of the shipped activities and the audit cycle unless they name their own.'),
  timezone: TimeZoneText.optional().describe("Default zone of activities; the config's `timezone` if absent."),
  dueTime: TimeText.default('09:00').describe('The default time of day occurrences are due.'),
  grace: SpanText.default('14d').describe('The default time after due before a missing completion is a missed-activity nonconformity.'),
  reminders: z
    .array(RungText)
    .default(DEFAULT_LADDER)
    .describe(
      'The default reminder ladder: `14d` before due (the occurrence opens at the first rung), `0d` on the due date, `overdue 3d` once after, `overdue every 7d`.',
    ),
  notify: z.array(z.string()).default([]).describe('Notification targets (from `notifications:`) that receive every calendar notice.'),
  activities: z.array(ActivityEntry).default([]).describe('Recurring human activities, and adjustments of the shipped ones.'),
  certification: Certification.optional().describe('The certification audit cycle.'),
  changeReview: ChangeReview.optional().describe('The review that `isms change record` starts.'),
});

export const CalendarConfig = CalendarShape.superRefine((calendar, ctx) => {
  // zod runs refinements even after a field failed; the cross-checks need every field well-formed.
  if (!CalendarShape.safeParse(calendar).success) return;
  for (const issue of calendarIssues(calendar)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type CalendarConfig = z.infer<typeof CalendarConfig>;

/** The activities ISO/IEC 27001 and the maintenance calendar of a small ISMS expect, switched on by `defaults: true`. */
export const DEFAULT_ACTIVITIES: readonly ActivityEntry[] = [
  {
    id: 'access-review',
    title: 'User access review',
    reference: ['A.5.18', 'A.8.2'],
    rrule: 'FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1',
    evidence: [{ name: 'access review record', required: true }],
  },
  {
    id: 'vulnerability-scan-review',
    title: 'Vulnerability scan review',
    reference: 'A.8.8',
    rrule: 'FREQ=MONTHLY;BYDAY=1MO',
    evidence: [{ name: 'scan review notes', required: true }],
  },
  {
    id: 'backup-restore-test',
    title: 'Backup restore test',
    reference: 'A.8.13',
    rrule: 'FREQ=YEARLY;BYMONTH=2,5,8,11;BYMONTHDAY=15',
    evidence: [{ name: 'restore test report', required: true }],
  },
  {
    id: 'supplier-review',
    title: 'Supplier security review',
    reference: ['A.5.19', 'A.5.22'],
    rrule: 'FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=30',
    evidence: [{ name: 'supplier review record', required: true }],
  },
  {
    id: 'security-awareness-training',
    title: 'Security awareness training',
    reference: ['7.3', 'A.6.3'],
    rrule: 'FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=31',
    evidence: [{ name: 'training attendance', required: true }],
  },
  {
    id: 'internal-audit',
    title: 'Internal audit',
    reference: '9.2',
    rrule: 'FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=30',
    evidence: [
      { name: 'internal audit report', required: true },
      { name: 'audit programme', required: false },
    ],
  },
  {
    id: 'management-review',
    title: 'Management review',
    reference: '9.3',
    rrule: 'FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=31',
    evidence: [{ name: 'management review minutes', required: true }],
  },
  {
    id: 'risk-assessment-review',
    title: 'Risk assessment review',
    reference: ['6.1.2', '8.2'],
    rrule: 'FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31',
    evidence: [
      { name: 'risk register', required: true },
      { name: 'risk treatment plan', required: false },
    ],
  },
  {
    id: 'soa-review',
    title: 'Statement of Applicability review',
    reference: '6.1.3',
    rrule: 'FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=30',
    evidence: [{ name: 'statement of applicability', required: true }],
  },
  {
    id: 'policy-review',
    title: 'Information security policy review',
    reference: ['5.2', 'A.5.1'],
    rrule: 'FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31',
    evidence: [{ name: 'approved policy set', required: true }],
  },
];
/** Where the shipped defaults start counting; any date before a deployment does. */
const DEFAULT_ANCHOR = '2025-01-01';

export interface CalendarActivity {
  id: string;
  title: string;
  references: string[];
  owner: string;
  origin: 'calendar' | 'audit-cycle';
  recurrence: Recurrence;
  time: LocalTime;
  timeZone: string;
  grace: Span;
  ladder: Rung[];
  evidence: EvidenceExpectation[];
  paused: boolean;
  description?: string;
}

export interface ResolvedCalendar {
  activities: ReadonlyMap<string, CalendarActivity>;
  notify: string[];
  timeZone: string;
  changeReview?: { dueInDays: number; owner: string; evidence: EvidenceExpectation[]; time: LocalTime; timeZone: string; grace: Span; ladder: Rung[] };
  certification?: Certification & { expires: string };
}

type Issue = { path: (string | number)[]; message: string };

/** The calendar of a parsed config: shipped defaults merged with the entries, plus the audit cycle. */
export function resolveCalendar(config: { timezone: string; calendar?: CalendarConfig | undefined }): ResolvedCalendar {
  const calendar = config.calendar;
  const timeZone = calendar?.timezone ?? config.timezone;
  if (!calendar) return { activities: new Map(), notify: [], timeZone };
  const { activities, issues } = build(calendar, timeZone);
  if (issues.length > 0) throw new Error(`calendar: ${issues.map((issue) => issue.message).join('; ')}`);
  const time = parseLocalTime(calendar.dueTime)!;
  const ladder = calendar.reminders.map((rung) => parseRung(rung)!);
  const grace = parseSpan(calendar.grace)!;
  return {
    activities,
    notify: calendar.notify,
    timeZone,
    changeReview: calendar.changeReview && { ...calendar.changeReview, time, timeZone, grace, ladder },
    certification: calendar.certification && { ...calendar.certification, expires: expiryOf(calendar.certification) },
  };
}

function calendarIssues(calendar: CalendarConfig): Issue[] {
  // The zone only matters for instants; checking shapes needs none.
  return build(calendar, 'UTC').issues;
}

function build(calendar: CalendarConfig, fallbackZone: string): { activities: Map<string, CalendarActivity>; issues: Issue[] } {
  const issues: Issue[] = [];
  const activities = new Map<string, CalendarActivity>();
  const seen = new Set<string>();
  const entries: { entry: ActivityEntry; path: (string | number)[] }[] = [];
  const defaults = new Map((calendar.defaults ? DEFAULT_ACTIVITIES : []).map((entry) => [entry.id, { ...entry, anchor: DEFAULT_ANCHOR }]));

  calendar.activities.forEach((entry, index) => {
    const path = ['activities', index];
    if (seen.has(entry.id)) issues.push({ path: [...path, 'id'], message: `duplicate activity id "${entry.id}"` });
    seen.add(entry.id);
    const base = defaults.get(entry.id);
    defaults.delete(entry.id);
    // An entry that names its own frequency replaces the default's rather than mixing two.
    const ownFrequency = entry.rrule !== undefined || entry.every !== undefined;
    entries.push({
      entry: base ? { ...base, ...(ownFrequency ? { rrule: undefined, every: undefined, anchor: undefined } : {}), ...definedOf(entry) } : entry,
      path,
    });
  });
  entries.unshift(...[...defaults.values()].map((entry) => ({ entry, path: ['defaults'] })));

  const defaultsFor = {
    time: calendar.dueTime,
    timeZone: calendar.timezone ?? fallbackZone,
    grace: calendar.grace,
    reminders: calendar.reminders,
    owner: calendar.owner,
  };
  for (const { entry, path } of entries) {
    const activity = activityOf(entry, path, defaultsFor, issues);
    if (activity) activities.set(activity.id, activity);
  }

  if (calendar.certification) {
    const owner = calendar.certification.owner ?? calendar.owner;
    if (!owner) issues.push({ path: ['certification', 'owner'], message: 'the audit cycle needs an owner: set certification.owner or calendar.owner' });
    for (const activity of auditCycleOf(calendar.certification, owner ?? '', defaultsFor)) {
      if (activities.has(activity.id)) issues.push({ path: ['certification'], message: `activity id "${activity.id}" is taken by the audit cycle` });
      activities.set(activity.id, activity);
    }
  }
  return { activities, issues };
}

function definedOf(entry: ActivityEntry): Partial<ActivityEntry> {
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
}

interface Fallbacks {
  time: string;
  timeZone: string;
  grace: string;
  reminders: string[];
  owner?: string;
}

function activityOf(entry: ActivityEntry, path: (string | number)[], fallbacks: Fallbacks, issues: Issue[]): CalendarActivity | undefined {
  const at = (field: string) => (path[0] === 'defaults' ? ['defaults'] : [...path, field]);
  const missing = (field: string, hint: string) => issues.push({ path: at(field), message: `activity ${entry.id}: ${field} is required${hint}` });
  if (!entry.title) missing('title', '');
  if (!entry.reference) missing('reference', '');
  const owner = entry.owner ?? fallbacks.owner;
  if (!owner) missing('owner', ' (or set calendar.owner)');

  let recurrence: Recurrence | undefined;
  if (entry.rrule !== undefined && entry.every !== undefined) {
    issues.push({ path: at('every'), message: `activity ${entry.id}: give either rrule or every, not both` });
  } else if (entry.rrule !== undefined) {
    try {
      const rule = parseRecurrenceRule(entry.rrule);
      const start = rule.start?.local ?? (entry.anchor ? parseLocalDate(entry.anchor) : undefined);
      if (!start) issues.push({ path: at('anchor'), message: `activity ${entry.id}: an rrule without DTSTART needs an anchor date` });
      else recurrence = { kind: 'rule', rule, start: { year: start.year, month: start.month, day: start.day } };
    } catch (error) {
      if (!(error instanceof RecurrenceError)) throw error;
      issues.push({ path: at('rrule'), message: `activity ${entry.id}: ${error.message}` });
    }
  } else if (entry.every !== undefined) {
    const span = parseSpan(entry.every)!;
    if (!['day', 'week', 'month', 'year'].includes(span.unit) || span.amount === 0) {
      issues.push({ path: at('every'), message: `activity ${entry.id}: every counts days, weeks, months or years (at least 1)` });
    } else if (!entry.anchor) {
      issues.push({ path: at('anchor'), message: `activity ${entry.id}: every needs an anchor date to count from` });
    } else {
      recurrence = { kind: 'every', span, anchor: parseLocalDate(entry.anchor)! };
    }
  } else {
    missing('rrule', ' (or every with anchor)');
  }

  if (!entry.title || !entry.reference || !owner || !recurrence) return undefined;
  return {
    id: entry.id,
    title: entry.title,
    references: [entry.reference].flat(),
    owner,
    origin: 'calendar',
    recurrence,
    time: parseLocalTime(entry.dueTime ?? fallbacks.time)!,
    timeZone: entry.timezone ?? fallbacks.timeZone,
    grace: parseSpan(entry.grace ?? fallbacks.grace)!,
    ladder: (entry.reminders ?? fallbacks.reminders).map((rung) => parseRung(rung)!),
    evidence: entry.evidence ?? [],
    paused: entry.paused ?? false,
    description: entry.description,
  };
}

function expiryOf(certification: Certification): string {
  const issued = parseLocalDate(certification.issued)!;
  const expires = addMonthsClamped(issued, 36);
  return `${expires.year}-${String(expires.month).padStart(2, '0')}-${String(expires.day).padStart(2, '0')}`;
}

/**
 * The audit cycle of one certificate: surveillance audits at 12 and 24 months after issue, the recertification
 * audit `recertificationLeadWeeks` before expiry (issued + 36 months), each with a readiness check
 * `readinessWeeks` earlier. A new certificate means a new `issued` date.
 */
export function auditCycleOf(certification: Certification, owner: string, fallbacks: Fallbacks): CalendarActivity[] {
  const issued = parseLocalDate(certification.issued)!;
  const audits: { id: string; title: string; due: LocalDate }[] = [
    { id: 'surveillance-audit-1', title: `Surveillance audit 1 (${certification.body})`, due: addMonthsClamped(issued, 12) },
    { id: 'surveillance-audit-2', title: `Surveillance audit 2 (${certification.body})`, due: addMonthsClamped(issued, 24) },
    {
      id: 'recertification-audit',
      title: `Recertification audit (${certification.body})`,
      due: addDays(addMonthsClamped(issued, 36), -7 * certification.recertificationLeadWeeks),
    },
  ];
  const common = {
    owner,
    origin: 'audit-cycle' as const,
    time: parseLocalTime(fallbacks.time)!,
    timeZone: fallbacks.timeZone,
    grace: parseSpan(fallbacks.grace)!,
    ladder: fallbacks.reminders.map((rung) => parseRung(rung)!),
    paused: false,
  };
  return audits.flatMap((audit) => [
    {
      ...common,
      id: `${audit.id}-readiness`,
      title: `Readiness check for ${audit.title.charAt(0).toLowerCase()}${audit.title.slice(1)}`,
      references: ['9.2', '9.3'],
      recurrence: { kind: 'dates' as const, dates: [addDays(audit.due, -7 * certification.readinessWeeks)] },
      evidence: [{ name: 'readiness checklist', required: true }],
    },
    {
      ...common,
      id: audit.id,
      title: audit.title,
      // External audits evaluate the whole ISMS: clause 9 (performance evaluation) rather than one control.
      references: ['9'],
      recurrence: { kind: 'dates' as const, dates: [audit.due] },
      evidence: [{ name: 'audit report', required: true }],
    },
  ]);
}
