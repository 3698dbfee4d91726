import type { Campaign, ReviewEntry, ReviewEntryDraft } from '../../evidence/access-reviews.ts';

/** A review entry draft with plain defaults: an active, unprivileged account with MFA that signed in recently. */
type Overrides<T extends ReviewEntryDraft> = Partial<Omit<T, 'flags'>> & { flags?: Partial<ReviewEntryDraft['flags']> };

export function entryDraft(overrides: Overrides<ReviewEntryDraft> = {}): ReviewEntryDraft {
  const { flags, ...rest } = overrides;
  return {
    system: 'google',
    reviewer: 'it-lead@example.com',
    tenant: 'C03az79cb',
    accountId: '100000000000000000001',
    username: 'alice@example.com',
    email: 'alice@example.com',
    displayName: 'Alice Example',
    status: 'active',
    privileged: false,
    mfa: true,
    lastLoginAt: '2026-11-20T08:00:00.000Z',
    evidenceId: 'ev-google',
    ...rest,
    flags: { inactive: false, neverUsed: false, owner: null, leaver: null, orphan: null, serviceAccount: false, ...flags },
  };
}

/** A stored entry: the draft with its number and no decision yet. */
export function reviewEntry(entryNo: number, overrides: Overrides<ReviewEntry> = {}): ReviewEntry {
  const { flags, ...rest } = overrides;
  return {
    ...entryDraft({ flags }),
    campaignId: 'review:access:2026-Q4',
    entryNo,
    decision: null,
    reason: null,
    decidedBy: null,
    decidedAt: null,
    verification: null,
    verifiedAt: null,
    verificationEvidenceId: null,
    ...rest,
  };
}

export const campaignHeader: Pick<Campaign, 'id' | 'controlId' | 'period' | 'openedAt' | 'dueAt' | 'status' | 'closedAt'> = {
  id: 'review:access:2026-Q4',
  controlId: 'access',
  period: '2026-Q4',
  openedAt: '2026-10-01T07:00:00.000Z',
  dueAt: '2026-10-15T07:00:00.000Z',
  status: 'open',
  closedAt: null,
};
