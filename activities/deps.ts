import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.ts';
import type { Register } from '../evidence/register.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { ActivityOccurrence, Completion, CompletionReceipt } from '../core/calendar-contracts.ts';

/** What every activity factory is given: its own file, so the factories and activities/index.ts do not import each other. */
export interface ActivityDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  register: Register;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /**
   * The calendar occurrences' workflows over an activity's Temporal client: the worker passes worker/calendar.ts's
   * (the typed workflow and Update references live above activities). Needed only by the obligation activities.
   */
  occurrenceWorkflows?: (client: Client) => OccurrenceWorkflows;
}

/** How an obligation reaches an occurrence's workflow: start it as its schedule would, and send it the `complete` Update. */
export interface OccurrenceWorkflows {
  /** Starting an occurrence already started is not an error. */
  start(occurrence: ActivityOccurrence): Promise<void>;
  complete(occurrenceId: string, completion: Completion): Promise<CompletionReceipt>;
}
