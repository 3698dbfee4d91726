import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { formatPath } from '../core/zod-issues.ts';
import type { Register } from './register.ts';
import type { EvidenceStore, VerifyProblem } from './store.ts';
import { fromDb, holdsItsHash, type DbRow, type EvidenceRow } from './evidence-row.ts';
import { readSqliteSnapshot } from './catalog.ts';
import { SQLITE_CATALOG_FILE } from './catalog-open.ts';
import { PostgresCatalog } from './catalog-postgres.ts';

const FORMAT = 'isms-evidence-bundle/2';
const MANIFEST = 'manifest.json';
const SUMS = 'SHA256SUMS';
const SIGNATURE = 'manifest.json.sig';
const NONCONFORMITIES = 'nonconformities.json';
const README = 'README.txt';
/** The predecessor hash of the catalog's first row. */
const GENESIS = '0'.repeat(64);

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');

/** A catalog row as a bundle carries it: parsed field by field, since its hash is recomputed from exactly these. */
const BundleRow: z.ZodType<EvidenceRow> = z.strictObject({
  seq: z.number().int().positive(),
  id: z.string().min(1),
  runId: z.string(),
  controlId: z.string(),
  sourceName: z.string(),
  connector: z.string(),
  connectorVersion: z.string(),
  kinds: z.array(z.string()),
  collectedAt: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  sha256: Sha256,
  size: z.number().int().nonnegative(),
  storedSize: z.number().int().nonnegative(),
  recordCount: z.number().int().nonnegative(),
  uri: z.string(),
  provenance: z.record(z.string(), z.unknown()),
  warnings: z.array(z.string()),
  prevHash: Sha256,
  rowHash: Sha256,
});

/** A point of the hash chain: the row at `seq` has hash `rowHash`. */
const ChainPoint = z.strictObject({ seq: z.number().int().positive(), id: z.string().min(1), rowHash: Sha256 });
export type ChainPoint = z.infer<typeof ChainPoint>;

