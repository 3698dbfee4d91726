import type { ActivityOccurrence, EvidenceItem, OccurrenceNotice } from '../core/calendar-contracts.ts';
import { insertionOrder, type Catalog, type CatalogSession, type Migration, type ModuleSchema } from './catalog.ts';

/**
 * The calendar's tables in the catalog: occurrences as their workflows recorded them, every notice and change to
 * them, and recorded changes to the ISMS. Workflows write through activities; the CLI and dashboards read.
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE activity_occurrences (
     occurrence_id TEXT PRIMARY KEY,
     activity_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     title TEXT NOT NULL,
     reference TEXT NOT NULL,
     owner TEXT NOT NULL,
     due_at TEXT NOT NULL,
     due_date TEXT NOT NULL,
     grace_until TEXT NOT NULL,
     closes_at TEXT NOT NULL,
     opened_at TEXT NOT NULL,
     status TEXT NOT NULL,
     expected_evidence TEXT NOT NULL,
     completed_by TEXT,
     performed_at TEXT,
     recorded_at TEXT,
     late INTEGER NOT NULL DEFAULT 0,
     note TEXT,
     evidence TEXT NOT NULL DEFAULT '[]',
     nonconformity_id TEXT,
     closed_at TEXT
   );
   CREATE INDEX activity_occurrences_due ON activity_occurrences (due_at);
   CREATE INDEX activity_occurrences_activity ON activity_occurrences (activity_id, due_at);
   CREATE TABLE activity_events (
     occurrence_id TEXT NOT NULL REFERENCES activity_occurrences (occurrence_id),
     at TEXT NOT NULL,
     kind TEXT NOT NULL,
     actor TEXT NOT NULL,
     detail TEXT NOT NULL,
     delivered TEXT NOT NULL DEFAULT '[]',
     PRIMARY KEY (occurrence_id, kind, at)
   );
   CREATE TABLE isms_changes (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     title TEXT NOT NULL,
     description TEXT,
     affects TEXT NOT NULL,
     recorded_at TEXT NOT NULL,
     recorded_by TEXT NOT NULL,
     occurrence_id TEXT NOT NULL
   );
   CREATE VIEW overdue_activities AS
     SELECT occurrence_id, activity_id, title, owner, due_at, grace_until, status, nonconformity_id
     FROM activity_occurrences WHERE status IN ('open', 'missed') AND closed_at IS NULL;`,
  // The risk register entries a change names, so its risk review can be checked against the register.
  `ALTER TABLE isms_changes ADD COLUMN risks TEXT NOT NULL DEFAULT '[]';`,
  insertionOrder('activity_events'),
];

export const CALENDAR_SCHEMA: ModuleSchema = { module: 'calendar', migrations: MIGRATIONS };

/** Stored status: `missed` means due + grace passed without completion (a nonconformity is open); late completion stays possible. */
export type StoredOccurrenceStatus = 'open' | 'missed' | 'done';
export type OccurrenceEventKind = OccurrenceNotice | 'completed' | 'closed';

export interface RecordedOccurrence {
  occurrenceId: string;
  activityId: string;
  origin: string;
  title: string;
  reference: string;
  owner: string;
  due: string;
  dueDate: string;
  graceUntil: string;
  closesAt: string;
  openedAt: string;
  status: StoredOccurrenceStatus;
  expectedEvidence: { name: string; required: boolean }[];
  completedBy: string | null;
  performedAt: string | null;
  recordedAt: string | null;
  late: boolean;
  note: string | null;
  evidence: EvidenceItem[];
  nonconformityId: string | null;
  closedAt: string | null;
}

export interface OccurrenceEvent {
  occurrenceId: string;
  at: string;
  kind: OccurrenceEventKind;
  actor: string;
  detail: string;
  delivered: string[];
}

export interface RecordedChange {
  id: string;
  title: string;
  description: string | null;
  affects: string[];
  /** Ids of the risk register entries the change affects. */
  risks: string[];
  recordedAt: string;
  recordedBy: string;
  occurrenceId: string;
}

const SYSTEM = 'isms-worker';

