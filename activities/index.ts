import { ConfigError } from '../core/errors.ts';
import { riskRegister } from '../connectors/risk-register/index.ts';
import { NotificationLedger } from '../evidence/notification-ledger.ts';
import type { CollectInput, ControlRunPlan, EvaluateInput, NotifyInput, ReconcileInput } from '../core/contracts.ts';
import { accessReviewActivities } from './access-review.ts';
import { calendarActivities } from './calendar.ts';
import { collectEvidence } from './collect.ts';
import type { ActivityDeps } from './deps.ts';
import { evaluateControl } from './evaluate.ts';
import { toFailure } from './failures.ts';
import { notify } from './notify.ts';
import { obligationActivities } from './obligations.ts';

export function createActivities(deps: ActivityDeps) {
  const ledger = new NotificationLedger(deps.store.catalog);
  return {
    /** The control's sources and retry policy as this worker's config has them; config never enters workflow history. */
    async planControlRun(controlId: string): Promise<ControlRunPlan> {
      const control = deps.config.controls.get(controlId);
      if (!control) throw toFailure(new ConfigError(`control ${controlId} is not in ${deps.config.file}`));
      const riskRegisters = control.sources.filter((source) => source.connector.name === riskRegister.name).map((source) => source.name);
      return { controlId, sources: control.sources.map((source) => source.name), collection: control.collection, riskRegisters };
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
