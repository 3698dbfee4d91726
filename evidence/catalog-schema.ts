import type { Catalog, ModuleSchema } from './catalog.ts';
import { ACCESS_REVIEW_SCHEMA } from './access-reviews.ts';
import { CALENDAR_SCHEMA } from './calendar-store.ts';
import { FINDING_LEDGER_SCHEMA } from './finding-ledger.ts';
import { LEAVER_CLOCK_SCHEMA } from './leaver-clock.ts';
import { MANAGEMENT_REVIEW_SCHEMA } from './management-review.ts';
import { NOTIFICATION_SCHEMA } from './notification-ledger.ts';

/** Every feature's tables. */
const MODULE_SCHEMAS: readonly ModuleSchema[] = [ACCESS_REVIEW_SCHEMA, CALENDAR_SCHEMA, FINDING_LEDGER_SCHEMA, LEAVER_CLOCK_SCHEMA, MANAGEMENT_REVIEW_SCHEMA, NOTIFICATION_SCHEMA];

/**
 * Brings every feature's tables up to date as the store opens. A feature migrating on first use would write to the
 * catalog in the middle of a run: on a full disk even a read (a notification ledger's lookup before telling the owner
 * that the disk is full) would then fail.
 */
export async function migrateModules(catalog: Catalog): Promise<void> {
  for (const schema of MODULE_SCHEMAS) await catalog.migrateModule(schema.module, schema.migrations);
}