export class CalendarStore {
  private readonly catalog: Catalog;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(CALENDAR_SCHEMA.module, CALENDAR_SCHEMA.migrations);
    return this.catalog;
  }

  /** Records an occurrence as open; a retry, or a second start of the same occurrence, changes nothing. */
  async open(occurrence: ActivityOccurrence, at: string): Promise<RecordedOccurrence> {
    await (
      await this.migrated()
    ).run(
      `INSERT INTO activity_occurrences (occurrence_id, activity_id, origin, title, reference, owner, due_at, due_date, grace_until, closes_at,
         opened_at, status, expected_evidence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (occurrence_id) DO NOTHING`,
      occurrence.occurrenceId,
      occurrence.activityId,
      occurrence.origin,
      occurrence.title,
      occurrence.reference,
      occurrence.owner,
      occurrence.due,
      occurrence.dueDate,
      occurrence.graceUntil,
      occurrence.closesAt,
      at,
      JSON.stringify(occurrence.evidence),
    );
    return (await this.get(occurrence.occurrenceId))!;
  }

  async get(occurrenceId: string, db?: CatalogSession): Promise<RecordedOccurrence | undefined> {
    const row = await (db ?? (await this.migrated())).get<OccurrenceRow>('SELECT * FROM activity_occurrences WHERE occurrence_id = ?', occurrenceId);
    return row && toOccurrence(row);
  }

  /** Occurrences due in [from, to), oldest first. */
  async list(filter: { from?: string; to?: string; activityId?: string } = {}): Promise<RecordedOccurrence[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.from) {
      where.push('due_at >= ?');
      params.push(filter.from);
    }
    if (filter.to) {
      where.push('due_at < ?');
      params.push(filter.to);
    }
    if (filter.activityId) {
      where.push('activity_id = ?');
      params.push(filter.activityId);
    }
    const sql = `SELECT * FROM activity_occurrences ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY due_at, occurrence_id`;
    return (await (await this.migrated()).all<OccurrenceRow>(sql, ...params)).map(toOccurrence);
  }

  /** Logs a notice or change once per occurrence, kind and planned time. Returns false when it was logged before. */
  async event(event: Omit<OccurrenceEvent, 'delivered'>, db?: CatalogSession): Promise<boolean> {
    const result = await (db ?? (await this.migrated())).run(
      'INSERT INTO activity_events (occurrence_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      event.occurrenceId,
      event.at,
      event.kind,
      event.actor,
      event.detail,
    );
    return result.changes > 0;
  }

  async delivered(occurrenceId: string, kind: OccurrenceEventKind, at: string, targets: string[]): Promise<void> {
    await (
      await this.migrated()
    ).run('UPDATE activity_events SET delivered = ? WHERE occurrence_id = ? AND kind = ? AND at = ?', JSON.stringify(targets), occurrenceId, kind, at);
  }

  async events(occurrenceId: string): Promise<OccurrenceEvent[]> {
    const rows = await (
      await this.migrated()
    ).all<{ occurrence_id: string; at: string; kind: OccurrenceEventKind; actor: string; detail: string; delivered: string }>(
      'SELECT * FROM activity_events WHERE occurrence_id = ? ORDER BY at, rowid',
      occurrenceId,
    );
    return rows.map((row) => ({
      occurrenceId: row.occurrence_id,
      at: row.at,
      kind: row.kind,
      actor: row.actor,
      detail: row.detail,
      delivered: JSON.parse(row.delivered) as string[],
    }));
  }

  async missed(occurrenceId: string, nonconformityId: string, at: string): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      await tx.run(
        "UPDATE activity_occurrences SET status = 'missed', nonconformity_id = ? WHERE occurrence_id = ? AND status = 'open'",
        nonconformityId,
        occurrenceId,
      );
      await this.event({ occurrenceId, at, kind: 'missed', actor: SYSTEM, detail: `not completed by the end of grace: ${nonconformityId}` }, tx);
    });
  }

  async complete(input: {
    occurrenceId: string;
    by: string;
    performedAt: string;
    recordedAt: string;
    late: boolean;
    note?: string;
    evidence: EvidenceItem[];
    nonconformityId?: string;
  }): Promise<RecordedOccurrence> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      await tx.run(
        `UPDATE activity_occurrences SET status = 'done', completed_by = ?, performed_at = ?, recorded_at = ?, late = ?, note = ?, evidence = ?,
           nonconformity_id = COALESCE(?, nonconformity_id), closed_at = ?
         WHERE occurrence_id = ? AND status != 'done'`,
        input.by,
        input.performedAt,
        input.recordedAt,
        input.late ? 1 : 0,
        input.note ?? null,
        JSON.stringify(input.evidence),
        input.nonconformityId ?? null,
        input.recordedAt,
        input.occurrenceId,
      );
      await this.event(
        {
          occurrenceId: input.occurrenceId,
          at: input.recordedAt,
          kind: 'completed',
          actor: input.by,
          detail: `${input.late ? 'completed late' : 'completed'}; evidence: ${input.evidence.map((item) => item.name).join(', ') || 'none'}${input.note ? `; ${input.note}` : ''}`,
        },
        tx,
      );
    });
    return (await this.get(input.occurrenceId))!;
  }

  async reassign(occurrenceId: string, owner: string, by: string, at: string): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      const previous = (await this.get(occurrenceId, tx))?.owner;
      await tx.run('UPDATE activity_occurrences SET owner = ? WHERE occurrence_id = ?', owner, occurrenceId);
      await this.event({ occurrenceId, at, kind: 'reassigned', actor: by, detail: `owner ${previous ?? '?'} -> ${owner}` }, tx);
    });
  }

  async close(occurrenceId: string, at: string): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      await tx.run('UPDATE activity_occurrences SET closed_at = ? WHERE occurrence_id = ? AND closed_at IS NULL', at, occurrenceId);
      await this.event(
        { occurrenceId, at, kind: 'closed', actor: SYSTEM, detail: 'no late completion accepted after this; the nonconformity stays with its owner' },
        tx,
      );
    });
  }

  /** Records a change to the ISMS under the next CHG-nnnn id. */
  async recordChange(
    change: { title: string; description?: string; affects: string[]; risks?: string[]; recordedAt: string; recordedBy: string },
    occurrenceIdFor: (changeId: string) => string,
  ): Promise<RecordedChange> {
    return (await this.migrated()).transaction(async (tx) => {
      const seq = Number((await tx.get<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM isms_changes'))!.next);
      const id = `CHG-${String(seq).padStart(4, '0')}`;
      const occurrenceId = occurrenceIdFor(id);
      await tx.run(
        'INSERT INTO isms_changes (seq, id, title, description, affects, risks, recorded_at, recorded_by, occurrence_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        seq,
        id,
        change.title,
        change.description ?? null,
        JSON.stringify(change.affects),
        JSON.stringify(change.risks ?? []),
        change.recordedAt,
        change.recordedBy,
        occurrenceId,
      );
      return {
        id,
        title: change.title,
        description: change.description ?? null,
        affects: change.affects,
        risks: change.risks ?? [],
        recordedAt: change.recordedAt,
        recordedBy: change.recordedBy,
        occurrenceId,
      };
    });
  }

  async changes(): Promise<RecordedChange[]> {
    const rows = await (
      await this.migrated()
    ).all<{
      id: string;
      title: string;
      description: string | null;
      affects: string;
      risks: string;
      recorded_at: string;
      recorded_by: string;
      occurrence_id: string;
    }>('SELECT * FROM isms_changes ORDER BY seq');
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      description: row.description,
      affects: JSON.parse(row.affects) as string[],
      risks: JSON.parse(row.risks) as string[],
      recordedAt: row.recorded_at,
      recordedBy: row.recorded_by,
      occurrenceId: row.occurrence_id,
    }));
  }
}

