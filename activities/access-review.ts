import { ApplicationFailure } from '@temporalio/common';
import { isActive } from '../checks/kit/accounts.ts';
import type { Deviation } from '../core/check-results.ts';
import { ConfigError } from '../core/errors.ts';
import { campaignIdOf, durationMs, resolveReview, reviewPeriodOf } from '../config/review.ts';
import { AccessReviewStore, ReviewRefusal, type Campaign, type ReviewEntry, type Verification } from '../evidence/access-reviews.ts';
import type { EvidenceRecord, Identity } from '../core/records.ts';
import type { CheckResult } from '../evidence/register.ts';
import {
  REVIEW_REFUSAL,
  type BuildReviewInput,
  type CloseReviewInput,
  type DecideResult,
  type RecordDecisionsInput,
  type RevocationCheck,
  type RevocationOutcome,
  type ReviewBuilt,
  type ReviewClosed,
  type ReviewPlan,
  type VerifyRevocationsInput,
} from '../core/access-review-contracts.ts';
import type { EvidenceGap, EvidenceRef, ReconcileSummary } from '../core/contracts.ts';
import { toFailure } from './failures.ts';
import type { ActivityDeps } from './deps.ts';
import { buildReviewEntries, reviewListsOf, type Snapshot } from './review-lists.ts';
import { reviewCsv, reviewHtml } from './review-report.ts';

export const ACCESS_REVIEW_INCOMPLETE = 'access-review-incomplete';
export const REVOCATION_NOT_EFFECTIVE = 'revocation-not-effective';

const DAY_MS = 86_400_000;
const PRODUCER = { connector: 'access-review', connectorVersion: '1' };
const NOTHING: ReconcileSummary = { opened: [], stillObserved: [], reopened: [], noLongerObserved: [] };

/** A refused decision fails the Update for the reviewer to correct; anything else goes through the common mapping. */
function failureOf(error: unknown): ApplicationFailure {
  if (error instanceof ReviewRefusal) return ApplicationFailure.create({ type: REVIEW_REFUSAL, message: error.message, nonRetryable: true });
  return toFailure(error);
}

async function guarded<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw failureOf(error);
  }
}

/** The subject of a revocation nonconformity: the system and the account, by the source's stable id. */
export function revocationSubject(entry: Pick<ReviewEntry, 'system' | 'accountId'>): string {
  return `${entry.system}:${entry.accountId}`;
}

