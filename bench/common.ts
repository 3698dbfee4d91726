import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../test/support/random.ts';
import { summarizeProfile, type ProfileFrame } from './profile.ts';

/**
 * What every benchmark shares: a seeded PRNG (workloads are the same bytes on every run and machine), argument
 * parsing, the result protocol between processes, timing, and peak RSS as the measuring process saw it.
 */

/** Every workload derives from this seed; change it and every figure's workload changes with it. */
export const SEED = 0x1505_2701;

/** A fixed "now" for generated data, so ages (days inactive, key age) are the same on every run. */
export const AT = new Date('2026-01-15T00:00:00.000Z');

const DAY_MS = 86_400_000;

export class Random {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  float(): number {
    return this.#next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.#next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += Math.floor(this.#next() * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, length);
  }

  /** A GUID-shaped id, as Entra ID and Trivy report ids look. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** An ISO instant between `minDays` and `maxDays` days before `from`, to the second. */
  daysBefore(minDays: number, maxDays: number, from: Date = AT): string {
    const ms = from.getTime() - (minDays + this.#next() * (maxDays - minDays)) * DAY_MS;
    return new Date(Math.floor(ms / 1000) * 1000).toISOString();
  }
}

export interface BenchArgs {
  scale: number;
  /** Set in a phase process: which part of the benchmark to run. */
  phase: string | undefined;
  profile: boolean;
  /** Every other `--name value` pair. */
  options: Record<string, string>;
}

export function parseArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const options: Record<string, string> = {};
  let profile = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--profile') profile = true;
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      options[name] = inline ?? argv[++i] ?? '';
    }
  }
  const scale = Number(options.scale ?? '1');
  if (!(scale > 0)) throw new Error(`--scale must be a positive number, not ${options.scale}`);
  const { phase } = options;
  delete options.scale;
  delete options.phase;
  return { scale, phase, profile, options };
}

/** A workload size at this scale; never zero, so a tiny scale still runs every path. */
export function scaled(size: number, scale: number): number {
  return Math.max(1, Math.round(size * scale));
}

/** The most resident memory this process has had, in MB: getrusage's maxRSS, and VmHWM where /proc has it. */
export function peakRssMb(): number {
  const fromRusage = process.resourceUsage().maxRSS / 1024;
  let fromProc = 0;
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) fromProc = Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: getrusage alone.
  }
  return round(Math.max(fromRusage, fromProc), 1);
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const MB = 1_000_000;

export interface Measured<T> {
  value: T;
  wallS: number;
  cpuS: number;
}

/** Wall and CPU time (user + system, this process only) of `work`. */
export async function measure<T>(work: () => Promise<T> | T): Promise<Measured<T>> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const wallS = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { value, wallS: round(wallS), cpuS: round((used.user + used.system) / 1e6) };
}

/** Figures go to stderr, so stdout carries only the result line the parent reads. */
export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---------------------------------------------------------------- the result table

/** A limit on one column of a row: `ours`, `ratio` (ours ÷ floor) or `peakRssMb`. */
export interface Target {
  on: 'ours' | 'ratio' | 'peakRssMb';
  op: '<' | '<=' | '>=';
  limit: number;
}

export interface Row {
  benchmark: string;
  workload: string;
  /** Our figure in `unit`; null when our side could not run (the note says why). */
  ours: number | null;
  /** The floor's figure in `unit`, measured in the same run; null when there is no floor for this figure. */
  floor: number | null;
  unit: string;
  /** ours ÷ floor. For times, 1.25 means 25 % slower than the floor; for throughputs, 0.8 means 80 % of it. */
  ratio: number | null;
  peakRssMb: number | null;
  targets: Target[];
  note?: string;
}

export interface BenchResult {
  benchmark: string;
  scale: number;
  rows: Row[];
  /** Further figures a benchmark prints (breakdowns, codec comparison), kept in latest.json. */
  figures: Record<string, unknown>;
}

export function ratioOf(ours: number | null, floor: number | null): number | null {
  return ours === null || floor === null || floor === 0 ? null : round(ours / floor, 3);
}

export function describeTarget(target: Target, unit: string): string {
  const what = target.on === 'ratio' ? 'ratio' : target.on === 'peakRssMb' ? 'RSS' : '';
  const suffix = target.on === 'peakRssMb' ? ' MB' : target.on === 'ours' ? ` ${unit}` : '';
  return `${what ? `${what} ` : ''}${target.op} ${target.limit}${suffix}`;
}

