import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlib, createGzip, createZstdCompress } from 'node:zlib';
import { EvidenceStore, type SnapshotMeta } from '../evidence/store.ts';
import type { Identity } from '../core/records.ts';
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
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';

/**
 * A snapshot of 1M identity records through the evidence store (stage, append each record, commit: NDJSON staging
 * file, sha256, zstd, content-addressed blob, catalog row), against the floor of doing only the unavoidable part to
 * the same NDJSON bytes: sha256, zstd level 3 and a durable write. A second identical snapshot must reuse the blob.
 * The codec choice is measured on the same bytes: gzip level 6 against zstd level 3, both from node:zlib.
 */

const RECORDS = 1_000_000;
const CHUNK = 1 << 20;

function records(scale: number): Identity[] {
  const random = new Random(SEED ^ 0x5eed);
  const people = generatePeople(random, Math.max(1, Math.round(scaled(RECORDS, scale) / 15)));
  return generateIdentities(random, scaled(RECORDS, scale), people);
}

/** The exact bytes the store's staging file holds: one JSON line per record. */
function ndjsonChunks(list: readonly Identity[]): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: string[] = [];
  let pendingBytes = 0;
  for (const record of list) {
    const line = `${JSON.stringify(record)}\n`;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= CHUNK) {
      chunks.push(Buffer.from(pending.join('')));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length > 0) chunks.push(Buffer.from(pending.join('')));
  return chunks;
}

function meta(runId: string): SnapshotMeta {
  return {
    runId,
    controlId: 'access-review',
    sourceName: 'directory',
    connector: 'bench',
    connectorVersion: '1',
    kinds: ['identity'],
    collectedAt: '2026-01-15T00:00:00.000Z',
    provenance: { bench: 'evidence-write' },
    warnings: [],
  };
}

function blobFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(full);
    }
  };
  walk(dir);
  return found;
}

interface StoreOutcome {
  records: number;
  bytes: number;
  storedBytes: number;
  first: { wallS: number; cpuS: number; appendS: number; commitS: number };
  second: { wallS: number; cpuS: number; appendS: number; commitS: number };
  blobFiles: number;
  sameBlob: boolean;
  peakRssMb: number;
}

async function ours(args: BenchArgs): Promise<void> {
  const list = records(args.scale);
  const scratch = scratchDir('evidence-write');
  try {
    const store = await EvidenceStore.open(scratch.dir);
    const split: { appendS: number; commitS: number }[] = [];
    const snapshot = async (runId: string) => {
      const started = performance.now();
      const staged = await store.stage(runId, 'directory');
      for (const record of list) await staged.append(record);
      const appended = performance.now();
      const row = await store.commit(staged, meta(runId));
      split.push({ appendS: round((appended - started) / 1000), commitS: round((performance.now() - appended) / 1000) });
      return row;
    };
    const first = await measure(() => snapshot('run-1'));
    const second = await measure(() => snapshot('run-2'));
    const blobs = blobFiles(path.join(scratch.dir, 'evidence', 'blobs'));
    await store.close();
    if (blobs.length !== 1 || first.value.uri !== second.value.uri) {
      throw new Error(`the second identical snapshot was not deduplicated: ${blobs.length} blob files, uris ${first.value.uri} and ${second.value.uri}`);
    }
    emit({
      records: first.value.recordCount,
      bytes: first.value.size,
      storedBytes: first.value.storedSize,
      first: { wallS: first.wallS, cpuS: first.cpuS, ...split[0]! },
      second: { wallS: second.wallS, cpuS: second.cpuS, ...split[1]! },
      blobFiles: blobs.length,
      sameBlob: first.value.sha256 === second.value.sha256,
      peakRssMb: peakRssMb(),
    } satisfies StoreOutcome);
  } finally {
    scratch.remove();
  }
}

interface CodecFigure {
  codec: string;
  wallS: number;
  cpuS: number;
  outBytes: number;
  ratio: number;
  mbPerS: number;
}

interface FloorOutcome {
  bytes: number;
  wallS: number;
  cpuS: number;
  storedBytes: number;
  peakRssMb: number;
  codecs: CodecFigure[];
}

/** Compresses the chunks and counts the output, to compare codecs on the same bytes without the disk. */
async function compressedSize(chunks: readonly Buffer[], codec: Transform): Promise<number> {
  let out = 0;
  await pipeline(
    Readable.from(chunks),
    codec,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out += chunk.length;
        done();
      },
    }),
  );
  return out;
}

