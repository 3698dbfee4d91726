import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { runIsms } from '../support/cli.ts';
import { postgresDatabase } from '../support/postgres.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-bundle-cli-'));
const run = (args: string[], env: Record<string, string> = {}) => runIsms(args, { cwd: dir, env });

async function commitSnapshots(store: EvidenceStore): Promise<void> {
  for (const [index, at] of ['2026-10-01T06:00:00.000Z', '2026-10-15T06:00:00.000Z', '2026-11-02T06:00:00.000Z'].entries()) {
    const staged = await store.stage(`run-${index}`, 'scans');
    await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: `api-${index}`, scannedAt: at, origin: 'f', findingCount: 0 });
    await store.commit(staged, {
      runId: `run-${index}`,
      controlId: 'vuln',
      sourceName: 'scans',
      connector: 'scanner-files',
      connectorVersion: '1',
      kinds: ['scan'],
      collectedAt: at,
      provenance: {},
      warnings: [],
    });
  }
}

beforeAll(async () => {
  const store = await EvidenceStore.open(path.join(dir, 'data'));
  await commitSnapshots(store);
  await store.close();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'bundle-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(path.join(dir, 'bundle-key.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(path.join(dir, 'isms.yaml'), stringify({ organisation: 'Example Ltd', dataDir: 'data', export: { signingKey: { env: 'ISMS_BUNDLE_KEY' } } }));
  writeFileSync(path.join(dir, 'unsigned.yaml'), stringify({ dataDir: 'data' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms evidence export, checkpoint and verify --bundle', () => {
  it('signs the bundle with the configured key, anchors it with a checkpoint, and exits 1 with the reason when it is altered', async () => {
    const key = readFileSync(path.join(dir, 'bundle-key.pem'), 'utf8');
    const checkpoint = await run(['--config', 'isms.yaml', 'evidence', 'checkpoint', '--out', 'checkpoint.json']);
    expect(checkpoint.code).toBe(0);
    expect(JSON.parse(checkpoint.stdout)).toMatchObject({ format: 'isms-evidence-checkpoint/1', organisation: 'Example Ltd', seq: 3 });
    expect(JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'))).toEqual(JSON.parse(checkpoint.stdout));

    const exported = await run(['--config', 'isms.yaml', 'evidence', 'export', '--from', '2026-10-01', '--to', '2026-11-01', '--out', 'bundle'], {
      ISMS_BUNDLE_KEY: key,
    });
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('wrote 2 evidence snapshots to bundle; chain head at export: row 3');
    expect(exported.stdout).toContain('manifest.json signed (ed25519)');
    const openssl = await promisify(execFile)(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', '../bundle-key.pub.pem', '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.json.sig'],
      { cwd: path.join(dir, 'bundle') },
    );
    expect(openssl.stdout).toContain('Signature Verified Successfully');

    const verified = await run(['evidence', 'verify', '--bundle', 'bundle', '--against', 'checkpoint.json', '--public-key', 'bundle-key.pub.pem']);
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toContain('ok: 2 evidence snapshots verified; chain rows 1 to 3');
    expect(verified.stdout).toContain('anchored: checked against the checkpoint checkpoint.json');
    expect(verified.stdout).toContain('signature: valid');
    const live = await run(['--config', 'unsigned.yaml', 'evidence', 'verify', '--bundle', 'bundle', '--against-catalog']);
    expect(live).toMatchObject({ code: 0, stderr: '' });
    expect(live.stdout).toContain(`anchored: checked against the catalog ${path.join(dir, 'data', 'catalog.sqlite')}`);
    const alone = await run(['evidence', 'verify', '--bundle', 'bundle']);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('not anchored: the bundle agrees with itself only');
    expect(alone.stdout).toContain('signature: present (manifest.json.sig), not checked');

    unlinkSync(path.join(dir, 'bundle/SHA256SUMS'));
    const noSums = await run(['evidence', 'verify', '--bundle', 'bundle']);
    expect(noSums).toMatchObject({ code: 1, stderr: '' });
    expect(noSums.stdout).toMatch(/^FAILED: 1 problem in 0 rows\n/);
    expect(noSums.stdout).toContain('SHA256SUMS is missing from bundle');

    writeFileSync(path.join(dir, 'bundle/SHA256SUMS'), '');
    writeFileSync(path.join(dir, 'bundle/manifest.json'), '{ not json');
    const broken = await run(['evidence', 'verify', '--bundle', 'bundle', '--json']);
    expect(broken).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, problems: [{ problem: 'bundle-unreadable', detail: 'manifest.json is not valid JSON' }] });
  });

  it('exits 2 naming the config key when the signing key is not a private key, and writes nothing', async () => {
    const result = await run(['--config', 'isms.yaml', 'evidence', 'export', '--from', '2026-10-01', '--to', '2026-11-01', '--out', 'refused'], {
      ISMS_BUNDLE_KEY: 'not a key at all',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`export.signingKey (environment variable ISMS_BUNDLE_KEY) in ${path.join(dir, 'isms.yaml')}: not a PEM private key\n`);
    expect(existsSync(path.join(dir, 'refused'))).toBe(false);
    const unsigned = await run(['--config', 'unsigned.yaml', 'evidence', 'export', '--from', '2026-10-01', '--to', '2026-11-01', '--out', 'bundle-unsigned']);
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toContain('not signed (no export.signingKey in the config)');
    const again = await run(['--config', 'unsigned.yaml', 'evidence', 'export', '--from', '2026-10-01', '--to', '2026-11-01', '--out', 'bundle-unsigned']);
    expect(again).toMatchObject({ code: 2, stderr: 'bundle folder bundle-unsigned is not empty: a bundle is written to a new or empty folder\n' });
  });
});

describe('isms evidence verify --bundle --against-catalog without its catalog', () => {
  it('exits 3 naming host and database of an unreachable catalog, never its password', async () => {
    const exported = await run([
      '--config',
      'unsigned.yaml',
      'evidence',
      'export',
      '--from',
      '2026-10-01',
      '--to',
      '2026-11-01',
      '--out',
      'bundle-unreachable',
    ]);
    expect(exported.code).toBe(0);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const result = await run(['--config', 'unsigned.yaml', 'evidence', 'verify', '--bundle', 'bundle-unreachable', '--against-catalog'], {
      ISMS_CATALOG_URL: `postgres://isms:catalog-secret-7f3a@127.0.0.1:${port}/isms`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`catalog PostgreSQL database "isms" on 127.0.0.1:${port} is unreachable`);
    expect(result.stderr).not.toContain('catalog-secret-7f3a');
  });
});

describe('isms evidence verify --bundle --against-catalog', { tags: ['postgres'] }, () => {
  it('checks a bundle against the configured PostgreSQL catalog, naming it without the password, which the command line never takes', async () => {
    const database = await postgresDatabase();
    // The test cluster trusts every login, so the password in the URL is only there to be kept out of the output.
    const url = new URL(database.url);
    url.password = 'catalog-secret-7f3a';
    const env = { ISMS_CATALOG_URL: url.toString() };
    const store = await EvidenceStore.open(path.join(dir, 'pg-data'), { catalog: await new PostgresCatalog(url.toString()).open() });
    await commitSnapshots(store);
    await store.close();
    const catalog = new PostgresCatalog(url.toString());
    try {
      writeFileSync(path.join(dir, 'pg.yaml'), stringify({ dataDir: 'pg-data' }));

      const exported = await run(['--config', 'pg.yaml', 'evidence', 'export', '--from', '2026-10-01', '--to', '2026-11-01', '--out', 'pg-bundle'], env);
      expect(exported).toMatchObject({ code: 0, stderr: '' });
      const verified = await run(['--config', 'pg.yaml', 'evidence', 'verify', '--bundle', 'pg-bundle', '--against-catalog'], env);
      expect(verified).toMatchObject({ code: 0, stderr: '' });
      expect(verified.stdout).toContain(`anchored: checked against the catalog PostgreSQL database "${url.pathname.slice(1)}" on 127.0.0.1:${url.port}`);
      expect(verified.stdout).not.toContain('catalog-secret-7f3a');

      const following = await catalog.get<{ id: string }>('SELECT id FROM evidence WHERE seq = 3');
      await catalog.run('DELETE FROM evidence WHERE seq = 3');
      const deleted = await run(['--config', 'pg.yaml', 'evidence', 'verify', '--bundle', 'pg-bundle', '--against-catalog', '--json'], env);
      expect(deleted.code).toBe(1);
      expect(JSON.parse(deleted.stdout)).toMatchObject({ ok: false, problems: [{ evidenceId: following!.id, problem: 'anchor-mismatch' }] });

      const onCommandLine = await run(['evidence', 'verify', '--bundle', 'pg-bundle', '--against', url.toString()]);
      expect(onCommandLine.code).toBe(2);
      expect(onCommandLine.stderr).toContain('--against takes a data folder or a checkpoint file, not a URL');
      expect(onCommandLine.stderr).not.toContain('catalog-secret-7f3a');
      const both = await run(['--config', 'pg.yaml', 'evidence', 'verify', '--bundle', 'pg-bundle', '--against-catalog', '--against', 'checkpoint.json'], env);
      expect(both).toMatchObject({ code: 2, stderr: '--against and --against-catalog each name what the bundle is checked against: give one of them\n' });
    } finally {
      await catalog.close();
      await database.drop();
    }
  });
});
