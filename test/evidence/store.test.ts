import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/records.ts';
import { EvidenceStore, StagedSnapshot, type Checkpoint } from '../../evidence/store.ts';
import { BACKENDS, closeTestCatalogs, storeCatalog } from '../support/catalogs.ts';
import { scanFinding, scanSnapshotMeta } from '../support/records.ts';

let dir: string;
let store: EvidenceStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-store-'));
  store = await EvidenceStore.open(dir);
});
afterEach(async () => {
  await store.close();
  await closeTestCatalogs();
  rmSync(dir, { recursive: true, force: true });
});

/** The number in a generated id, to vary each record's length. */
const serialOf = (id: string) => Number(id.replace(/\D/g, ''));

async function snapshot(runId: string, ids: string[], sourceName = 'scans') {
  const staged = await store.stage(runId, sourceName);
  for (const id of ids) await staged.append(scanFinding(id));
  return await store.commit(staged, scanSnapshotMeta(runId, sourceName));
}

describe.each(BACKENDS)('evidence store (%s)', (backend) => {
  beforeEach(async () => {
    await store.close();
    store = await EvidenceStore.open(dir, { catalog: await storeCatalog(backend) });
  });

  it('writes a content-addressed, read-only, zstd NDJSON blob and a chained catalog row', async () => {
    const row = await snapshot('run-1', ['CVE-1', 'CVE-2']);
    expect(row.recordCount).toBe(2);
    expect(row.uri).toBe(`sha256/${row.sha256.slice(0, 2)}/${row.sha256}.ndjson.zst`);
    expect(row.prevHash).toBe('0'.repeat(64));
    const records = [];
    for await (const record of store.records(row.id)) records.push(record);
    expect(records).toEqual([scanFinding('CVE-1'), scanFinding('CVE-2')]);
    const second = await snapshot('run-2', ['CVE-3']);
    expect(second.prevHash).toBe(row.rowHash);
    expect((await store.verify()).ok).toBe(true);
  });

  it('reads a snapshot back in batches, characters split across decompressed chunks intact, and names the line that is not a record', async () => {
    // Multi-byte titles over ~3 MB of NDJSON: many decompressed chunks, some ending inside a character.
    const ids = Array.from({ length: 6000 }, (_, i) => `CVE-${i}`);
    const staged = await store.stage('run-utf8', 'scans');
    for (const id of ids) await staged.append({ ...scanFinding(id), title: `Überlauf 漢字 🙂 ${id} ${'é'.repeat(serialOf(id) % 200)}` });
    const row = await store.commit(staged, scanSnapshotMeta('run-utf8'));
    const sizes: number[] = [];
    const titles: string[] = [];
    for await (const batch of store.recordBatches(row.id, 1000)) {
      sizes.push(batch.length);
      for (const record of batch) titles.push((record as Finding).title);
    }
    expect(titles).toEqual(ids.map((id) => `Überlauf 漢字 🙂 ${id} ${'é'.repeat(serialOf(id) % 200)}`));
    expect(sizes.slice(0, -1).every((size) => size >= 1000)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThan(2000);

    const file = store.blobPath(row.uri);
    chmodSync(file, 0o644);
    const lines = [JSON.stringify(scanFinding('CVE-A')), JSON.stringify({ kind: 'finding', id: 'CVE-B' }), JSON.stringify(scanFinding('CVE-C'))];
    writeFileSync(file, zstdCompressSync(`${lines.join('\n')}\n`));
    const read = async () => {
      for await (const batch of store.recordBatches(row.id)) void batch;
    };
    await expect(read()).rejects.toThrow(new RegExp(`^evidence ${row.id}: line 2: `));
  });

  it('stores identical content once and commits a run and source once', async () => {
    const first = await snapshot('run-1', ['CVE-1']);
    const same = await snapshot('run-2', ['CVE-1']);
    expect(same.uri).toBe(first.uri);
    expect(same.id).not.toBe(first.id);
    const retried = await snapshot('run-1', ['CVE-9']);
    expect(retried.id).toBe(first.id);
    expect(await store.list()).toHaveLength(2);
  });

  it('resumes a staged pull from its checkpoint and drops what came after it', async () => {
    const staged = await store.stage('run-1', 'scans');
    await staged.append(scanFinding('CVE-1'));
    const checkpoint = await staged.checkpoint();
    await staged.append(scanFinding('CVE-2-lost'));
    await staged.checkpoint();
    await staged.abandon();
    const resumed = await store.stage('run-1', 'scans', checkpoint);
    expect(resumed.resumed).toBe(true);
    await resumed.append(scanFinding('CVE-2'));
    const row = await store.commit(resumed, scanSnapshotMeta('run-1'));
    const ids = [];
    for await (const record of store.records(row.id)) ids.push((record as Finding).id);
    expect(ids).toEqual(['CVE-1', 'CVE-2']);
  });

  it('resumes a large pull across compressor flushes, and hashes exactly the records committed', async () => {
    const staged = await store.stage('run-big', 'scans');
    for (let i = 0; i < 20_000; i++) await staged.append(scanFinding(`CVE-A-${i}`));
    const checkpoint = await staged.checkpoint();
    for (let i = 0; i < 500; i++) await staged.append(scanFinding(`CVE-LOST-${i}`));
    await staged.abandon();

    const resumed = await store.stage('run-big', 'scans', checkpoint);
    expect(resumed.resumed).toBe(true);
    expect(resumed.count).toBe(20_000);
    for (let i = 0; i < 20_000; i++) await resumed.append(scanFinding(`CVE-B-${i}`));
    const row = await store.commit(resumed, scanSnapshotMeta('run-big'));

    const expected = [...Array.from({ length: 20_000 }, (_, i) => `CVE-A-${i}`), ...Array.from({ length: 20_000 }, (_, i) => `CVE-B-${i}`)];
    const ndjson = expected.map((id) => `${JSON.stringify(scanFinding(id))}\n`).join('');
    expect(row.recordCount).toBe(40_000);
    expect(row.size).toBe(Buffer.byteLength(ndjson));
    expect(row.sha256).toBe(createHash('sha256').update(ndjson).digest('hex'));
    expect((await store.verify()).ok).toBe(true);
  });

  it('keeps order and bytes when serialization runs megabytes ahead of compression and the disk', async () => {
    // ~36 MB of NDJSON: past the compressor's 8 MiB look-ahead and the 16 MiB of unwritten output it may queue.
    const count = 120_000;
    const staged = await store.stage('run-ahead', 'scans');
    const checkpoints: Checkpoint[] = [];
    for (let i = 0; i < count; i++) {
      await staged.append(scanFinding(`CVE-${i}`));
      if (i % 37_000 === 36_999) checkpoints.push(await staged.checkpoint());
    }
    const row = await store.commit(staged, scanSnapshotMeta('run-ahead'));
    const ndjson = Array.from({ length: count }, (_, i) => `${JSON.stringify(scanFinding(`CVE-${i}`))}\n`).join('');
    expect(row.size).toBe(Buffer.byteLength(ndjson));
    expect(row.sha256).toBe(createHash('sha256').update(ndjson).digest('hex'));
    expect(checkpoints.map((point) => point.count)).toEqual([37_000, 74_000, 111_000]);
    expect(checkpoints.every((point, i) => i === 0 || point.offset > checkpoints[i - 1]!.offset)).toBe(true);
    let seen = 0;
    for await (const record of store.records(row.id)) {
      if ((record as Finding).id !== `CVE-${seen}`) throw new Error(`record ${seen} is ${(record as Finding).id}`);
      seen++;
    }
    expect(seen).toBe(count);
    expect((await store.verify()).ok).toBe(true);
  });

  it.runIf(existsSync('/dev/full'))('reports a full disk from the staged writes it queued, and keeps what was committed', async () => {
    const committed = await snapshot('run-1', ['CVE-1']);
    // Writes to /dev/full fail with ENOSPC: the queued writes fail behind the appends, and the pull must say so.
    const staged = await StagedSnapshot.open('/dev/full');
    const failed = (async () => {
      for (let i = 0; i < 40_000; i++) await staged.append(scanFinding(`CVE-${i}`));
      await staged.finish();
    })();
    await expect(failed).rejects.toThrow(/ENOSPC/);
    expect((await store.get(committed.id))?.sha256).toBe(committed.sha256);
    expect((await store.verify()).ok).toBe(true);
  });

  it('starts over when the staging file of a checkpoint is not on this host', async () => {
    const staged = await store.stage('run-elsewhere', 'scans');
    await staged.append(scanFinding('CVE-1'));
    const checkpoint = await staged.checkpoint();
    await staged.abandon();
    rmSync(path.join(dir, 'evidence/staging'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'evidence/staging'));
    const fresh = await store.stage('run-elsewhere', 'scans', checkpoint);
    expect(fresh.resumed).toBe(false);
    expect(fresh.count).toBe(0);
    expect(fresh.lastCheckpoint).toEqual({ offset: 0, count: 0, size: 0 });
  });

  describe('verify names the evidence of each kind of tampering', () => {
    it('an edited blob', async () => {
      await snapshot('run-1', ['CVE-1']);
      const row = await snapshot('run-2', ['CVE-2']);
      const file = store.blobPath(row.uri);
      chmodSync(file, 0o644);
      const bytes = readFileSync(file);
      bytes[bytes.length - 5] = (bytes[bytes.length - 5]! + 1) % 256;
      writeFileSync(file, bytes);
      const report = await store.verify();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([expect.objectContaining({ evidenceId: row.id, problem: 'blob-modified' })]);
    });

    it('a missing blob', async () => {
      const row = await snapshot('run-1', ['CVE-1']);
      rmSync(store.blobPath(row.uri));
      expect((await store.verify()).problems).toEqual([expect.objectContaining({ evidenceId: row.id, problem: 'blob-missing' })]);
    });

    it('an edited catalog row', async () => {
      const row = await snapshot('run-1', ['CVE-1']);
      await snapshot('run-2', ['CVE-2']);
      await store.catalog.run('UPDATE evidence SET record_count = 0 WHERE id = ?', row.id);
      const problems = (await store.verify()).problems;
      expect(problems.some((problem) => problem.evidenceId === row.id && problem.problem === 'row-modified')).toBe(true);
    });

    it('a deleted catalog row in the middle of the chain', async () => {
      await snapshot('run-1', ['CVE-1']);
      const deleted = await snapshot('run-2', ['CVE-2']);
      await snapshot('run-3', ['CVE-3']);
      await store.catalog.run('DELETE FROM evidence WHERE id = ?', deleted.id);
      expect((await store.verify()).problems).toEqual([expect.objectContaining({ evidenceId: deleted.id, problem: 'row-deleted' })]);
    });

    it('the newest catalog row deleted', async () => {
      await snapshot('run-1', ['CVE-1']);
      const newest = await snapshot('run-2', ['CVE-2']);
      await store.catalog.run('DELETE FROM evidence WHERE id = ?', newest.id);
      expect((await store.verify()).problems).toEqual([expect.objectContaining({ evidenceId: newest.id, problem: 'row-deleted' })]);
    });
  });
});

describe('the journal is written by writers only', () => {
  const journalFile = () => path.join(dir, 'evidence/journal.log');
  const reopen = async () => {
    await store.close();
    store = await EvidenceStore.open(dir);
  };

  it('an emptied journal stays empty through opening and verifying, every row is reported, and a writer does not fill it in', async () => {
    const first = await snapshot('run-1', ['CVE-1']);
    const second = await snapshot('run-2', ['CVE-2']);
    writeFileSync(journalFile(), '');
    await reopen();
    const report = await store.verify();
    expect(report.problems).toEqual([
      expect.objectContaining({ evidenceId: first.id, problem: 'row-not-journaled' }),
      expect.objectContaining({ evidenceId: second.id, problem: 'row-not-journaled' }),
    ]);
    expect(readFileSync(journalFile(), 'utf8')).toBe('');

    const third = await snapshot('run-3', ['CVE-3']);
    expect(readFileSync(journalFile(), 'utf8')).toBe(`${third.seq} ${third.id} ${third.rowHash}\n`);
    expect((await store.verify()).problems.map((problem) => [problem.evidenceId, problem.problem])).toEqual([
      [first.id, 'row-not-journaled'],
      [second.id, 'row-not-journaled'],
    ]);
  });

  it('a journal cut short is reported, and opening and verifying do not put the lines back', async () => {
    await snapshot('run-1', ['CVE-1']);
    const cut = await snapshot('run-2', ['CVE-2']);
    const lines = readFileSync(journalFile(), 'utf8');
    const shorter = lines.slice(0, lines.indexOf(`\n${cut.seq} ${cut.id} `) + 1);
    expect(shorter.split('\n')).toHaveLength(2);
    writeFileSync(journalFile(), shorter);
    await reopen();
    await reopen();
    expect((await store.verify()).problems).toEqual([
      expect.objectContaining({ evidenceId: cut.id, problem: 'row-not-journaled', detail: `catalog row ${cut.seq} is not in the journal` }),
    ]);
    expect(readFileSync(journalFile(), 'utf8')).toBe(shorter);
  });

  it('a row whose line a crash lost is reported as waiting, and the next writer journals it', async () => {
    const lost = await snapshot('run-1', ['CVE-1']);
    // The state a crash between the row's commit and its journal line leaves.
    writeFileSync(journalFile(), '');
    await store.catalog.run('INSERT INTO journal_waiting (seq) VALUES (?)', lost.seq);
    await reopen();
    expect((await store.verify()).problems).toEqual([
      expect.objectContaining({ evidenceId: lost.id, problem: 'row-not-journaled', detail: expect.stringContaining('not in the journal yet') }),
    ]);
    expect(readFileSync(journalFile(), 'utf8')).toBe('');
    const next = await snapshot('run-2', ['CVE-2']);
    expect(readFileSync(journalFile(), 'utf8')).toBe(`${lost.seq} ${lost.id} ${lost.rowHash}\n${next.seq} ${next.id} ${next.rowHash}\n`);
    expect((await store.verify()).ok).toBe(true);
  });

  it('a retry of the commit whose journal line was lost writes that line, with no other write needed', async () => {
    const lost = await snapshot('run-1', ['CVE-1']);
    // The state a writer that lost the catalog (or crashed) after the row's commit and before its line leaves.
    writeFileSync(journalFile(), '');
    await store.catalog.run('INSERT INTO journal_waiting (seq) VALUES (?)', lost.seq);
    await reopen();
    const retried = await snapshot('run-1', ['CVE-1']);
    expect(retried.id).toBe(lost.id);
    expect(readFileSync(journalFile(), 'utf8')).toBe(`${lost.seq} ${lost.id} ${lost.rowHash}\n`);
    expect((await store.verify()).ok).toBe(true);
  });

  it("never gives a deleted newest row's sequence number to the next row, and verify names the deleted one", async () => {
    await snapshot('run-1', ['CVE-1']);
    const deleted = await snapshot('run-2', ['CVE-2']);
    await store.catalog.run('DELETE FROM evidence WHERE id = ?', deleted.id);
    const next = await snapshot('run-3', ['CVE-3']);
    expect(next.seq).toBe(deleted.seq + 1);
    expect((await store.verify()).problems).toEqual([expect.objectContaining({ evidenceId: deleted.id, problem: 'row-deleted' })]);
  });

  it('reports a journal line that is not an entry, and a writer starts its line on a new one', async () => {
    await snapshot('run-1', ['CVE-1']);
    appendFileSync(journalFile(), '2 ev-torn');
    expect((await store.verify()).problems).toEqual([
      expect.objectContaining({ problem: 'journal-malformed', detail: 'journal.log line 2 is not "<seq> <evidence id> <row hash>"' }),
    ]);
    const next = await snapshot('run-2', ['CVE-2']);
    expect(next.seq).toBe(2);
    expect((await store.verify()).problems.map((problem) => problem.problem)).toEqual(['journal-malformed']);
  });

  it('writers in several processes at once journal every row exactly once', async () => {
    const storeModule = new URL('../../evidence/store.ts', import.meta.url).href;
    const writer = (name: string, at: number) =>
      new Promise<number | null>((resolve, reject) => {
        const script = `
          const { EvidenceStore } = await import(${JSON.stringify(storeModule)});
          const store = await EvidenceStore.open(${JSON.stringify(dir)});
          const finding = ${JSON.stringify(scanFinding('CVE-X'))};
          while (Date.now() < ${at});
          for (let i = 0; i < 20; i++) {
            const staged = await store.stage('${name}-' + i, 'scans');
            await staged.append({ ...finding, id: '${name}-' + i });
            await store.commit(staged, { ...${JSON.stringify(scanSnapshotMeta('x'))}, runId: '${name}-' + i });
          }
          await store.close();
        `;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('error', reject);
        child.on('exit', resolve);
      });
    const at = Date.now() + 1_200;
    expect(await Promise.all([writer('a', at), writer('b', at), writer('c', at)])).toEqual([0, 0, 0]);
    const seqs = readFileSync(journalFile(), 'utf8')
      .trim()
      .split('\n')
      .map((line) => Number(line.split(' ')[0]));
    expect(seqs.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect((await store.verify()).ok).toBe(true);
  }, 60_000);
});

describe('verify and the staging folder', () => {
  it('reports a staging file whose run is not in flight, and leaves one whose run is', async () => {
    const staged = await store.stage('run-stuck', 'scans');
    await staged.append(scanFinding('CVE-1'));
    await staged.checkpoint();
    await staged.abandon();

    const asked: string[] = [];
    const inFlight = await store.verify({
      runInFlight: async (owner) => {
        asked.push(`${owner.runId} ${owner.sourceName}`);
        return { inFlight: true, why: 'running' };
      },
    });
    expect(inFlight.ok).toBe(true);
    expect(asked).toEqual(['run-stuck scans']);

    const report = await store.verify({ runInFlight: async () => ({ inFlight: false, why: 'workflow run-stuck is TERMINATED' }) });
    expect(report.problems).toEqual([
      {
        evidenceId: path.basename(staged.file),
        problem: 'staging-orphaned',
        detail: expect.stringMatching(
          /^staging file \S+\.part \(\d+ bytes, last written \S+\) of run run-stuck, source scans: no run in flight \(workflow run-stuck is TERMINATED\)$/,
        ),
      },
    ]);
    expect(existsSync(staged.file)).toBe(true);

    await store.discardStaging('run-stuck', 'scans');
    expect((await store.verify()).ok).toBe(true);
  });

  it('reports a staging file with no record of its run', async () => {
    writeFileSync(path.join(dir, 'evidence/staging', `${'a'.repeat(64)}.ndjson.zst.part`), 'left by an older worker');
    expect((await store.verify({ runInFlight: async () => ({ inFlight: true, why: 'running' }) })).problems).toEqual([
      expect.objectContaining({ problem: 'staging-orphaned', detail: expect.stringContaining('no record of the run it belongs to') }),
    ]);
  });
});
