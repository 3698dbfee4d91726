import { createHash, randomUUID } from 'node:crypto';
import type { Deviation } from '../core/check-results.ts';
import type { CheckStatus, EvidenceGap, ReconcileSummary } from '../core/contracts.ts';
import type { NonconformityStatus } from '../core/nonconformity.ts';
import type { Catalog, CatalogSession } from './catalog.ts';

/** Statuses in which a nonconformity is still being worked on and may be observed again. */
const ACTIVE: readonly NonconformityStatus[] = ['open', 'root-cause', 'corrective-action'];

/** Which status a person may move a nonconformity to from each status. */
const HUMAN_TRANSITIONS: Record<NonconformityStatus, readonly NonconformityStatus[]> = {
  open: ['root-cause', 'corrective-action', 'closed'],
  'root-cause': ['corrective-action'],
  'corrective-action': ['verified'],
  'no-longer-observed': ['verified', 'open'],
  verified: ['closed', 'open'],
  closed: ['open'],
};

export const EVIDENCE_GAP_CHECK = 'evidence-gap';
export const MISSED_ACTIVITY_CHECK = 'missed-activity';

/** The register's control id for a calendar activity: activities and controls share the register, not their ids. */
export function activityControlOf(activityId: string): string {
  return `activity:${activityId}`;
}

export interface Nonconformity {
  id: string;
  fingerprint: string;
  controlId: string;
  checkId: string;
  subject: string;
  reference: string;
  title: string;
  severity: string;
  status: NonconformityStatus;
  detail: string;
  values: Record<string, unknown>;
  firstObserved: string;
  lastObserved: string;
  occurrences: number;
  evidenceIds: string[];
  rootCause: string | null;
  correctiveAction: string | null;
  owner: string | null;
  dueDate: string | null;
}

export interface HistoryEntry {
  at: string;
  actor: string;
  change: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
}

export interface CheckResult {
  checkId: string;
  status: CheckStatus;
  deviations: number;
  message?: string;
}

export interface CheckRun {
  id: string;
  runId: string;
  controlId: string;
  evaluatedAt: string;
  status: CheckStatus;
  results: CheckResult[];
}

export function fingerprintOf(controlId: string, checkId: string, subject: string): string {
  return createHash('sha256').update(`${controlId}\n${checkId}\n${subject}`).digest('hex').slice(0, 32);
}

const SYSTEM = 'isms-worker';

/** The nonconformity register: check runs, their deviations, and the nonconformities they open and keep alive. */
export class Register {
  private readonly catalog: Catalog;
  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  /** Stores a check run and its deviations once per control run; a retry gets the stored run back. */
  async saveCheckRun(run: Omit<CheckRun, 'id'>, deviations: readonly Deviation[]): Promise<CheckRun> {
    return this.catalog.transaction(async (tx) => {
      const existing = await this.checkRunOf(run.runId, tx);
      if (existing) return existing;
      const id = `cr-${randomUUID()}`;
      await tx.run(
        'INSERT INTO check_runs (id, run_id, control_id, evaluated_at, status, results) VALUES (?, ?, ?, ?, ?, ?)',
        id,
        run.runId,
        run.controlId,
        run.evaluatedAt,
        run.status,
        JSON.stringify(run.results),
      );
      for (const deviation of deviations) {
        // The same subject reported twice by a check keeps its last report, as INSERT OR REPLACE did.
        await tx.run(
          `INSERT INTO deviations (check_run_id, fingerprint, check_id, subject, title, severity, detail, observed_values, evidence_ids)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (check_run_id, fingerprint) DO UPDATE SET check_id = excluded.check_id, subject = excluded.subject, title = excluded.title,
             severity = excluded.severity, detail = excluded.detail, observed_values = excluded.observed_values, evidence_ids = excluded.evidence_ids`,
          id,
          fingerprintOf(run.controlId, deviation.checkId, deviation.subject),
          deviation.checkId,
          deviation.subject,
          deviation.title,
          deviation.severity,
          deviation.detail,
          JSON.stringify(deviation.values),
          JSON.stringify(deviation.evidenceIds),
        );
      }
      return { id, ...run };
    });
  }

  async checkRunOf(runId: string, db: CatalogSession = this.catalog): Promise<CheckRun | undefined> {
    const row = await db.get<{ id: string; run_id: string; control_id: string; evaluated_at: string; status: CheckStatus; results: string }>(
      'SELECT * FROM check_runs WHERE run_id = ?',
      runId,
    );
    return (
      row && {
        id: row.id,
        runId: row.run_id,
        controlId: row.control_id,
        evaluatedAt: row.evaluated_at,
        status: row.status,
        results: JSON.parse(row.results) as CheckResult[],
      }
    );
  }

