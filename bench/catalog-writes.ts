import path from 'node:path';
import pg from 'pg';
import { SqliteCatalog, type Catalog } from '../evidence/catalog.ts';
import { PostgresCatalog } from '../evidence/catalog-postgres.ts';
import { Register } from '../evidence/register.ts';
import { EvidenceStore, type SnapshotMeta } from '../evidence/store.ts';
import type { Deviation } from '../core/check-results.ts';
import { postgresBinaries, startPostgresCluster } from '../test/support/postgres-cluster.ts';
import {
  emit,
  measure,
  peakRssMb,
  Random,
  ratioOf,
  round,
  runBenchmark,
  runPhase,
  say,
  scaled,
  scratchDir,
  SEED,
  type BenchArgs,
  type BenchResult,
  type Row,
} from './common.ts';
import { generateIdentities, generatePeople } from './records.ts';

/**
 * Catalog writes per second on SQLite (the embedded default) and on PostgreSQL (a throwaway cluster the benchmark
 * starts): evidence rows appended to the hash chain by EvidenceStore.commit of small snapshots, and a reconcile of
 * 1,000 deviations (Register.saveCheckRun + reconcile into an empty register: 1,000 nonconformities opened). The floor
 * of each is the very rows ours wrote, read back and INSERTed into a fresh catalog on the same backend in one
 * transaction through the same driver (the Catalog interface): what writing those rows costs with no chain, no
 * blob, no lookups and one commit.
 */

const SNAPSHOTS = 1000;
const RECORDS_PER_SNAPSHOT = 3;
const DEVIATIONS = 1000;
const CONTROL = 'vuln-mgmt';
const CHECK = 'vulnerability-sla';
const EVIDENCE_TABLES = ['evidence'];
const REGISTER_TABLES = ['check_runs', 'deviations', 'nonconformities', 'nonconformity_history'];

type Backend = 'sqlite' | 'postgres';

interface BackendFigures {
  evidence: { rows: number; oursS: number; floorS: number };
  reconcile: { deviations: number; rowsWritten: number; oursS: number; floorS: number; opened: number };
  peakRssMb: number;
}

const metaOf = (index: number): SnapshotMeta => ({
  runId: `control:${CONTROL}:run-${index}`,
  controlId: CONTROL,
  sourceName: 'directory',
  connector: 'bench',
  connectorVersion: '1',
  kinds: ['identity'],
  collectedAt: new Date(Date.UTC(2026, 0, 15) + index * 1000).toISOString(),
  provenance: { bench: 'catalog-writes' },
  warnings: [],
});

function deviations(count: number): Deviation[] {
  const random = new Random(SEED ^ 0xca7);
  return Array.from({ length: count }, (_, index) => {
    const cve = `CVE-2025-${String(10_000 + index)}`;
    return {
      checkId: CHECK,
      subject: `app|${cve}|pkg-${random.hex(6)}@1.${random.int(0, 9)}`,
      title: `${cve} open past its SLA`,
      severity: random.pick(['critical', 'high', 'medium'] as const),
      detail: `open ${random.int(31, 200)} days, SLA 30`,
      values: { cve, ageDays: random.int(31, 200) },
      evidenceIds: [`ev-${random.hex(12)}`],
    };
  });
}

/** Reads `tables` of `source` and INSERTs every row into the same tables of `target`, in one transaction. */
async function copyRows(source: Catalog, target: Catalog, tables: readonly string[]): Promise<{ rows: number; seconds: number }> {
  const content: { table: string; rows: Record<string, string | number | null>[] }[] = [];
  for (const table of tables) content.push({ table, rows: await source.all<Record<string, string | number | null>>(`SELECT * FROM ${table}`) });
  const copied = await measure(() =>
    target.transaction(async (tx) => {
      let rows = 0;
      for (const { table, rows: list } of content) {
        for (const row of list) {
          const columns = Object.keys(row);
          await tx.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, ...columns.map((column) => row[column]!));
          rows++;
        }
      }
      return rows;
    }),
  );
  return { rows: copied.value, seconds: copied.wallS };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** One catalog phase: `fresh` opens an empty catalog on the backend (a new file, or a new database). */
