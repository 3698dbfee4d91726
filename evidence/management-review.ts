import type { CheckStatus } from '../core/contracts.ts';
import { insertionOrder, type Catalog, type CatalogSession, type Migration, type ModuleSchema } from './catalog.ts';

/*
 * The management review (ISO/IEC 27001 9.3) in the catalog: each review with the pack it discussed and, once held,
 * its minutes; the decisions it took and every change of their status. Also the reads the review pack needs beyond
 * the store's, register's and calendar's own accessors, kept here so the SQL moves as one when the catalog goes
 * behind an async interface.
 */

const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE management_reviews (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     pack_evidence_id TEXT NOT NULL,
     period_from TEXT NOT NULL,
     period_to TEXT NOT NULL,
     opened_at TEXT NOT NULL,
     opened_by TEXT NOT NULL,
     held_at TEXT,
     held_by TEXT,
     note TEXT,
     minutes_evidence_id TEXT,
     occurrence_id TEXT
   );
   CREATE TABLE management_review_decisions (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     review_id TEXT NOT NULL REFERENCES management_reviews (id),
     text TEXT NOT NULL,
     owner TEXT NOT NULL,
     due_date TEXT NOT NULL,
     status TEXT NOT NULL,
     recorded_at TEXT NOT NULL,
     recorded_by TEXT NOT NULL
   );
   CREATE INDEX management_review_decisions_review ON management_review_decisions (review_id, seq);
   CREATE TABLE management_review_decision_events (
     decision_id TEXT NOT NULL REFERENCES management_review_decisions (id),
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     from_status TEXT,
     to_status TEXT NOT NULL,
     note TEXT
   );
   CREATE INDEX management_review_decision_events_id ON management_review_decision_events (decision_id, at);`,
  insertionOrder('management_review_decision_events'),
];

export const MANAGEMENT_REVIEW_SCHEMA: ModuleSchema = { module: 'management-review', migrations: MIGRATIONS };

export const DECISION_STATUSES = ['open', 'done', 'dropped'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

export interface ManagementReview {
  id: string;
  /** The review pack (its JSON kept as evidence) the review discussed. */
  packEvidenceId: string;
  period: { from: string; to: string };
  openedAt: string;
  openedBy: string;
  /** Null while decisions are still being recorded. */
  heldAt: string | null;
  heldBy: string | null;
  note: string | null;
  minutesEvidenceId: string | null;
  /** The management-review calendar occurrence its minutes completed. */
  occurrenceId: string | null;
}

export interface DecisionEvent {
  at: string;
  actor: string;
  fromStatus: DecisionStatus | null;
  toStatus: DecisionStatus;
  note: string | null;
}

export interface ReviewDecision {
  id: string;
  reviewId: string;
  text: string;
  owner: string;
  /** `YYYY-MM-DD`. */
  dueDate: string;
  status: DecisionStatus;
  recordedAt: string;
  recordedBy: string;
  history: DecisionEvent[];
}

/** A request the review's state refuses (a second open review, a decision on a held one): the person corrects it. */
export class ManagementReviewRefusal extends Error {
  override readonly name = 'ManagementReviewRefusal';
}

export class ManagementReviewStore {
  private readonly catalog: Catalog;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(MANAGEMENT_REVIEW_SCHEMA.module, MANAGEMENT_REVIEW_SCHEMA.migrations);
    return this.catalog;
  }

  /** The review being prepared: decisions are recorded on it until it is held. At most one at a time. */
  async openReview(db?: CatalogSession): Promise<ManagementReview | undefined> {
    const row = await (db ?? (await this.migrated())).get<ReviewRow>('SELECT * FROM management_reviews WHERE held_at IS NULL ORDER BY seq DESC LIMIT 1');
    return row && toReview(row);
  }

  /** Opens the next review (MR-nnnn) on a pack; refused while another is open. */
  async open(input: { packEvidenceId: string; period: { from: string; to: string }; at: string; by: string }): Promise<ManagementReview> {
    return (await this.migrated()).transaction(async (tx) => {
      const open = await this.openReview(tx);
      if (open)
        throw new ManagementReviewRefusal(`management review ${open.id} is still open (on pack ${open.packEvidenceId}): hold it before opening another`);
      const seq = Number((await tx.get<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM management_reviews'))!.next);
      const id = `MR-${String(seq).padStart(4, '0')}`;
      await tx.run(
        'INSERT INTO management_reviews (seq, id, pack_evidence_id, period_from, period_to, opened_at, opened_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
        seq,
        id,
        input.packEvidenceId,
        input.period.from,
        input.period.to,
        input.at,
        input.by,
      );
      return (await this.get(id, tx))!;
    });
  }

  async get(id: string, db?: CatalogSession): Promise<ManagementReview | undefined> {
    const row = await (db ?? (await this.migrated())).get<ReviewRow>('SELECT * FROM management_reviews WHERE id = ?', id);
    return row && toReview(row);
  }

  /** The review that discussed a pack, if any: a pack is discussed once. */
  async reviewOfPack(packEvidenceId: string): Promise<ManagementReview | undefined> {
    const row = await (
      await this.migrated()
    ).get<ReviewRow>('SELECT * FROM management_reviews WHERE pack_evidence_id = ? ORDER BY seq DESC LIMIT 1', packEvidenceId);
    return row && toReview(row);
  }

  /** Every review, oldest first. */
  async list(): Promise<ManagementReview[]> {
    return (await (await this.migrated()).all<ReviewRow>('SELECT * FROM management_reviews ORDER BY seq')).map(toReview);
  }

  /** The latest review held before `before`: its decisions are the actions the next review follows up. */
  async lastHeld(before: string): Promise<ManagementReview | undefined> {
    const row = await (
      await this.migrated()
    ).get<ReviewRow>('SELECT * FROM management_reviews WHERE held_at IS NOT NULL AND held_at < ? ORDER BY held_at DESC, seq DESC LIMIT 1', before);
    return row && toReview(row);
  }

  /** Records a decision (D-nnnn) on an open review. */
  async decide(input: { reviewId: string; text: string; owner: string; dueDate: string; at: string; by: string }): Promise<ReviewDecision> {
    return (await this.migrated()).transaction(async (tx) => {
      const review = await this.get(input.reviewId, tx);
      if (!review) throw new ManagementReviewRefusal(`no management review ${input.reviewId}`);
      if (review.heldAt)
        throw new ManagementReviewRefusal(
          `management review ${review.id} was held on ${review.heldAt}: its decisions are final; record new ones on the next review`,
        );
      const seq = Number((await tx.get<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM management_review_decisions'))!.next);
      const id = `D-${String(seq).padStart(4, '0')}`;
      await tx.run(
        "INSERT INTO management_review_decisions (seq, id, review_id, text, owner, due_date, status, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        seq,
        id,
        review.id,
        input.text,
        input.owner,
        input.dueDate,
        input.at,
        input.by,
      );
      await this.event(tx, id, input.at, input.by, null, 'open', null);
      return (await this.decision(id, tx))!;
    });
  }

  /** Moves a decision to another status, with who and why; the history keeps every move. */
  async setStatus(id: string, to: DecisionStatus, change: { at: string; by: string; note?: string }): Promise<ReviewDecision> {
    return (await this.migrated()).transaction(async (tx) => {
      const decision = await this.decision(id, tx);
      if (!decision) throw new ManagementReviewRefusal(`no management review decision ${id}`);
      if (decision.status === to) throw new ManagementReviewRefusal(`decision ${id} is already ${to}`);
      await tx.run('UPDATE management_review_decisions SET status = ? WHERE id = ?', to, id);
      await this.event(tx, id, change.at, change.by, decision.status, to, change.note ?? null);
      return (await this.decision(id, tx))!;
    });
  }

  /** Marks the review held, with its minutes kept as evidence and the calendar occurrence they complete (when known). */
  async hold(id: string, input: { at: string; by: string; note?: string; minutesEvidenceId: string }): Promise<ManagementReview> {
    return (await this.migrated()).transaction(async (tx) => {
      const review = await this.get(id, tx);
      if (!review) throw new ManagementReviewRefusal(`no management review ${id}`);
      if (review.heldAt) return review;
      await tx.run(
        'UPDATE management_reviews SET held_at = ?, held_by = ?, note = ?, minutes_evidence_id = ? WHERE id = ? AND held_at IS NULL',
        input.at,
        input.by,
        input.note ?? null,
        input.minutesEvidenceId,
        id,
      );
      return (await this.get(id, tx))!;
    });
  }

  async completedOccurrence(id: string, occurrenceId: string): Promise<void> {
    await (await this.migrated()).run('UPDATE management_reviews SET occurrence_id = ? WHERE id = ?', occurrenceId, id);
  }

  async decision(id: string, db?: CatalogSession): Promise<ReviewDecision | undefined> {
    const session = db ?? (await this.migrated());
    const row = await session.get<DecisionRow>('SELECT * FROM management_review_decisions WHERE id = ?', id);
    return row && this.toDecision(session, row);
  }

  /** The decisions of one review, in the order they were taken. */
  async decisions(reviewId: string): Promise<ReviewDecision[]> {
    const catalog = await this.migrated();
    const rows = await catalog.all<DecisionRow>('SELECT * FROM management_review_decisions WHERE review_id = ? ORDER BY seq', reviewId);
    return Promise.all(rows.map((row) => this.toDecision(catalog, row)));
  }

  /** Decisions still open that reviews held before `before` took, oldest first. */
  async openDecisionsBefore(before: string): Promise<ReviewDecision[]> {
    const catalog = await this.migrated();
    const rows = await catalog.all<DecisionRow>(
      `SELECT d.* FROM management_review_decisions d JOIN management_reviews r ON r.id = d.review_id
       WHERE d.status = 'open' AND r.held_at IS NOT NULL AND r.held_at < ? ORDER BY d.seq`,
      before,
    );
    return Promise.all(rows.map((row) => this.toDecision(catalog, row)));
  }

  private async event(
    tx: CatalogSession,
    decisionId: string,
    at: string,
    actor: string,
    from: DecisionStatus | null,
    to: DecisionStatus,
    note: string | null,
  ): Promise<void> {
    await tx.run(
      'INSERT INTO management_review_decision_events (decision_id, at, actor, from_status, to_status, note) VALUES (?, ?, ?, ?, ?, ?)',
      decisionId,
      at,
      actor,
      from,
      to,
      note,
    );
  }

  private async toDecision(db: CatalogSession, row: DecisionRow): Promise<ReviewDecision> {
    const events = await db.all<{ at: string; actor: string; from_status: DecisionStatus | null; to_status: DecisionStatus; note: string | null }>(
      'SELECT at, actor, from_status, to_status, note FROM management_review_decision_events WHERE decision_id = ? ORDER BY rowid',
      row.id,
    );
    const history = events.map((event) => ({ at: event.at, actor: event.actor, fromStatus: event.from_status, toStatus: event.to_status, note: event.note }));
    return {
      id: row.id,
      reviewId: row.review_id,
      text: row.text,
      owner: row.owner,
      dueDate: row.due_date,
      status: row.status,
      recordedAt: row.recorded_at,
      recordedBy: row.recorded_by,
      history,
    };
  }
}

type ReviewRow = {
  id: string;
  pack_evidence_id: string;
  period_from: string;
  period_to: string;
  opened_at: string;
  opened_by: string;
  held_at: string | null;
  held_by: string | null;
  note: string | null;
  minutes_evidence_id: string | null;
  occurrence_id: string | null;
};

type DecisionRow = {
  id: string;
  review_id: string;
  text: string;
  owner: string;
  due_date: string;
  status: DecisionStatus;
  recorded_at: string;
  recorded_by: string;
};

function toReview(row: ReviewRow): ManagementReview {
  return {
    id: row.id,
    packEvidenceId: row.pack_evidence_id,
    period: { from: row.period_from, to: row.period_to },
    openedAt: row.opened_at,
    openedBy: row.opened_by,
    heldAt: row.held_at,
    heldBy: row.held_by,
    note: row.note,
    minutesEvidenceId: row.minutes_evidence_id,
    occurrenceId: row.occurrence_id,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reads of the review pack

export interface SnapshotOfKind {
  id: string;
  runId: string;
  controlId: string;
  sourceName: string;
  collectedAt: string;
  sha256: string;
}

/**
 * Snapshots holding records of `kind` collected before `before`, newest first (ties by their place in the chain):
 * the latest per source is the register as it stood then.
 */
export async function snapshotsOfKind(catalog: Catalog, kind: string, before: string): Promise<SnapshotOfKind[]> {
  // `kinds` is a JSON list: LIKE narrows the rows on both backends, the parsed list decides.
  const rows = await catalog.all<{ id: string; run_id: string; control_id: string; source_name: string; collected_at: string; sha256: string; kinds: string }>(
    `SELECT id, run_id, control_id, source_name, collected_at, sha256, kinds FROM evidence
     WHERE collected_at < ? AND kinds LIKE ? ESCAPE '!'
     ORDER BY collected_at DESC, seq DESC`,
    before,
    `%${JSON.stringify(kind).replace(/[!%_]/g, (char) => `!${char}`)}%`,
  );
  return rows
    .filter((row) => (JSON.parse(row.kinds) as string[]).includes(kind))
    .map((row) => ({
      id: row.id,
      runId: row.run_id,
      controlId: row.control_id,
      sourceName: row.source_name,
      collectedAt: row.collected_at,
      sha256: row.sha256,
    }));
}

export interface CheckRunAsOf {
  id: string;
  runId: string;
  controlId: string;
  evaluatedAt: string;
  status: CheckStatus;
}

/** The control's latest run evaluated before `before` (access review campaigns excluded, as v_control_status excludes them). */
export async function latestCheckRunBefore(catalog: Catalog, controlId: string, before: string): Promise<CheckRunAsOf | undefined> {
  const row = await catalog.get<{ id: string; run_id: string; control_id: string; evaluated_at: string; status: CheckStatus }>(
    "SELECT id, run_id, control_id, evaluated_at, status FROM check_runs WHERE control_id = ? AND evaluated_at < ? AND run_id NOT LIKE 'review:%' ORDER BY evaluated_at DESC, run_id DESC LIMIT 1",
    controlId,
    before,
  );
  return row && { id: row.id, runId: row.run_id, controlId: row.control_id, evaluatedAt: row.evaluated_at, status: row.status };
}