  /**
   * Brings the register in line with one check run: a new deviation opens a nonconformity, a known one is
   * marked observed again, one that a check which did run no longer reports becomes no-longer-observed
   * (a person verifies and closes it). Checks that could not run leave their nonconformities alone.
   * Each evidence gap is a nonconformity of its own. Runs once per check run. A run that looked at some subjects
   * only (an access review verifying its revocations) names them in `examined`: nonconformities of other subjects are left alone.
   */
  async reconcile(input: {
    checkRunId: string;
    controlId: string;
    reference: string;
    owner: string;
    at: string;
    gaps: readonly EvidenceGap[];
    collectedSources: readonly string[];
    examined?: readonly { checkId: string; subject: string }[];
  }): Promise<ReconcileSummary> {
    return this.catalog.transaction(async (tx) => {
      const done = await tx.get<{ reconcile_summary: string | null }>('SELECT reconcile_summary FROM check_runs WHERE id = ?', input.checkRunId);
      if (!done) throw new Error(`check run ${input.checkRunId} is not in the catalog`);
      if (done.reconcile_summary) return JSON.parse(done.reconcile_summary) as ReconcileSummary;

      const run = (await tx.get<{ results: string; evaluated_at: string }>('SELECT results, evaluated_at FROM check_runs WHERE id = ?', input.checkRunId))!;
      const results = JSON.parse(run.results) as CheckResult[];
      const summary: ReconcileSummary = { opened: [], stillObserved: [], reopened: [], noLongerObserved: [] };
      const observed = new Set<string>();

      const deviations = await tx.all<DeviationRow>('SELECT * FROM deviations WHERE check_run_id = ? ORDER BY rowid', input.checkRunId);
      const observations: Observation[] = deviations.map((row) => ({
        fingerprint: row.fingerprint,
        checkId: row.check_id,
        subject: row.subject,
        title: row.title,
        severity: row.severity,
        detail: row.detail,
        values: JSON.parse(row.observed_values) as Record<string, unknown>,
        evidenceIds: JSON.parse(row.evidence_ids) as string[],
      }));
      for (const gap of input.gaps) {
        observations.push({
          fingerprint: fingerprintOf(input.controlId, EVIDENCE_GAP_CHECK, gap.sourceName),
          checkId: EVIDENCE_GAP_CHECK,
          subject: gap.sourceName,
          title: `Evidence gap: source ${gap.sourceName} could not be collected`,
          severity: 'high',
          detail: gap.reason,
          values: { errorType: gap.errorType },
          evidenceIds: [],
        });
      }

      for (const observation of observations) {
        observed.add(observation.fingerprint);
        const outcome = await this.observe(tx, input, observation);
        summary[outcome.kind].push(outcome.id);
      }

      const settledChecks = new Set(results.filter((result) => result.status !== 'error').map((result) => result.checkId));
      const examined = input.examined && new Set(input.examined.map((entry) => fingerprintOf(input.controlId, entry.checkId, entry.subject)));
      const active = await tx.all<{ id: string; fingerprint: string; check_id: string; subject: string; status: NonconformityStatus }>(
        `SELECT id, fingerprint, check_id, subject, status FROM nonconformities WHERE control_id = ? AND status IN (${ACTIVE.map(() => '?').join(', ')}) ORDER BY seq`,
        input.controlId,
        ...ACTIVE,
      );
      for (const nc of active) {
        if (observed.has(nc.fingerprint)) continue;
        const settled =
          nc.check_id === EVIDENCE_GAP_CHECK
            ? input.collectedSources.includes(nc.subject)
            : settledChecks.has(nc.check_id) && (examined?.has(nc.fingerprint) ?? true);
        if (!settled) continue;
        await this.setStatus(tx, nc.id, nc.status, 'no-longer-observed', SYSTEM, input.at, 'not observed by the latest run; verify and close');
        summary.noLongerObserved.push(nc.id);
      }

      await tx.run('UPDATE check_runs SET reconciled_at = ?, reconcile_summary = ? WHERE id = ?', input.at, JSON.stringify(summary), input.checkRunId);
      return summary;
    });
  }

