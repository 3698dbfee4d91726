import type { Catalog, ModuleSchema } from './catalog.ts';

const MIGRATIONS = [
  // run_id is the sender's run: a control run's workflow id, or a calendar occurrence id for its notices.
  `CREATE TABLE notification_deliveries (
     run_id TEXT NOT NULL,
     target TEXT NOT NULL,
     event TEXT NOT NULL,
     delivery_id TEXT NOT NULL,
     delivered_at TEXT NOT NULL,
     PRIMARY KEY (run_id, target, event)
   );`,
];

export const NOTIFICATION_SCHEMA: ModuleSchema = { module: 'notifications', migrations: MIGRATIONS };

export interface Delivery {
  runId: string;
  target: string;
  event: string;
  /** Sent with the notification (Idempotency-Key header, Message-ID), so a receiver can drop a duplicate itself. */
  deliveryId: string;
  deliveredAt: string;
}

type Row = { run_id: string; target: string; event: string; delivery_id: string; delivered_at: string };

/**
 * Which notification each target has accepted, one row per run, target and event: the idempotency key that lets a
 * retried or re-executed run skip the targets that already have its news.
 */
export class NotificationLedger {
  private readonly catalog: Catalog;
  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(NOTIFICATION_SCHEMA.module, NOTIFICATION_SCHEMA.migrations);
    return this.catalog;
  }

  /** The events of the run that the target has accepted. */
  async deliveredEvents(runId: string, target: string): Promise<Set<string>> {
    const rows = await (
      await this.migrated()
    ).all<{ event: string }>('SELECT event FROM notification_deliveries WHERE run_id = ? AND target = ?', runId, target);
    return new Set(rows.map((row) => row.event));
  }

  /** Records that the target accepted these events of the run; a key recorded before keeps its first delivery. */
  async record(delivery: { runId: string; target: string; events: readonly string[]; deliveryId: string; deliveredAt: string }): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      for (const event of delivery.events) {
        await tx.run(
          'INSERT INTO notification_deliveries (run_id, target, event, delivery_id, delivered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, target, event) DO NOTHING',
          delivery.runId,
          delivery.target,
          event,
          delivery.deliveryId,
          delivery.deliveredAt,
        );
      }
    });
  }

  async deliveries(runId: string): Promise<Delivery[]> {
    const rows = await (
      await this.migrated()
    ).all<Row>(
      'SELECT run_id, target, event, delivery_id, delivered_at FROM notification_deliveries WHERE run_id = ? ORDER BY delivered_at, target, event',
      runId,
    );
    return rows.map((row) => ({ runId: row.run_id, target: row.target, event: row.event, deliveryId: row.delivery_id, deliveredAt: row.delivered_at }));
  }
}
