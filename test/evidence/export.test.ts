import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointOf, exportBundle, verifyBundle, type BundleManifest } from '../../evidence/export.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { rowHash, type EvidenceRow } from '../../evidence/evidence-row.ts';
import type { SqliteCatalog } from '../../evidence/catalog.ts';
import { describePostgresUrl } from '../../evidence/catalog-postgres.ts';
import { BACKENDS, closeTestCatalogs, testStore } from '../support/catalogs.ts';

const run = promisify(execFile);
const OCTOBER = { from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' };

let dir: string;
let dataDir: string;
let store: EvidenceStore;
let register: Register;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-export-'));
  dataDir = path.join(dir, 'data');
  store = await EvidenceStore.open(dataDir);
  register = new Register(store.catalog);
  await commitSnapshots(store);
  const checkRun = await register.saveCheckRun({ runId: 'run-2', controlId: 'vuln', evaluatedAt: '2026-10-15T06:00:00.000Z', status: 'fail', results: [] }, [
    {
      checkId: 'vulnerability-sla',
      subject: 'api-2|CVE-2026-0001',
      title: 'CVE-2026-0001 open past SLA',
      severity: 'high',
      detail: 'open 40 days',
      values: {},
      evidenceIds: [],
    },
  ]);
  await register.reconcile({
    checkRunId: checkRun.id,
    controlId: 'vuln',
    reference: 'A.8.8',
    owner: 'security@example.com',
    at: '2026-10-15T06:00:00.000Z',
    gaps: [],
    collectedSources: ['scans'],
  });
});
/** Rows 1 to 4: one before October, two in it, one after. */
async function commitSnapshots(into: EvidenceStore): Promise<void> {
  for (const [index, at] of ['2026-09-30T06:00:00.000Z', '2026-10-01T06:00:00.000Z', '2026-10-15T06:00:00.000Z', '2026-11-02T06:00:00.000Z'].entries()) {
    const staged = await into.stage(`run-${index}`, 'scans');
    await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: `api-${index}`, scannedAt: at, origin: 'f', findingCount: 0 });
    await into.commit(staged, {
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

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exported(options: { signingKey?: KeyObject } = {}): Promise<string> {
  const out = path.join(dir, 'bundle');
  await exportBundle(store, register, { ...OCTOBER, out, ...options });
  return out;
}

const manifestOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as BundleManifest;

/** What someone holding the bundle can do: rewrite the manifest and make SHA256SUMS agree again. */
function rewrite(out: string, change: (manifest: BundleManifest) => void): void {
  const manifest = manifestOf(out);
  change(manifest);
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest));
  regenerateSums(out);
}

function regenerateSums(out: string): void {
  const files = ['manifest.json', 'nonconformities.json', 'README.txt', ...readdirSync(path.join(out, 'evidence')).map((name) => `evidence/${name}`)];
  const lines = files.map(
    (name) =>
      `${createHash('sha256')
        .update(readFileSync(path.join(out, name)))
        .digest('hex')}  ${name}`,
  );
  writeFileSync(path.join(out, 'SHA256SUMS'), `${lines.join('\n')}\n`);
}

/** Re-hashes rows from `from` on so that every hash and link agrees again, as a forger with the bundle would. */
function rehashChain(manifest: BundleManifest): void {
  const whole = [manifest.chain.predecessor, ...manifest.rows, ...manifest.chain.following].filter((row): row is EvidenceRow => row !== null);
  for (let index = 0; index < whole.length; index++) {
    const row = whole[index]!;
    if (index > 0) row.prevHash = whole[index - 1]!.rowHash;
    const { rowHash: _stale, ...fields } = row;
    row.rowHash = rowHash(fields);
  }
  const last = whole.at(-1)!;
  manifest.chain.head = { seq: last.seq, id: last.id, rowHash: last.rowHash };
}

async function writeCheckpoint(): Promise<string> {
  const file = path.join(dir, 'checkpoint.json');
  writeFileSync(file, JSON.stringify(await checkpointOf(store, undefined)));
  return file;
}

