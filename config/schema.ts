import { z } from 'zod';
import { CalendarConfig } from './calendar.ts';
import { References } from './frameworks/reference.ts';
import { SourceJoin } from './join.ts';
import { ReviewConfig } from './review.ts';
import { SecretRef } from './secrets.ts';
import { SoaConfig } from './soa.ts';

/** A duration as Temporal takes it: "90s", "2 minutes", "1 day". */
export const Duration = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i,
    'a duration such as "90s", "10 minutes" or "1 day"',
  );
export type Duration = z.infer<typeof Duration>;

const CRON_FIELD = /^[\d*?,/LW#A-Z-]+$/i;
const Cron = z.string().refine(
  (value) => {
    if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(value.trim())) return true;
    const fields = value.trim().split(/\s+/);
    return (fields.length === 5 || fields.length === 6) && fields.every((field) => CRON_FIELD.test(field));
  },
  { message: 'a cron expression with 5 fields (minute hour day-of-month month day-of-week), or @daily, @weekly, ...' },
);

export const Timezone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as "Europe/Berlin" or "UTC"' },
);

const CalendarValue = z.union([z.number().int(), z.string(), z.array(z.union([z.number().int(), z.string()]))]);
const CalendarEntry = z.strictObject({
  second: CalendarValue.optional(),
  minute: CalendarValue.optional(),
  hour: CalendarValue.optional(),
  dayOfMonth: CalendarValue.optional(),
  month: CalendarValue.optional(),
  dayOfWeek: CalendarValue.optional(),
  comment: z.string().optional(),
});
export type CalendarEntry = z.infer<typeof CalendarEntry>;

export const Schedule = z.union([
  z.strictObject({ cron: z.union([Cron, z.array(Cron).min(1)]), timezone: Timezone.optional(), jitter: Duration.optional() }),
  z.strictObject({ every: Duration, offset: Duration.optional(), jitter: Duration.optional() }),
  z.strictObject({ calendar: z.array(CalendarEntry).min(1), timezone: Timezone.optional(), jitter: Duration.optional() }),
]);
export type Schedule = z.infer<typeof Schedule>;

const Identifier = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

const collectionFields = {
  /** How long one collection attempt may take. */
  timeout: Duration,
  /** A worker that stops heartbeating for this long is presumed dead and the pull is retried elsewhere. */
  heartbeatTimeout: Duration,
  maximumAttempts: z.number().int().min(1).max(100),
  initialRetryInterval: Duration,
  maximumRetryInterval: Duration,
};
export const CollectionPolicy = z.strictObject({
  timeout: collectionFields.timeout.default('30 minutes'),
  heartbeatTimeout: collectionFields.heartbeatTimeout.default('2 minutes'),
  maximumAttempts: collectionFields.maximumAttempts.default(5),
  initialRetryInterval: collectionFields.initialRetryInterval.default('5s'),
  maximumRetryInterval: collectionFields.maximumRetryInterval.default('5 minutes'),
});
/** Per-control overrides of the global collection policy. */
const CollectionOverrides = z.strictObject(collectionFields).partial();
export type CollectionPolicy = z.infer<typeof CollectionPolicy>;

export const SourceConfig = z.strictObject({
  name: Identifier,
  /** A connector instance from `connectors:` or a built-in connector name. */
  connector: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
  /** How this source's accounts map to people, when its connector instance does not say it. */
  join: SourceJoin.optional(),
});
export type SourceConfig = z.infer<typeof SourceConfig>;

export const CheckConfig = z.strictObject({
  check: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Sources whose records the check reads; all of the control's sources by default. */
  sources: z.array(Identifier).optional(),
});
export type CheckConfig = z.infer<typeof CheckConfig>;

