import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { resolveCalendar, type CalendarActivity } from '../config/calendar.ts';
import { fromZoned } from '../core/calendar-occurrences.ts';
import { planOccurrences } from '../config/calendar-plan.ts';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import { AccessReviewStore } from '../evidence/access-reviews.ts';
import { CalendarStore, type RecordedOccurrence } from '../evidence/calendar-store.ts';
import { activityControlOf } from '../evidence/register.ts';
import { riskRegister } from '../connectors/risk-register/index.ts';
import type { Risk } from '../core/records.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { EvidenceRow } from '../evidence/evidence-row.ts';
import type { ActivityOccurrence, Completion, CompletionReceipt, EvidenceItem } from '../core/calendar-contracts.ts';
import type { ActivityDeps, OccurrenceWorkflows } from './deps.ts';
import { toFailure } from './failures.ts';

/*
 * One obligation, one record: where the worker itself performs or records a recurring obligation (an access review
 * campaign, a management review, a risk register whose every risk was reviewed), the calendar occurrence of that obligation is completed with the record as its
 * evidence, through the occurrence workflow's own `complete` Update, so nobody completes it a second time by hand.
 */

const DAY_MS = 86_400_000;
/** How far around the record the activity's occurrences are looked at: past the closing of a yearly one. */
const SEARCH_MS = 800 * DAY_MS;
/** How long a freshly started occurrence may take to record itself before the completion is sent. */
const RECORDED_WAIT_MS = 30_000;

/** The calendar activity an access review campaign performs. */
export const ACCESS_REVIEW_ACTIVITY = 'access-review';
/** The calendar activity a held management review performs (clause 9.3). */
export const MANAGEMENT_REVIEW_ACTIVITY = 'management-review';
/** The calendar activity a risk register with every risk reviewed in the period performs (6.1.2, 8.2). */
export const RISK_ASSESSMENT_REVIEW_ACTIVITY = 'risk-assessment-review';

export interface ObligationRecord {
  activityId: string;
  /** The period the record belongs to (a campaign's quarter): the occurrence due in it is the one it completes. */
  period?: { from: string; to: string };
  /** An occurrence named by a person: taken as it is, if it is one of the activity's. */
  occurrenceId?: string;
  /** When the obligation was performed: the campaign closed, the review was held. */
  performedAt: string;
  by: string;
  note: string;
  /**
   * Files already in the evidence store that make up the record; an item without a name takes the next required
   * evidence name the completion has not given yet. Each is kept again under the occurrence, as the workflow expects.
   */
  evidence: { name?: string; evidenceId: string }[];
}

export type ObligationOutcome =
  | { outcome: 'completed'; occurrenceId: string; late: boolean; receipt: CompletionReceipt }
  /** A person (or an earlier record) completed it already: it is not completed twice. */
  | { outcome: 'already-done'; occurrenceId: string; completedBy: string | null }
  /** The occurrence no longer takes a completion (its next one is due): the missed-activity nonconformity stands. */
  | { outcome: 'closed'; occurrenceId: string }
  /** The calendar expects evidence the record does not bring: a person completes it. */
  | { outcome: 'needs-person'; occurrenceId: string; missing: string[] }
  /** The risk register holds risks not reviewed in the occurrence's period (or none at all): the occurrence stays open for a person. */
  | { outcome: 'risks-unreviewed'; occurrenceId: string; since: string; unreviewed: string[]; risks: number }
  | { outcome: 'no-activity'; activityId: string }
  | { outcome: 'no-occurrence'; activityId: string };

interface Candidate {
  occurrenceId: string;
  due: number;
  closesAt: number;
  planned?: ActivityOccurrence;
  recorded?: RecordedOccurrence;
}

const isDone = (candidate: Candidate) => candidate.recorded?.status === 'done';

/**
 * The occurrence a record completes. With a period: the first occurrence due in it that is not done (all done: the
 * first, which is then already done). Otherwise, or when none is due in the period: of the occurrences that take a
 * completion when the record was made, or were completed already, the one due nearest to it; a second record soon
 * after the first finds that one done rather than completing next year's early.
 */