export const BundleManifest = z.strictObject({
  format: z.literal(FORMAT),
  generatedAt: z.string(),
  period: z.strictObject({ from: z.string(), to: z.string() }),
  organisation: z.string().nullable(),
  /** Every row from the period's first to its last, in chain order; each has its snapshot under evidence/. */
  rows: z.array(BundleRow),
  chain: z.strictObject({
    /** The row before the first: its hash is the first row's prevHash, and it was collected outside the period. Null when the first row opens the catalog. */
    predecessor: BundleRow.nullable(),
    /** The rows after the last up to the head, without snapshots: they link the period's rows to the head and show that none of them was collected in the period. */
    following: z.array(BundleRow),
    /** The catalog's newest row when the bundle was written: what a checkpoint published then, or the live catalog, confirms. Null for an empty catalog. */
    head: ChainPoint.nullable(),
  }),
  /** The period's nonconformities with their history, in their own file, hashed here. */
  nonconformities: z.strictObject({ file: z.literal(NONCONFORMITIES), sha256: Sha256, count: z.number().int().nonnegative() }),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

/** What `isms evidence checkpoint` prints: the catalog's head, to publish where the catalog's keepers cannot rewrite it. */
export const EvidenceCheckpoint = z.strictObject({
  format: z.literal('isms-evidence-checkpoint/1'),
  organisation: z.string().nullable(),
  at: z.string(),
  ...ChainPoint.shape,
});
export type EvidenceCheckpoint = z.infer<typeof EvidenceCheckpoint>;

/**
 * A live catalog to check a bundle against, read and never written: the embedded SQLite file of `dataDir`, or the
 * PostgreSQL database at `url` when given (the catalog a config uses).
 */
export interface CatalogAnchor {
  dataDir: string;
  url?: string;
}

export type SignatureAlgorithm = 'ed25519' | 'ecdsa-sha256';

export interface BundleProblem {
  evidenceId: string;
  problem: VerifyProblem['problem'] | 'bundle-unreadable' | 'file-missing' | 'file-modified' | 'signature-invalid' | 'not-anchored' | 'anchor-mismatch';
  detail: string;
}

export interface BundleReport {
  ok: boolean;
  /** Snapshots whose content was checked. */
  checked: number;
  problems: BundleProblem[];
  /** The chain the bundle holds, from its first row's predecessor to the head at export. */
  chain: { from: number; to: number; head: ChainPoint | null } | null;
  /** What the bundle was checked against besides itself: a catalog's file or database (never its password), or a checkpoint file. */
  anchor: { kind: 'catalog' | 'checkpoint'; location: string } | null;
  signature: 'unsigned' | 'valid' | 'invalid' | 'not-checked';
}

/** The catalog's newest row as a checkpoint. */
export async function checkpointOf(store: EvidenceStore, organisation: string | undefined, at = new Date()): Promise<EvidenceCheckpoint | undefined> {
  const head = (await store.list({ limit: 1 }))[0];
  return (
    head && {
      format: 'isms-evidence-checkpoint/1',
      organisation: organisation ?? null,
      at: at.toISOString(),
      seq: head.seq,
      id: head.id,
      rowHash: head.rowHash,
    }
  );
}

/** The key types a bundle can be signed with, and the algorithm each signs with. */
export function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') return 'ecdsa-sha256';
  throw new Error(`a ${key.asymmetricKeyType ?? key.type} key cannot sign bundles: use an Ed25519 or ECDSA key`);
}

/**
 * Writes an auditor's bundle for a period: the snapshots of every row from the period's first to its last (blobs
 * copied byte for byte), the nonconformities with their history, a manifest of the rows, the chain around them up to
 * the head and the nonconformities' hash, SHA256SUMS, and with a key a detached signature of the manifest. So
 * `sha256sum -c SHA256SUMS` checks the files with no isms tooling, `openssl` the signature, and
 * `isms evidence verify --bundle` the content hashes and the chain, against the live catalog or a checkpoint too.
 */
export async function exportBundle(
  store: EvidenceStore,
  register: Register,
  options: { from: string; to: string; out: string; organisation?: string; signingKey?: KeyObject },
): Promise<{ rows: number; dir: string; head: ChainPoint | null; signature: SignatureAlgorithm | null }> {
  const algorithm = options.signingKey ? signatureAlgorithmOf(options.signingKey) : null;
  if (existsSync(options.out) && (await readdir(options.out)).length > 0)
    throw new ConfigError(`bundle folder ${options.out} is not empty: a bundle is written to a new or empty folder`);
  // One read of the catalog, so the head, the period's rows and the rows between them come from the same moment.
  const chain = (await store.list({ limit: Number.MAX_SAFE_INTEGER })).reverse();
  const { predecessor, rows, following } = periodStretch(chain, options.from, options.to);
  const headRow = chain.at(-1);
  const head = headRow ? { seq: headRow.seq, id: headRow.id, rowHash: headRow.rowHash } : null;

  await mkdir(path.join(options.out, 'evidence'), { recursive: true });
  const sums: string[] = [];
  for (const row of rows) {
    const name = `evidence/${row.id}.ndjson.zst`;
    const file = path.join(options.out, name);
    await pipeline(await store.readBlob(row), createWriteStream(file));
    // The copy is checked, not trusted: a bundle never carries a blob that no longer holds what its row says.
    const content = await sha256OfFile(file, true).catch(() => 'not a zstd stream');
    if (content !== row.sha256)
      throw new Error(
        `evidence ${row.id}: blob ${row.uri} in ${store.blobs.location} does not hold sha256 ${row.sha256} (${content}); run isms evidence verify`,
      );
    sums.push(`${await sha256OfFile(file)}  ${name}`);
  }
  const nonconformities = await Promise.all(
    (await register.list())
      .filter((nc) => nc.lastObserved >= options.from && nc.firstObserved < options.to)
      .map(async (nc) => ({ ...nc, history: await register.historyOf(nc.id) })),
  );
  const nonconformitiesText = `${JSON.stringify(nonconformities, null, 2)}\n`;
  await writeFile(path.join(options.out, NONCONFORMITIES), nonconformitiesText);
  const nonconformitiesHash = sha256Of(nonconformitiesText);
  sums.push(`${nonconformitiesHash}  ${NONCONFORMITIES}`);

  const manifest: BundleManifest = {
    format: FORMAT,
    generatedAt: new Date().toISOString(),
    period: { from: options.from, to: options.to },
    organisation: options.organisation ?? null,
    rows,
    chain: { predecessor, following, head },
    nonconformities: { file: NONCONFORMITIES, sha256: nonconformitiesHash, count: nonconformities.length },
  };
  const manifestText = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(path.join(options.out, MANIFEST), manifestText);
  sums.push(`${sha256Of(manifestText)}  ${MANIFEST}`);
  if (options.signingKey && algorithm) {
    const signature = sign(algorithm === 'ed25519' ? null : 'sha256', manifestText, options.signingKey);
    await writeFile(path.join(options.out, SIGNATURE), signature);
    sums.push(`${sha256Of(signature)}  ${SIGNATURE}`);
  }
  const readme = bundleReadme(options.from, options.to, algorithm);
  await writeFile(path.join(options.out, README), readme);
  sums.push(`${sha256Of(readme)}  ${README}`);
  await writeFile(path.join(options.out, SUMS), `${sums.join('\n')}\n`);
  return { rows: rows.length, dir: options.out, head, signature: algorithm };
}

/**
 * Checks a bundle: every file against SHA256SUMS, each snapshot's content hash, each row's hash, the chain from the
 * first row's predecessor through the period to the head at export, that no row outside the snapshots was collected in
 * the period, and the nonconformities' hash. With `publicKey` the manifest's signature; with `against` a data folder
 * (its embedded catalog), a checkpoint file or a live catalog on either backend, that the bundle's chain is the
 * catalog's. Never throws on a bad bundle: every fault is a problem in the report.
 */
export async function verifyBundle(dir: string, options: { against?: string | CatalogAnchor; publicKey?: KeyObject } = {}): Promise<BundleReport> {
  const problems: BundleProblem[] = [];
  const failed = (problem: BundleProblem): BundleReport => ({
    ok: false,
    checked: 0,
    problems: [problem],
    chain: null,
    anchor: null,
    signature: 'not-checked',
  });

  const sums = await readSums(dir);
  if (typeof sums === 'string') return failed({ evidenceId: '(bundle)', problem: 'bundle-unreadable', detail: sums });
  const manifest = await readManifest(dir);
  if (typeof manifest === 'string') return failed({ evidenceId: '(bundle)', problem: 'bundle-unreadable', detail: manifest });

  for (const name of [MANIFEST, NONCONFORMITIES]) {
    if (!sums.has(name)) problems.push({ evidenceId: '(bundle)', problem: 'file-modified', detail: `${name} is not listed in SHA256SUMS` });
  }
  const snapshotFiles = new Set(manifest.rows.map((row) => `evidence/${row.id}.ndjson.zst`));
  for (const [name, expected] of sums) {
    // A snapshot's file is checked with its row, below.
    if (snapshotFiles.has(name)) continue;
    const file = path.join(dir, name);
    if (!existsSync(file)) problems.push({ evidenceId: '(bundle)', problem: 'file-missing', detail: `${name} is listed in SHA256SUMS but missing` });
    else if ((await sha256OfFile(file)) !== expected)
      problems.push({ evidenceId: '(bundle)', problem: 'file-modified', detail: `${name} does not match SHA256SUMS` });
  }

  const { rows, chain } = manifest;
  problems.push(...checkChain(manifest));
  for (const row of rows) problems.push(...(await checkSnapshot(dir, row, sums)));
  const listed = new Set(rows.map((row) => `${row.id}.ndjson.zst`));
  const present = existsSync(path.join(dir, 'evidence')) ? await readdir(path.join(dir, 'evidence')) : [];
  for (const extra of present.filter((name) => !listed.has(name))) {
    problems.push({ evidenceId: extra.replace(/\.ndjson\.zst$/, ''), problem: 'row-deleted', detail: `evidence/${extra} has no row in manifest.json` });
  }
  problems.push(...(await checkNonconformities(dir, manifest)));

  const signature = await checkSignature(dir, options.publicKey);
  if (signature.problem) problems.push(signature.problem);

  let anchor: BundleReport['anchor'] = null;
  const against = options.against;
  if (typeof against === 'string' && !(existsSync(against) && (await stat(against)).isDirectory())) {
    anchor = { kind: 'checkpoint', location: against };
    problems.push(...(await checkAgainstCheckpoint(manifest, against)));
  } else if (against !== undefined) {
    const catalog = typeof against === 'string' ? { dataDir: against } : against;
    const live = await liveChain(catalog);
    anchor = { kind: 'catalog', location: live.location };
    problems.push(...('rows' in live ? checkAgainstCatalog(manifest, live.rows) : [live.problem]));
  }

  const whole = chainOf(manifest);
  const span = whole.length > 0 ? { from: whole[0]!.seq, to: whole.at(-1)!.seq, head: chain.head } : null;
  return { ok: problems.length === 0, checked: rows.length, problems, chain: span, anchor, signature: signature.status };
}

/** The rows collected in [from, to) as one unbroken stretch of the chain, with the row before it and every row after it. */
function periodStretch(
  chain: readonly EvidenceRow[],
  from: string,
  to: string,
): { predecessor: EvidenceRow | null; rows: EvidenceRow[]; following: EvidenceRow[] } {
  const inPeriod = (row: EvidenceRow) => row.collectedAt >= from && row.collectedAt < to;
  const first = chain.findIndex(inPeriod);
  if (first === -1) return { predecessor: null, rows: [], following: [] };
  const last = chain.findLastIndex(inPeriod);
  return { predecessor: chain[first - 1] ?? null, rows: chain.slice(first, last + 1), following: chain.slice(last + 1) };
}

function chainOf(manifest: BundleManifest): EvidenceRow[] {
  const { predecessor, following } = manifest.chain;
  return [...(predecessor ? [predecessor] : []), ...manifest.rows, ...following];
}

function inPeriodOf(manifest: BundleManifest): (row: EvidenceRow) => boolean {
  return (row) => row.collectedAt >= manifest.period.from && row.collectedAt < manifest.period.to;
}

/** Each row's own hash, each link, the head at the end, and no row without its snapshot collected in the period. */
function checkChain(manifest: BundleManifest): BundleProblem[] {
  const problems: BundleProblem[] = [];
  const { predecessor, following, head } = manifest.chain;
  const whole = chainOf(manifest);
  for (const row of whole) {
    if (!holdsItsHash(row)) problems.push({ evidenceId: row.id, problem: 'row-modified', detail: `row ${row.seq} does not match its hash` });
  }
  const first = whole[0];
  if (first && !predecessor && (first.seq !== 1 || first.prevHash !== GENESIS)) {
    problems.push({
      evidenceId: first.id,
      problem: 'chain-broken',
      detail: `row ${first.seq} follows a row the bundle does not hold (manifest.json: chain.predecessor is missing)`,
    });
  }
  for (let index = 1; index < whole.length; index++) {
    const [previous, row] = [whole[index - 1]!, whole[index]!];
    if (row.prevHash !== previous.rowHash || row.seq !== previous.seq + 1) {
      problems.push({ evidenceId: row.id, problem: 'chain-broken', detail: `row ${row.seq} does not follow row ${previous.seq}` });
    }
  }
  const last = whole.at(-1);
  if (head && last && (last.seq !== head.seq || last.rowHash !== head.rowHash || last.id !== head.id)) {
    problems.push({
      evidenceId: head.id,
      problem: 'chain-broken',
      detail: `the head at export (row ${head.seq}) is not the last row of the bundle's chain (row ${last.seq})`,
    });
  }
  const inPeriod = inPeriodOf(manifest);
  for (const row of [...(predecessor ? [predecessor] : []), ...following].filter(inPeriod)) {
    problems.push({
      evidenceId: row.id,
      problem: 'row-deleted',
      detail: `row ${row.seq} was collected in the period (${row.collectedAt}) but its snapshot is not in the bundle`,
    });
  }
  return problems;
}

async function checkSnapshot(dir: string, row: EvidenceRow, sums: ReadonlyMap<string, string>): Promise<BundleProblem[]> {
  const name = `evidence/${row.id}.ndjson.zst`;
  const file = path.join(dir, name);
  if (!existsSync(file)) return [{ evidenceId: row.id, problem: 'blob-missing', detail: `${name} is missing` }];
  const problems: BundleProblem[] = [];
  if (sums.get(name) !== (await sha256OfFile(file)))
    problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} does not match SHA256SUMS` });
  try {
    if ((await sha256OfFile(file, true)) !== row.sha256)
      problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} content does not match sha256 ${row.sha256}` });
  } catch {
    problems.push({ evidenceId: row.id, problem: 'blob-modified', detail: `${name} is not a zstd stream` });
  }
  return problems;
}