/** Whether the target holds; a row whose own figure is missing (our side could not run) meets nothing. */
export function targetMet(row: Row, target: Target): boolean {
  if (row.ours === null) return false;
  const value = target.on === 'ratio' ? row.ratio : target.on === 'peakRssMb' ? row.peakRssMb : row.ours;
  if (value === null) return false;
  if (target.op === '<') return value < target.limit;
  if (target.op === '<=') return value <= target.limit;
  return value >= target.limit;
}

// ---------------------------------------------------------------- processes

const MARK = '@@bench-result ';

/** Hands this process's result to the parent; the last such line on stdout wins. */
export function emit(value: unknown): void {
  process.stdout.write(`${MARK}${JSON.stringify(value)}\n`);
}

export interface ChildOptions {
  /** Extra Node flags for the child (e.g. --expose-gc). */
  execArgv?: string[];
  /** Writes a CPU profile of the child and prints its top frames. */
  profileAs?: string;
  timeoutMs?: number;
  /** Prefix for the child's own stdout lines, which are passed on to stderr. */
  label?: string;
}

export interface ChildOutcome<T> {
  result: T;
  profile?: ProfileFrame[];
}

/**
 * Runs `file` in its own Node process (type stripping as for the parent) and returns the result it emitted. A
 * child that fails or emits nothing rejects with its exit status and last output lines.
 */
export async function runChild<T>(file: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildOutcome<T>> {
  const profileDir = options.profileAs ? path.join(tmpdir(), 'isms-bench-profiles', `${options.profileAs}-${process.pid}-${Date.now()}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const execArgv = [...(options.execArgv ?? []), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child = spawn(process.execPath, [...execArgv, file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let result: T | undefined;
  let buffered = '';
  const tail: string[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith(MARK)) result = JSON.parse(line.slice(MARK.length)) as T;
      else {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        process.stderr.write(`${options.label ? `${options.label} ` : ''}${line}\n`);
      }
    }
  });
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  if (timer) clearTimeout(timer);
  if (code !== 0 || result === undefined) {
    const why = signal ? `was killed by ${signal}${options.timeoutMs ? ` (time limit ${options.timeoutMs / 1000} s)` : ''}` : `exited with ${code}`;
    throw new Error(
      `${path.basename(file)} ${args.join(' ')} ${why}${result === undefined ? ' without a result' : ''}${tail.length ? `:\n${tail.join('\n')}` : ''}`,
    );
  }
  let profile: ProfileFrame[] | undefined;
  if (profileDir && existsSync(profileDir)) {
    const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
    if (files[0]) {
      profile = summarizeProfile(path.join(profileDir, files[0]), 15);
      say(`  profile of ${options.profileAs} (self time, top frames; ${path.join(profileDir, files[0])}):`);
      for (const frame of profile) say(`    ${frame.selfPercent.toFixed(1).padStart(5)} %  ${frame.name}  ${frame.where}`);
    }
  }
  return profile ? { result, profile } : { result };
}

/**
 * The entry of a benchmark file: runs the phase the parent asked for with `--phase` (each in its own process, see
 * runPhase), or the benchmark itself when there is none.
 */
export async function runBenchmark(
  main: (args: BenchArgs) => Promise<void>,
  phases: Readonly<Record<string, (args: BenchArgs) => Promise<void>>>,
): Promise<void> {
  const args = parseArgs();
  if (args.phase === undefined) return main(args);
  const phase = phases[args.phase];
  if (!phase) throw new Error(`unknown --phase ${args.phase}: one of ${Object.keys(phases).join(', ')}`);
  return phase(args);
}

/** Runs one phase of the benchmark in `moduleUrl` in a fresh process, so its time and peak RSS are its own. */
export function runPhase<T>(moduleUrl: string, phase: string, args: BenchArgs, extra: Record<string, string | number> = {}, options: ChildOptions = {}) {
  const argv = ['--phase', phase, '--scale', String(args.scale)];
  for (const [name, value] of Object.entries(extra)) argv.push(`--${name}`, String(value));
  const { profileAs, ...rest } = options;
  return runChild<T>(fileURLToPath(moduleUrl), argv, { ...rest, ...(args.profile ? { profileAs: profileAs ?? phase } : {}) });
}

/** A scratch folder for one benchmark, removed by the returned function. */
export function scratchDir(name: string): { dir: string; remove: () => void } {
  const dir = path.join(tmpdir(), `isms-bench-${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Formats a number of bytes per second as MB/s (decimal megabytes, as disks and networks are quoted). */
export function mbPerS(bytes: number, seconds: number): number {
  return round(bytes / MB / seconds, 1);
}