async function floor(args: BenchArgs): Promise<void> {
  const chunks = ndjsonChunks(records(args.scale));
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const scratch = scratchDir('evidence-floor');
  try {
    const file = path.join(scratch.dir, 'blob.ndjson.zst');
    const run = await measure(async () => {
      const hash = createHash('sha256');
      await pipeline(
        Readable.from(chunks),
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        createZstdCompress({ params: { [zlib.ZSTD_c_compressionLevel]: 3 } }),
        createWriteStream(file),
      );
      const handle = await open(file, 'r');
      await handle.sync();
      await handle.close();
      return hash.digest('hex');
    });
    const storedBytes = statSync(file).size;
    const codecs: CodecFigure[] = [];
    for (const [codec, make] of [
      ['zstd level 3', () => createZstdCompress({ params: { [zlib.ZSTD_c_compressionLevel]: 3 } })],
      ['gzip level 6', () => createGzip({ level: 6 })],
    ] as const) {
      const timed = await measure(() => compressedSize(chunks, make()));
      codecs.push({
        codec,
        wallS: timed.wallS,
        cpuS: timed.cpuS,
        outBytes: timed.value,
        ratio: round(bytes / timed.value, 2),
        mbPerS: mbPerS(bytes, timed.wallS),
      });
    }
    emit({ bytes, wallS: run.wallS, cpuS: run.cpuS, storedBytes, peakRssMb: peakRssMb(), codecs } satisfies FloorOutcome);
  } finally {
    scratch.remove();
  }
}

async function main(args: BenchArgs): Promise<void> {
  const count = scaled(RECORDS, args.scale);
  say(`evidence-write: ${count.toLocaleString('en')} identity records`);
  const floorRun = (await runPhase<FloorOutcome>(import.meta.url, 'floor', args)).result;
  const floorTput = mbPerS(floorRun.bytes, floorRun.wallS);
  say(
    `  floor (sha256 + zstd 3 + write + fsync of the same NDJSON): ${floorRun.wallS.toFixed(2)} s for ${(floorRun.bytes / 1e6).toFixed(0)} MB = ${floorTput} MB/s`,
  );
  for (const codec of floorRun.codecs) {
    say(
      `  codec ${codec.codec.padEnd(12)} ${codec.wallS.toFixed(2)} s  ${codec.mbPerS} MB/s  ratio ${codec.ratio}x  (${(codec.outBytes / 1e6).toFixed(1)} MB)`,
    );
  }
  const oursRun = (await runPhase<StoreOutcome>(import.meta.url, 'ours', args, {}, { execArgv: [...WORKER_NODE_FLAGS] })).result;
  const oursTput = mbPerS(oursRun.bytes, oursRun.first.wallS);
  say(
    `  ours (EvidenceStore stage + append + commit): ${oursRun.first.wallS.toFixed(2)} s = ${oursTput} MB/s (${round(oursRun.records / oursRun.first.wallS / 1000, 0)}k records/s), ` +
      `stored ${(oursRun.storedBytes / 1e6).toFixed(1)} MB, peak RSS ${oursRun.peakRssMb} MB`,
  );
  say(
    `    of which stage + append (JSON.stringify, staging writes): ${oursRun.first.appendS.toFixed(2)} s, commit (fsync, re-read, sha256, zstd, blob, catalog): ${oursRun.first.commitS.toFixed(2)} s`,
  );
  say(
    `  second identical snapshot: ${oursRun.second.wallS.toFixed(2)} s (append ${oursRun.second.appendS.toFixed(2)} s, commit ${oursRun.second.commitS.toFixed(2)} s), ` +
      `${oursRun.blobFiles} blob file, same blob: ${oursRun.sameBlob}`,
  );
  const zstd = floorRun.codecs.find((codec) => codec.codec.startsWith('zstd'));
  const gzip = floorRun.codecs.find((codec) => codec.codec.startsWith('gzip'));
  const result: BenchResult = {
    benchmark: 'evidence-write',
    scale: args.scale,
    rows: [
      {
        benchmark: 'evidence-write',
        workload: `${count.toLocaleString('en')} identities, ${(oursRun.bytes / 1e6).toFixed(0)} MB NDJSON, throughput`,
        ours: oursTput,
        floor: floorTput,
        unit: 'MB/s',
        ratio: ratioOf(oursTput, floorTput),
        peakRssMb: oursRun.peakRssMb,
        targets: [{ on: 'ratio', op: '>=', limit: 0.7 }],
        note: 'ratio is our throughput as a fraction of the floor; peak RSS includes the generated records, held in memory before the timer starts',
      },
      {
        benchmark: 'evidence-write',
        workload: 'second identical snapshot: blob files after both',
        ours: oursRun.blobFiles,
        floor: null,
        unit: 'files',
        ratio: null,
        peakRssMb: null,
        targets: [{ on: 'ours', op: '<=', limit: 1 }],
      },
      ...(zstd && gzip
        ? [
            {
              benchmark: 'evidence-write',
              workload: `codec: gzip -6 time / zstd -3 time (ratios ${gzip.ratio}x vs ${zstd.ratio}x)`,
              ours: gzip.wallS,
              floor: zstd.wallS,
              unit: 's',
              ratio: ratioOf(gzip.wallS, zstd.wallS),
              peakRssMb: null,
              targets: [],
              note: 'here "ours" is gzip and "floor" is zstd: how many times slower gzip is on the same bytes',
            },
          ]
        : []),
    ],
    figures: { floor: floorRun, ours: oursRun },
  };
  emit(result);
}

await runBenchmark(main, { ours, floor });
