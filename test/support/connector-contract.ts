import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/failures.ts';
import type { AnyConnector, ConnectorContext } from '../../connectors/contract.ts';
import { AuthError, MalformedResponseError, NotFoundError, PermissionError } from '../../connectors/errors.ts';
import { testContext } from './connector-context.ts';
import type { FaultKind, FaultSwitch } from './faults.ts';

/**
 * The contract every connector keeps, run against its fake server with a few lines (see connectors/README.md):
 * paging and resuming from each cursor it reports, throttling with Retry-After in seconds and as an HTTP-date,
 * a 5xx then success, a permanent 4xx that fails at once, malformed and truncated bodies, refused credentials,
 * missing permission, not found, abort in the middle of a page, and no secret in records, provenance, warnings,
 * logs or errors (nor the raw HTTP exchange in an error).
 */

type AnyRecord = { kind: string } & Record<string, unknown>;

/** A fake API server with the uniform fault switches, as the contract drives it. */
export interface ContractServer {
  readonly faults: FaultSwitch;
  /** Requests served for `operation` since the last reset. */
  requests(operation: string): number;
  /** Forgets faults and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface ContractSubject {
  server: ContractServer;
  /** A config that reads every record the fake holds, in pages small enough for several cursors, with short backoffs. */
  config: Record<string, unknown>;
  /** What ctx.secret resolves references from. */
  env: Record<string, string>;
  /** Values that must never leave the connector: every secret in `env`, and tokens or sessions the fake issued. */
  secrets(): string[];
  now?: () => Date;
}

export interface ContractOptions {
  connector: AnyConnector;
  start(): Promise<ContractSubject>;
  /** The call the faults disturb, as the fake names it, and its request they start at (2: records were yielded before). */
  operation: string;
  at?: number;
  /** How an error names the call the fault hit (`/ListBackupJobs page 2/`); every message also starts with the connector's name. */
  names: RegExp;
  /** What tells two records apart, to prove none is lost or doubled. */
  key(record: AnyRecord): string;
  /** Cases that cannot happen at this source, each with the reason. */
  notApplicable?: Partial<Record<FaultKind, string>>;
}

/** The Temporal failure an activity would make of `error`: the one place retryability is decided. */
function retryable(error: unknown): boolean {
  return !toFailure(error).nonRetryable;
}

/** What a run of the connector left behind. */
interface Run {
  records: AnyRecord[];
  error: unknown;
  heartbeats: { cursor: string | undefined; records: number }[];
  provenance: Record<string, unknown>;
  warnings: string[];
  logLines: string[];
  ms: number;
}

