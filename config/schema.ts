import { z } from 'zod';
import { CalendarConfig } from './calendar.ts';
import { Timezone } from '../core/calendar-occurrences.ts';
import { Duration, Schedule } from './schedule.ts';
import { EvidenceConfig } from './evidence-blobs.ts';
import { References } from './frameworks/reference.ts';
import { SourceJoin } from './join.ts';
import { ReviewConfig } from './review-schema.ts';
import { SecretRef } from '../core/secrets.ts';
import { SoaConfig } from './soa.ts';

const Identifier = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

const collectionFields = {
  timeout: Duration.describe('How long one attempt to collect a source may take.'),
  heartbeatTimeout: Duration.describe('A worker that stops heartbeating for this long is presumed dead and the pull is retried elsewhere.'),
  maximumAttempts: z.number().int().min(1).max(100).describe('Attempts to collect a source before it is recorded as an evidence gap.'),
  initialRetryInterval: Duration.describe('The wait before the first retry; each further wait doubles, up to maximumRetryInterval.'),
  maximumRetryInterval: Duration.describe('The longest wait between two attempts.'),
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

export const SourceConfig = z
  .strictObject({
    name: Identifier.describe("The source's name in its control; evidence is kept under it."),
    connector: z.string().min(1).describe('A connector instance from `connectors:` or a built-in connector name.'),
    config: z.record(z.string(), z.unknown()).default({}).describe("The connector's options (see Connectors); they override those of the instance it names."),
    join: SourceJoin.optional().describe("How this source's accounts map to people, when its connector instance does not say it."),
  })
  .describe("Where the control's evidence comes from: one connector and its options.");
export type SourceConfig = z.infer<typeof SourceConfig>;

export const CheckConfig = z
  .strictObject({
    check: z.string().min(1).describe('The id of a built-in check (see Checks).'),
    params: z.record(z.string(), z.unknown()).default({}).describe("The check's parameters (see Checks); each one left out takes its default."),
    sources: z.array(Identifier).optional().describe("Sources whose records the check reads; all of the control's sources by default."),
  })
  .describe("A check the control's evidence must pass, and its parameters.");
export type CheckConfig = z.infer<typeof CheckConfig>;

export const ControlConfig = z.strictObject({
  id: Identifier.describe('Stable id of the control: its schedule, runs, evidence and nonconformities are named by it.'),
  title: z.string().min(1).describe('What the control ensures, in a sentence.'),
  reference: References.describe("ISO/IEC 27001:2022 clauses or Annex A controls (`A.8.8`), or other frameworks' ids (`soc2/CC7.1`); one or a list."),
  owner: z.string().min(1).describe('Who answers for the control and its nonconformities, usually an email address.'),
  schedule: Schedule,
  sources: z.array(SourceConfig).min(1).describe('Where the evidence comes from.'),
  checks: z.array(CheckConfig).min(1).describe('What the evidence must show.'),
  notify: z.array(z.string()).default([]).describe("Names of targets under `notifications:` that hear of this control's nonconformities and failures."),
  collection: CollectionOverrides.optional().describe("This control's exceptions to the top-level `collection` policy."),
  paused: z.boolean().default(false).describe('A paused control keeps its schedule, paused, and runs only on demand (`isms run`).'),
  review: ReviewConfig.optional().describe("Periodic access review campaigns over the control's identity sources (see Access review campaigns in the README)."),
});
export type ControlConfig = z.infer<typeof ControlConfig>;

export const ConnectorInstance = z
  .strictObject({
    type: z.string().min(1).describe('The built-in connector this instance configures.'),
    config: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Options of the connector (see Connectors), shared by every source that names this instance.'),
    join: SourceJoin.optional().describe("How the system's accounts map to people, for every control that reads it."),
  })
  .describe('A named connector with options that several sources share.');

const NotificationEvents = z
  .array(z.enum(['nonconformity-opened', 'evidence-gap', 'run-error']))
  .default(['nonconformity-opened', 'evidence-gap', 'run-error'])
  .describe('The news this target receives.');
const TargetName = Identifier.describe('How controls (`notify:`) and the calendar name this target.');

/** A webhook's URL carries its credential (Slack's and Teams' URLs are bearer tokens): it is a secret reference, never a literal. */
export const WebhookTarget = z.strictObject({
  name: TargetName,
  kind: z.literal('webhook').describe('A webhook: Slack, Teams or any receiver of JSON.'),
  url: SecretRef.describe("The webhook URL, as a secret reference: Slack's and Teams' URLs are bearer tokens."),
  format: z.enum(['slack', 'teams', 'json']).default('json').describe('The body: a Slack or Teams message, or the news as JSON.'),
  events: NotificationEvents,
});
export type WebhookTarget = z.infer<typeof WebhookTarget>;

export const EmailTarget = z
  .strictObject({
    name: TargetName,
    kind: z.literal('email').describe('Email over SMTP.'),
    host: z.string().min(1).describe('The SMTP server.'),
    port: z.number().int().min(1).max(65535).optional().describe('Default: 465 with implicit TLS, 587 with STARTTLS, 25 without TLS.'),
    tls: z
      .enum(['starttls', 'implicit', 'none'])
      .default('starttls')
      .describe('implicit: TLS from the first byte (SMTPS); starttls: the server must offer STARTTLS or nothing is sent; none: plain (a local relay).'),
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe("A PEM file of the CA that signed the server's certificate (a private CA); relative to the config file. The system's CAs otherwise."),
    auth: z
      .strictObject({
        user: z.union([z.string().min(1), SecretRef]).describe('The SMTP user: written out, or a secret reference.'),
        password: SecretRef.describe('The SMTP password, as a secret reference.'),
      })
      .optional()
      .describe('SMTP authentication; needs tls starttls or implicit.'),
    from: z.email().describe('The sender address.'),
    to: z.array(z.email()).min(1).describe('The recipients.'),
    events: NotificationEvents,
  })
  .superRefine((target, context) => {
    if (target.auth && target.tls === 'none') {
      context.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'SMTP auth needs tls: starttls or implicit; without TLS the password would cross the network in clear',
      });
    }
  });
