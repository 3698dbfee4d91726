import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createZstdDecompress } from 'node:zlib';
import { z } from 'zod';
import type { Register } from './register.ts';
import { rowHash, type EvidenceRow, type EvidenceStore, type VerifyProblem } from './store.ts';

const MANIFEST = 'manifest.json';
const SUMS = 'SHA256SUMS';

export const BundleManifest = z.object({
  format: z.literal('isms-evidence-bundle/1'),
  generatedAt: z.string(),
  period: z.object({ from: z.string(), to: z.string() }),
  organisation: z.string().nullable(),
  rows: z.array(z.custom<EvidenceRow>((value) => typeof value === 'object' && value !== null && 'rowHash' in value)),
  nonconformities: z.array(z.record(z.string(), z.unknown())),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

async function sha256OfFile(file: string, decompress = false): Promise<string> {
  const hash = createHash('sha256');
  const input = decompress ? createReadStream(file).pipe(createZstdDecompress()) : createReadStream(file);
  for await (const chunk of input as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Writes an auditor's bundle for a period: every snapshot of the chain's stretch covering it (blobs copied
 * byte for byte), a manifest with the catalog rows and the nonconformities, and a SHA256SUMS file, so that
 * `sha256sum -c SHA256SUMS` checks the files with no isms tooling and `isms evidence verify --bundle` checks
 * the content hashes and the chain too.
 */
export async function exportBundle(store: EvidenceStore, register: Register, options: { from: string; to: string; out: string; organisation?: string }): Promise<{ rows: number; dir: string }> {
  const rows = store.chainSpan(options.from, options.to);
  await mkdir(path.join(options.out, 'evidence'), { recursive: true });
  const sums: string[] = [];
  for (const row of rows) {
    const name = `evidence/${row.id}.ndjson.zst`;
    await copyFile(store.blobPath(row.uri), path.join(options.out, name));
    sums.push(`${await sha256OfFile(path.join(options.out, name))}  ${name}`);
  }
  const nonconformities = register
    .list()
    .filter((nc) => nc.lastObserved >= options.from && nc.firstObserved < options.to)
    .map((nc) => ({ ...nc, history: register.historyOf(nc.id) }));
  const manifest: BundleManifest = {
    format: 'isms-evidence-bundle/1',
    generatedAt: new Date().toISOString(),
    period: { from: options.from, to: options.to },
    organisation: options.organisation ?? null,
    rows,
    nonconformities,
  };
  await writeFile(path.join(options.out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  sums.push(`${await sha256OfFile(path.join(options.out, MANIFEST))}  ${MANIFEST}`);
  await writeFile(path.join(options.out, SUMS), `${sums.join('\n')}\n`);
  await writeFile(
    path.join(options.out, 'README.txt'),
    [
      `Evidence bundle for ${options.from} to ${options.to}.`,
      '',
      'Check the files:            sha256sum -c SHA256SUMS',
      'Check one snapshot content: zstd -dc evidence/<id>.ndjson.zst | sha256sum   (equals rows[].sha256 in manifest.json)',
      'Check everything:           isms evidence verify --bundle <this folder>',
      '',
      'Each row of manifest.json carries the hash of the row before it (prevHash) and its own hash (rowHash):',
      'the rows form an unbroken stretch of the catalog hash chain, so a removed or edited row is visible.',
      '',
    ].join('\n'),
  );
  return { rows: rows.length, dir: options.out };
}

/** Checks a bundle on its own: file sums, each snapshot's content hash, each row's hash and the chain between rows. */
export async function verifyBundle(dir: string): Promise<{ ok: boolean; checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const manifestFile = path.join(dir, MANIFEST);
  if (!existsSync(manifestFile)) return { ok: false, checked: 0, problems: [{ evidenceId: '(bundle)', problem: 'blob-missing', detail: `${manifestFile} is missing` }] };
  const parsed = BundleManifest.safeParse(JSON.parse(await readFile(manifestFile, 'utf8')));
  if (!parsed.success) return { ok: false, checked: 0, problems: [{ evidenceId: '(bundle)', problem: 'row-modified', detail: `manifest.json: ${parsed.error.issues[0]?.message}` }] };
  const { rows } = parsed.data;

  const sums = new Map(
    (await readFile(path.join(dir, SUMS), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(66), line.slice(0, 64)] as const),
  );
  if (sums.get(MANIFEST) !== (await sha256OfFile(manifestFile))) problems.push({ evidenceId: '(bundle)', problem: 'row-modified', detail: 'manifest.json does not match SHA256SUMS' });

  let previous: EvidenceRow | undefined;
  for (const row of rows) {
    const { rowHash: stored, ...fields } = row;
    if (rowHash(fields) !== stored) problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `row ${row.seq} does not match its hash` });
    if (previous && (row.prevHash !== previous.rowHash || row.seq !== previous.seq + 1)) {
      problems.push({ evidenceId: row.id, problem: 'chain-broken', detail: `row ${row.seq} does not follow row ${previous.seq}` });
    }
    previous = row;
    const name = `evidence/${row.id}.ndjson.zst`;
    const file = path.join(dir, name);
    if (!existsSync(file)) {
      problems.push({ evidenceId: row.id, problem: 'blob-missing', detail: `${name} is missing` });
      continue;
    }
    if (sums.get(name) !== (await sha256OfFile(file))) problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} does not match SHA256SUMS` });
    try {
      if ((await sha256OfFile(file, true)) !== row.sha256) problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} content does not match sha256 ${row.sha256}` });
    } catch (error) {
      problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} cannot be read: ${(error as Error).message}` });
    }
  }
  const listed = new Set(rows.map((row) => `${row.id}.ndjson.zst`));
  for (const extra of (await readdir(path.join(dir, 'evidence'))).filter((name) => !listed.has(name))) {
    problems.push({ evidenceId: extra.replace(/\.ndjson\.zst$/, ''), problem: 'row-deleted', detail: `evidence/${extra} has no row in manifest.json` });
  }
  return { ok: problems.length === 0, checked: rows.length, problems };
}