export function connectorContract(options: ContractOptions): void {
  const { connector, operation, names } = options;
  const at = options.at ?? 2;
  const applies = (kind: FaultKind) => options.notApplicable?.[kind] === undefined;
  let subject: ContractSubject;
  let config: unknown;
  let baseline: Run;
  /** Every error and every run seen, for the leak checks at the end. */
  const seen: { errors: unknown[]; runs: Run[] } = { errors: [], runs: [] };

  async function run(
    overrides: Partial<Pick<ConnectorContext, 'resumeCursor' | 'signal'>> & { onHeartbeat?: (cursor: string | undefined, records: number) => void } = {},
  ): Promise<Run> {
    const { onHeartbeat, ...context } = overrides;
    const test = testContext({ env: subject.env, ...(subject.now === undefined ? {} : { now: subject.now }), ...context });
    const out: Run = { records: [], error: undefined, heartbeats: [], provenance: test.provenance, warnings: test.warnings, logLines: test.logLines, ms: 0 };
    const ctx: ConnectorContext = {
      ...test.ctx,
      heartbeat: async (cursor) => {
        out.heartbeats.push({ cursor, records: out.records.length });
        onHeartbeat?.(cursor, out.records.length);
      },
    };
    const started = performance.now();
    try {
      for await (const record of connector.collect(config, ctx)) out.records.push(record as AnyRecord);
    } catch (error) {
      out.error = error;
      seen.errors.push(error);
    }
    out.ms = performance.now() - started;
    seen.runs.push(out);
    return out;
  }

  /**
   * Collects as collectEvidence does across attempts: records reported complete by a heartbeat are kept, the rest of
   * a failed attempt is dropped, and a retryable failure is retried from the last cursor.
   */
  async function collectLikeActivity(maxAttempts = 3): Promise<AnyRecord[]> {
    const kept: AnyRecord[] = [];
    let cursor: string | undefined;
    for (let attempt = 1; ; attempt++) {
      let durable = 0;
      const attemptRun = await run({
        ...(cursor === undefined ? {} : { resumeCursor: cursor }),
        onHeartbeat: (next, records) => {
          durable = records;
          cursor = next;
        },
      });
      if (attemptRun.error === undefined) return [...kept, ...attemptRun.records];
      if (!retryable(attemptRun.error) || attempt >= maxAttempts) throw attemptRun.error;
      kept.push(...attemptRun.records.slice(0, durable));
    }
  }

  const keys = (records: AnyRecord[]) => records.map(options.key).sort();

  /** A failure the contract expects: typed, permanent unless said, naming the connector and the call, no raw exchange. */
  function expectFailure(error: unknown, type: abstract new (...args: never[]) => Error, permanent = true): void {
    expect(error).toBeInstanceOf(type);
    const message = (error as Error).message;
    expect(message.startsWith(`${connector.name}: `), message).toBe(true);
    expect(message).toMatch(names);
    expect(retryable(error), message).toBe(!permanent);
    expectNoRawExchange(error);
  }

  describe(`connector contract: ${connector.name}`, () => {
    beforeAll(async () => {
      subject = await options.start();
      config = connector.config.parse(subject.config);
    });
    afterAll(async () => {
      await subject?.server.close();
    });
    beforeEach(() => subject.server.reset());

    it('reads every record once, reporting at least two cursors on the way', async () => {
      baseline = await run();
      expect(baseline.error).toBeUndefined();
      expect(baseline.records.length).toBeGreaterThan(0);
      expect(new Set(baseline.records.map(options.key)).size).toBe(baseline.records.length);
      expect(baseline.heartbeats.filter((beat) => beat.cursor !== undefined).length).toBeGreaterThanOrEqual(2);
      expect(baseline.provenance).toMatchObject({ retries: 0, throttledWaitMs: 0 });
    });

    it('resumes from each cursor it reports without losing or doubling a record', async () => {
      const cursors = baseline.heartbeats.filter((beat) => beat.cursor !== undefined);
      for (const [index, beat] of cursors.entries()) {
        const controller = new AbortController();
        const stop = new Error(`contract: stopped after cursor ${index + 1}`);
        let durable = -1;
        const cut = await run({
          signal: controller.signal,
          onHeartbeat: (cursor, records) => {
            if (cursor !== beat.cursor || durable >= 0) return;
            durable = records;
            controller.abort(stop);
          },
        });
        expect(durable, `cursor ${index + 1} was reported again`).toBeGreaterThanOrEqual(0);
        // Stopped at the cursor, unless it was the last thing the pull did.
        if (cut.error !== undefined) expect(cut.error === stop || (cut.error as Error).name === 'AbortError', String(cut.error)).toBe(true);
        const resumed = await run({ resumeCursor: beat.cursor });
        expect(resumed.error).toBeUndefined();
        expect(keys([...cut.records.slice(0, durable), ...resumed.records]), `resumed from cursor ${index + 1}`).toEqual(keys(baseline.records));
      }
    });

    if (applies('throttle')) {
      it.each([
        ['in seconds', () => '1'],
        ['as an HTTP-date', () => new Date(Date.now() + 2_000).toUTCString()],
      ])('waits out Retry-After %s, then reads every record, and keeps the retry in provenance', async (_form, retryAfter) => {
        subject.server.faults.inject({ kind: 'throttle', operation, at, retryAfter: retryAfter() });
        const throttled = await run();
        expect(throttled.error).toBeUndefined();
        expect(keys(throttled.records)).toEqual(keys(baseline.records));
        expect(throttled.provenance['retries']).toBeGreaterThanOrEqual(1);
        // An HTTP-date has whole seconds, so "in 2 s" may be a little over 1 s away by the time it is answered.
        expect(throttled.provenance['throttledWaitMs']).toBeGreaterThanOrEqual(500);
        expect(throttled.ms).toBeGreaterThanOrEqual(500);
      });
    }

    if (applies('unavailable')) {
      it('collects every record once after a 5xx', async () => {
        subject.server.faults.inject({ kind: 'unavailable', operation, at });
        expect(keys(await collectLikeActivity())).toEqual(keys(baseline.records));
      });
    }

    if (applies('reject'))
      it('fails at once, as non-retryable, on a permanent 4xx, naming the source and the call', async () => {
        subject.server.faults.inject({ kind: 'reject', operation, at, times: Infinity });
        const refused = await run();
        expect(refused.error).toBeDefined();
        expect(retryable(refused.error), String(refused.error)).toBe(false);
        expectFailure(refused.error, Error);
        expect(subject.server.requests(operation)).toBe(at);
      });

    if (applies('malformed'))
      it('refuses a body of the wrong shape as malformed, naming the field', async () => {
        subject.server.faults.inject({ kind: 'malformed', operation, at });
        const malformed = await run();
        expectFailure(malformed.error, MalformedResponseError);
        expect((malformed.error as Error).message).toMatch(/field /);
      });

    if (applies('truncated')) {
      it('reads a body cut short again, and collects every record once', async () => {
        subject.server.faults.inject({ kind: 'truncated', operation, at });
        expect(keys(await collectLikeActivity())).toEqual(keys(baseline.records));
      });

      it('fails as retryable, not malformed, when every answer is cut short', async () => {
        subject.server.faults.inject({ kind: 'truncated', operation, at, times: Infinity });
        const cut = await run();
        expectFailure(cut.error, Error, false);
        expect(cut.error).not.toBeInstanceOf(MalformedResponseError);
      });
    }

    for (const [kind, type] of [
      ['auth', AuthError],
      ['permission', PermissionError],
      ['not-found', NotFoundError],
    ] as const) {
      if (!applies(kind)) continue;
      it(`fails at once on ${kind}, typed and non-retryable`, async () => {
        subject.server.faults.inject({ kind, operation, at, times: Infinity });
        const refused = await run();
        expectFailure(refused.error, type);
        expect(subject.server.requests(operation)).toBe(at);
      });
    }

    if (applies('stall'))
      it('stops in the middle of a page when aborted, with the reason it was given', async () => {
        subject.server.faults.inject({ kind: 'stall', operation, at });
        const controller = new AbortController();
        const reason = new Error('contract: activity cancelled');
        const watch = setInterval(() => {
          if (subject.server.faults.fired > 0) setTimeout(() => controller.abort(reason), 100);
          if (subject.server.faults.fired > 0) clearInterval(watch);
        }, 20);
        const stalled = await run({ signal: controller.signal });
        clearInterval(watch);
        expect(stalled.error === reason || (stalled.error as Error).name === 'AbortError', String(stalled.error)).toBe(true);
        expect(stalled.ms).toBeLessThan(10_000);
        const requests = subject.server.requests(operation);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(subject.server.requests(operation)).toBe(requests);
      });

    it('lets no secret reach records, provenance, warnings, logs or errors', async () => {
      subject.server.faults.inject({ kind: 'throttle', operation, at, retryAfter: '0' });
      subject.server.faults.inject({ kind: 'unavailable', operation, at: at + 1 });
      await run();
      const secrets = subject.secrets().filter((secret) => secret.length >= 4);
      expect(secrets.length).toBeGreaterThan(0);
      const texts = [
        ...seen.runs.map((each) => JSON.stringify({ records: each.records, provenance: each.provenance, warnings: each.warnings, logLines: each.logLines })),
        ...seen.errors.map((error) => `${inspect(error, { showHidden: true, depth: 6 })} ${JSON.stringify(error)} ${toFailure(error).message}`),
      ];
      for (const secret of secrets) {
        for (const text of texts) expect(text.includes(secret), `a secret reached: ${text.slice(0, 300)}`).toBe(false);
      }
    });
  });
}

