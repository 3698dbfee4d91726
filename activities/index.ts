import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import { NotificationLedger } from '../evidence/notification-ledger.ts';
import type { Register } from '../evidence/register.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { CollectionPlan, CollectInput, EvaluateInput, NotifyInput, ReconcileInput } from '../workflows/contracts.ts';
import { accessReviewActivities } from './access-review.ts';
import { calendarActivities } from './calendar.ts';
import { collectEvidence } from './collect.ts';
import { evaluateControl } from './evaluate.ts';
import { toFailure } from './failures.ts';
import { notify } from './notify.ts';
import { obligationActivities } from './obligations.ts';

export interface ActivityDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  register: Register;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

export function createActivities(deps: ActivityDeps) {
  const ledger = new NotificationLedger(deps.store.catalog);
  return {
    /** The control's sources and retry policy as this worker's config has them; config never enters workflow history. */
    async planControlRun(controlId: string): Promise<CollectionPlan> {
      const control = deps.config.controls.get(controlId);
      if (!control) throw toFailure(new ConfigError(`control ${controlId} is not in ${deps.config.file}`));
      return { controlId, sources: control.sources.map((source) => source.name), collection: control.collection };
    },
    collectEvidence: (input: CollectInput) => collectEvidence(deps, input),
    evaluateControl: (input: EvaluateInput) => evaluateControl(deps, input),
    async reconcileNonconformities(input: ReconcileInput) {
      const control = deps.config.controls.get(input.controlId);
      if (!control) throw toFailure(new ConfigError(`control ${input.controlId} is not in ${deps.config.file}`));
      const gapSources = new Set(input.gaps.map((gap) => gap.sourceName));
      return await deps.register.reconcile({
        checkRunId: input.checkRunId,
        controlId: input.controlId,
        reference: control.references.join(', '),
        owner: control.control.owner,
        at: input.occurrence,
        gaps: input.gaps,
        collectedSources: control.sources.map((source) => source.name).filter((name) => !gapSources.has(name)),
      });
    },
    notify: (input: NotifyInput) => notify({ ...deps, ledger }, input),
    ...accessReviewActivities(deps),
    ...calendarActivities(deps),
    ...obligationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