async function checkNonconformities(dir: string, manifest: BundleManifest): Promise<BundleProblem[]> {
  const file = path.join(dir, NONCONFORMITIES);
  if (!existsSync(file)) return [{ evidenceId: '(bundle)', problem: 'file-missing', detail: `${NONCONFORMITIES} is missing` }];
  const text = await readFile(file);
  if (sha256Of(text) !== manifest.nonconformities.sha256)
    return [{ evidenceId: '(bundle)', problem: 'file-modified', detail: `${NONCONFORMITIES} does not match its hash in manifest.json` }];
  return [];
}

async function checkSignature(dir: string, publicKey: KeyObject | undefined): Promise<{ status: BundleReport['signature']; problem?: BundleProblem }> {
  const file = path.join(dir, SIGNATURE);
  const signed = existsSync(file);
  if (!publicKey) return { status: signed ? 'not-checked' : 'unsigned' };
  if (!signed)
    return {
      status: 'unsigned',
      problem: { evidenceId: '(bundle)', problem: 'signature-invalid', detail: `a key was given but the bundle is not signed (no ${SIGNATURE})` },
    };
  let algorithm: SignatureAlgorithm;
  try {
    algorithm = signatureAlgorithmOf(publicKey);
  } catch (error) {
    return { status: 'invalid', problem: { evidenceId: '(bundle)', problem: 'signature-invalid', detail: (error as Error).message } };
  }
  let valid: boolean;
  try {
    valid = verify(algorithm === 'ed25519' ? null : 'sha256', await readFile(path.join(dir, MANIFEST)), publicKey, await readFile(file));
  } catch {
    // A malformed signature (not DER, wrong length) is as invalid as a wrong one.
    valid = false;
  }
  return valid
    ? { status: 'valid' }
    : {
        status: 'invalid',
        problem: { evidenceId: '(bundle)', problem: 'signature-invalid', detail: `${SIGNATURE} is not a signature of manifest.json by this key` },
      };
}

