import { createWriteStream, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { collectEvidence } from '../activities/collect.ts';
import { evaluateControl } from '../activities/evaluate.ts';
import { createLogger } from '../worker/logger.ts';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';
import { openRuntime } from '../worker/runtime.ts';
import type { EvidenceRef, EvaluationSummary } from '../core/contracts.ts';
import {
  AT,
  emit,
  MB,
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

/**
 * Evaluation of one large Trivy snapshot against its collection, each in a process of its own: the control's
 * collection (scanner-files connector through collectEvidence into the evidence store) is the floor, and
 * evaluateControl over the stored snapshot (vulnerability-sla and scan-staleness, the finding ledger folded and read,
 * the check run stored) is ours. The target is peak RSS under 600 MB and time within 2x of the collection.
 *
 * The snapshot holds 146,000 findings at scale 1 (a 150 MB file), so `npm run bench` stays short; `--findings 1460000`
 * gives the 1.46M findings in 1.5 GB of issue 14 (`node bench/evaluation.ts --findings 1460000`).
 */

const DEFAULT_FINDINGS = 146_000;
const CONTROL = 'vulnerabilities';
const RUN_ID = `control:${CONTROL}:bench`;
/** The day after the generated scan: no finding is past its SLA, so the figures are the evaluation's, not the register's. */
const OCCURRENCE = AT.toISOString();
const WRITE_BATCH = 1 << 20;

const WORDS =
  'the a remote host service package library kernel module buffer overflow injection traversal crafted request denial disclosure attacker allows'.split(' ');

/**
 * A Trivy JSON report (SchemaVersion 2) of one image with `count` vulnerabilities of about 1 KB each, as Trivy
 * writes them (indented), every one at its own package and version so each is a finding subject of its own.
 */
async function writeTrivyFindings(file: string, count: number): Promise<number> {
  const random = new Random(SEED ^ 0xe7a1);
  const stream = createWriteStream(file);
  let pending: string[] = [];
  let pendingLength = 0;
  let written = 0;
  const write = async (text: string) => {
    pending.push(text);
    pendingLength += text.length;
    written += text.length;
    if (pendingLength < WRITE_BATCH) return;
    const ok = stream.write(pending.join(''));
    pending = [];
    pendingLength = 0;
    if (!ok) await once(stream, 'drain');
  };
  const head = {
    SchemaVersion: 2,
    Trivy: { Version: '0.58.1' },
    CreatedAt: '2026-01-14T06:00:00.000000005Z',
    ArtifactName: 'registry.corp.example/platform/api:2026.01.14',
    ArtifactType: 'container_image',
  };
  await write(
    `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "Results": [\n    {\n      "Target": "registry.corp.example/platform/api:2026.01.14 (alpine 3.20.3)",\n      "Class": "os-pkgs",\n      "Type": "alpine",\n      "Vulnerabilities": [`,
  );
  for (let i = 0; i < count; i++) {
    const id = `CVE-${random.int(2015, 2025)}-${random.int(1000, 49999)}`;
    const pkg = `${random.pick(WORDS)}-${i % 5000}`;
    const version = `${Math.floor(i / 5000)}.${random.int(0, 30)}.${random.int(0, 99)}`;
    const fixed = random.chance(0.6);
    const score = (random.float() * 10).toFixed(1);
    const vulnerability = {
      VulnerabilityID: id,
      PkgID: `${pkg}@${version}`,
      PkgName: pkg,
      InstalledVersion: version,
      ...(fixed ? { FixedVersion: `${version}-r1` } : {}),
      Status: fixed ? 'fixed' : 'affected',
      Layer: { Digest: `sha256:${random.hex(64)}` },
      SeveritySource: 'nvd',
      PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
      Title: Array.from({ length: 8 }, () => random.pick(WORDS)).join(' '),
      Description: Array.from({ length: random.int(20, 50) }, () => random.pick(WORDS)).join(' '),
      Severity: random.pick(['LOW', 'MEDIUM', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN']),
      CweIDs: [`CWE-${random.int(20, 900)}`],
      CVSS: { nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: Number(score) } },
      PublishedDate: '2025-06-01T00:00:00Z',
      LastModifiedDate: '2025-12-01T00:00:00Z',
    };
    await write(`${i === 0 ? '' : ','}\n        ${JSON.stringify(vulnerability, null, 2).replace(/\n/g, '\n        ')}`);
  }
  await write('\n      ]\n    }\n  ]\n}\n');
  stream.end(pending.join(''));
  await once(stream, 'finish');
  return written;
}

interface PhaseOutcome {
  wallS: number;
  cpuS: number;
  peakRssMb: number;
  ref?: EvidenceRef;
  summary?: EvaluationSummary;
  error?: string;
}

function writeConfig(dir: string, file: string): string {
  const config = path.join(dir, 'isms.yaml');
  writeFileSync(
    config,
    stringify({
      dataDir: 'data',
      controls: [
        {
          id: CONTROL,
          title: 'Vulnerabilities are remediated in time',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { every: '1 day' },
          sources: [{ name: 'trivy', connector: 'scanner-files', config: { paths: [file] } }],
          checks: [{ check: 'vulnerability-sla' }, { check: 'scan-staleness' }],
        },
      ],
    }),
  );
  return config;
}

async function collectPhase(args: BenchArgs): Promise<void> {
  const runtime = await openRuntime(args.options.config!, createLogger({ level: 'silent' }));
  try {
    const collect = (): Promise<EvidenceRef> =>
      new MockActivityEnvironment().run(collectEvidence, runtime, { runId: RUN_ID, controlId: CONTROL, sourceName: 'trivy', occurrence: OCCURRENCE });
    const run = await measure(collect);
    emit({ wallS: run.wallS, cpuS: run.cpuS, peakRssMb: peakRssMb(), ref: run.value } satisfies PhaseOutcome);
  } catch (error) {
    emit({ wallS: 0, cpuS: 0, peakRssMb: peakRssMb(), error: (error as Error).message } satisfies PhaseOutcome);
  } finally {
    runtime.close();
  }
}

async function evaluatePhase(args: BenchArgs): Promise<void> {
  const runtime = await openRuntime(args.options.config!, createLogger({ level: 'silent' }));
  try {
    const ref = JSON.parse(args.options.ref!) as EvidenceRef;
    const evaluate = (): Promise<EvaluationSummary> =>
      new MockActivityEnvironment().run(evaluateControl, runtime, { runId: RUN_ID, controlId: CONTROL, occurrence: OCCURRENCE, refs: [ref], gaps: [] });
    const run = await measure(evaluate);
    emit({ wallS: run.wallS, cpuS: run.cpuS, peakRssMb: peakRssMb(), summary: run.value } satisfies PhaseOutcome);
  } catch (error) {
    emit({ wallS: 0, cpuS: 0, peakRssMb: peakRssMb(), error: (error as Error).message } satisfies PhaseOutcome);
  } finally {
    runtime.close();
  }
}

function describe(label: string, run: PhaseOutcome): string {
  if (run.error) return `  ${label}: could not run: ${run.error.slice(0, 300)} (peak RSS ${run.peakRssMb} MB)`;
  return `  ${label}: ${run.wallS.toFixed(2)} s, CPU ${run.cpuS.toFixed(2)} s, peak RSS ${run.peakRssMb} MB`;
}

async function main(args: BenchArgs): Promise<void> {
  const scratch = scratchDir('evaluation');
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    const count = scaled(Number(args.options.findings ?? DEFAULT_FINDINGS), args.scale);
    const file = path.join(scratch.dir, 'trivy.json');
    const generated = await measure(() => writeTrivyFindings(file, count));
    say(`evaluation: Trivy JSON ${Math.round(generated.value / MB)} MB (generated in ${generated.wallS.toFixed(1)} s)`);
    const config = writeConfig(scratch.dir, file);
    const flags = { execArgv: [...WORKER_NODE_FLAGS] };

    const collected = (await runPhase<PhaseOutcome>(import.meta.url, 'collect', args, { config }, { ...flags, profileAs: 'evaluation-collect' })).result;
    say(describe('floor (collection into the evidence store)', collected));
    // The file is read; only the stored snapshot is evaluated.
    await rm(file, { force: true });
    if (!collected.ref) throw new Error(`collection failed: ${collected.error}`);
    const findings = collected.ref.recordCount - 1;

    const evaluated = (
      await runPhase<PhaseOutcome>(
        import.meta.url,
        'evaluate',
        args,
        { config, ref: JSON.stringify(collected.ref) },
        { ...flags, profileAs: 'evaluation-evaluate' },
      )
    ).result;
    say(describe(`ours (evaluateControl over ${findings.toLocaleString('en')} findings)`, evaluated));
    if (evaluated.summary) say(`  checks: ${evaluated.summary.checks.map((check) => `${check.checkId} ${check.status} (${check.deviations})`).join(', ')}`);

    figures.collection = collected;
    figures.evaluation = evaluated;
    const note = evaluated.error ? `ours failed: ${evaluated.error}` : undefined;
    const workload = `${findings.toLocaleString('en')} Trivy findings (${Math.round(generated.value / MB)} MB), vulnerability-sla + scan-staleness`;
    const oursTime = evaluated.error ? null : evaluated.wallS;
    rows.push({
      benchmark: 'evaluation',
      workload: `${workload}, time: evaluation (ours) vs collection (floor column)`,
      ours: oursTime,
      floor: collected.wallS,
      unit: 's',
      ratio: ratioOf(oursTime, collected.wallS),
      peakRssMb: evaluated.peakRssMb,
      targets: [{ on: 'ratio', op: '<=', limit: 2 }],
      ...(note ? { note } : {}),
    });
    rows.push({
      benchmark: 'evaluation',
      workload: `${workload}, peak RSS: evaluation (ours) vs collection (floor column)`,
      ours: evaluated.error ? null : evaluated.peakRssMb,
      floor: collected.peakRssMb,
      unit: 'MB',
      ratio: ratioOf(evaluated.error ? null : evaluated.peakRssMb, collected.peakRssMb),
      peakRssMb: evaluated.peakRssMb,
      targets: [{ on: 'peakRssMb', op: '<', limit: 600 }],
      ...(note ? { note } : {}),
    });
  } finally {
    scratch.remove();
  }
  emit({ benchmark: 'evaluation', scale: round(args.scale, 3), rows, figures } satisfies BenchResult);
}

await runBenchmark(main, { collect: collectPhase, evaluate: evaluatePhase });