export const ControlConfig = z.strictObject({
  id: Identifier,
  title: z.string().min(1),
  /** ISO/IEC 27001:2022 clauses or Annex A controls (`A.8.8`), or other frameworks' ids (`soc2/CC7.1`). */
  reference: References,
  owner: z.string().min(1),
  schedule: Schedule,
  sources: z.array(SourceConfig).min(1),
  checks: z.array(CheckConfig).min(1),
  notify: z.array(z.string()).default([]),
  collection: CollectionOverrides.optional(),
  /** A paused control keeps its schedule, paused, and runs only on demand. */
  paused: z.boolean().default(false),
  review: z.lazy(() => ReviewConfig).optional(),
});
export type ControlConfig = z.infer<typeof ControlConfig>;

export const ConnectorInstance = z.strictObject({
  type: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
  /** How the system's accounts map to people, for every control that reads it. */
  join: SourceJoin.optional(),
});

const NotificationEvents = z
  .array(z.enum(['nonconformity-opened', 'evidence-gap', 'run-error']))
  .default(['nonconformity-opened', 'evidence-gap', 'run-error']);

/** A webhook's URL carries its credential (Slack's and Teams' URLs are bearer tokens): it is a secret reference, never a literal. */
export const WebhookTarget = z.strictObject({
  name: Identifier,
  kind: z.literal('webhook'),
  url: SecretRef,
  format: z.enum(['slack', 'teams', 'json']).default('json'),
  events: NotificationEvents,
});
export type WebhookTarget = z.infer<typeof WebhookTarget>;

export const EmailTarget = z
  .strictObject({
    name: Identifier,
    kind: z.literal('email'),
    host: z.string().min(1),
    /** Default: 465 with implicit TLS, 587 with STARTTLS, 25 without TLS. */
    port: z.number().int().min(1).max(65535).optional(),
    /** implicit: TLS from the first byte (SMTPS); starttls: the server must offer STARTTLS or nothing is sent; none: plain (a local relay). */
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
    /** A PEM file of the CA that signed the server's certificate (a private CA); relative to the config file. The system's CAs otherwise. */
    caFile: z.string().min(1).optional(),
    auth: z.strictObject({ user: z.union([z.string().min(1), SecretRef]), password: SecretRef }).optional(),
    from: z.email(),
    to: z.array(z.email()).min(1),
    events: NotificationEvents,
  })
  .superRefine((target, context) => {
    if (target.auth && target.tls === 'none') {
      context.addIssue({ code: 'custom', path: ['auth'], message: 'SMTP auth needs tls: starttls or implicit; without TLS the password would cross the network in clear' });
    }
  });
export type EmailTarget = z.infer<typeof EmailTarget>;

export const NotificationTarget = z.discriminatedUnion('kind', [WebhookTarget, EmailTarget]);
export type NotificationTarget = z.infer<typeof NotificationTarget>;

export const IsmsConfig = z.strictObject({
  organisation: z.string().min(1).optional(),
  /** Where the evidence store and catalog live; relative to the config file. */
  dataDir: z.string().default('.isms'),
  /** Auditor bundles (`isms evidence export`): a PEM private key, Ed25519 or ECDSA, that signs each bundle's manifest. */
  export: z.strictObject({ signingKey: SecretRef }).optional(),
  timezone: Timezone.default('UTC'),
  temporal: z
    .strictObject({
      taskQueue: z.string().min(1).default('isms'),
      catchupWindow: Duration.default('1 day'),
      /** How long a stopping worker lets in-flight activities finish before cancelling them (they are then retried). */
      shutdownGraceTime: Duration.default('30 seconds'),
    })
    .prefault({}),
  collection: CollectionPolicy.prefault({}),
  connectors: z.record(Identifier, ConnectorInstance).default({}),
  notifications: z.array(NotificationTarget).default([]),
  controls: z.array(ControlConfig).default([]),
  /** The maintenance calendar: recurring human activities, the audit cycle and change reviews. */
  calendar: z.lazy(() => CalendarConfig).optional(),
  /** The Statement of Applicability: exclusions, inclusion reasons, owners, licensed titles. */
  soa: SoaConfig.optional(),
});
export type IsmsConfig = z.infer<typeof IsmsConfig>;