async function measureBackend(args: BenchArgs, backend: Backend): Promise<void> {
  const scratch = scratchDir(`catalog-writes-${backend}`);
  let databases = 0;
  const fresh = async (): Promise<Catalog> => {
    databases++;
    if (backend === 'sqlite') return new SqliteCatalog(path.join(scratch.dir, `floor-${databases}.sqlite`));
    const admin = args.options.url!;
    const name = `bench_${process.pid}_${databases}`;
    await adminQuery(admin, `CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return new PostgresCatalog(url.toString()).open();
  };
  try {
    const snapshots = scaled(SNAPSHOTS, args.scale);
    const random = new Random(SEED ^ 0xe7);
    const people = generatePeople(random, 50);
    const records = Array.from({ length: snapshots }, () => generateIdentities(random, RECORDS_PER_SNAPSHOT, people));
    const store = await EvidenceStore.open(path.join(scratch.dir, 'data'), backend === 'sqlite' ? {} : { catalog: await fresh() });
    const committed = await measure(async () => {
      for (let index = 0; index < snapshots; index++) {
        const meta = metaOf(index);
        const staged = await store.stage(meta.runId, meta.sourceName);
        for (const record of records[index]!) await staged.append(record);
        await store.commit(staged, meta);
      }
    });
    const verified = await store.verify();
    if (!verified.ok) throw new Error(`the chain does not verify after the commits: ${JSON.stringify(verified.problems).slice(0, 300)}`);
    const evidenceFloorCatalog = await fresh();
    const evidenceFloor = await copyRows(store.catalog, evidenceFloorCatalog, EVIDENCE_TABLES);
    if (evidenceFloor.rows !== snapshots) throw new Error(`the floor copied ${evidenceFloor.rows} evidence rows, not ${snapshots}`);
    await evidenceFloorCatalog.close();
    await store.close();

    const count = scaled(DEVIATIONS, args.scale);
    const list = deviations(count);
    const catalog = await fresh();
    const register = new Register(catalog);
    const reconciled = await measure(async () => {
      const checkRun = await register.saveCheckRun(
        {
          runId: `control:${CONTROL}:reconcile`,
          controlId: CONTROL,
          evaluatedAt: '2026-01-15T06:00:00.000Z',
          status: 'fail',
          results: [{ checkId: CHECK, status: 'fail', deviations: count }],
        },
        list,
      );
      return register.reconcile({
        checkRunId: checkRun.id,
        controlId: CONTROL,
        reference: 'A.8.8',
        owner: 'security@example.com',
        at: '2026-01-15T06:00:01.000Z',
        gaps: [],
        collectedSources: ['app-scan'],
      });
    });
    if (reconciled.value.opened.length !== count) throw new Error(`reconcile opened ${reconciled.value.opened.length} nonconformities, not ${count}`);
    const registerFloorCatalog = await fresh();
    const registerFloor = await copyRows(catalog, registerFloorCatalog, REGISTER_TABLES);
    await registerFloorCatalog.close();
    await catalog.close();
    emit({
      evidence: { rows: snapshots, oursS: committed.wallS, floorS: evidenceFloor.seconds },
      reconcile: {
        deviations: count,
        rowsWritten: registerFloor.rows,
        oursS: reconciled.wallS,
        floorS: registerFloor.seconds,
        opened: reconciled.value.opened.length,
      },
      peakRssMb: peakRssMb(),
    } satisfies BackendFigures);
  } finally {
    scratch.remove();
  }
}

function rowsOf(backend: Backend, figures: BackendFigures | undefined, unavailable: string | undefined, scale: number): Row[] {
  const perS = (count: number, seconds: number) => round(count / seconds, 1);
  const evidenceOurs = figures ? perS(figures.evidence.rows, figures.evidence.oursS) : null;
  const evidenceFloor = figures ? perS(figures.evidence.rows, figures.evidence.floorS) : null;
  const reconcileOurs = figures ? perS(figures.reconcile.deviations, figures.reconcile.oursS) : null;
  const reconcileFloor = figures ? perS(figures.reconcile.deviations, figures.reconcile.floorS) : null;
  const snapshots = scaled(SNAPSHOTS, scale);
  const count = scaled(DEVIATIONS, scale);
  return [
    {
      benchmark: 'catalog-writes',
      workload: `${backend}: ${snapshots} evidence rows, each a commit of a ${RECORDS_PER_SNAPSHOT}-record snapshot`,
      ours: evidenceOurs,
      floor: evidenceFloor,
      unit: 'rows/s',
      ratio: ratioOf(evidenceOurs, evidenceFloor),
      peakRssMb: figures?.peakRssMb ?? null,
      targets: [],
      note: unavailable ?? 'ours: EvidenceStore.commit (stage, fsync, zstd, blob, chain row, journal); floor: the same rows INSERTed in one transaction',
    },
    {
      benchmark: 'catalog-writes',
      workload: `${backend}: reconcile of ${count.toLocaleString('en')} deviations (saveCheckRun + reconcile, all opened)`,
      ours: reconcileOurs,
      floor: reconcileFloor,
      unit: 'deviations/s',
      ratio: ratioOf(reconcileOurs, reconcileFloor),
      peakRssMb: figures?.peakRssMb ?? null,
      targets: [],
      note:
        unavailable ??
        `floor: the ${figures!.reconcile.rowsWritten.toLocaleString('en')} rows ours wrote (check run, deviations, nonconformities, history) INSERTed in one transaction`,
    },
  ];
}

async function main(args: BenchArgs): Promise<void> {
  say(
    `catalog-writes: ${scaled(SNAPSHOTS, args.scale)} evidence commits and a reconcile of ${scaled(DEVIATIONS, args.scale)} deviations, on SQLite and on PostgreSQL`,
  );
  const sqlite = (await runPhase<BackendFigures>(import.meta.url, 'sqlite', args)).result;
  let postgres: BackendFigures | undefined;
  let unavailable: string | undefined;
  const bin = postgresBinaries();
  if (!bin) unavailable = 'no PostgreSQL binaries (apt-get install postgresql, or set PG_BIN)';
  else {
    const cluster = await startPostgresCluster(bin);
    try {
      postgres = (await runPhase<BackendFigures>(import.meta.url, 'postgres', args, { url: cluster.url })).result;
    } finally {
      await cluster.stop();
    }
  }
  for (const [name, figures] of [
    ['sqlite', sqlite],
    ['postgres', postgres],
  ] as const) {
    if (!figures) continue;
    say(
      `  ${name.padEnd(8)} evidence: ${figures.evidence.rows} commits in ${figures.evidence.oursS.toFixed(2)} s (floor ${figures.evidence.floorS.toFixed(3)} s); ` +
        `reconcile: ${figures.reconcile.deviations} deviations in ${figures.reconcile.oursS.toFixed(2)} s (floor ${figures.reconcile.floorS.toFixed(3)} s for ${figures.reconcile.rowsWritten} rows)`,
    );
  }
  const result: BenchResult = {
    benchmark: 'catalog-writes',
    scale: args.scale,
    rows: [...rowsOf('sqlite', sqlite, undefined, args.scale), ...rowsOf('postgres', postgres, unavailable, args.scale)],
    figures: { sqlite, postgres: postgres ?? null },
  };
  emit(result);
}

await runBenchmark(main, {
  sqlite: (args) => measureBackend(args, 'sqlite'),
  postgres: (args) => measureBackend(args, 'postgres'),
});
