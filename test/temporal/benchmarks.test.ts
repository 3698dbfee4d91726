// @module-tag postgres
// @module-tag moto
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChild, type BenchResult } from '../../bench/common.ts';

/**
 * Issue 14's benchmark rows run in CI at a fraction of their sizes: each benchmark starts its own servers (PostgreSQL,
 * moto, a Temporal dev server, worker processes) and must produce every row with both figures. Their targets are
 * judged by `npm run bench` at full scale on a quiet machine, never here: a timed assertion on two shared cores is noise.
 * Each scale is the smallest whose floor still takes measurable time (catalog-writes' one-transaction floor of 20 rows
 * rounds to 0 s).
 */
async function bench(name: string, scale: number): Promise<BenchResult> {
  const file = fileURLToPath(new URL(`../../bench/${name}.ts`, import.meta.url));
  const { result } = await runChild<BenchResult>(file, ['--scale', String(scale)], { timeoutMs: 240_000, label: name });
  return result;
}

/** Each row's own figure and its floor's, both measured: a side that could not run leaves null. */
function measured(result: BenchResult): { workload: string; ours: boolean; floor: boolean }[] {
  return result.rows.map((row) => ({
    workload: row.workload,
    ours: typeof row.ours === 'number' && row.ours > 0,
    floor: typeof row.floor === 'number' && row.floor > 0,
  }));
}

describe("issue 14's benchmark rows", () => {
  it('catalog-writes: evidence rows and a reconcile, each on SQLite and on PostgreSQL, against the one-transaction floor', { timeout: 300_000 }, async () => {
    const result = await bench('catalog-writes', 0.2);
    expect(result.rows.map((row) => row.workload.split(':')[0])).toEqual(['sqlite', 'sqlite', 'postgres', 'postgres']);
    for (const row of measured(result)) expect(row).toEqual({ workload: row.workload, ours: true, floor: true });
  });

  it('evaluation: time and peak RSS of evaluateControl against the collection of the same Trivy file', { timeout: 300_000 }, async () => {
    const result = await bench('evaluation', 0.02);
    expect(result.rows).toHaveLength(2);
    for (const row of measured(result)) expect(row).toEqual({ workload: row.workload, ours: true, floor: true });
    expect(result.rows.every((row) => typeof row.peakRssMb === 'number' && row.peakRssMb > 0)).toBe(true);
    expect(result.rows.map((row) => row.targets.map((target) => target.on))).toEqual([['ratio'], ['peakRssMb']]);
  });

  it('control-runs-hosts: one and three worker processes on PostgreSQL + S3 against one embedded worker', { timeout: 300_000 }, async () => {
    const result = await bench('control-runs-hosts', 0.02);
    expect(result.rows.map((row) => row.workload)).toEqual([
      expect.stringContaining('one worker on PostgreSQL + S3'),
      expect.stringContaining('three worker processes on PostgreSQL + S3'),
    ]);
    for (const row of measured(result)) expect(row).toEqual({ workload: row.workload, ours: true, floor: true });
  });
});
