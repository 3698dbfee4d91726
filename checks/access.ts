import { accountNeverUsed } from './account-never-used.ts';
import { awsRootAccount } from './aws-root-account.ts';
import type { AnyCheck } from './contract.ts';
import { inactiveAccount } from './inactive-account.ts';
import { leaverStillActive } from './leaver-still-active.ts';
import { mfaMissing } from './mfa-missing.ts';
import { orphanAccount } from './orphan-account.ts';
import { staleCredentials } from './stale-credentials.ts';

export { accountNeverUsed, awsRootAccount, inactiveAccount, leaverStillActive, mfaMissing, orphanAccount, staleCredentials };
export { leaverClock } from './leaver-still-active.ts';

/** The access-control checks (Annex A 5.16-5.18, 6.5, 8.2, 8.5), for the check registry. */
export const accessChecks: readonly AnyCheck[] = [
  leaverStillActive,
  inactiveAccount,
  accountNeverUsed,
  mfaMissing,
  awsRootAccount,
  staleCredentials,
  orphanAccount,
];
