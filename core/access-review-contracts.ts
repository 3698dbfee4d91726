import type { CollectionPlan, EvidenceGap, EvidenceRef, ReconcileSummary } from './contracts.ts';

/**
 * What crosses the boundary of an access review campaign: small values only. Entries and decisions live in the
 * catalog; the workflow holds counts, the systems under review and the times of revocations to verify.
 */

export const REVIEW_DECISIONS = ['approve', 'revoke', 'defer'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** The failure type of a refused decision: the reviewer must change the request, so retrying cannot help. */
export const REVIEW_REFUSAL = 'ReviewRefusal';

export interface OpenReviewInput {
  controlId: string;
}

export interface CampaignInput {
  controlId: string;
  period: string;
  /** When the campaign opened: the schedule's time, or when `isms review open` ran. Flags are judged as of then. */
  openedAt: string;
  trigger: 'schedule' | 'manual';
  /** Set when a campaign continues as new: where the previous run left off (lists built, decisions in the catalog). */
  carried?: CarriedCampaign;
}

/**
 * What a campaign hands to its next run when Temporal suggests continuing as new (history grows with every
 * decision: tens of thousands of one-at-a-time decisions would pass the history limit). Decisions themselves live
 * in the catalog; only the loop's own state travels.
 */
export interface CarriedCampaign {
  plan: ReviewPlan;
  undecided: number;
  systems: string[];
  closed: boolean;
  revocationsAwaiting: number[];
  recheck?: { at: number; round: number };
  /** The campaign's summary so far; its entryCount is the lists' size. */
  summary: CampaignSummary;
}

export interface ReviewPlan {
  controlId: string;
  period: string;
  campaignId: string;
  dueAt: string;
  /** Identity sources under review, then the HR sources that say whose each account is. */
  sources: string[];
  identitySources: string[];
  verifyAfterMs: number;
  maxVerifications: number;
  collection: CollectionPlan['collection'];
}

export interface BuildReviewInput {
  campaignId: string;
  controlId: string;
  period: string;
  openedAt: string;
  dueAt: string;
  refs: EvidenceRef[];
  gaps: EvidenceGap[];
}

export interface ReviewBuilt {
  campaignId: string;
  entryCount: number;
  undecided: number;
  /** Source names with a review list; account keys name one of them. */
  systems: string[];
  lists: number;
  reportEvidenceIds: string[];
  missingSources: string[];
}

/**
 * A reviewer's decision on entries, named by entry number ("12"), a range of numbers ("3-7") or an account key
 * ("<source>:<username>"). `defer` needs a reason.
 */
export interface DecideInput {
  entries: string[];
  decision: ReviewDecision;
  reason?: string;
  by: string;
}

export interface DecideResult {
  campaignId: string;
  decision: ReviewDecision;
  /** Entry numbers the decision was recorded on. */
  entries: number[];
  undecided: number;
}

export interface RecordDecisionsInput extends DecideInput {
  campaignId: string;
  at: string;
}

export interface CloseReviewInput {
  campaignId: string;
  controlId: string;
  at: string;
}

export interface ReviewClosed {
  status: 'completed' | 'incomplete';
  undecided: number;
  nonconformities: ReconcileSummary;
  reportEvidenceIds: string[];
}

export interface RevocationCheck {
  /** Sources holding revocations decided at or before the cutoff and not yet seen effective. */
  sources: string[];
  pending: number;
}

export interface VerifyRevocationsInput {
  campaignId: string;
  controlId: string;
  /** Revocations decided at or before this time are verified. */
  cutoff: string;
  at: string;
  runId: string;
  refs: EvidenceRef[];
  gaps: EvidenceGap[];
}

export interface RevocationOutcome {
  checked: number;
  effective: number;
  notEffective: number;
  /** Their source could not be collected: neither effective nor not. */
  unverifiable: number;
  nonconformities: ReconcileSummary;
}

export type CampaignPhase = 'collecting' | 'open' | 'verifying' | 'done';

export interface CampaignProgress {
  campaignId: string;
  phase: CampaignPhase;
  entryCount: number;
  undecided: number;
  systems: string[];
  dueAt: string | undefined;
  closed: boolean;
  /** Revocation decisions not yet verified by a later collection. */
  revocationsAwaitingVerification: number;
}

export interface CampaignSummary {
  campaignId: string;
  controlId: string;
  period: string;
  status: 'completed' | 'incomplete';
  entryCount: number;
  undecidedAtClose: number;
  verifications: number;
  revocations: { effective: number; notEffective: number; unverifiable: number };
  nonconformities: { opened: string[]; noLongerObserved: string[] };
}

export type EntryRef = { kind: 'numbers'; from: number; to: number } | { kind: 'account'; system: string; account: string };

/** Reads an entry reference; undefined when it is none of the three forms. */
export function parseEntryRef(ref: string): EntryRef | undefined {
  const text = ref.trim();
  const range = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (range) {
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    return from <= to ? { kind: 'numbers', from, to } : undefined;
  }
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  return { kind: 'account', system: text.slice(0, colon), account: text.slice(colon + 1) };
}

/**
 * Why a decision cannot be taken, from what the campaign knows without reading the catalog: closed, malformed,
 * a reason missing for `defer`, an entry number beyond the list or a system not under review. Undefined when
 * it may go ahead (an unknown account of a known system is refused when the catalog is read).
 */
export function decisionRefusal(
  campaign: { campaignId: string; phase: CampaignPhase; closed: boolean; entryCount: number; systems: readonly string[] },
  input: DecideInput,
): string | undefined {
  if (campaign.phase === 'collecting') return `campaign ${campaign.campaignId} is still being built; decide once its review lists are open`;
  if (campaign.closed) return `campaign ${campaign.campaignId} is closed: decisions are no longer accepted`;
  if (!(REVIEW_DECISIONS as readonly string[]).includes(input.decision))
    return `decision "${String(input.decision)}" is not one of ${REVIEW_DECISIONS.join(', ')}`;
  if (typeof input.by !== 'string' || input.by.trim() === '') return 'a decision needs the reviewer who takes it (by)';
  if (input.decision === 'defer' && (input.reason ?? '').trim() === '') return 'a defer decision needs a reason';
  if (!Array.isArray(input.entries) || input.entries.length === 0) return 'name at least one entry';
  const problems: string[] = [];
  for (const ref of input.entries) {
    const parsed = parseEntryRef(String(ref));
    if (!parsed) problems.push(`"${ref}" is neither an entry number, a range such as 3-7, nor an account key <source>:<username>`);
    else if (parsed.kind === 'numbers' && (parsed.from < 1 || parsed.to > campaign.entryCount)) {
      problems.push(`unknown entry ${ref}: the campaign has entries 1-${campaign.entryCount}`);
    } else if (parsed.kind === 'account' && !campaign.systems.includes(parsed.system)) {
      problems.push(`unknown entry ${ref}: ${parsed.system} is not under review (${campaign.systems.join(', ') || 'no systems'})`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
