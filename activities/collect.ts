import { Context, type Info } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import { resolveSecret } from '../core/secrets.ts';
import type { ConnectorContext } from '../connectors/contract.ts';
import { describeIssues } from '../core/zod-issues.ts';
import { recordSchemas, type RecordKind } from '../core/records.ts';
import type { Checkpoint, EvidenceStore } from '../evidence/store.ts';
import { CatalogUnavailableError } from '../evidence/catalog.ts';
import type { CollectInput, EvidenceRef } from '../core/contracts.ts';
import { InvalidRecordError, scrubbingLogger, scrubSecrets, toFailure } from './failures.ts';

export interface CollectDeps {
  config: LoadedConfig;
  store: EvidenceStore;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

interface Progress {
  cursor: string | undefined;
  checkpoint: Checkpoint;
}

/**
 * Pulls one source into the evidence store and returns a claim check on it. Records are staged on disk and
 * checkpointed with the connector's cursor in each heartbeat, so a retry after a crash resumes from the
 * last page instead of starting over; a retry after success returns the evidence already committed.
 */
export async function collectEvidence(deps: CollectDeps, input: CollectInput): Promise<EvidenceRef> {
  const activity = Context.current();
  // Every line of the attempt, the connector's included, has the secrets it revealed scrubbed, not only its failure.
  const revealed: string[] = [];
  const log = scrubbingLogger(
    deps.log.child({ controlId: input.controlId, source: input.sourceName, runId: input.runId, attempt: activity.info.attempt }),
    revealed,
  );
  const committed = await deps.store.findCommitted(input.runId, input.sourceName);
  if (committed) {
    // The attempt that committed may have lost the catalog before its journal line or before it removed its staging owner record.
    await deps.store.journalWaiting();
    await deps.store.discardStaging(input.runId, input.sourceName);
    log.info({ evidenceId: committed.id }, 'evidence already committed for this run; not collecting again');
    return deps.store.ref(committed);
  }

  try {
    const control = deps.config.controls.get(input.controlId);
    const source = control?.sources.find((candidate) => candidate.name === input.sourceName);
    if (!control || !source) throw new ConfigError(`control ${input.controlId} has no source ${input.sourceName} in ${deps.config.file}`);
    const { connector } = source;

    const previous = activity.info.heartbeatDetails as Progress | undefined;
    const staged = await deps.store.stage(input.runId, input.sourceName, previous?.checkpoint);
    const resumeCursor = staged.resumed ? previous?.cursor : undefined;
    if (resumeCursor !== undefined) log.info({ cursor: resumeCursor, records: staged.count }, 'resuming collection from the last checkpoint');

    let progress: Progress = { cursor: resumeCursor, checkpoint: staged.lastCheckpoint };
    const provenance: Record<string, unknown> = {};
    const warnings: string[] = [];
    const ctx: ConnectorContext = {
      log,
      signal: activity.cancellationSignal,
      resumeCursor,
      baseDir: deps.config.baseDir,
      now: () => new Date(),
      heartbeat: async (cursor) => {
        progress = { cursor, checkpoint: await staged.checkpoint() };
        activity.heartbeat(progress);
      },
      secret: async (ref) => {
        const secret = await resolveSecret(ref, deps.env);
        revealed.push(secret.reveal());
        return secret;
      },
      provenance: (facts) => Object.assign(provenance, facts),
      warn: (message) => {
        warnings.push(scrubSecrets(message, revealed));
        log.warn(message);
      },
    };

    // A connector between checkpoints is still alive; tell Temporal so, without claiming new progress.
    const liveness = setInterval(() => activity.heartbeat(progress), 5_000);
    const kinds = new Set<string>(connector.kinds);
    let index = staged.count;
    try {
      for await (const record of connector.collect(source.config, ctx)) {
        index++;
        const kind = (record as { kind?: unknown }).kind;
        const schema = typeof kind === 'string' && kinds.has(kind) ? recordSchemas[kind as RecordKind] : undefined;
        if (!schema)
          throw new InvalidRecordError(`${connector.name}: record ${index} has kind ${String(kind)}; this connector yields ${[...kinds].join(', ')}`);
        const parsed = schema.safeParse(record);
        if (!parsed.success) throw new InvalidRecordError(`${connector.name}: record ${index} is not a valid ${kind}: ${describeIssues(parsed.error.issues)}`);
        await staged.append(parsed.data);
      }
    } catch (error) {
      await staged.abandon();
      throw error;
    } finally {
      clearInterval(liveness);
    }

    const row = await deps.store.commit(
      staged,
      {
        runId: input.runId,
        controlId: input.controlId,
        sourceName: input.sourceName,
        connector: connector.name,
        connectorVersion: connector.version,
        kinds: [...connector.kinds],
        collectedAt: new Date().toISOString(),
        provenance: { ...provenance, occurrence: input.occurrence, attempt: activity.info.attempt, resumed: resumeCursor !== undefined },
        warnings,
      },
      (operation) => untilCatalogAnswers(operation, activity, () => progress, log),
    );
    log.info({ evidenceId: row.id, records: row.recordCount, sha256: row.sha256 }, 'evidence committed');
    return deps.store.ref(row);
  } catch (error) {
    // Cancelled (the run was, or the worker is shutting down): it ends as cancelled, not as a failure of the source,
    // and its staging file stays for the retry on another worker to resume from.
    if (activity.cancellationSignal.aborted) {
      log.warn({ reason: String(activity.cancellationSignal.reason) }, 'collection cancelled');
      throw activity.cancellationSignal.reason;
    }
    const failure = toFailure(error, revealed);
    log.error({ errorType: failure.type, err: failure.message }, 'collection failed');
    if (failedForGood(failure, activity.info)) await discardStaging(deps, input, log);
    throw failure;
  }
}

/** Waits between calls to an unreachable catalog: from 1 s, doubling, at most this long. */
const CATALOG_WAIT_MAX_MS = 30_000;

/**
 * A finished snapshot waits for an unreachable catalog, heartbeating its progress, instead of failing: a failed
 * attempt is one of the collection's few retries (5 by default, about 75 s), and a source whose retries are spent is
 * an evidence gap, although its evidence was collected whole. The activity's start-to-close timeout bounds the wait,
 * and cancellation (the run's, or a stopping worker's) ends it.
 */
async function untilCatalogAnswers<T>(operation: () => Promise<T>, activity: Context, progress: () => Progress, log: Logger): Promise<T> {
  for (let waitMs = 1000; ; waitMs = Math.min(waitMs * 2, CATALOG_WAIT_MAX_MS)) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof CatalogUnavailableError)) throw error;
      log.warn({ err: error.message, retryInMs: waitMs }, 'the catalog is unreachable; the collected snapshot waits for it');
      activity.heartbeat(progress());
      await activity.sleep(waitMs);
    }
  }
}

/** No retry follows this failure: the error says so, the retry policy lists its type, or the attempts are spent. */
function failedForGood(failure: ApplicationFailure, info: Info): boolean {
  if (failure.nonRetryable || info.retryPolicy?.nonRetryableErrorTypes?.includes(failure.type ?? '')) return true;
  const maximumAttempts = info.retryPolicy?.maximumAttempts ?? 0;
  return maximumAttempts > 0 && info.attempt >= maximumAttempts;
}

/** A staging file no retry will resume from only takes space: on a full disk, the space the next run needs. */
async function discardStaging(deps: CollectDeps, input: CollectInput, log: Logger): Promise<void> {
  try {
    await deps.store.discardStaging(input.runId, input.sourceName);
    log.info('collection failed for good; its staging file is removed');
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'collection failed for good, and its staging file could not be removed');
  }
}
