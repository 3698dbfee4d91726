import { z } from 'zod';

/**
 * The normalized evidence records. Connectors map each source onto one of these shapes;
 * checks read only these shapes. Anything source-specific goes under `raw`.
 */

const isoTimestamp = z.iso.datetime({ offset: true });
const raw = z.record(z.string(), z.unknown()).optional();

export const Severity = z.enum(['critical', 'high', 'medium', 'low', 'info']);
export type Severity = z.infer<typeof Severity>;
export const severityRank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export const Credential = z.object({
  kind: z.enum(['access-key', 'password', 'certificate', 'token']),
  id: z.string(),
  active: z.boolean(),
  createdAt: isoTimestamp.nullable(),
  lastUsedAt: isoTimestamp.nullable(),
});

export const Identity = z.object({
  kind: z.literal('identity'),
  source: z.string(),
  tenant: z.string(),
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  status: z.enum(['active', 'suspended', 'disabled', 'deleted']),
  privileged: z.boolean(),
  mfaEnabled: z.union([z.boolean(), z.literal('unknown')]),
  /** null means never; 'unknown' means the source could not tell (e.g. a missing licence). */
  lastLoginAt: z.union([isoTimestamp, z.null(), z.literal('unknown')]),
  createdAt: isoTimestamp.nullable(),
  credentials: z.array(Credential).default([]),
  groups: z.array(z.string()).default([]),
  /**
   * Whether a person can sign in interactively (a console or web password): what MFA protects. false for an AWS IAM
   * user with access keys and no console password; absent when the source does not say, as for a directory account,
   * which is there to sign in with.
   */
  interactiveSignIn: z.boolean().optional(),
  raw,
});
export type Identity = z.infer<typeof Identity>;

export const BackupJob = z.object({
  kind: z.literal('backup-job'),
  source: z.string(),
  account: z.string(),
  jobId: z.string(),
  jobKind: z.enum(['backup', 'restore', 'restore-test']),
  resourceId: z.string(),
  resourceType: z.string(),
  state: z.string(),
  startedAt: isoTimestamp.nullable(),
  completedAt: isoTimestamp.nullable(),
  message: z.string().nullable(),
  raw,
});
export type BackupJob = z.infer<typeof BackupJob>;

/** A resource a backup service protects, with its last backup: what recovery-point objectives are measured against. */
export const ProtectedResource = z.object({
  kind: z.literal('protected-resource'),
  source: z.string(),
  account: z.string(),
  /** The resource's ARN or the source's own identifier. */
  resourceId: z.string().min(1),
  resourceType: z.string(),
  /** null means the source reports no backup yet. */
  lastBackupAt: isoTimestamp.nullable(),
  tags: z.record(z.string(), z.string()).default({}),
  raw,
});
export type ProtectedResource = z.infer<typeof ProtectedResource>;

export const Finding = z.object({
  kind: z.literal('finding'),
  source: z.string(),
  scanner: z.string(),
  /** CVE, GHSA, plugin or rule id. */
  id: z.string().min(1),
  title: z.string(),
  severity: Severity,
  cvss: z.number().min(0).max(10).nullable(),
  /** What was scanned: an image, host, repository or file. */
  asset: z.string().min(1),
  /** Package, port or location inside the asset; part of the finding's identity. */
  location: z.string().default(''),
  /** When the scan that produced this record ran. */
  scannedAt: isoTimestamp,
  /** True when the source states no scan time: scannedAt is then a stand-in (a file's modification time) that proves no recency. */
  scanTimeUnknown: z.boolean().optional(),
  firstSeenAt: isoTimestamp,
  fixedAt: isoTimestamp.nullable().default(null),
  fixAvailable: z.union([z.boolean(), z.literal('unknown')]),
  raw,
});
export type Finding = z.infer<typeof Finding>;

export const HrPerson = z.object({
  kind: z.literal('hr-person'),
  source: z.string(),
  employeeId: z.string().min(1),
  email: z.string().nullable(),
  aliases: z.array(z.string()).default([]),
  displayName: z.string().nullable(),
  status: z.enum(['active', 'leaver']),
  terminationDate: isoTimestamp.nullable(),
  lastWorkingDay: isoTimestamp.nullable(),
  manager: z.string().nullable(),
  /** The start of the hire day; null, or absent from sources that have no such field, when not known. Onboarding deadlines count from it. */
  hireDate: isoTimestamp.nullable().optional(),
  raw,
});
export type HrPerson = z.infer<typeof HrPerson>;

/**
 * One scan of one asset, whether or not it found anything: a clean scan proves the asset was scanned,
 * which is what staleness and fix detection need.
 */
export const Scan = z.object({
  kind: z.literal('scan'),
  source: z.string(),
  scanner: z.string(),
  asset: z.string().min(1),
  scannedAt: isoTimestamp,
  /** True when the source states no scan time: scannedAt is then a stand-in (a file's modification time) that proves no recency. */
  scanTimeUnknown: z.boolean().optional(),
  /** Where the scan came from (file path, URL, API). */
  origin: z.string(),
  findingCount: z.number().int().nonnegative(),
  raw,
});
export type Scan = z.infer<typeof Scan>;

