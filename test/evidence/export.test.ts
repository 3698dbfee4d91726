import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportBundle, verifyBundle } from '../../evidence/export.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';

let dir: string;
let store: EvidenceStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-export-'));
  store = await EvidenceStore.open(path.join(dir, 'data'));
  for (const [index, at] of ['2026-09-30T06:00:00.000Z', '2026-10-01T06:00:00.000Z', '2026-10-15T06:00:00.000Z', '2026-11-02T06:00:00.000Z'].entries()) {
    const staged = await store.stage(`run-${index}`, 'scans');
    await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: `api-${index}`, scannedAt: at, origin: 'f', findingCount: 0 });
    await store.commit(staged, { runId: `run-${index}`, controlId: 'vuln', sourceName: 'scans', connector: 'scanner-files', connectorVersion: '1', kinds: ['scan'], collectedAt: at, provenance: {}, warnings: [] });
  }
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("auditor's evidence bundle", () => {
  it('holds the period as an unbroken stretch of the chain that sha256sum and isms can both check', async () => {
    const out = path.join(dir, 'bundle');
    const result = await exportBundle(store, new Register(store.catalog), { from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z', out });
    expect(result.rows).toBe(2);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { rows: { runId: string; prevHash: string; rowHash: string }[] };
    expect(manifest.rows.map((row) => row.runId)).toEqual(['run-1', 'run-2']);
    expect(manifest.rows[1]!.prevHash).toBe(manifest.rows[0]!.rowHash);

    const { stdout } = await promisify(execFile)('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    expect(stdout.trim().split('\n')).toHaveLength(3);
    expect(await verifyBundle(out)).toEqual({ ok: true, checked: 2, problems: [] });
  });

  it('names the evidence of an edited snapshot, an edited row and a removed row', async () => {
    const out = path.join(dir, 'bundle');
    await exportBundle(store, new Register(store.catalog), { from: '2026-09-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', out });
    const manifestFile = path.join(out, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { rows: { id: string; recordCount: number }[] };
    const [first, second, third] = manifest.rows;

    const blob = path.join(out, `evidence/${first!.id}.ndjson.zst`);
    chmodSync(blob, 0o644);
    writeFileSync(blob, Buffer.concat([readFileSync(blob), Buffer.from('x')]));
    manifest.rows[1]!.recordCount = 99;
    manifest.rows.splice(2, 1);
    writeFileSync(manifestFile, JSON.stringify(manifest));

    const report = await verifyBundle(out);
    expect(report.ok).toBe(false);
    const byId = (id: string) => report.problems.filter((problem) => problem.evidenceId === id).map((problem) => problem.problem);
    expect(byId(first!.id)).toContain('blob-modified');
    expect(byId(second!.id)).toContain('row-modified');
    expect(byId(third!.id)).toEqual(['row-deleted']);
    expect(report.problems.some((problem) => problem.detail.includes('manifest.json does not match SHA256SUMS'))).toBe(true);
  });
});