/**
 * Every row of a live catalog in chain order, read in one statement (one consistent state on both backends) and
 * without writing: neither the embedded file nor the database is migrated, locked or created. A folder or database
 * that holds no catalog is a problem, not an error: the bundle itself may still be sound.
 */
async function liveChain(anchor: CatalogAnchor): Promise<{ location: string } & ({ rows: DbRow[] } | { problem: BundleProblem })> {
  const notAnchored = (location: string, detail: string) => ({ location, problem: { evidenceId: '(bundle)', problem: 'not-anchored' as const, detail } });
  if (anchor.url !== undefined) {
    const catalog = new PostgresCatalog(anchor.url, { maxConnections: 1 });
    try {
      const { present } = (await catalog.get<{ present: boolean }>("SELECT to_regclass('evidence') IS NOT NULL AS present"))!;
      if (!present) return notAnchored(catalog.location, `${catalog.location} holds no evidence table: not an isms catalog`);
      return { location: catalog.location, rows: await catalog.all<DbRow>('SELECT * FROM evidence ORDER BY seq') };
    } finally {
      await catalog.close();
    }
  }
  const file = path.join(anchor.dataDir, SQLITE_CATALOG_FILE);
  if (!existsSync(file))
    return notAnchored(
      file,
      `${anchor.dataDir} holds no ${SQLITE_CATALOG_FILE}: not a data folder with an embedded catalog (a catalog on PostgreSQL is checked with --against-catalog)`,
    );
  return readSqliteSnapshot(file, async (db) => {
    if (!(await db.get("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evidence'")))
      return notAnchored(file, `${file} holds no evidence table: not an isms catalog`);
    return { location: file, rows: await db.all<DbRow>('SELECT * FROM evidence ORDER BY seq') };
  });
}

