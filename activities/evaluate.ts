import { asyncLocalStorage, type Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { checkEvidence, type AnyCheck, type CheckEvidence, type CheckReducer, type EvidenceSnapshot } from '../checks/kit/contract.ts';
import type { AccountJoin } from '../checks/kit/join.ts';
import type { StateKind } from '../checks/kit/state.ts';
import { Deviation } from '../core/check-results.ts';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig, ResolvedControl } from '../config/load.ts';
import type { EvidenceRecord, RecordKind } from '../core/records.ts';
import type { CheckResult, CheckRun, Register } from '../evidence/register.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { CheckStatus, EvaluateInput, EvaluationSummary, EvidenceRef } from '../core/contracts.ts';
import { checkContext } from './check-context.ts';
import { stateProviders, type RecordView, type SnapshotStream } from './check-state.ts';
import { toFailure } from './failures.ts';

export interface EvaluateDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  register: Register;
  log: Logger;
}

/** Records read from a blob and handed on together: large enough to amortize a catalog lookup, small beside any snapshot. */
const READ_BATCH = 2000;

/** One configured check of the control whose sources all delivered evidence. */
interface Planned {
  readonly index: number;
  readonly check: AnyCheck;
  readonly params: unknown;
  readonly sources: readonly string[];
}

type Outcome = { deviations: Deviation[] } | { error: unknown };

/**
 * How often a running evaluation tells Temporal it is alive: well within its heartbeat timeout (a minute,
 * workflows/policies.ts), so a worker that dies mid-evaluation has it retried after about a minute. By the clock, not
 * by the batch: the worker sends every heartbeat at once (worker.ts) and a batch takes milliseconds, while the steps
 * that read no batch (a fold of thousands of findings into the ledger, the check run written with every deviation in
 * one transaction) may run for longer than any batch.
 */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * The evaluation's side of its activity: heartbeats with the records read so far, and the activity's cancellation,
 * honoured between batches. Outside an activity (a benchmark, a test calling evaluateControl) nothing heartbeats and
 * nothing cancels.
 */
class Liveness {
  private readonly activity: Context | undefined;
  private recordsRead = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(activity: Context | undefined) {
    this.activity = activity;
  }

  start(): void {
    if (!this.activity) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), HEARTBEAT_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * After each batch read: a cancelled evaluation (its run cancelled, or its worker stopping past its grace time)
   * gives up here with the SDK's cancellation error, before anything of its check run is written.
   */
  read(records: number): void {
    this.recordsRead += records;
    if (this.cancelled) throw this.cancellation;
  }

  get cancelled(): boolean {
    return this.activity?.cancellationSignal.aborted ?? false;
  }

  /** The SDK's cancellation error (CancelledFailure): Temporal tells a cancelled attempt from a failed one by it. */
  get cancellation(): unknown {
    return this.activity?.cancellationSignal.reason;
  }

  private beat(): void {
    this.activity!.heartbeat({ recordsRead: this.recordsRead });
  }
}

/**
 * Runs the control's checks over the referenced snapshots and stores the check run with its deviations.
 * A check whose sources had an evidence gap is not run: its status is `error`, never `pass`.
 * Returns only a summary; the deviations stay in the catalog for reconciliation.
 *
 * Memory is bounded by what the checks remember, not by the evidence: a check that streams (`start`) reads each
 * snapshot in batches, once per pass it asks for; the others get the records of the kinds they declare, in memory.
 * What a check keeps across runs (`state`) is loaded and saved by the provider of that kind (check-state.ts).
 */