export function occurrenceForRecord(
  planned: readonly ActivityOccurrence[],
  recorded: readonly RecordedOccurrence[],
  record: Pick<ObligationRecord, 'period' | 'occurrenceId' | 'performedAt'>,
): Candidate | undefined {
  const byId = new Map<string, Candidate>();
  for (const occurrence of planned)
    byId.set(occurrence.occurrenceId, {
      occurrenceId: occurrence.occurrenceId,
      due: Date.parse(occurrence.due),
      closesAt: Date.parse(occurrence.closesAt),
      planned: occurrence,
    });
  for (const occurrence of recorded) {
    const known = byId.get(occurrence.occurrenceId);
    byId.set(occurrence.occurrenceId, {
      occurrenceId: occurrence.occurrenceId,
      due: Date.parse(occurrence.due),
      closesAt: Date.parse(occurrence.closesAt),
      planned: known?.planned,
      recorded: occurrence,
    });
  }
  const candidates = [...byId.values()].sort((a, b) => a.due - b.due);
  if (record.occurrenceId !== undefined) return byId.get(record.occurrenceId);
  if (record.period) {
    const from = Date.parse(record.period.from);
    const to = Date.parse(record.period.to);
    const inPeriod = candidates.filter((candidate) => candidate.due >= from && candidate.due < to);
    if (inPeriod.length > 0) return inPeriod.find((candidate) => !isDone(candidate)) ?? inPeriod[0];
  }
  const at = Date.parse(record.performedAt);
  const accepting = candidates.filter((candidate) => candidate.closesAt > at && (isDone(candidate) || !candidate.recorded?.closedAt));
  return accepting.reduce<Candidate | undefined>(
    (best, candidate) => (best === undefined || Math.abs(candidate.due - at) < Math.abs(best.due - at) ? candidate : best),
    undefined,
  );
}

/** The required evidence the items leave out, after the unnamed ones took the required names in the calendar's order. */
export function namedEvidence(
  expected: readonly { name: string; required: boolean }[],
  items: readonly { name?: string; evidenceId: string }[],
): { named: { name: string; evidenceId: string }[]; missing: string[] } {
  const given = new Set(items.flatMap((item) => (item.name ? [item.name] : [])));
  const pending = expected.filter((entry) => entry.required && !given.has(entry.name)).map((entry) => entry.name);
  const named = items.map((item, index) => ({ name: item.name ?? pending.shift() ?? `record ${index + 1}`, evidenceId: item.evidenceId }));
  return { named, missing: pending };
}

export interface ObligationDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  occurrences: OccurrenceWorkflows;
  /** While waiting for a started occurrence to record itself (an activity heartbeats). */
  waiting?: () => void;
}

interface Located {
  activity: CalendarActivity;
  calendar: CalendarStore;
  planned: ActivityOccurrence[];
  target: Candidate;
}

/** The activity and the occurrence of it a record belongs to, or the outcome that says there is none. */
async function locate(
  deps: Pick<ObligationDeps, 'config' | 'store'>,
  record: Pick<ObligationRecord, 'activityId' | 'period' | 'occurrenceId' | 'performedAt'>,
): Promise<Located | ObligationOutcome> {
  const activity = resolveCalendar(deps.config.config).activities.get(record.activityId);
  if (!activity) return { outcome: 'no-activity', activityId: record.activityId };
  const calendar = new CalendarStore(deps.store.catalog);
  const at = Date.parse(record.performedAt);
  const planned = planOccurrences(activity, { from: at - SEARCH_MS, to: at + SEARCH_MS });
  const target = occurrenceForRecord(planned, await calendar.list({ activityId: activity.id }), record);
  if (!target) {
    if (record.occurrenceId !== undefined) throw new ConfigError(`${record.occurrenceId} is not an occurrence of calendar activity ${activity.id}`);
    return { outcome: 'no-occurrence', activityId: activity.id };
  }
  return { activity, calendar, planned, target };
}

/**
 * Completes the occurrence of `record.activityId` the record belongs to, with the record's files as evidence. An
 * occurrence no workflow has started yet is started first (as the schedule would have), so coverage shows it
 * completed, late when its due time has passed. Safe to repeat: a repeated call finds it done.
 */
