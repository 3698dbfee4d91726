import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EvidenceStore } from '../../evidence/store.ts';
import { runIsms } from '../support/cli.ts';

const run = (args: string[], cwd: string) => runIsms(args, { cwd });

const dir = mkdtempSync(path.join(tmpdir(), 'isms-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms CLI', () => {
  it('config check exits 2 and prints every error with its YAML path and line', async () => {
    writeFileSync(
      path.join(dir, 'bad.yaml'),
      [
        'controls:',
        '  - id: Vuln',
        '    title: x',
        '    reference: A.8.8',
        '    owner: me',
        '    schedule: { cron: "0 6 * *" }',
        '    sources: []',
        '    checks: []',
        '',
      ].join('\n'),
    );
    const result = await run(['--config', 'bad.yaml', 'config', 'check'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.yaml: invalid config');
    expect(result.stderr).toMatch(/controls\[0\]\.id: lower-case letters, digits and dashes \(line 2, column 9\)/);
    expect(result.stderr).toMatch(/controls\[0\]\.schedule\.cron: .* \(line 6/);
    expect(result.stderr).toMatch(/controls\[0\]\.sources: .* \(line 7/);
  });

  it('config check refuses a YAML alias bomb with exit 2, naming the line, without a stack trace', async () => {
    const laughs = ['lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [index, anchor] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries())
      laughs.push(`${anchor}: &${anchor} [${Array(9).fill(`*${'abcdefgh'[index]}`).join(', ')}]`);
    writeFileSync(path.join(dir, 'bomb.yaml'), `dataDir: data\n${laughs.join('\n')}\n`);
    const result = await run(['--config', 'bomb.yaml', 'config', 'check'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bomb\.yaml: YAML aliases refused\n {2}- line \d+, column \d+: alias \*[a-h] expands the document past/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('config check accepts the shipped example', async () => {
    const result = await run(['--config', fileURLToPath(new URL('../../config/isms.example.yaml', import.meta.url)), 'config', 'check'], dir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/isms\.example\.yaml: ok \(\d+ controls/);
    expect(result.code).toBe(0);
  });

  it('evidence verify exits 1 and names the evidence after a blob is edited', async () => {
    const work = mkdtempSync(path.join(dir, 'store-'));
    writeFileSync(path.join(work, 'isms.yaml'), 'dataDir: data\n');
    const store = await EvidenceStore.open(path.join(work, 'data'));
    const staged = await store.stage('run', 'src');
    await staged.append({ kind: 'scan', source: 'src', scanner: 'trivy', asset: 'api', scannedAt: '2026-11-01T00:00:00Z', origin: 'x', findingCount: 0 });
    const row = await store.commit(staged, {
      runId: 'run',
      controlId: 'c',
      sourceName: 'src',
      connector: 'scanner-files',
      connectorVersion: '1',
      kinds: ['scan'],
      collectedAt: '2026-11-01T00:00:00Z',
      provenance: {},
      warnings: [],
    });
    await store.close();

    const clean = await run(['--config', 'isms.yaml', 'evidence', 'verify'], work);
    expect(clean).toMatchObject({ code: 0, stdout: 'ok: 1 evidence rows verified\n' });

    const blob = path.join(work, 'data/evidence/blobs', row.uri);
    chmodSync(blob, 0o644);
    writeFileSync(blob, Buffer.concat([readFileSync(blob), Buffer.from([0])]));
    const tampered = await run(['--config', 'isms.yaml', 'evidence', 'verify'], work);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(row.id);
    expect(tampered.stdout).toContain('blob-modified');
  });
});