/**
 * An error may carry a short description and its kind; its cause, if any, is a plain summary (AWS's code, status,
 * request id) or an error of ours, never an SDK or HTTP client object holding the request (signed headers) or the
 * response (the raw body).
 */
export function expectNoRawExchange(error: unknown): void {
  const forbidden = ['$response', 'response', 'request', 'config', 'headers', '$metadata'];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (typeof current !== 'object') return;
    for (const name of forbidden) expect(Object.getOwnPropertyNames(current), `an error in the chain keeps ${name}`).not.toContain(name);
    current = (current as { cause?: unknown }).cause;
  }
}

/** What a file connector reads in one case of the contract: file names (relative to the config's folder) and contents. */
export type ContractFiles = Record<string, string | Buffer>;

export interface FileContractOptions {
  connector: AnyConnector;
  /** Files with several cursors' worth of records; a malformed one (a value of the wrong kind); one cut short. */
  files: { valid(): ContractFiles; malformed(): ContractFiles; truncated(): ContractFiles };
  /** The config reading the files of a case, paths relative to the config's folder. */
  config(names: string[]): Record<string, unknown>;
  /** How an error names the file (and line or field) that was wrong. */
  names: RegExp;
  key(record: AnyRecord): string;
  /**
   * The connector reads its file whole and reports no cursor (a register of a few hundred rows): a retry reads it
   * again from the start, and the staged records of the failed attempt are dropped, so nothing is doubled.
   */
  readsWhole?: boolean;
}