/**
 * The live catalog must hold the bundle's chain row for row, each row still matching its own hash (an edit in the
 * catalog that left row_hash alone is caught too), and no other row of the period.
 */
function checkAgainstCatalog(manifest: BundleManifest, catalogRows: readonly DbRow[]): BundleProblem[] {
  const problems: BundleProblem[] = [];
  const live: EvidenceRow[] = [];
  for (const stored of catalogRows) {
    try {
      live.push(fromDb(stored));
    } catch {
      problems.push({ evidenceId: stored.id, problem: 'anchor-mismatch', detail: `the catalog's row ${Number(stored.seq)} does not parse` });
    }
  }
  const bySeq = new Map(live.map((row) => [row.seq, row]));
  for (const row of chainOf(manifest)) {
    const theirs = bySeq.get(row.seq);
    if (!theirs) problems.push({ evidenceId: row.id, problem: 'anchor-mismatch', detail: `the catalog has no row ${row.seq}` });
    else if (theirs.rowHash !== row.rowHash || theirs.id !== row.id)
      problems.push({ evidenceId: row.id, problem: 'anchor-mismatch', detail: `row ${row.seq} differs from the catalog's row ${row.seq} (${theirs.id})` });
    else if (!holdsItsHash(theirs))
      problems.push({
        evidenceId: row.id,
        problem: 'anchor-mismatch',
        detail: `the catalog's row ${row.seq} no longer matches its hash: it was edited in the catalog`,
      });
  }
  const inBundle = new Set(manifest.rows.map((row) => row.seq));
  for (const row of periodStretch(live, manifest.period.from, manifest.period.to).rows.filter((row) => !inBundle.has(row.seq))) {
    problems.push({ evidenceId: row.id, problem: 'row-deleted', detail: `the catalog's row ${row.seq} belongs to the period but is not in the bundle` });
  }
  return problems;
}

