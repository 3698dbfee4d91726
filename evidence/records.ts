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

export const recordSchemas = {
  identity: Identity,
  'backup-job': BackupJob,
  'protected-resource': ProtectedResource,
  finding: Finding,
  scan: Scan,
  'hr-person': HrPerson,
} as const;

export type RecordKind = keyof typeof recordSchemas;
export const RecordKind = z.enum(Object.keys(recordSchemas) as [RecordKind, ...RecordKind[]]);
export type RecordOf<K extends RecordKind> = z.infer<(typeof recordSchemas)[K]>;

/** Every line of an evidence blob is one of these, tagged by `kind`. */
export const EvidenceRecord = z.discriminatedUnion('kind', [Identity, BackupJob, ProtectedResource, Finding, Scan, HrPerson]);
export type EvidenceRecord = z.infer<typeof EvidenceRecord>;