/** A calendar day as written in a register, `YYYY-MM-DD`: what people read and write. */
const calendarDay = z.iso.date();

/**
 * When a register entry's next review is due: the day, as the register's zone counts days, and the instant that
 * day ends there. A review on the due day is on time; from `overdueFrom` on it is late. Both are null when the entry
 * was never reviewed.
 */
const reviewFields = {
  /** How often the entry is reviewed, as written (`6 months`, `1 year`). */
  reviewInterval: z.string().min(1),
  /** The start of the last review's day; null when the register records none. */
  lastReviewAt: isoTimestamp.nullable(),
  reviewDue: calendarDay.nullable(),
  overdueFrom: isoTimestamp.nullable(),
};

export const RiskTreatment = z.enum(['mitigate', 'accept', 'transfer', 'avoid']);
export type RiskTreatment = z.infer<typeof RiskTreatment>;

/** One entry of the risk register (ISO/IEC 27001 6.1.2, 6.1.3, 8.2, 8.3), with levels on the register's scales. */
export const Risk = z.object({
  kind: z.literal('risk'),
  source: z.string(),
  id: z.string().min(1),
  title: z.string().min(1),
  owner: z.string().nullable(),
  /** The asset or process at risk. */
  asset: z.string().nullable(),
  /** Levels on the configured scales, 1 = lowest; a score is likelihood x impact. */
  likelihood: z.number().int().positive(),
  impact: z.number().int().positive(),
  inherentScore: z.number().int().positive(),
  residualLikelihood: z.number().int().positive(),
  residualImpact: z.number().int().positive(),
  residualScore: z.number().int().positive(),
  treatment: RiskTreatment,
  /** The Annex A controls (`A.8.13`) that treat the risk, as the register names them: what the Statement of Applicability links it to. */
  controls: z.array(z.string()),
  /** Who accepted the risk (or its residual) and on which day; null when the register records no acceptance. */
  acceptance: z.object({ by: z.string().nullable(), on: calendarDay.nullable() }).nullable(),
  ...reviewFields,
  raw,
});
export type Risk = z.infer<typeof Risk>;

export const SupplierCriticality = z.enum(['critical', 'high', 'medium', 'low']);
export type SupplierCriticality = z.infer<typeof SupplierCriticality>;

/** A certificate or attestation a supplier holds (ISO/IEC 27001, a SOC 2 report), valid through `validUntil`. */
export const SupplierCertificate = z.object({
  name: z.string().min(1),
  validUntil: calendarDay,
  /** The first instant it is no longer valid: the end of `validUntil` in the register's zone. */
  expiresAt: isoTimestamp,
});
export type SupplierCertificate = z.infer<typeof SupplierCertificate>;

/** One entry of the supplier register (A.5.19-A.5.22). */
export const Supplier = z.object({
  kind: z.literal('supplier'),
  source: z.string(),
  name: z.string().min(1),
  service: z.string().nullable(),
  /** The kinds of data the supplier handles (`customer PII`, `source code`). */
  data: z.array(z.string()),
  criticality: SupplierCriticality,
  owner: z.string().nullable(),
  certificates: z.array(SupplierCertificate),
  ...reviewFields,
  raw,
});
export type Supplier = z.infer<typeof Supplier>;

/** One person's enrollment in one course, as a learning platform exports it. */
export const TrainingRecord = z.object({
  kind: z.literal('training-record'),
  source: z.string(),
  /** The learner's email address, lower-cased: what joins them to HR. */
  person: z.string().min(1),
  employeeId: z.string().nullable(),
  displayName: z.string().nullable(),
  course: z.string().min(1),
  assignedAt: isoTimestamp.nullable(),
  /** null while the course is not completed. */
  completedAt: isoTimestamp.nullable(),
  /** The platform's own status word, as exported. */
  status: z.string().nullable(),
  raw,
});
export type TrainingRecord = z.infer<typeof TrainingRecord>;

export const recordSchemas = {
  identity: Identity,
  'backup-job': BackupJob,
  'protected-resource': ProtectedResource,
  finding: Finding,
  scan: Scan,
  'hr-person': HrPerson,
  risk: Risk,
  supplier: Supplier,
  'training-record': TrainingRecord,
} as const;

export type RecordKind = keyof typeof recordSchemas;
export const RecordKind = z.enum(Object.keys(recordSchemas) as [RecordKind, ...RecordKind[]]);
export type RecordOf<K extends RecordKind> = z.infer<(typeof recordSchemas)[K]>;

/** Every line of an evidence blob is one of these, tagged by `kind`. */
export const EvidenceRecord = z.discriminatedUnion('kind', [Identity, BackupJob, ProtectedResource, Finding, Scan, HrPerson, Risk, Supplier, TrainingRecord]);
export type EvidenceRecord = z.infer<typeof EvidenceRecord>;
