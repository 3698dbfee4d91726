import type { AnyCheck } from './contract.ts';
import { riskAcceptanceMissing } from './risk-acceptance-missing.ts';
import { riskChangeUnreviewed } from './risk-change-unreviewed.ts';
import { riskControlIneffective } from './risk-control-ineffective.ts';
import { riskReviewOverdue } from './risk-review-overdue.ts';
import { supplierCertificateExpiry } from './supplier-certificate-expiry.ts';
import { supplierReviewOverdue } from './supplier-review-overdue.ts';
import { trainingOverdue } from './training-overdue.ts';

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