export async function completeObligation(deps: ObligationDeps, record: ObligationRecord): Promise<ObligationOutcome> {
  const located = await locate(deps, record);
  if ('outcome' in located) return located;
  const { activity, calendar, target } = located;
  const { occurrenceId } = target;
  if (target.recorded?.status === 'done') return { outcome: 'already-done', occurrenceId, completedBy: target.recorded.completedBy };
  if (target.recorded?.closedAt) return { outcome: 'closed', occurrenceId };
  // Past its closing, an occurrence no workflow ever opened is not started now: it would be missed and closed at once.
  if (!target.recorded && target.closesAt <= Date.now()) return { outcome: 'closed', occurrenceId };

  const expected = target.recorded?.expectedEvidence ?? activity.evidence;
  const { named, missing } = namedEvidence(expected, record.evidence);
  if (missing.length > 0) return { outcome: 'needs-person', occurrenceId, missing };

  const evidence: EvidenceItem[] = [];
  for (const item of named) evidence.push(await keepUnderOccurrence(deps.store, activity, occurrenceId, item, record.by));

  if (!target.recorded) {
    await deps.occurrences.start(target.planned!);
    await recorded(calendar, occurrenceId, deps.waiting);
  }
  const completion: Completion = { by: record.by, at: record.performedAt, note: record.note, evidence };
  try {
    const receipt = await deps.occurrences.complete(occurrenceId, completion);
    return { outcome: 'completed', occurrenceId, late: receipt.late, receipt };
  } catch (error) {
    const after = await calendar.get(occurrenceId);
    if (after?.status === 'done') return { outcome: 'already-done', occurrenceId, completedBy: after.completedBy };
    // The occurrence's workflow has ended (it closed, missed) and takes no more Updates.
    if (error instanceof WorkflowNotFoundError || (error instanceof Error && error.name === 'WorkflowNotFoundError'))
      return { outcome: 'closed', occurrenceId };
    if (error instanceof WorkflowUpdateFailedError)
      throw new ConfigError(`${occurrenceId}: completion refused: ${(error.cause as Error | undefined)?.message ?? error.message}`);
    throw error;
  }
}

/**
 * When the period of an occurrence began: the due time of the one before it. The first occurrence planned has none
 * before it; its period is as long as the one that follows it.
 */
export function periodStartOf(planned: readonly ActivityOccurrence[], target: { due: number; closesAt: number }): number {
  const earlier = planned.map((occurrence) => Date.parse(occurrence.due)).filter((due) => due < target.due);
  return earlier.length > 0 ? Math.max(...earlier) : target.due - (target.closesAt - target.due);
}

/** The risks whose last review is not in [since, until]: never reviewed, reviewed before the period, or dated after the snapshot. */
export function risksUnreviewed(risks: readonly Pick<Risk, 'id' | 'lastReviewAt'>[], since: number, until: number): string[] {
  return risks
    .filter((risk) => risk.lastReviewAt === null || Date.parse(risk.lastReviewAt) < since || Date.parse(risk.lastReviewAt) > until)
    .map((risk) => risk.id);
}

/**
 * A risk register snapshot in which every risk was reviewed within the period completes the period's
 * `risk-assessment-review` occurrence with the snapshot as its evidence (late when after the due time). While any risk
 * is unreviewed, or the register is empty, nothing is completed: the occurrence stays open and a person completes it.
 */
export async function completeRiskAssessmentReview(deps: ObligationDeps, snapshot: EvidenceRow): Promise<ObligationOutcome> {
  if (snapshot.connector !== riskRegister.name) throw new ConfigError(`evidence ${snapshot.id} comes from ${snapshot.connector}, not a risk register`);
  const performedAt = snapshot.collectedAt;
  const located = await locate(deps, { activityId: RISK_ASSESSMENT_REVIEW_ACTIVITY, performedAt });
  if ('outcome' in located) return located;
  const { target } = located;
  const since = periodStartOf(located.planned, target);
  const risks: Pick<Risk, 'id' | 'lastReviewAt'>[] = [];
  for await (const record of deps.store.records(snapshot.id)) if (record.kind === 'risk') risks.push(record);
  const unreviewed = risksUnreviewed(risks, since, Date.parse(performedAt));
  if (risks.length === 0 || unreviewed.length > 0) {
    return { outcome: 'risks-unreviewed', occurrenceId: target.occurrenceId, since: new Date(since).toISOString(), unreviewed, risks: risks.length };
  }
  return completeObligation(deps, {
    activityId: RISK_ASSESSMENT_REVIEW_ACTIVITY,
    occurrenceId: target.occurrenceId,
    performedAt,
    by: 'isms-worker',
    note: `risk register ${snapshot.sourceName} (evidence ${snapshot.id}, control ${snapshot.controlId}): all ${risks.length} risk(s) reviewed since ${new Date(since).toISOString().slice(0, 10)}`,
    evidence: [{ evidenceId: snapshot.id }],
  });
}

