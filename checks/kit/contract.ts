import type { z } from 'zod';
import type { EvidenceRecord, RecordKind, RecordOf } from '../../core/records.ts';
import type { Deviation } from '../../core/check-results.ts';
import type { CheckContext, ContextKind, ContextOf } from './context.ts';
import type { StateKind, StateWrites } from './state.ts';
import { DEFAULT_JOIN, type AccountJoin } from './join.ts';

/** The records a check reads, grouped by kind, and a way back from a record to the evidence that holds it. */
export interface CheckEvidence {
  /** The same array on every call for a kind, never changed afterwards: checks memoize what they derive from it by identity. */
  records<K extends RecordKind>(kind: K): readonly RecordOf<K>[];
  evidenceIdOf(record: EvidenceRecord): string;
  /** The catalog facts of a kind the check declared in `context`; throws for a kind the evaluation did not supply. */
  context<K extends ContextKind>(kind: K): readonly ContextOf<K>[];
  /** How the accounts (or learners) of the record's source are joined to people: the source's `join`, or the default join by email. */
  joinOf(record: EvidenceRecord): AccountJoin;
}

/** One source's snapshot as a check reads it: its records and, for accounts, the source's join. */
export interface EvidenceSnapshot {
  readonly evidenceId: string;
  readonly records: readonly EvidenceRecord[];
  readonly join?: AccountJoin;
}

/** A deviation as a check's evaluate returns it: defineCheck stamps the check's id on it. */
export type CheckDeviation = Omit<Deviation, 'checkId'>;

/**
 * How a check reads a stream of records: each record of its inputs once, snapshot by snapshot in the order they were
 * collected, remembering only what it needs. A check that must know something of every record before it can judge
 * one (the newest scan of each asset) asks for another pass, which sees the same records in the same order.
 */
export interface CheckReducer<D = Deviation> {
  /** One record of a kind in the check's `inputs`, and the id of the evidence that holds it. */
  add(record: EvidenceRecord, evidenceId: string): void;
  /** After the last record: the deviations, or the reducer for one more pass over the same records. */
  finish(): D[] | CheckReducer<D>;
}

export interface Check<S extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly title: string;
  /** ISO/IEC 27001:2022 clauses or Annex A controls this check gives evidence for. */
  readonly references: readonly string[];
  /** Record kinds this check reads; if a source of one of these kinds had an evidence gap the check is not run. */
  readonly inputs: readonly RecordKind[];
  /** Catalog facts the check reads besides its evidence (see context.ts); the evaluation supplies them. */
  readonly context?: readonly ContextKind[];
  /** What the check keeps across runs (see state.ts); the evaluation loads it before the check and saves it after. */
  readonly state?: readonly StateKind[];
  readonly params: S;
  /** Judges the evidence with every record of its inputs in memory. */
  evaluate(evidence: CheckEvidence, params: z.output<S>, at: Date): Deviation[];
  /**
   * Present on a check over kinds that grow with the estate (findings, scans): the evaluation streams the snapshots
   * through it instead of holding them. `evaluate` gives the same deviations from records in memory.
   */
  start?(params: z.output<S>, at: Date): CheckReducer;
  /** What this evaluation hands to the state the check keeps (`state`), a pure function of the evidence. */
  keep?(evidence: CheckEvidence, at: Date): StateWrites;
}

type CheckBasics<S extends z.ZodType> = Omit<Check<S>, 'evaluate' | 'start' | 'keep'>;

/** A check as written: its deviations carry no check id (defineCheck stamps it), so none can carry another check's. */
export type CheckDefinition<S extends z.ZodType = z.ZodType> = CheckBasics<S> &
  (
    | { evaluate(evidence: CheckEvidence, params: z.output<S>, at: Date): CheckDeviation[]; start?: never; keep?: Check<S>['keep'] }
    // What a check keeps is derived from its evidence in memory: a streaming check keeps nothing.
    | { start(params: z.output<S>, at: Date): CheckReducer<CheckDeviation>; evaluate?: never; keep?: never }
  );

export function defineCheck<S extends z.ZodType>(definition: CheckDefinition<S>): Check<S> {
  const { id } = definition;
  const stamp = (deviations: readonly CheckDeviation[]): Deviation[] => deviations.map((deviation) => ({ checkId: id, ...deviation }));
  if (definition.start) {
    const start = definition.start.bind(definition);
    const stamped = (reducer: CheckReducer<CheckDeviation>): CheckReducer => ({
      add: (record, evidenceId) => reducer.add(record, evidenceId),
      finish: () => {
        const outcome = reducer.finish();
        return Array.isArray(outcome) ? stamp(outcome) : stamped(outcome);
      },
    });
    return {
      ...definition,
      start: (params, at) => stamped(start(params, at)),
      evaluate: (evidence, params, at) => {
        let reducer = start(params, at);
        for (;;) {
          for (const kind of definition.inputs) for (const record of evidence.records(kind)) reducer.add(record, evidence.evidenceIdOf(record));
          const outcome = reducer.finish();
          if (Array.isArray(outcome)) return stamp(outcome);
          reducer = outcome;
        }
      },
    };
  }
  const evaluate = definition.evaluate.bind(definition);
  return { ...definition, start: undefined, evaluate: (evidence, params, at) => stamp(evaluate(evidence, params, at)) };
}