export function accessReviewActivities(deps: ActivityDeps) {
  const reviews = new AccessReviewStore(deps.store.catalog);

  function controlOf(controlId: string) {
    const control = deps.config.controls.get(controlId);
    if (!control) throw new ConfigError(`control ${controlId} is not in ${deps.config.file}`);
    return control;
  }

  async function campaignOf(campaignId: string): Promise<Campaign> {
    const campaign = await reviews.get(campaignId);
    if (!campaign) throw new ReviewRefusal(`no access review campaign ${campaignId}`);
    return campaign;
  }

  async function snapshotsOf(refs: readonly EvidenceRef[]): Promise<Map<string, Snapshot>> {
    const snapshots = new Map<string, Snapshot>();
    for (const ref of refs) {
      const records: EvidenceRecord[] = [];
      for await (const record of deps.store.records(ref.id)) records.push(record);
      snapshots.set(ref.sourceName, { sourceName: ref.sourceName, evidenceId: ref.id, records });
    }
    return snapshots;
  }

  /** Keeps the CSV and HTML of some entries as evidence of the campaign; idempotent per file name. */
  async function storeReports(campaign: Campaign, name: string, entries: readonly ReviewEntry[], provenance: Record<string, unknown>): Promise<string[]> {
    const at = new Date().toISOString();
    const meta = {
      runId: campaign.id,
      controlId: campaign.controlId,
      collectedAt: at,
      warnings: [],
      ...PRODUCER,
      provenance: { campaignId: campaign.id, entries: entries.length, ...provenance },
    };
    const stem = `access-review-${campaign.controlId}-${campaign.period}-${name}`.replace(/[^A-Za-z0-9._-]+/g, '_');
    const csv = await deps.store.storeFile(
      { ...meta, sourceName: `${campaign.id}/${name}.csv` },
      { name: `${stem}.csv`, mediaType: 'text/csv' },
      reviewCsv(entries),
    );
    const html = await deps.store.storeFile(
      { ...meta, sourceName: `${campaign.id}/${name}.html` },
      { name: `${stem}.html`, mediaType: 'text/html' },
      reviewHtml(campaign, entries),
    );
    await reviews.addReports(campaign.id, [csv.id, html.id]);
    return [csv.id, html.id];
  }

  /** Observations of the campaign's own checks go through the one register, limited to the subjects examined. */
  async function reconcile(input: {
    runId: string;
    controlId: string;
    at: string;
    results: CheckResult[];
    deviations: Deviation[];
    gaps: EvidenceGap[];
    collectedSources: string[];
    examined: { checkId: string; subject: string }[];
  }): Promise<ReconcileSummary> {
    const control = controlOf(input.controlId);
    const status = input.gaps.length > 0 || input.results.some((result) => result.status === 'error') ? 'error' : input.deviations.length > 0 ? 'fail' : 'pass';
    const run = await deps.register.saveCheckRun(
      { runId: input.runId, controlId: input.controlId, evaluatedAt: input.at, status, results: input.results },
      input.deviations,
    );
    return deps.register.reconcile({
      checkRunId: run.id,
      controlId: input.controlId,
      reference: control.references.join(', '),
      owner: control.control.owner,
      at: input.at,
      gaps: input.gaps,
      collectedSources: input.collectedSources,
      examined: input.examined,
    });
  }

  return {
    /** What a campaign of the control opened at `at` collects and how long it runs; config never enters workflow history. */
    planAccessReview: (input: { controlId: string; at: string }): Promise<ReviewPlan> =>
      guarded(() => {
        const control = controlOf(input.controlId);
        const resolved = resolveReview(deps.config, input.controlId);
        const period = reviewPeriodOf(resolved.review, new Date(input.at), deps.config.config.timezone);
        return {
          controlId: input.controlId,
          period,
          campaignId: campaignIdOf(input.controlId, period),
          dueAt: new Date(Date.parse(input.at) + resolved.review.dueInDays * DAY_MS).toISOString(),
          sources: [...resolved.sources, ...resolved.peopleSources],
          identitySources: resolved.sources,
          verifyAfterMs: durationMs(resolved.review.verifyAfter),
          maxVerifications: resolved.review.maxVerifications,
          collection: control.collection,
        };
      }),

    /**
     * Builds the review lists from the snapshots the campaign collected, stores them with their CSV and HTML
     * exports, and records a source that could not be collected as an evidence gap: its accounts go unreviewed.
     */
    buildAccessReview: (input: BuildReviewInput): Promise<ReviewBuilt> =>
      guarded(async () => {
        const resolved = resolveReview(deps.config, input.controlId);
        let campaign = await reviews.get(input.campaignId);
        if (!campaign) {
          const snapshots = await snapshotsOf(input.refs);
          const control = controlOf(input.controlId);
          // Each system's accounts are joined to people by its source's join, as the control's checks join them.
          const joinOf = (name: string) => control.sources.find((source) => source.name === name)?.join;
          const pick = (names: readonly string[]) =>
            names.flatMap((name) => snapshots.get(name) ?? []).map((snapshot) => ({ ...snapshot, join: joinOf(snapshot.sourceName) }));
          const systems = pick(resolved.sources);
          const checkParams = new Map<string, unknown>();
          for (const entry of control.checks) if (!checkParams.has(entry.check.id)) checkParams.set(entry.check.id, entry.params);
          const drafts = buildReviewEntries({
            systems,
            people: pick(resolved.peopleSources),
            reviewerOf: resolved.reviewerOf,
            checkParams,
            at: new Date(input.openedAt),
          });
          campaign = await reviews.create(
            {
              id: input.campaignId,
              controlId: input.controlId,
              period: input.period,
              openedAt: input.openedAt,
              dueAt: input.dueAt,
              systems: systems.map((snapshot) => snapshot.sourceName),
              missingSources: input.gaps.map((gap) => gap.sourceName),
              evidenceIds: input.refs.map((ref) => ref.id),
            },
            drafts,
          );
        }
        const entries = await reviews.entries(campaign.id);
        const lists = reviewListsOf(entries);
        const reportEvidenceIds: string[] = [];
        for (const list of lists) {
          reportEvidenceIds.push(
            ...(await storeReports(campaign, `${list.system}-${list.reviewer}`, list.entries, { system: list.system, reviewer: list.reviewer })),
          );
        }
        if (input.gaps.length > 0) {
          const failed = new Set(input.gaps.map((gap) => gap.sourceName));
          await reconcile({
            runId: `${campaign.id}:build`,
            controlId: campaign.controlId,
            at: input.openedAt,
            results: [],
            deviations: [],
            gaps: input.gaps,
            collectedSources: input.refs.map((ref) => ref.sourceName).filter((name) => !failed.has(name)),
            examined: [],
          });
        }
        return {
          campaignId: campaign.id,
          entryCount: campaign.entryCount,
          undecided: campaign.undecided,
          systems: campaign.systems,
          lists: lists.length,
          reportEvidenceIds,
          missingSources: campaign.missingSources,
        };
      }),

    recordReviewDecisions: (input: RecordDecisionsInput): Promise<DecideResult> =>
      guarded(async () => {
        const { entries, undecided } = await reviews.decide(input.campaignId, input);
        deps.log.info(
          { campaignId: input.campaignId, decision: input.decision, by: input.by, entries: entries.length, undecided },
          'access review decision recorded',
        );
        return { campaignId: input.campaignId, decision: input.decision, entries, undecided };
      }),

    /**
     * Ends the decisions, keeps the decided lists as evidence, and raises one nonconformity for the campaign
     * when entries were left undecided (or notes that none were).
     */
    closeAccessReview: (input: CloseReviewInput): Promise<ReviewClosed> =>
      guarded(async () => {
        const campaign = await reviews.close(input.campaignId, input.at);
        const entries = await reviews.entries(campaign.id);
        const reportEvidenceIds = await storeReports(campaign, 'decisions', entries, { closedAt: campaign.closedAt, status: campaign.status });
        const undecided = entries.filter((entry) => entry.decision === null);
        const bySystem: Record<string, number> = {};
        for (const entry of undecided) bySystem[entry.system] = (bySystem[entry.system] ?? 0) + 1;
        const deviations: Deviation[] =
          undecided.length === 0
            ? []
            : [
                {
                  checkId: ACCESS_REVIEW_INCOMPLETE,
                  subject: campaign.id,
                  title: `Access review ${campaign.id} closed with ${undecided.length} of ${campaign.entryCount} entries undecided`,
                  severity: undecided.some((entry) => entry.privileged) ? 'high' : 'medium',
                  detail: `The access review of period ${campaign.period} was due ${campaign.dueAt} and closed at ${campaign.closedAt} with ${undecided.length} undecided entries (${Object.entries(
                    bySystem,
                  )
                    .map(([system, count]) => `${system}: ${count}`)
                    .join(', ')}); their access was neither confirmed nor revoked.`,
                  values: {
                    campaignId: campaign.id,
                    period: campaign.period,
                    dueAt: campaign.dueAt,
                    entryCount: campaign.entryCount,
                    undecided: undecided.length,
                    bySystem,
                    reviewers: [...new Set(undecided.map((entry) => entry.reviewer))],
                  },
                  evidenceIds: reportEvidenceIds,
                },
              ];
        const nonconformities = await reconcile({
          runId: `${campaign.id}:close`,
          controlId: campaign.controlId,
          at: input.at,
          results: [{ checkId: ACCESS_REVIEW_INCOMPLETE, status: deviations.length > 0 ? 'fail' : 'pass', deviations: deviations.length }],
          deviations,
          gaps: [],
          collectedSources: [],
          examined: [{ checkId: ACCESS_REVIEW_INCOMPLETE, subject: campaign.id }],
        });
        return { status: campaign.status === 'completed' ? 'completed' : 'incomplete', undecided: undecided.length, nonconformities, reportEvidenceIds };
      }),

    planRevocationCheck: (input: { campaignId: string; cutoff: string }): Promise<RevocationCheck> =>
      guarded(async () => {
        await campaignOf(input.campaignId);
        const pending = await reviews.revocationsToVerify(input.campaignId, input.cutoff);
        return { sources: [...new Set(pending.map((entry) => entry.system))], pending: pending.length };
      }),

    /**
     * Closes the loop on `revoke` decisions: each revoked account must be gone, or no longer able to sign in, in the
     * fresh snapshot of its system. One still active is a nonconformity; one found gone settles its nonconformity.
     */
    verifyRevocations: (input: VerifyRevocationsInput): Promise<RevocationOutcome> =>
      guarded(async () => {
        const campaign = await campaignOf(input.campaignId);
        const pending = await reviews.revocationsToVerify(campaign.id, input.cutoff);
        const snapshots = await snapshotsOf(input.refs);
        const failed = new Set(input.gaps.map((gap) => gap.sourceName));
        const outcomes: { entryNo: number; verification: Verification; evidenceId: string | null }[] = [];
        const deviations: Deviation[] = [];
        for (const entry of pending) {
          const snapshot = failed.has(entry.system) ? undefined : snapshots.get(entry.system);
          if (!snapshot) {
            outcomes.push({ entryNo: entry.entryNo, verification: 'unverifiable', evidenceId: null });
            continue;
          }
          const now = snapshot.records.find(
            (record): record is Identity => record.kind === 'identity' && record.tenant === entry.tenant && record.id === entry.accountId,
          );
          const stillActive = now !== undefined && isActive(now);
          outcomes.push({ entryNo: entry.entryNo, verification: stillActive ? 'not-effective' : 'effective', evidenceId: snapshot.evidenceId });
          if (!stillActive) continue;
          deviations.push({
            checkId: REVOCATION_NOT_EFFECTIVE,
            subject: revocationSubject(entry),
            title: `Revoked access still active: ${entry.username} in ${entry.system} (${entry.tenant})`,
            severity: entry.privileged ? 'critical' : 'high',
            detail: `${entry.decidedBy ?? 'A reviewer'} decided to revoke ${entry.username} in ${entry.system} (${entry.tenant}) at ${entry.decidedAt} in access review ${campaign.id}; the collection at ${input.at} still shows the account ${now.status}.`,
            values: {
              campaignId: campaign.id,
              entry: entry.entryNo,
              system: entry.system,
              tenant: entry.tenant,
              accountId: entry.accountId,
              account: entry.username,
              status: now.status,
              privileged: entry.privileged,
              decidedBy: entry.decidedBy,
              decidedAt: entry.decidedAt,
              reason: entry.reason,
              verifiedAt: input.at,
            },
            evidenceIds: [snapshot.evidenceId],
          });
        }
        await reviews.recordVerifications(campaign.id, outcomes, input.at);
        const verified = pending.filter((_entry, index) => outcomes[index]!.verification !== 'unverifiable');
        const count = (verification: Verification) => outcomes.filter((outcome) => outcome.verification === verification).length;
        const nonconformities =
          pending.length === 0
            ? NOTHING
            : await reconcile({
                runId: input.runId,
                controlId: campaign.controlId,
                at: input.at,
                results: [
                  verified.length === 0
                    ? {
                        checkId: REVOCATION_NOT_EFFECTIVE,
                        status: 'error',
                        deviations: 0,
                        message: 'no revoked account could be verified: their sources were not collected',
                      }
                    : { checkId: REVOCATION_NOT_EFFECTIVE, status: deviations.length > 0 ? 'fail' : 'pass', deviations: deviations.length },
                ],
                deviations,
                gaps: input.gaps,
                collectedSources: input.refs.map((ref) => ref.sourceName).filter((name) => !failed.has(name)),
                examined: verified.map((entry) => ({ checkId: REVOCATION_NOT_EFFECTIVE, subject: revocationSubject(entry) })),
              });
        return {
          checked: pending.length,
          effective: count('effective'),
          notEffective: count('not-effective'),
          unverifiable: count('unverifiable'),
          nonconformities,
        };
      }),
  };
}