/** The occurrence's workflow accepts only evidence stored for it, so each file is kept again under the occurrence (same blob). */
async function keepUnderOccurrence(
  store: EvidenceStore,
  activity: CalendarActivity,
  occurrenceId: string,
  item: { name: string; evidenceId: string },
  by: string,
): Promise<EvidenceItem> {
  const source = await store.get(item.evidenceId);
  if (!source) throw new ConfigError(`evidence ${item.evidenceId} is not in the evidence store`);
  const { content, file } = await contentOf(store, source);
  const row = await store.storeFile(
    {
      runId: occurrenceId,
      controlId: activityControlOf(activity.id),
      sourceName: `${item.name}@${source.sha256.slice(0, 16)}`,
      connector: 'calendar',
      connectorVersion: '1',
      collectedAt: new Date().toISOString(),
      provenance: { occurrenceId, evidence: item.name, storedBy: by, copyOf: item.evidenceId, copyOfSha256: source.sha256 },
      warnings: [],
    },
    file,
    content,
  );
  return { name: item.name, evidenceId: row.id, sha256: row.sha256, uri: row.uri };
}

/** A stored file as it is; a records snapshot (a risk register) as its records, one JSON line each. */
async function contentOf(store: EvidenceStore, source: EvidenceRow): Promise<{ content: Buffer; file: { name: string; mediaType: string } }> {
  if (source.kinds.includes('file')) {
    const file = (source.provenance['file'] as { name: string; mediaType: string } | undefined) ?? {
      name: `${source.id}.bin`,
      mediaType: 'application/octet-stream',
    };
    return { content: await store.fileContent(source.id), file };
  }
  const lines: string[] = [];
  for await (const record of store.records(source.id)) lines.push(JSON.stringify(record));
  return {
    content: Buffer.from(lines.map((line) => `${line}\n`).join('')),
    file: { name: `${source.sourceName}-${source.id}.ndjson`, mediaType: 'application/x-ndjson' },
  };
}

/** A completion sent before the occurrence recorded itself open would find no row to complete. */
async function recorded(calendar: CalendarStore, occurrenceId: string, waiting?: () => void): Promise<void> {
  const deadline = Date.now() + RECORDED_WAIT_MS;
  while (!(await calendar.get(occurrenceId))) {
    if (Date.now() > deadline) throw new Error(`${occurrenceId} was started but has not recorded itself open within ${RECORDED_WAIT_MS / 1000} s`);
    waiting?.();
    await sleep(200);
  }
}

/** What became of the occurrence, in a sentence; `record` names the evidence ("the minutes and the pack"). */
export function describeOutcome(outcome: ObligationOutcome, record: string): string {
  switch (outcome.outcome) {
    case 'completed':
      return `${outcome.occurrenceId}: completed${outcome.late ? ' (late)' : ''} with ${record} as evidence`;
    case 'already-done':
      return `${outcome.occurrenceId}: already completed by ${outcome.completedBy ?? 'someone'}; left as it is`;
    case 'closed':
      return `${outcome.occurrenceId}: closed, it no longer takes a completion; its missed-activity nonconformity stands`;
    case 'needs-person':
      return `${outcome.occurrenceId}: the calendar also expects ${outcome.missing.join(', ')}: complete it with isms activity complete`;
    case 'no-activity':
      return `the calendar has no ${outcome.activityId} activity: no occurrence to complete`;
    case 'no-occurrence':
      return `no ${outcome.activityId} occurrence takes a completion now: name one with --occurrence`;
    case 'risks-unreviewed':
      return outcome.risks === 0
        ? `${outcome.occurrenceId}: the risk register holds no risks; left open for a person to complete`
        : `${outcome.occurrenceId}: ${outcome.unreviewed.length} of ${outcome.risks} risk(s) not reviewed since ${outcome.since.slice(0, 10)} (${outcome.unreviewed.join(', ')}); left open for a person to complete`;
  }
}