/**
 * The error of a check's params object for a config that still gives a parameter that was replaced: it says what
 * replaced it, instead of "unrecognized key".
 */
export function replacedParams(replacements: Readonly<Record<string, string>>) {
  return (issue: { code?: string; keys?: readonly string[] }): string | undefined => {
    if (issue.code !== 'unrecognized_keys') return undefined;
    const keys = issue.keys ?? [];
    const replaced = keys.filter((key) => Object.hasOwn(replacements, key));
    if (replaced.length === 0) return undefined;
    const others = keys.filter((key) => !replaced.includes(key));
    return [...replaced.map((key) => `${key}: ${replacements[key]}`), ...(others.length > 0 ? [`unrecognized: ${others.join(', ')}`] : [])].join('; ');
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = Check<any>;

/** Builds CheckEvidence from in-memory records and catalog facts; evaluation and tests both use it. */
export function checkEvidence(snapshots: readonly EvidenceSnapshot[], context: CheckContext = {}): CheckEvidence {
  const byKind = new Map<RecordKind, EvidenceRecord[]>();
  const owner = new WeakMap<EvidenceRecord, EvidenceSnapshot>();
  for (const snapshot of snapshots) {
    // Snapshots hold one kind of record, nearly always: look the list up again only when the kind changes.
    let kind: RecordKind | undefined;
    let list: EvidenceRecord[] = [];
    const { records } = snapshot;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      owner.set(record, snapshot);
      if (record.kind !== kind) {
        kind = record.kind;
        const existing = byKind.get(kind);
        if (existing) list = existing;
        else byKind.set(kind, (list = []));
      }
      list.push(record);
    }
  }
  return {
    records: <K extends RecordKind>(kind: K) => {
      let list = byKind.get(kind);
      if (!list) byKind.set(kind, (list = []));
      return list as RecordOf<K>[];
    },
    evidenceIdOf: (record) => owner.get(record)?.evidenceId ?? 'unknown',
    joinOf: (record) => owner.get(record)?.join ?? DEFAULT_JOIN,
    context: <K extends ContextKind>(kind: K) => {
      const facts = context[kind];
      // Judging without them would pass a check for want of data: fail closed instead.
      if (facts === undefined) throw new Error(`no ${kind} context was supplied to this evaluation`);
      return facts as readonly ContextOf<K>[];
    },
  };
}

export const DAY_MS = 86_400_000;

const ZERO = 48;

/** The number written in `count` decimal digits from `from`, or -1 if any of them is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Days from 1970-01-01 to the first of this month in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysToMonth(year: number, month: number): number {
  const shifted = month <= 2 ? year - 1 : year;
  const era = Math.floor(shifted / 400);
  const yearOfEra = shifted - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5);
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
}

/**
 * Milliseconds since the epoch, exactly as `Date.parse` (or `getTime`) gives them. The access checks read a
 * timestamp of nearly every account, and `Date.parse` costs several times the arithmetic below, so the form every
 * connector writes (`2025-06-01T12:34:56.789Z`, `toISOString`'s, or without the fraction) is read here and anything
 * else is left to `Date.parse`. A day past the month's end rolls over, as it does in `Date.parse`.
 */
export function epochMillis(moment: Date | string): number {
  if (typeof moment !== 'string') return moment.getTime();
  const length = moment.length;
  if (
    (length === 24 || length === 20) &&
    moment[4] === '-' &&
    moment[7] === '-' &&
    moment[10] === 'T' &&
    moment[13] === ':' &&
    moment[16] === ':' &&
    (length === 20 || moment[19] === '.') &&
    moment[length - 1] === 'Z'
  ) {
    const year = digitsAt(moment, 0, 4);
    const month = digitsAt(moment, 5, 2);
    const day = digitsAt(moment, 8, 2);
    const hour = digitsAt(moment, 11, 2);
    const minute = digitsAt(moment, 14, 2);
    const second = digitsAt(moment, 17, 2);
    const millisecond = length === 24 ? digitsAt(moment, 20, 3) : 0;
    if (
      year >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 31 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      millisecond >= 0
    ) {
      return (daysToMonth(year, month) + day - 1) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond;
    }
  }
  return Date.parse(moment);
}

export function daysBetween(from: Date | string, to: Date | string): number {
  return (epochMillis(to) - epochMillis(from)) / DAY_MS;
}