type OccurrenceRow = {
  occurrence_id: string;
  activity_id: string;
  origin: string;
  title: string;
  reference: string;
  owner: string;
  due_at: string;
  due_date: string;
  grace_until: string;
  closes_at: string;
  opened_at: string;
  status: StoredOccurrenceStatus;
  expected_evidence: string;
  completed_by: string | null;
  performed_at: string | null;
  recorded_at: string | null;
  late: number;
  note: string | null;
  evidence: string;
  nonconformity_id: string | null;
  closed_at: string | null;
};

function toOccurrence(row: OccurrenceRow): RecordedOccurrence {
  return {
    occurrenceId: row.occurrence_id,
    activityId: row.activity_id,
    origin: row.origin,
    title: row.title,
    reference: row.reference,
    owner: row.owner,
    due: row.due_at,
    dueDate: row.due_date,
    graceUntil: row.grace_until,
    closesAt: row.closes_at,
    openedAt: row.opened_at,
    status: row.status,
    expectedEvidence: JSON.parse(row.expected_evidence) as { name: string; required: boolean }[],
    completedBy: row.completed_by,
    performedAt: row.performed_at,
    recordedAt: row.recorded_at,
    late: Number(row.late) === 1,
    note: row.note,
    evidence: JSON.parse(row.evidence) as EvidenceItem[],
    nonconformityId: row.nonconformity_id,
    closedAt: row.closed_at,
  };
}
