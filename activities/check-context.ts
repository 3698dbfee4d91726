import type { CheckContext, ContextKind, ControlStatus, IsmsChange } from '../checks/kit/context.ts';
import type { LoadedConfig, ResolvedControl } from '../config/load.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import type { Catalog } from '../evidence/catalog.ts';

/**
 * Looks up, once per evaluation, the catalog facts the control's checks declare in `context`, so that the checks
 * themselves stay pure. Each kind has one source here, whatever check asks for it.
 */
export async function checkContext(deps: { config: LoadedConfig; store: { catalog: Catalog } }, control: ResolvedControl): Promise<CheckContext> {
  const kinds = new Set<ContextKind>(control.checks.flatMap(({ check }) => check.context ?? []));
  return {
    ...(kinds.has('control-status') ? { 'control-status': await controlStatuses(deps.config, deps.store.catalog, control.control.id) } : {}),
    ...(kinds.has('isms-change') ? { 'isms-change': await ismsChanges(deps.store.catalog) } : {}),
  };
}

/**
 * Every other configured control with its references and its latest run as `v_control_status` has it (access
 * review runs are not the control's status). The control being evaluated is left out: its status is what this
 * evaluation decides.
 */
async function controlStatuses(config: LoadedConfig, catalog: Catalog, evaluating: string): Promise<ControlStatus[]> {
  const latest = new Map<string, { status: ControlStatus['status']; evaluated_at: string; run_id: string }>();
  for (const row of await catalog.all<{ control_id: string; status: ControlStatus['status']; evaluated_at: string; run_id: string }>(
    'SELECT control_id, status, evaluated_at, run_id FROM v_control_status ORDER BY control_id, run_id',
  )) {
    if (!latest.has(row.control_id)) latest.set(row.control_id, row);
  }
  return [...config.controls.values()]
    .filter((resolved) => resolved.control.id !== evaluating)
    .map((resolved) => {
      const run = latest.get(resolved.control.id);
      return {
        controlId: resolved.control.id,
        references: resolved.references,
        status: run?.status ?? null,
        evaluatedAt: run?.evaluated_at ?? null,
        runId: run?.run_id ?? null,
      };
    });
}

/** Recorded changes to the ISMS, each with the due time of the review it started when that occurrence is recorded. */
async function ismsChanges(catalog: Catalog): Promise<IsmsChange[]> {
  const calendar = new CalendarStore(catalog);
  const changes: IsmsChange[] = [];
  for (const change of await calendar.changes()) {
    const review = await calendar.get(change.occurrenceId);
    changes.push({
      id: change.id,
      title: change.title,
      affects: change.affects,
      risks: change.risks,
      recordedAt: change.recordedAt,
      reviewDue: review?.due ?? null,
    });
  }
  return changes;
}