const problemsOf = (report: Awaited<ReturnType<typeof verifyBundle>>) => report.problems.map((problem) => problem.problem);

describe("auditor's evidence bundle", () => {
  it('holds the period with the row before it and the rows after it up to the head, checked by sha256sum, the live catalog and a checkpoint', async () => {
    const checkpoint = await writeCheckpoint();
    const out = await exported();
    const manifest = manifestOf(out);
    expect(manifest.rows.map((row) => row.runId)).toEqual(['run-1', 'run-2']);
    expect(manifest.chain.predecessor?.runId).toBe('run-0');
    expect(manifest.chain.following.map((row) => row.runId)).toEqual(['run-3']);
    const head = (await store.list({ limit: 1 }))[0]!;
    expect(manifest.chain.head).toEqual({ seq: 4, id: head.id, rowHash: head.rowHash });
    expect(manifest.rows[0]!.prevHash).toBe(manifest.chain.predecessor!.rowHash);
    expect(readdirSync(path.join(out, 'evidence'))).toHaveLength(2);

    const nonconformities = readFileSync(path.join(out, 'nonconformities.json'));
    expect(manifest.nonconformities).toEqual({ file: 'nonconformities.json', sha256: createHash('sha256').update(nonconformities).digest('hex'), count: 1 });
    expect((JSON.parse(nonconformities.toString()) as { history: unknown[] }[])[0]!.history.length).toBeGreaterThan(0);

    const { stdout } = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    expect(stdout.trim().split('\n')).toHaveLength(5);
    const alone = await verifyBundle(out);
    expect(alone).toMatchObject({ ok: true, checked: 2, problems: [], chain: { from: 1, to: 4 }, anchor: null, signature: 'unsigned' });
    expect(await verifyBundle(out, { against: dataDir })).toMatchObject({ ok: true, problems: [], anchor: { kind: 'catalog' } });
    expect(await verifyBundle(out, { against: checkpoint })).toMatchObject({ ok: true, problems: [], anchor: { kind: 'checkpoint' } });
  });

  it('names the evidence of an edited snapshot, an edited row and a removed row', async () => {
    const out = await exported();
    const [first, second] = manifestOf(out).rows;
    const blob = path.join(out, `evidence/${first!.id}.ndjson.zst`);
    chmodSync(blob, 0o644);
    writeFileSync(blob, Buffer.concat([readFileSync(blob), Buffer.from('x')]));
    const manifestFile = path.join(out, 'manifest.json');
    const manifest = manifestOf(out);
    manifest.rows[0]!.recordCount = 99;
    manifest.rows.splice(1, 1);
    writeFileSync(manifestFile, JSON.stringify(manifest));

    const report = await verifyBundle(out);
    expect(report.ok).toBe(false);
    const byId = (id: string) => report.problems.filter((problem) => problem.evidenceId === id).map((problem) => problem.problem);
    expect(byId(first!.id)).toEqual(expect.arrayContaining(['blob-modified', 'row-modified']));
    expect(byId(second!.id)).toEqual(['row-deleted']);
    expect(report.problems.some((problem) => problem.detail === 'manifest.json does not match SHA256SUMS')).toBe(true);
  });

  it('catches the newest row of the period removed, even with SHA256SUMS made to agree', async () => {
    const out = await exported();
    const removed = manifestOf(out).rows[1]!;
    unlinkSync(path.join(out, `evidence/${removed.id}.ndjson.zst`));
    // Left in the chain without its snapshot, the row shows; cut out of it, the chain breaks.
    rewrite(out, (manifest) => manifest.chain.following.unshift(manifest.rows.pop()!));
    const moved = await verifyBundle(out);
    expect(moved.problems).toContainEqual(expect.objectContaining({ evidenceId: removed.id, problem: 'row-deleted' }));

    rewrite(out, (manifest) => manifest.chain.following.shift());
    expect(problemsOf(await verifyBundle(out))).toContain('chain-broken');
  });

  it('catches the oldest row of the period removed', async () => {
    const out = await exported();
    const removed = manifestOf(out).rows[0]!;
    unlinkSync(path.join(out, `evidence/${removed.id}.ndjson.zst`));
    // The removed row becomes the predecessor, which must lie before the period...
    rewrite(out, (manifest) => (manifest.chain.predecessor = manifest.rows.shift()!));
    expect((await verifyBundle(out)).problems).toContainEqual(expect.objectContaining({ evidenceId: removed.id, problem: 'row-deleted' }));
    // ...or the first row follows a row the bundle does not hold.
    rewrite(out, (manifest) => (manifest.chain.predecessor = null));
    expect(problemsOf(await verifyBundle(out))).toContain('chain-broken');
  });

  it('passes a consistent rewrite on its own, says it is not anchored, and fails it against the live catalog and the checkpoint of its head', async () => {
    const checkpoint = await writeCheckpoint();
    const out = await exported();
    const forged = manifestOf(out).rows[1]!;
    // The newest row of the period and everything after it removed, the chain cut at the row before.
    unlinkSync(path.join(out, `evidence/${forged.id}.ndjson.zst`));
    rewrite(out, (manifest) => {
      manifest.rows.pop();
      manifest.chain.following = [];
      rehashChain(manifest);
    });
    expect(await verifyBundle(out)).toMatchObject({ ok: true, anchor: null });

    const live = await verifyBundle(out, { against: dataDir });
    expect(live.ok).toBe(false);
    expect(live.problems).toContainEqual(expect.objectContaining({ evidenceId: forged.id, problem: 'row-deleted' }));

    const published = await verifyBundle(out, { against: checkpoint });
    expect(published.ok).toBe(false);
    expect(published.problems).toEqual([
      expect.objectContaining({ problem: 'not-anchored', detail: expect.stringContaining('names row 4, outside the bundle') }),
    ]);
  });

  it("reads a data folder's catalog without writing to the folder or the file", async () => {
    const out = await exported();
    await (store.catalog as SqliteCatalog).exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const copy = path.join(dir, 'copied-data');
    mkdirSync(copy);
    copyFileSync(path.join(dataDir, 'catalog.sqlite'), path.join(copy, 'catalog.sqlite'));
    const hashOf = () =>
      createHash('sha256')
        .update(readFileSync(path.join(copy, 'catalog.sqlite')))
        .digest('hex');
    const before = hashOf();
    expect(await verifyBundle(out, { against: copy })).toMatchObject({ ok: true, anchor: { kind: 'catalog' } });
    // SQLite's own shared-memory index and an empty log are all a reader leaves beside the file.
    expect(readdirSync(copy).filter((name) => !/^catalog\.sqlite-(shm|wal)$/.test(name))).toEqual(['catalog.sqlite']);
    expect(existsSync(path.join(copy, 'catalog.sqlite-wal')) ? statSync(path.join(copy, 'catalog.sqlite-wal')).size : 0).toBe(0);
    expect(hashOf()).toBe(before);
  });

  it('fails a re-hashed edit of a row against the live catalog and the checkpoint', async () => {
    const checkpoint = await writeCheckpoint();
    const out = await exported();
    rewrite(out, (manifest) => {
      manifest.rows[0]!.warnings = ['edited after the fact'];
      rehashChain(manifest);
    });
    expect((await verifyBundle(out)).ok).toBe(true);
    expect(problemsOf(await verifyBundle(out, { against: dataDir }))).toEqual(['anchor-mismatch', 'anchor-mismatch', 'anchor-mismatch']);
    expect(problemsOf(await verifyBundle(out, { against: checkpoint }))).toEqual(['anchor-mismatch']);
  });

  it('hashes the nonconformities into the manifest: an edit fails even with SHA256SUMS made to agree', async () => {
    const out = await exported();
    const file = path.join(out, 'nonconformities.json');
    const edited = (JSON.parse(readFileSync(file, 'utf8')) as { status: string }[]).map((nc) => ({ ...nc, status: 'closed' }));
    writeFileSync(file, JSON.stringify(edited, null, 2));
    regenerateSums(out);
    expect((await verifyBundle(out)).problems).toEqual([
      { evidenceId: '(bundle)', problem: 'file-modified', detail: 'nonconformities.json does not match its hash in manifest.json' },
    ]);
  });

  it('reports a missing SHA256SUMS, a manifest that is not JSON or not a manifest, and a bad checkpoint as failures with the reason', async () => {
    const out = await exported();
    const sums = readFileSync(path.join(out, 'SHA256SUMS'));
    const original = manifestOf(out);
    unlinkSync(path.join(out, 'SHA256SUMS'));
    expect(await verifyBundle(out)).toMatchObject({ ok: false, problems: [{ problem: 'bundle-unreadable', detail: `SHA256SUMS is missing from ${out}` }] });
    writeFileSync(path.join(out, 'SHA256SUMS'), sums);

    writeFileSync(path.join(out, 'manifest.json'), '{"format": "isms-evidence-bundle/2", secret-looking text');
    const broken = await verifyBundle(out);
    expect(broken).toMatchObject({ ok: false, problems: [{ problem: 'bundle-unreadable', detail: 'manifest.json is not valid JSON' }] });
    expect(JSON.stringify(broken)).not.toContain('secret-looking');

    (original.rows[0] as unknown as { seq: string }).seq = 'one';
    writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(original));
    expect((await verifyBundle(out)).problems).toEqual([
      { evidenceId: '(bundle)', problem: 'bundle-unreadable', detail: 'manifest.json: rows[0].seq: Invalid input: expected number, received string' },
    ]);
    writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ format: 'isms-evidence-bundle/1', rows: [] }));
    expect((await verifyBundle(out)).problems[0]!.detail).toContain('format isms-evidence-bundle/1');

    const fresh = path.join(dir, 'fresh');
    await exportBundle(store, register, { ...OCTOBER, out: fresh });
    writeFileSync(path.join(dir, 'not-a-checkpoint.json'), '{"seq": "four"}');
    expect((await verifyBundle(fresh, { against: path.join(dir, 'not-a-checkpoint.json') })).problems).toEqual([
      expect.objectContaining({ problem: 'not-anchored', detail: expect.stringMatching(/^checkpoint .*not-a-checkpoint\.json: /) }),
    ]);
    expect((await verifyBundle(fresh, { against: path.join(dir, 'nowhere') })).problems).toEqual([
      expect.objectContaining({ problem: 'not-anchored', detail: expect.stringContaining('(ENOENT)') }),
    ]);
  });

  it('refuses to write into a folder that already holds files', async () => {
    const out = await exported();
    await expect(exportBundle(store, register, { ...OCTOBER, out })).rejects.toThrow(`bundle folder ${out} is not empty`);
  });

  describe('signed with a key from the config', () => {
    const keys = {
      ed25519: () => generateKeyPairSync('ed25519'),
      'ecdsa P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    };
    const opensslVerify = {
      ed25519: (publicKey: string) => ['pkeyutl', '-verify', '-pubin', '-inkey', publicKey, '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.json.sig'],
      'ecdsa P-256': (publicKey: string) => ['dgst', '-sha256', '-verify', publicKey, '-signature', 'manifest.json.sig', 'manifest.json'],
    };

    for (const kind of ['ed25519', 'ecdsa P-256'] as const) {
      it(`${kind}: the detached signature of manifest.json verifies with the openssl binary and with isms, and an edit breaks both`, async () => {
        const { privateKey, publicKey } = keys[kind]();
        const out = await exported({ signingKey: privateKey });
        const publicPem = path.join(dir, 'public.pem');
        writeFileSync(publicPem, publicKey.export({ type: 'spki', format: 'pem' }));
        expect(existsSync(path.join(out, 'manifest.json.sig'))).toBe(true);
        expect(readFileSync(path.join(out, 'README.txt'), 'utf8')).toContain(`openssl ${opensslVerify[kind]('<public key PEM>').join(' ')}`);

        const verified = await run('openssl', opensslVerify[kind](publicPem), { cwd: out });
        expect(verified.stdout).toMatch(/Verified (OK|Successfully)/);
        expect(await verifyBundle(out, { publicKey })).toMatchObject({ ok: true, signature: 'valid' });
        expect(await verifyBundle(out)).toMatchObject({ ok: true, signature: 'not-checked' });
        const stranger = createPublicKey(keys[kind]().privateKey);
        expect(await verifyBundle(out, { publicKey: stranger })).toMatchObject({ ok: false, signature: 'invalid' });

        rewrite(out, (manifest) => (manifest.organisation = 'Someone Else'));
        await expect(run('openssl', opensslVerify[kind](publicPem), { cwd: out })).rejects.toMatchObject({
          stdout: expect.stringMatching(/Verification failure|Signature Verification Failure/),
        });
        expect(await verifyBundle(out, { publicKey })).toMatchObject({
          ok: false,
          signature: 'invalid',
          problems: [expect.objectContaining({ problem: 'signature-invalid' })],
        });
      });
    }

    it('refuses a key that is neither Ed25519 nor ECDSA before writing anything', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const out = path.join(dir, 'rsa-bundle');
      await expect(exportBundle(store, register, { ...OCTOBER, out, signingKey: privateKey })).rejects.toThrow('a rsa key cannot sign bundles');
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe.each(BACKENDS)('a bundle checked against the live catalog on %s', (backend) => {
  let live: Awaited<ReturnType<typeof testStore>>;
  let anchor: { dataDir: string; url?: string };
  let out: string;
  beforeEach(async () => {
    live = await testStore(backend);
    anchor = { dataDir: path.join(live.dir, 'data'), url: live.url };
    await commitSnapshots(live.store);
    out = path.join(live.dir, 'bundle');
    await exportBundle(live.store, new Register(live.store.catalog), { ...OCTOBER, out });
  });
  afterEach(closeTestCatalogs);

  const rowsAtExport = () => [manifestOf(out).chain.predecessor!, ...manifestOf(out).rows, ...manifestOf(out).chain.following];

  it('verifies against the catalog it was exported from, named without its password', async () => {
    const location = live.url ? describePostgresUrl(live.url) : path.join(anchor.dataDir, 'catalog.sqlite');
    expect(await verifyBundle(out, { against: anchor })).toMatchObject({ ok: true, checked: 2, problems: [], anchor: { kind: 'catalog', location } });
  });

  it('names the evidence of a catalog row edited after export, whether or not its hash was rewritten', async () => {
    const [, first, second] = rowsAtExport();
    // An edit that left row_hash alone, and one re-hashed as someone with write access to the catalog would.
    await live.store.catalog.run(`UPDATE evidence SET warnings = '["edited"]' WHERE seq = ?`, first!.seq);
    const rehashed = { ...second!, recordCount: 0 };
    const { rowHash: _stale, ...fields } = rehashed;
    await live.store.catalog.run('UPDATE evidence SET record_count = 0, row_hash = ? WHERE seq = ?', rowHash(fields), second!.seq);

    const report = await verifyBundle(out, { against: anchor });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        evidenceId: first!.id,
        problem: 'anchor-mismatch',
        detail: `the catalog's row ${first!.seq} no longer matches its hash: it was edited in the catalog`,
      }),
      expect.objectContaining({
        evidenceId: second!.id,
        problem: 'anchor-mismatch',
        detail: `row ${second!.seq} differs from the catalog's row ${second!.seq} (${second!.id})`,
      }),
    ]);
  });

  it('names the evidence of a catalog row deleted after export', async () => {
    const following = rowsAtExport().at(-1)!;
    await live.store.catalog.run('DELETE FROM evidence WHERE seq = ?', following.seq);
    expect((await verifyBundle(out, { against: anchor })).problems).toEqual([
      { evidenceId: following.id, problem: 'anchor-mismatch', detail: `the catalog has no row ${following.seq}` },
    ]);
  });
});