export async function evaluateControl(deps: EvaluateDeps, input: EvaluateInput): Promise<EvaluationSummary> {
  const liveness = new Liveness(asyncLocalStorage.getStore());
  liveness.start();
  try {
    const existing = await deps.register.checkRunOf(input.runId);
    if (existing) return summaryOf(existing);

    const control = deps.config.controls.get(input.controlId);
    if (!control) throw new ConfigError(`control ${input.controlId} is not in ${deps.config.file}`);
    const at = new Date(input.occurrence);
    const refs = new Map(input.refs.map((ref) => [ref.sourceName, ref]));
    const gapSources = new Set(input.gaps.map((gap) => gap.sourceName));

    const results: CheckResult[] = [];
    const planned: Planned[] = [];
    control.checks.forEach(({ check, params, sources }, index) => {
      const missing = sources.filter((name) => gapSources.has(name) || !refs.has(name));
      if (missing.length > 0)
        results[index] = { checkId: check.id, status: 'error', deviations: 0, message: `not evaluated: no evidence from ${missing.join(', ')}` };
      else planned.push({ index, check, params, sources });
    });

    const reader = new SnapshotReader(deps.store, refs, liveness);
    await loadState(deps, control.control.id, planned, reader);
    const outcomes = new Map<Planned, Outcome>();
    await runStreamed(
      planned.filter(({ check }) => check.start),
      reader,
      at,
      outcomes,
    );
    await runInMemory(
      deps,
      control,
      planned.filter(({ check }) => !check.start),
      reader,
      at,
      outcomes,
    );

    // Everything is read and judged: writing the check run is one transaction, cheaper to finish than to redo when a
    // cancellation arrives now.
    const deviations: Deviation[] = [];
    for (const entry of planned) {
      const outcome = outcomes.get(entry)!;
      if ('error' in outcome) {
        deps.log.error({ controlId: input.controlId, checkId: entry.check.id, err: outcome.error }, 'check failed to evaluate');
        results[entry.index] = { checkId: entry.check.id, status: 'error', deviations: 0, message: `check failed: ${(outcome.error as Error).message}` };
        continue;
      }
      deviations.push(...outcome.deviations);
      results[entry.index] = { checkId: entry.check.id, status: outcome.deviations.length > 0 ? 'fail' : 'pass', deviations: outcome.deviations.length };
    }

    const run = await deps.register.saveCheckRun(
      { runId: input.runId, controlId: input.controlId, evaluatedAt: new Date().toISOString(), status: overallStatus(results, input.gaps.length > 0), results },
      deviations,
    );
    return summaryOf(run);
  } catch (error) {
    // Cancelled: it ends as cancelled, for Temporal to hand back to another worker, not as a failure of the evaluation.
    if (liveness.cancelled) {
      deps.log.warn({ controlId: input.controlId, runId: input.runId }, 'evaluation cancelled; nothing of its check run was written');
      throw liveness.cancellation;
    }
    throw toFailure(error);
  } finally {
    liveness.stop();
  }
}

/** The run's snapshots, read from the store in batches, each batch shown through the views of the state loaded over its source. */
class SnapshotReader {
  private readonly views = new Map<string, RecordView[]>();
  private readonly store: EvidenceStore;
  private readonly refs: ReadonlyMap<string, EvidenceRef>;
  private readonly liveness: Liveness;

  constructor(store: EvidenceStore, refs: ReadonlyMap<string, EvidenceRef>, liveness: Liveness) {
    this.store = store;
    this.refs = refs;
    this.liveness = liveness;
  }

  evidenceIdOf(sourceName: string): string {
    return this.refs.get(sourceName)!.id;
  }

  addView(sourceName: string, view: RecordView): void {
    this.views.set(sourceName, [...(this.views.get(sourceName) ?? []), view]);
  }

  /** The snapshot as the store holds it, before any state is applied. */
  raw(sourceName: string): SnapshotStream {
    const liveness = this.liveness;
    const batches = () => this.store.recordBatches(this.evidenceIdOf(sourceName), READ_BATCH);
    return {
      sourceName,
      async *read() {
        for await (const batch of batches()) {
          liveness.read(batch.length);
          yield batch;
        }
      },
    };
  }

  async *read(sourceName: string): AsyncGenerator<readonly EvidenceRecord[]> {
    const views = this.views.get(sourceName) ?? [];
    for await (let batch of this.raw(sourceName).read()) {
      for (const view of views) batch = await view(batch);
      yield batch;
    }
  }
}

/** Loads every kind of state the checks to run declare, over the sources of the checks that declare it. */
async function loadState(deps: EvaluateDeps, controlId: string, planned: readonly Planned[], reader: SnapshotReader): Promise<void> {
  const sourcesByKind = new Map<StateKind, Set<string>>();
  for (const { check, sources } of planned) {
    for (const kind of check.state ?? []) {
      const known = sourcesByKind.get(kind) ?? new Set<string>();
      for (const source of sources) known.add(source);
      sourcesByKind.set(kind, known);
    }
  }
  for (const [kind, sources] of sourcesByKind) {
    const load = stateProviders[kind].load;
    if (!load) continue;
    const view = await load(
      deps.store.catalog,
      { controlId },
      [...sources].map((source) => reader.raw(source)),
    );
    for (const source of sources) reader.addView(source, view);
  }
}

