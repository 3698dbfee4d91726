import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../evidence/blob-store-s3.ts';
import { EvidenceStore, type SnapshotMeta } from '../evidence/store.ts';
import type { Identity } from '../core/records.ts';
import { startMoto } from '../test/support/moto.ts';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';
import {
  emit,
  mbPerS,
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
} from './common.ts';
import { generateIdentities, generatePeople } from './records.ts';

/**
 * The same snapshot committed and verified with blobs on the local disk and with blobs in S3 (moto, the S3 the tests
 * use): what moving evidence off the worker's disk costs. The filesystem store is the floor. moto is a Python
 * server on the same two cores, so the S3 side measures moto as much as the store.
 */

const RECORDS = 200_000;
const BUCKET = 'bench-evidence';
const CREDENTIALS = { accessKeyId: 'AKIAISMSBENCHS30001', secretAccessKey: 'bench-s3-secret' };

interface StoreFigures {
  bytes: number;
  storedBytes: number;
  commitS: number;
  verifyS: number;
  peakRssMb: number;
}

const meta: SnapshotMeta = {
  runId: 'run-1',
  controlId: 'access-review',
  sourceName: 'directory',
  connector: 'bench',
  connectorVersion: '1',
  kinds: ['identity'],
  collectedAt: '2026-01-15T00:00:00.000Z',
  provenance: { bench: 'evidence-s3' },
  warnings: [],
};

function records(scale: number): Identity[] {
  const random = new Random(SEED ^ 0x5e3);
  const people = generatePeople(random, Math.max(1, Math.round(scaled(RECORDS, scale) / 15)));
  return generateIdentities(random, scaled(RECORDS, scale), people);
}

async function writeAndVerify(args: BenchArgs, endpoint: string | undefined): Promise<void> {
  const list = records(args.scale);
  const scratch = scratchDir('evidence-s3');
  try {
    const blobs = endpoint
      ? new S3BlobStore(
          { kind: 's3', bucket: BUCKET, prefix: 'bench/', region: 'us-east-1', endpoint, forcePathStyle: true, partSizeMiB: 64 },
          { credentials: CREDENTIALS },
        )
      : undefined;
    const store = await EvidenceStore.open(scratch.dir, { blobs });
    const committed = await measure(async () => {
      const staged = await store.stage(meta.runId, meta.sourceName);
      for (const record of list) await staged.append(record);
      return store.commit(staged, meta);
    });
    const verified = await measure(() => store.verify());
    store.close();
    if (!verified.value.ok) throw new Error(`verify failed: ${JSON.stringify(verified.value.problems)}`);
    emit({
      bytes: committed.value.size,
      storedBytes: committed.value.storedSize,
      commitS: committed.wallS,
      verifyS: verified.wallS,
      peakRssMb: peakRssMb(),
    } satisfies StoreFigures);
  } finally {
    scratch.remove();
  }
}

async function main(args: BenchArgs): Promise<void> {
  const count = scaled(RECORDS, args.scale);
  say(`evidence-s3: ${count.toLocaleString('en')} identity records, committed and verified on the filesystem and on S3 (moto)`);
  const filesystem = (await runPhase<StoreFigures>(import.meta.url, 'filesystem', args, {}, { execArgv: [...WORKER_NODE_FLAGS] })).result;
  const moto = await startMoto();
  let s3: StoreFigures;
  try {
    const admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    admin.destroy();
    s3 = (await runPhase<StoreFigures>(import.meta.url, 's3', args, { endpoint: moto.endpoint }, { execArgv: [...WORKER_NODE_FLAGS] })).result;
  } finally {
    await moto.stop();
  }
  const mb = (filesystem.bytes / 1e6).toFixed(0);
  const stored = (filesystem.storedBytes / 1e6).toFixed(1);
  for (const [name, figures] of [
    ['filesystem', filesystem],
    ['s3 (moto)', s3],
  ] as const) {
    say(
      `  ${name.padEnd(10)} commit ${figures.commitS.toFixed(2)} s (${mbPerS(figures.bytes, figures.commitS)} MB/s), verify ${figures.verifyS.toFixed(2)} s, peak RSS ${figures.peakRssMb} MB`,
    );
  }
  const row = (what: string, ours: number, floor: number) => ({
    benchmark: 'evidence-s3',
    workload: `${count.toLocaleString('en')} identities, ${mb} MB NDJSON (${stored} MB stored): ${what}, S3 (moto) vs filesystem`,
    ours,
    floor,
    unit: 's',
    ratio: ratioOf(ours, floor),
    peakRssMb: s3.peakRssMb,
    targets: [],
    note: 'the floor is the filesystem blob store; moto runs on the same cores',
  });
  const result: BenchResult = {
    benchmark: 'evidence-s3',
    scale: args.scale,
    rows: [row('stage + commit', round(s3.commitS), round(filesystem.commitS)), row('verify (re-hash)', round(s3.verifyS), round(filesystem.verifyS))],
    figures: { filesystem, s3 },
  };
  emit(result);
}

await runBenchmark(main, {
  filesystem: (args) => writeAndVerify(args, undefined),
  s3: (args) => writeAndVerify(args, args.options.endpoint),
});
