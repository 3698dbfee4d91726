import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SoaDocument } from '../../worker/soa.ts';
import { runIsms } from '../support/cli.ts';

/*
 * `isms soa` on the shipped example config after `isms dev --once` has run every example control for real (a local
 * Temporal dev server, the example scans and HR and identity exports), then `isms soa diff` after a control is added.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'isms-soa-cli-'));
const configFile = path.join(dir, 'config/isms.example.yaml');
const run = (args: string[]) => runIsms(['--config', configFile, ...args], { cwd: dir, timeout: 150_000 });

beforeAll(async () => {
  mkdirSync(path.join(dir, 'config'));
  copyFileSync(path.join(root, 'config/isms.example.yaml'), configFile);
  symlinkSync(path.join(root, 'examples'), path.join(dir, 'examples'));
  const dev = await run(['dev', '--once']);
  expect(dev.code, dev.stderr).toBe(0);
}, 160_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AUTOMATED = ['A.5.18', 'A.8.5', 'A.8.8'];

describe('isms soa on the example config', () => {
  it('lists all 93 Annex A controls, with live status and evidence for those the example controls reference', async () => {
    const result = await run(['soa', '--out', 'soa.html']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^soa\.html: 93 Annex A controls, 91 applicable \(.*\); kept as evidence ev-[0-9a-f-]+, ev-[0-9a-f-]+\n$/);
    const html = readFileSync(path.join(dir, 'soa.html'), 'utf8');
    expect(html.match(/<tr data-control="/g)).toHaveLength(93);
    expect(html).toContain(
      '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;">',
    );

    const json = await run(['soa', '--format', 'json', '--out', 'soa.json']);
    expect(json.code, json.stderr).toBe(0);
    const soa = JSON.parse(readFileSync(path.join(dir, 'soa.json'), 'utf8')) as SoaDocument;
    expect(soa.controls).toHaveLength(93);
    for (const id of AUTOMATED) {
      const control = soa.controls.find((entry) => entry.id === id)!;
      const automated = control.evidencedBy.filter((source) => source.kind === 'control');
      expect(automated.length, id).toBeGreaterThan(0);
      for (const source of automated) {
        if (source.kind !== 'control') continue;
        // Ran for real: a result, a run id and the evidence it collected, with hashes.
        expect(['pass', 'fail', 'error'], `${id} ${source.id}`).toContain(source.status);
        expect(source.runId).toMatch(/^control:/);
        expect(source.evidence.length).toBeGreaterThan(0);
        for (const evidence of source.evidence) expect(evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(['implemented', 'deviations', 'evidence-gap'], id).toContain(control.status);
      expect(html).toMatch(new RegExp(`<tr data-control="${id.replace(/\./g, '\\.')}">[^]*?<b>${automated[0]!.evidence[0]!.id}</b>`));
    }
    expect(soa.controls.find((entry) => entry.id === 'A.5.2')).toMatchObject({ status: 'manual', statusText: 'manual: no automated evidence' });
    // The example excludes two controls, with its reasons.
    expect(soa.controls.filter((entry) => !entry.applicable).map((entry) => entry.id)).toEqual(['A.7.4', 'A.8.30']);
    expect(soa.lastReview).toMatchObject({ id: 'soa-review' });
  }, 60_000);

  it('writes CSV and maps to SOC 2 and NIST CSF 2.0 on request', async () => {
    const csv = await run(['soa', '--framework', 'soc2', '--out', 'soa.csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = readFileSync(path.join(dir, 'soa.csv'), 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines).toHaveLength(94);
    expect(lines[0]).toMatch(/,evidence,soc2$/);
    expect(lines.find((line) => line.startsWith('A.8.8,'))).toMatch(/,CC7\.1$/);
    const csf = await run(['soa', '--framework', 'nist-csf-2.0', '--out', 'soa-csf.html']);
    expect(csf.code, csf.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'soa-csf.html'), 'utf8')).toContain('<h2>By NIST CSF 2.0</h2>');
  }, 60_000);

  it('shows with soa diff what changed after a control is added', async () => {
    expect(await run(['soa', '--out', 'before.json'])).toMatchObject({ code: 0 });
    const example = readFileSync(configFile, 'utf8');
    const calendar = example.indexOf('\n# The maintenance calendar');
    expect(calendar).toBeGreaterThan(0);
    const control = [
      '  - id: malware-scans',
      '    title: Endpoint scans find no malware',
      '    reference: [A.8.7]',
      '    owner: endpoint@example.com',
      '    schedule: { cron: "0 7 * * *", timezone: Europe/Berlin }',
      '    sources:',
      '      - name: endpoint-scans',
      '        connector: ci-scan-exports',
      '    checks:',
      '      - check: vulnerability-sla',
    ].join('\n');
    // Added at the end of the controls list, before the calendar section.
    writeFileSync(configFile, `${example.slice(0, calendar)}\n${control}\n${example.slice(calendar)}`);
    expect(await run(['soa', '--out', 'after.json'])).toMatchObject({ code: 0 });
    const diff = await run(['soa', 'diff']);
    expect(diff.stderr).toBe('');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^SoA ev-[0-9a-f-]+ \(.+\) -> ev-[0-9a-f-]+ \(.+\): 1 control changed\n/);
    expect(diff.stdout).toMatch(/^A\.8\.7\s+status\s+manual\s+not yet evidenced$/m);
    expect(diff.stdout).toMatch(/^A\.8\.7\s+evidenced by\s+nothing\s+control malware-scans$/m);
    const json = JSON.parse((await run(['soa', 'diff', '--json'])).stdout) as { changes: { control: string; field: string }[] };
    expect(json.changes.map((change) => `${change.control} ${change.field}`)).toEqual(['A.8.7 status', 'A.8.7 evidenced by', 'A.8.7 owners']);
  }, 60_000);
});

describe('bad input', () => {
  it('refuses a reference to a control that does not exist with exit 2 and its YAML path, writing nothing', async () => {
    const bad = path.join(dir, 'config/bad.yaml');
    writeFileSync(
      bad,
      readFileSync(configFile, 'utf8')
        .replace('reference: [A.8.8]', 'reference: [A.8.8, A.5.38]')
        .replace('reference: [A.5.18, A.8.5]', 'reference: [A.5.18, soc3/CC6.1]'),
    );
    const result = await runIsms(['--config', bad, 'soa', '--out', 'bad.html'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/controls\[0\]\.reference\[1\]: no ISO\/IEC 27001:2022 id "A\.5\.38" \(Annex A: .*\) \(line \d+, column \d+\)/);
    expect(result.stderr).toMatch(
      /controls\[1\]\.reference\[1\]: unknown framework "soc3" in "soc3\/CC6\.1" \(known: iso27001:2022, nist-csf-2\.0, soc2\) \(line \d+, column \d+\)/,
    );
    expect(existsSync(path.join(dir, 'bad.html'))).toBe(false);
  });

  it('refuses an unknown framework or format and a missing --out with exit 2', async () => {
    expect(await run(['soa', '--framework', 'pci-dss', '--out', 'x.html'])).toMatchObject({
      code: 2,
      stderr: '--framework pci-dss: not one of iso27001:2022, soc2, nist-csf-2.0\n',
    });
    expect(await run(['soa', '--format', 'pdf', '--out', 'x.pdf'])).toMatchObject({ code: 2, stderr: '--format pdf: not one of html, csv, json\n' });
    expect(await run(['soa'])).toMatchObject({ code: 2, stderr: 'soa: --out <file> is required (.html, .csv or .json)\n' });
    expect(existsSync(path.join(dir, 'x.html'))).toBe(false);
  });
});
