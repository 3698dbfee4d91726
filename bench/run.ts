import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTarget, round, runChild, say, targetMet, type BenchResult, type Row } from './common.ts';

/**
 * `npm run bench [-- <name>...] [--scale 0.1] [--profile]`: runs each benchmark in its own Node process, prints one
 * table (our figure, the floor measured in the same run on the same machine, their ratio, peak RSS, target, met)
 * and writes it to bench/results/latest.json (and a dated copy beside it).
 */

const BENCHMARKS = [
  'identity-collection',
  'access-review',
  'scanner-ingest',
  'evidence-write',
  'evidence-s3',
  'catalog-writes',
  'control-runs',
  'control-runs-hosts',
  'evaluation',
] as const;
/** A benchmark that takes longer than this at full scale is stuck, not slow. */
const TIME_LIMIT_MS = 25 * 60_000;

function usage(): never {
  say(`usage: npm run bench [-- <name>...] [--scale <factor>] [--profile]\n  names: ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const names: string[] = [];
let scale = 1;
let profile = false;
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (arg === '--scale') scale = Number(argv[++i]);
  else if (arg.startsWith('--scale=')) scale = Number(arg.slice('--scale='.length));
  else if (arg === '--profile') profile = true;
  else if (arg === '--help' || arg === '-h') usage();
  else if ((BENCHMARKS as readonly string[]).includes(arg)) names.push(arg);
  else {
    say(`unknown benchmark or option: ${arg}`);
    usage();
  }
}
if (!(scale > 0)) {
  say('--scale must be a positive number');
  usage();
}
const chosen = names.length > 0 ? BENCHMARKS.filter((name) => names.includes(name)) : [...BENCHMARKS];

const started = new Date();
const results: BenchResult[] = [];
const failures: { benchmark: string; error: string; seconds: number }[] = [];
const durations: Record<string, number> = {};
say(`isms-worker benchmarks at scale ${scale} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}\n`);
for (const name of chosen) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const start = performance.now();
  try {
    const { result } = await runChild<BenchResult>(file, ['--scale', String(scale), ...(profile ? ['--profile'] : [])], { timeoutMs: TIME_LIMIT_MS });
    results.push(result);
  } catch (error) {
    failures.push({ benchmark: name, error: (error as Error).message, seconds: round((performance.now() - start) / 1000, 1) });
    say(`${name} failed: ${(error as Error).message}`);
  }
  durations[name] = round((performance.now() - start) / 1000, 1);
  say(`${name}: ${durations[name]} s\n`);
}

// ---------------------------------------------------------------- the table

function figure(value: number | null): string {
  if (value === null) return '-';
  if (Number.isInteger(value)) return value.toLocaleString('en');
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

interface TableLine {
  workload: string;
  ours: string;
  floor: string;
  ratio: string;
  rss: string;
  target: string;
  met: string;
}

const rows: (Row & { met: boolean | null; targetText: string })[] = results.flatMap((result) =>
  result.rows.map((row) => ({
    ...row,
    met: row.targets.length === 0 ? null : row.targets.every((target) => targetMet(row, target)),
    targetText: row.targets.map((target) => describeTarget(target, row.unit)).join(', '),
  })),
);
const lines: TableLine[] = rows.map((row) => ({
  workload: `${row.benchmark}: ${row.workload}`,
  ours: row.ours === null ? '-' : `${figure(row.ours)} ${row.unit}`,
  floor: row.floor === null ? '-' : `${figure(row.floor)} ${row.unit}`,
  ratio: row.ratio === null ? '-' : `${figure(row.ratio)}x`,
  rss: row.peakRssMb === null ? '-' : `${figure(row.peakRssMb)} MB`,
  target: row.targetText || '-',
  met: row.met === null ? '-' : row.met ? 'met' : 'MISSED',
}));
const header: TableLine = { workload: 'workload', ours: 'ours', floor: 'floor', ratio: 'ratio', rss: 'peak RSS', target: 'target', met: 'met?' };
const columns = Object.keys(header) as (keyof TableLine)[];
const widths = Object.fromEntries(columns.map((column) => [column, Math.max(...[header, ...lines].map((line) => line[column].length))])) as Record<
  keyof TableLine,
  number
>;
const render = (line: TableLine) =>
  columns
    .map((column) =>
      column === 'workload' || column === 'target' || column === 'met' ? line[column].padEnd(widths[column]) : line[column].padStart(widths[column]),
    )
    .join('  ');
process.stdout.write(`\n${render(header)}\n${columns.map((column) => '-'.repeat(widths[column])).join('  ')}\n`);
for (const line of lines) process.stdout.write(`${render(line)}\n`);
for (const row of rows) if (row.note && row.met === false) process.stdout.write(`  note (${row.benchmark}: ${row.workload}): ${row.note}\n`);
for (const failure of failures) process.stdout.write(`  ${failure.benchmark} FAILED after ${failure.seconds} s: ${failure.error.split('\n')[0]}\n`);
const judged = rows.filter((row) => row.met !== null);
const totalS = round((Date.now() - started.getTime()) / 1000, 1);
process.stdout.write(`\n${judged.filter((row) => row.met).length} of ${judged.length} targets met; ${failures.length} benchmarks failed; ${totalS} s in all\n`);

const report = {
  startedAt: started.toISOString(),
  scale,
  benchmarks: chosen,
  durationS: totalS,
  durations,
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    memoryGb: round(totalmem() / 1e9, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  },
  rows: rows.map(({ targetText, ...row }) => ({ ...row, target: targetText || null })),
  failures,
  figures: Object.fromEntries(results.map((result) => [result.benchmark, result.figures])),
};
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${resultsDir}run-${started.toISOString().replace(/[:.]/g, '-')}-scale-${scale}.json`, `${JSON.stringify(report, null, 2)}\n`);
say(`written to bench/results/latest.json`);
process.exitCode = failures.length > 0 ? 1 : 0;