/** A checkpoint vouches for the bundle when it names a row of the bundle's chain, with that row's hash. */
async function checkAgainstCheckpoint(manifest: BundleManifest, file: string): Promise<BundleProblem[]> {
  const notAnchored = (detail: string): BundleProblem[] => [{ evidenceId: '(bundle)', problem: 'not-anchored', detail }];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return notAnchored(`checkpoint ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const parsed = EvidenceCheckpoint.safeParse(parseJson(text));
  if (!parsed.success) return notAnchored(`checkpoint ${file}: ${describeIssues(parsed.error.issues)}`);
  const checkpoint = parsed.data;
  const whole = chainOf(manifest);
  const row = whole.find((candidate) => candidate.seq === checkpoint.seq);
  if (!row) {
    const span = whole.length > 0 ? `rows ${whole[0]!.seq} to ${whole.at(-1)!.seq}` : 'no rows';
    return notAnchored(
      `checkpoint ${file} names row ${checkpoint.seq}, outside the bundle's chain (${span}): use a checkpoint taken when the bundle was written, or export the bundle again`,
    );
  }
  if (row.rowHash !== checkpoint.rowHash || row.id !== checkpoint.id) {
    return [
      {
        evidenceId: row.id,
        problem: 'anchor-mismatch',
        detail: `row ${row.seq} differs from the checkpoint's row ${checkpoint.seq} (${checkpoint.id}, ${checkpoint.rowHash.slice(0, 16)}…)`,
      },
    ];
  }
  return [];
}

