import type { ConnectorContext } from '../contract.ts';

/** What one retry was about, for the log line that tells of it. */
export interface Retry {
  /** The call and page, as error messages name them. */
  readonly where: string;
  /** Why the attempt before failed: `HTTP 429`, `ThrottlingException (HTTP 400)`, `the response ended early`. */
  readonly reason: string;
  /** Whether the source asked to slow down (429, a throttling code); the wait then counts as throttled. */
  readonly throttled: boolean;
  /** How long the retry waited before it went out. */
  readonly waitedMs: number;
}

/** The facts about retries kept in an evidence's provenance, the same for every connector. */
export interface RetryFacts {
  /** Requests sent again after a throttled or transient answer, by us or inside an SDK. */
  retries: number;
  /** Time spent waiting because the source asked to slow down (Retry-After, throttling codes). */
  throttledWaitMs: number;
}

/**
 * Counts the retries of one collection, wherever they are made (our own loop, the AWS SDK's retry strategy, the
 * Graph client's RetryHandler), logs each one and keeps the totals in the evidence's provenance, so throttling that
 * slowed a pull is visible to whoever reads the evidence. Provenance is written at once, with zeros too: no retry is
 * a fact as well.
 */
export class RetryTally {
  readonly #ctx: Pick<ConnectorContext, 'log' | 'provenance'>;
  #facts: RetryFacts = { retries: 0, throttledWaitMs: 0 };

  constructor(ctx: Pick<ConnectorContext, 'log' | 'provenance'>) {
    this.#ctx = ctx;
    ctx.provenance({ ...this.#facts });
  }

  get facts(): RetryFacts {
    return { ...this.#facts };
  }

  retried(retry: Retry): void {
    const waitedMs = Math.max(0, Math.round(retry.waitedMs));
    this.#facts = {
      retries: this.#facts.retries + 1,
      throttledWaitMs: this.#facts.throttledWaitMs + (retry.throttled ? waitedMs : 0),
    };
    this.#ctx.log.warn(
      { where: retry.where, reason: retry.reason, throttled: retry.throttled, waitedMs, retries: this.#facts.retries },
      `${retry.where}: retried after ${retry.reason}`,
    );
    this.#ctx.provenance({ ...this.#facts });
  }
}
