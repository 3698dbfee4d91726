import { ACCESS_REVIEW_SCHEMA } from './access-reviews.ts';
import { CALENDAR_SCHEMA } from './calendar-store.ts';
import type { Catalog, ModuleSchema } from './catalog.ts';
import { FINDING_LEDGER_SCHEMA } from './finding-ledger.ts';
import { LEAVER_CLOCK_SCHEMA } from './leaver-clock.ts';
import { MANAGEMENT_REVIEW_SCHEMA } from './management-review.ts';
import { NOTIFICATION_SCHEMA } from './notification-ledger.ts';

/** Every feature module's tables, in the order `isms catalog migrate` copies them (referenced tables first). */
export const MODULE_SCHEMAS: readonly ModuleSchema[] = [
  FINDING_LEDGER_SCHEMA,
  LEAVER_CLOCK_SCHEMA,
  NOTIFICATION_SCHEMA,
  CALENDAR_SCHEMA,
  ACCESS_REVIEW_SCHEMA,
  MANAGEMENT_REVIEW_SCHEMA,
];

/**
 * Brings every module's tables up to date when a store opens: a module's first write may come when its tables can
 * no longer be created (a full disk must not keep the notification ledger from recording the news about it).
 */
export async function migrateModules(catalog: Catalog): Promise<void> {
  for (const schema of MODULE_SCHEMAS) await catalog.migrateModule(schema.module, schema.migrations);
}