/** SHA256SUMS as file name to hash, or why it cannot be read. */
async function readSums(dir: string): Promise<Map<string, string> | string> {
  const file = path.join(dir, SUMS);
  if (!existsSync(file)) return `${SUMS} is missing from ${dir}`;
  const sums = new Map<string, string>();
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    const name = match?.[2];
    if (!match || !name || path.isAbsolute(name) || name.split('/').includes('..')) return `${SUMS} line ${index + 1} is not "<sha256>  <file in the bundle>"`;
    sums.set(name, match[1]!);
  }
  return sums;
}

/** The manifest, or why it cannot be read; never quotes its content. */
async function readManifest(dir: string): Promise<BundleManifest | string> {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return `${MANIFEST} is missing from ${dir}`;
  const json = parseJson(await readFile(file, 'utf8'));
  if (json === undefined) return `${MANIFEST} is not valid JSON`;
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && format !== FORMAT && format.startsWith('isms-evidence-bundle/')) {
    return `${MANIFEST} is format ${format}, written before bundles carried their chain's anchor: export the bundle again`;
  }
  const parsed = BundleManifest.safeParse(json);
  return parsed.success ? parsed.data : `${MANIFEST}: ${describeIssues(parsed.error.issues)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  return shown.join('; ') + (issues.length > 3 ? `; and ${issues.length - 3} more` : '');
}

function sha256Of(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function sha256OfFile(file: string, decompress = false): Promise<string> {
  const hash = createHash('sha256');
  const input = decompress ? createReadStream(file).pipe(createZstdDecompress()) : createReadStream(file);
  for await (const chunk of input as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

function bundleReadme(from: string, to: string, algorithm: SignatureAlgorithm | null): string {
  const signature =
    algorithm === 'ed25519'
      ? ['Check the signature:        openssl pkeyutl -verify -pubin -inkey <public key PEM> -rawin -in manifest.json -sigfile manifest.json.sig']
      : algorithm === 'ecdsa-sha256'
        ? ['Check the signature:        openssl dgst -sha256 -verify <public key PEM> -signature manifest.json.sig manifest.json']
        : [];
  return [
    `Evidence bundle for ${from} to ${to}.`,
    '',
    'Check the files:            sha256sum -c SHA256SUMS',
    'Check one snapshot content: zstd -dc evidence/<id>.ndjson.zst | sha256sum   (equals rows[].sha256 in manifest.json)',
    ...signature,
    'Check everything:           isms evidence verify --bundle <this folder> [--against <data folder> | <checkpoint.json> | --against-catalog] [--public-key <PEM>]',
    '',
    'Each row of manifest.json carries the hash of the row before it (prevHash) and its own hash (rowHash). The rows',
    "run unbroken from chain.predecessor (the row before the period) through the period to chain.head, the catalog's",
    'newest row when the bundle was written; chain.following holds the rows after the period, without snapshots.',
    'A checkpoint published by the organisation (isms evidence checkpoint) naming one of these rows, or the live',
    'catalog, confirms the whole stretch. nonconformities.json is hashed in manifest.json.',
    '',
  ].join('\n');
}