  private async observe(
    tx: CatalogSession,
    input: { controlId: string; reference: string; owner: string; at: string },
    observation: Observation,
  ): Promise<{ kind: 'opened' | 'stillObserved' | 'reopened'; id: string }> {
    const existing = await tx.get<{ id: string; status: NonconformityStatus; evidence_ids: string }>(
      'SELECT id, status, evidence_ids FROM nonconformities WHERE fingerprint = ?',
      observation.fingerprint,
    );
    if (!existing) {
      const seq = Number((await tx.get<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM nonconformities'))!.next);
      const id = `NC-${String(seq).padStart(4, '0')}`;
      await tx.run(
        `INSERT INTO nonconformities (seq, id, fingerprint, control_id, check_id, subject, reference, title, severity, status, detail,
           observed_values, first_observed, last_observed, occurrences, evidence_ids, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, 1, ?, ?)`,
        seq,
        id,
        observation.fingerprint,
        input.controlId,
        observation.checkId,
        observation.subject,
        input.reference,
        observation.title,
        observation.severity,
        observation.detail,
        JSON.stringify(observation.values),
        input.at,
        input.at,
        JSON.stringify(observation.evidenceIds),
        input.owner,
      );
      await this.history(tx, id, input.at, SYSTEM, 'opened', null, 'open', observation.detail);
      return { kind: 'opened', id };
    }
    const evidenceIds = [...new Set([...(JSON.parse(existing.evidence_ids) as string[]), ...observation.evidenceIds])];
    await tx.run(
      `UPDATE nonconformities SET last_observed = ?, occurrences = occurrences + 1, evidence_ids = ?, detail = ?, observed_values = ?, title = ?, severity = ?
       WHERE id = ?`,
      input.at,
      JSON.stringify(evidenceIds),
      observation.detail,
      JSON.stringify(observation.values),
      observation.title,
      observation.severity,
      existing.id,
    );
    if (ACTIVE.includes(existing.status)) return { kind: 'stillObserved', id: existing.id };
    await this.setStatus(tx, existing.id, existing.status, 'open', SYSTEM, input.at, `observed again after ${existing.status}`);
    return { kind: 'reopened', id: existing.id };
  }

  /** A person moves a nonconformity along its lifecycle, recording root cause or corrective action on the way. */
  async transition(
    id: string,
    to: NonconformityStatus,
    change: { actor: string; at: string; note?: string; rootCause?: string; correctiveAction?: string; dueDate?: string },
  ): Promise<Nonconformity> {
    return this.catalog.transaction(async (tx) => {
      const nc = await this.get(id, tx);
      if (!nc) throw new Error(`nonconformity ${id} does not exist`);
      if (!HUMAN_TRANSITIONS[nc.status].includes(to)) {
        throw new Error(`nonconformity ${id} is ${nc.status}; it can move to ${HUMAN_TRANSITIONS[nc.status].join(', ')}, not ${to}`);
      }
      if (to === 'root-cause' && !(change.rootCause ?? nc.rootCause)) throw new Error(`nonconformity ${id}: a root cause is required`);
      if (to === 'corrective-action' && !(change.correctiveAction ?? nc.correctiveAction))
        throw new Error(`nonconformity ${id}: a corrective action is required`);
      if (change.rootCause !== undefined) await tx.run('UPDATE nonconformities SET root_cause = ? WHERE id = ?', change.rootCause, id);
      if (change.correctiveAction !== undefined) await tx.run('UPDATE nonconformities SET corrective_action = ? WHERE id = ?', change.correctiveAction, id);
      if (change.dueDate !== undefined) await tx.run('UPDATE nonconformities SET due_date = ? WHERE id = ?', change.dueDate, id);
      await this.setStatus(tx, id, nc.status, to, change.actor, change.at, change.note ?? null);
      return (await this.get(id, tx))!;
    });
  }

  /**
   * An occurrence of a calendar activity that nobody completed by due + grace: one nonconformity per occurrence
   * (control `activity:<activityId>`, check `missed-activity`, subject the occurrence id), however often asked.
   */
  async raiseMissedActivity(input: {
    activityId: string;
    occurrenceId: string;
    reference: string;
    owner: string;
    title: string;
    at: string;
    detail: string;
    dueDate?: string;
  }): Promise<{ id: string; opened: boolean }> {
    return this.catalog.transaction(async (tx) => {
      const controlId = activityControlOf(input.activityId);
      const fingerprint = fingerprintOf(controlId, MISSED_ACTIVITY_CHECK, input.occurrenceId);
      const existing = await tx.get<{ id: string }>('SELECT id FROM nonconformities WHERE fingerprint = ?', fingerprint);
      if (existing) return { id: existing.id, opened: false };
      const { id } = await this.observe(
        tx,
        { controlId, reference: input.reference, owner: input.owner, at: input.at },
        {
          fingerprint,
          checkId: MISSED_ACTIVITY_CHECK,
          subject: input.occurrenceId,
          title: input.title,
          severity: 'medium',
          detail: input.detail,
          values: { occurrenceId: input.occurrenceId },
          evidenceIds: [],
        },
      );
      if (input.dueDate) await tx.run('UPDATE nonconformities SET due_date = ? WHERE id = ?', input.dueDate, id);
      return { id, opened: true };
    });
  }

  /** A missed occurrence was completed late: its nonconformity is no longer observed; a person verifies and closes it. */
  async settleMissedActivity(input: {
    activityId: string;
    occurrenceId: string;
    at: string;
    note: string;
    evidenceIds?: string[];
  }): Promise<string | undefined> {
    return this.catalog.transaction(async (tx) => {
      const fingerprint = fingerprintOf(activityControlOf(input.activityId), MISSED_ACTIVITY_CHECK, input.occurrenceId);
      const nc = await tx.get<{ id: string; status: NonconformityStatus; evidence_ids: string }>(
        'SELECT id, status, evidence_ids FROM nonconformities WHERE fingerprint = ?',
        fingerprint,
      );
      if (!nc || !ACTIVE.includes(nc.status)) return nc?.id;
      const evidenceIds = [...new Set([...(JSON.parse(nc.evidence_ids) as string[]), ...(input.evidenceIds ?? [])])];
      await tx.run('UPDATE nonconformities SET evidence_ids = ? WHERE id = ?', JSON.stringify(evidenceIds), nc.id);
      await this.setStatus(tx, nc.id, nc.status, 'no-longer-observed', SYSTEM, input.at, input.note);
      return nc.id;
    });
  }

  async get(id: string, db: CatalogSession = this.catalog): Promise<Nonconformity | undefined> {
    const row = await db.get<NonconformityRow>('SELECT * FROM nonconformities WHERE id = ?', id);
    return row && toNonconformity(row);
  }

  async list(filter: { status?: NonconformityStatus; controlId?: string } = {}): Promise<Nonconformity[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.controlId) {
      where.push('control_id = ?');
      params.push(filter.controlId);
    }
    const sql = `SELECT * FROM nonconformities ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    return (await this.catalog.all<NonconformityRow>(sql, ...params)).map(toNonconformity);
  }

  async historyOf(id: string): Promise<HistoryEntry[]> {
    const rows = await this.catalog.all<{
      at: string;
      actor: string;
      change: string;
      from_status: string | null;
      to_status: string | null;
      note: string | null;
    }>('SELECT * FROM nonconformity_history WHERE nonconformity_id = ? ORDER BY rowid', id);
    return rows.map((row) => ({ at: row.at, actor: row.actor, change: row.change, fromStatus: row.from_status, toStatus: row.to_status, note: row.note }));
  }

  private async setStatus(
    tx: CatalogSession,
    id: string,
    from: NonconformityStatus,
    to: NonconformityStatus,
    actor: string,
    at: string,
    note: string | null,
  ): Promise<void> {
    await tx.run('UPDATE nonconformities SET status = ? WHERE id = ?', to, id);
    await this.history(tx, id, at, actor, 'status', from, to, note);
  }

  private async history(
    tx: CatalogSession,
    id: string,
    at: string,
    actor: string,
    change: string,
    from: string | null,
    to: string | null,
    note: string | null,
  ): Promise<void> {
    await tx.run(
      'INSERT INTO nonconformity_history (nonconformity_id, at, actor, change, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
      id,
      at,
      actor,
      change,
      from,
      to,
      note,
    );
  }
}

interface Observation {
  fingerprint: string;
  checkId: string;
  subject: string;
  title: string;
  severity: string;
  detail: string;
  values: Record<string, unknown>;
  evidenceIds: string[];
}

type DeviationRow = {
  fingerprint: string;
  check_id: string;
  subject: string;
  title: string;
  severity: string;
  detail: string;
  observed_values: string;
  evidence_ids: string;
};

type NonconformityRow = {
  id: string;
  fingerprint: string;
  control_id: string;
  check_id: string;
  subject: string;
  reference: string;
  title: string;
  severity: string;
  status: NonconformityStatus;
  detail: string;
  observed_values: string;
  first_observed: string;
  last_observed: string;
  occurrences: number;
  evidence_ids: string;
  root_cause: string | null;
  corrective_action: string | null;
  owner: string | null;
  due_date: string | null;
};

function toNonconformity(row: NonconformityRow): Nonconformity {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    controlId: row.control_id,
    checkId: row.check_id,
    subject: row.subject,
    reference: row.reference,
    title: row.title,
    severity: row.severity,
    status: row.status,
    detail: row.detail,
    values: JSON.parse(row.observed_values) as Record<string, unknown>,
    firstObserved: row.first_observed,
    lastObserved: row.last_observed,
    occurrences: Number(row.occurrences),
    evidenceIds: JSON.parse(row.evidence_ids) as string[],
    rootCause: row.root_cause,
    correctiveAction: row.corrective_action,
    owner: row.owner,
    dueDate: row.due_date,
  };
}
