import { accountNeverUsed } from './account-never-used.ts';
import { awsRootAccount } from './aws-root-account.ts';
import { backupJobFailed } from './backup-job-failed.ts';
import { backupRpo } from './backup-rpo.ts';
import { inactiveAccount } from './inactive-account.ts';
import type { AnyCheck } from './kit/contract.ts';
import { leaverStillActive } from './leaver-still-active.ts';
import { mfaMissing } from './mfa-missing.ts';
import { orphanAccount } from './orphan-account.ts';
import { restoreTest } from './restore-test.ts';
import { riskAcceptanceMissing } from './risk-acceptance-missing.ts';
import { riskChangeUnreviewed } from './risk-change-unreviewed.ts';
import { riskControlIneffective } from './risk-control-ineffective.ts';
import { riskReviewOverdue } from './risk-review-overdue.ts';
import { scanStaleness } from './scan-staleness.ts';
import { staleCredentials } from './stale-credentials.ts';
import { supplierCertificateExpiry } from './supplier-certificate-expiry.ts';
import { supplierReviewOverdue } from './supplier-review-overdue.ts';
import { trainingOverdue } from './training-overdue.ts';
import { vulnerabilitySla } from './vulnerability-sla.ts';

export { accountNeverUsed, awsRootAccount, inactiveAccount, leaverStillActive, mfaMissing, orphanAccount, staleCredentials };
export { backupJobFailed, backupRpo, restoreTest };
export { leaverClock } from './leaver-still-active.ts';

/** The access-control checks (Annex A 5.16-5.18, 6.5, 8.2, 8.5). */
export const accessChecks: readonly AnyCheck[] = [
  leaverStillActive,
  inactiveAccount,
  accountNeverUsed,
  mfaMissing,
  awsRootAccount,
  staleCredentials,
  orphanAccount,
];

/** The checks that give evidence for A.8.13 (information backup). */
export const backupChecks: readonly AnyCheck[] = [backupJobFailed, backupRpo, restoreTest];

/** The checks over the ISMS's own records: the risk register, the supplier register and training records. */
export const registerChecks: readonly AnyCheck[] = [
  riskReviewOverdue,
  riskAcceptanceMissing,
  riskControlIneffective,
  riskChangeUnreviewed,
  supplierReviewOverdue,
  supplierCertificateExpiry,
  trainingOverdue,
];

/** Every check this build ships; config names them by `id`. */
export const builtinChecks: readonly AnyCheck[] = [vulnerabilitySla, scanStaleness, ...accessChecks, ...backupChecks, ...registerChecks];

export const defaultChecks: ReadonlyMap<string, AnyCheck> = new Map(builtinChecks.map((check) => [check.id, check]));