/** Streams each snapshot once per pass through every streaming check that reads it. */
async function runStreamed(planned: readonly Planned[], reader: SnapshotReader, at: Date, outcomes: Map<Planned, Outcome>): Promise<void> {
  interface Running {
    entry: Planned;
    inputs: ReadonlySet<RecordKind>;
    reducer: CheckReducer;
    failure?: unknown;
  }
  let running: Running[] = [];
  for (const entry of planned) {
    try {
      running.push({ entry, inputs: new Set(entry.check.inputs), reducer: entry.check.start!(entry.params, at) });
    } catch (error) {
      outcomes.set(entry, { error });
    }
  }
  while (running.length > 0) {
    for (const source of [...new Set(running.flatMap(({ entry }) => entry.sources))]) {
      const readers = running.filter(({ entry }) => entry.sources.includes(source));
      const evidenceId = reader.evidenceIdOf(source);
      for await (const batch of reader.read(source)) {
        for (const record of batch) {
          for (const check of readers) {
            if (check.failure !== undefined || !check.inputs.has(record.kind)) continue;
            try {
              check.reducer.add(record, evidenceId);
            } catch (error) {
              check.failure = error;
            }
          }
        }
      }
    }
    const again: Running[] = [];
    for (const check of running) {
      if (check.failure !== undefined) {
        outcomes.set(check.entry, { error: check.failure });
        continue;
      }
      try {
        const outcome = check.reducer.finish();
        if (Array.isArray(outcome)) outcomes.set(check.entry, { deviations: outcome.map((deviation) => Deviation.parse(deviation)) });
        else again.push({ ...check, reducer: outcome });
      } catch (error) {
        outcomes.set(check.entry, { error });
      }
    }
    running = again;
  }
}

/** Reads, for the checks that judge their evidence in memory, the records of the kinds they declare, and runs them. */
async function runInMemory(
  deps: EvaluateDeps,
  control: ResolvedControl,
  planned: readonly Planned[],
  reader: SnapshotReader,
  at: Date,
  outcomes: Map<Planned, Outcome>,
): Promise<void> {
  if (planned.length === 0) return;
  const kindsBySource = new Map<string, Set<RecordKind>>();
  for (const { check, sources } of planned) {
    for (const source of sources) {
      const kinds = kindsBySource.get(source) ?? new Set<RecordKind>();
      for (const kind of check.inputs) kinds.add(kind);
      kindsBySource.set(source, kinds);
    }
  }
  const snapshots = new Map<string, EvidenceSnapshot>();
  for (const [source, kinds] of kindsBySource) {
    const records: EvidenceRecord[] = [];
    for await (const batch of reader.read(source)) for (const record of batch) if (kinds.has(record.kind)) records.push(record);
    const join: AccountJoin | undefined = control.sources.find((candidate) => candidate.name === source)?.join;
    snapshots.set(source, { evidenceId: reader.evidenceIdOf(source), records, join });
  }
  const context = await checkContext(deps, control);

  // Checks over the same sources share one CheckEvidence, and with it the indexes checks memoize on its arrays.
  const shared = new Map<string, CheckEvidence>();
  const evidenceFor = (sources: readonly string[]): CheckEvidence => {
    const key = [...sources].sort().join('\n');
    let evidence = shared.get(key);
    if (!evidence) {
      evidence = checkEvidence(
        sources.map((name) => snapshots.get(name)!),
        context,
      );
      shared.set(key, evidence);
    }
    return evidence;
  };
  for (const entry of planned) {
    const { check, params, sources } = entry;
    const evidence = evidenceFor(sources);
    let kept;
    try {
      const readable = declaredOnly(evidence, check);
      outcomes.set(entry, { deviations: check.evaluate(readable, params, at).map((deviation) => Deviation.parse(deviation)) });
      kept = check.keep?.(readable, at);
    } catch (error) {
      outcomes.set(entry, { error });
      continue;
    }
    // Storing what a check keeps is I/O: a failure fails the evaluation, to be retried, rather than the check.
    if (kept) for (const kind of check.state ?? []) await stateProviders[kind].save?.(deps.store.catalog, kept, evidence, at);
  }
}

/**
 * The evidence as one check may read it: only the kinds it declares were read from the store for it, so a kind it
 * did not declare would look empty and pass the check for want of data. It fails the check instead.
 */
function declaredOnly(evidence: CheckEvidence, check: AnyCheck): CheckEvidence {
  return {
    ...evidence,
    records: <K extends RecordKind>(kind: K) => {
      if (!check.inputs.includes(kind)) throw new Error(`${check.id} reads ${kind} records but declares only ${check.inputs.join(', ')} in its inputs`);
      return evidence.records(kind);
    },
  };
}

function overallStatus(results: readonly CheckResult[], hasGaps: boolean): CheckStatus {
  if (hasGaps || results.some((result) => result.status === 'error')) return 'error';
  return results.some((result) => result.status === 'fail') ? 'fail' : 'pass';
}

/** A run's summary is the stored run's, so a retry or a re-executed occurrence reports exactly what was first decided. */
function summaryOf(run: CheckRun): EvaluationSummary {
  return { checkRunId: run.id, status: run.status, checks: run.results };
}