export type EmailTarget = z.infer<typeof EmailTarget>;

export const NotificationTarget = z.discriminatedUnion('kind', [WebhookTarget, EmailTarget]).describe('A webhook (Slack, Teams or JSON) or an email target.');
export type NotificationTarget = z.infer<typeof NotificationTarget>;

export const IsmsConfig = z.strictObject({
  organisation: z.string().min(1).optional().describe("The organisation's name, shown in reports, the Statement of Applicability and OSCAL documents."),
  dataDir: z.string().default('.isms').describe('Where the evidence store and catalog live; relative to the config file.'),
  catalog: z
    .strictObject({ url: SecretRef.describe('A postgres://user:password@host:port/database URL, as a secret reference (it holds the password).') })
    .optional()
    .describe('Where the catalog lives: PostgreSQL at this URL; without it, ISMS_CATALOG_URL when set, else the SQLite file <dataDir>/catalog.sqlite.'),
  export: z
    .strictObject({ signingKey: SecretRef.describe("A PEM private key, Ed25519 or ECDSA, that signs each bundle's manifest.") })
    .optional()
    .describe('Auditor bundles (`isms evidence export`).'),
  evidence: EvidenceConfig.prefault({}),
  timezone: Timezone.default('UTC').describe("The organisation's zone: the default of schedules, calendar activities and the dates in reports."),
  temporal: z
    .strictObject({
      taskQueue: z.string().min(1).default('isms').describe('The Temporal task queue the worker serves and schedules start runs on.'),
      catchupWindow: Duration.default('1 day').describe('A worker that was down catches up on runs missed within this window, then skips the rest.'),
      shutdownGraceTime: Duration.default('30 seconds').describe(
        'How long a stopping worker lets in-flight activities finish before cancelling them (they are then retried).',
      ),
    })
    .prefault({})
    .describe('How the worker uses Temporal; the connection itself comes from TEMPORAL_* environment variables.'),
  collection: CollectionPolicy.prefault({}).describe('Timeouts and retries of evidence collection, for every control unless it says otherwise.'),
  connectors: z.record(Identifier, ConnectorInstance).default({}).describe('Named connector instances: options shared by the sources that name them.'),
  notifications: z.array(NotificationTarget).default([]).describe('Where controls (`notify:`) and the calendar send their news.'),
  controls: z.array(ControlConfig).default([]).describe('The automated controls: each a schedule, its evidence sources and the checks the evidence must pass.'),
  calendar: CalendarConfig.optional().describe('The maintenance calendar: recurring human activities, the audit cycle and change reviews.'),
  soa: SoaConfig.optional().describe('The Statement of Applicability: exclusions, inclusion reasons, owners, licensed titles.'),
});
export type IsmsConfig = z.infer<typeof IsmsConfig>;