/** The activities that complete calendar occurrences from the worker's own records. */
export function obligationActivities(deps: ActivityDeps) {
  const reviews = new AccessReviewStore(deps.store.catalog);
  /** The obligation's view of Temporal, over the running activity's client. */
  const obligationDeps = (): ObligationDeps => {
    if (!deps.occurrenceWorkflows)
      throw new ConfigError("this worker has no client for the calendar occurrences' workflows (createWorker passes occurrenceWorkflows)");
    const activity = Context.current();
    return { config: deps.config, store: deps.store, occurrences: deps.occurrenceWorkflows(activity.client), waiting: () => activity.heartbeat() };
  };
  return {
    /**
     * A closed access review campaign completes the `access-review` occurrence due in its period, with its decided
     * lists as evidence: late when the campaign closed after the occurrence was due. A period whose campaign never
     * opened completes nothing, and its occurrence is missed as any other.
     */
    async completeAccessReviewOccurrence(input: { campaignId: string }): Promise<ObligationOutcome> {
      try {
        const campaign = await reviews.get(input.campaignId);
        if (!campaign) throw new ConfigError(`no access review campaign ${input.campaignId}`);
        if (!campaign.closedAt) throw new ConfigError(`access review campaign ${campaign.id} is not closed`);
        const reports = await Promise.all(campaign.reportEvidenceIds.map(async (id) => ({ id, sourceName: (await deps.store.get(id))?.sourceName })));
        const decided = (suffix: string) => reports.find((report) => report.sourceName === `${campaign.id}/decisions.${suffix}`)?.id;
        const html = decided('html');
        const csv = decided('csv');
        if (!html || !csv) throw new ConfigError(`access review campaign ${campaign.id} has no decided lists kept as evidence`);
        const period = reviewPeriodBounds(campaign.period, deps.config.config.timezone);
        const outcome = await completeObligation(obligationDeps(), {
          activityId: ACCESS_REVIEW_ACTIVITY,
          ...(period ? { period } : {}),
          performedAt: campaign.closedAt,
          by: 'isms-worker',
          note: `access review campaign ${campaign.id} (${campaign.controlId}, ${campaign.period}) closed ${campaign.status}: ${campaign.entryCount - campaign.undecided} of ${campaign.entryCount} entries decided`,
          evidence: [{ evidenceId: html }, { name: 'decided review list (CSV)', evidenceId: csv }],
        });
        deps.log.info(
          { campaignId: campaign.id, outcome: outcome.outcome, occurrenceId: 'occurrenceId' in outcome ? outcome.occurrenceId : undefined },
          'the access review campaign and its calendar occurrence',
        );
        return outcome;
      } catch (error) {
        throw toFailure(error);
      }
    },

    /** A control run's risk register snapshot: completes the period's risk-assessment-review occurrence when every risk was reviewed in it. */
    async completeRiskAssessmentReview(input: { evidenceId: string }): Promise<ObligationOutcome> {
      try {
        const snapshot = await deps.store.get(input.evidenceId);
        if (!snapshot) throw new ConfigError(`evidence ${input.evidenceId} is not in the evidence store`);
        const outcome = await completeRiskAssessmentReview(obligationDeps(), snapshot);
        deps.log.info(
          {
            evidenceId: snapshot.id,
            source: snapshot.sourceName,
            outcome: outcome.outcome,
            occurrenceId: 'occurrenceId' in outcome ? outcome.occurrenceId : undefined,
          },
          'the risk register and its calendar occurrence',
        );
        return outcome;
      } catch (error) {
        throw toFailure(error);
      }
    },
  };
}

/**
 * The instants a review period (`2026-Q4`, `2026-H1`, `2026-03`, `2026`, or a day) spans in the zone, as
 * reviewPeriodOf names them. Undefined for a form it does not name.
 */
export function reviewPeriodBounds(period: string, zone: string): { from: string; to: string } | undefined {
  const match = /^(\d{4})(?:-(Q[1-4]|H[12]|\d{2})(?:-(\d{2}))?)?$/.exec(period);
  if (!match) return undefined;
  const year = Number(match[1]);
  const part = match[2];
  const day = match[3];
  let start: [number, number, number];
  let end: [number, number, number];
  if (part === undefined) {
    start = [year, 1, 1];
    end = [year + 1, 1, 1];
  } else if (part.startsWith('Q')) {
    const quarter = Number(part.slice(1));
    start = [year, quarter * 3 - 2, 1];
    end = quarter === 4 ? [year + 1, 1, 1] : [year, quarter * 3 + 1, 1];
  } else if (part.startsWith('H')) {
    start = part === 'H1' ? [year, 1, 1] : [year, 7, 1];
    end = part === 'H1' ? [year, 7, 1] : [year + 1, 1, 1];
  } else if (day === undefined) {
    const month = Number(part);
    start = [year, month, 1];
    end = month === 12 ? [year + 1, 1, 1] : [year, month + 1, 1];
  } else {
    const date = new Date(Date.UTC(year, Number(part) - 1, Number(day)));
    const next = new Date(date.getTime() + DAY_MS);
    start = [year, Number(part), Number(day)];
    end = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
  }
  const instant = ([y, m, d]: [number, number, number]) =>
    new Date(fromZoned({ year: y, month: m, day: d, hour: 0, minute: 0, second: 0 }, zone)).toISOString();
  return { from: instant(start), to: instant(end) };
}