/**
 * The part of the contract that applies to a connector reading files: every record once, resuming from each
 * cursor, and a malformed or truncated file refused as malformed (permanent: reading it again gives the same
 * bytes), naming the file. Files hold no credentials, so there is no secret to keep out.
 */
export function fileConnectorContract(options: FileContractOptions): void {
  const { connector } = options;
  let root: string;
  let cases = 0;

  /** A folder of its own for each case; the runs of one case read the same files, with the same times. */
  async function write(files: ContractFiles): Promise<{ dir: string; names: string[] }> {
    const dir = join(root, `case-${++cases}`);
    await mkdir(dir);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return { dir, names: Object.keys(files) };
  }

  async function run(
    { dir, names }: { dir: string; names: string[] },
    overrides: Partial<Pick<ConnectorContext, 'resumeCursor' | 'signal'>> & { onHeartbeat?: (cursor: string | undefined, records: number) => void } = {},
  ) {
    const { onHeartbeat, ...context } = overrides;
    const test = testContext({ baseDir: dir, ...context });
    const records: AnyRecord[] = [];
    const heartbeats: { cursor: string | undefined; records: number }[] = [];
    const ctx: ConnectorContext = {
      ...test.ctx,
      heartbeat: async (cursor) => {
        heartbeats.push({ cursor, records: records.length });
        onHeartbeat?.(cursor, records.length);
      },
    };
    let error: unknown;
    try {
      for await (const record of connector.collect(connector.config.parse(options.config(names)), ctx)) records.push(record as AnyRecord);
    } catch (caught) {
      error = caught;
    }
    return { records, heartbeats, error };
  }

  const keys = (records: AnyRecord[]) => records.map(options.key).sort();

  describe(`connector contract (files): ${connector.name}`, () => {
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), `contract-${connector.name}-`));
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('reads every record once and resumes from each cursor it reports without losing or doubling one', async () => {
      const files = await write(options.files.valid());
      const baseline = await run(files);
      expect(baseline.error).toBeUndefined();
      expect(new Set(baseline.records.map(options.key)).size).toBe(baseline.records.length);
      const cursors = baseline.heartbeats.filter((beat) => beat.cursor !== undefined);
      if (options.readsWhole) {
        // No cursor means a retry starts over: it must find the same records, each once.
        expect(cursors).toEqual([]);
        expect(baseline.records.length).toBeGreaterThan(1);
        expect(keys((await run(files)).records)).toEqual(keys(baseline.records));
        return;
      }
      expect(cursors.length).toBeGreaterThanOrEqual(2);
      for (const beat of cursors) {
        const controller = new AbortController();
        let durable = -1;
        const cut = await run(files, {
          signal: controller.signal,
          onHeartbeat: (cursor, records) => {
            if (cursor !== beat.cursor || durable >= 0) return;
            durable = records;
            controller.abort(new Error('contract: stopped at a cursor'));
          },
        });
        const resumed = await run(files, { resumeCursor: beat.cursor });
        expect(resumed.error).toBeUndefined();
        expect(keys([...cut.records.slice(0, durable), ...resumed.records])).toEqual(keys(baseline.records));
      }
    });

    it.each([['malformed'], ['truncated']] as const)('refuses a %s file as malformed and permanent, naming it', async (kind) => {
      const { error } = await run(await write(options.files[kind]()));
      expect(error).toBeInstanceOf(MalformedResponseError);
      const message = (error as Error).message;
      expect(message.startsWith(`${connector.name}: `), message).toBe(true);
      expect(message).toMatch(options.names);
      expect(retryable(error)).toBe(false);
      expectNoRawExchange(error);
    });
  });
}
