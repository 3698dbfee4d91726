import { accessChecks } from '../checks/index.ts';
import { checkEvidence } from '../checks/kit/contract.ts';
import { Deviation } from '../core/check-results.ts';
import type { EvidenceRecord, HrPerson, Identity } from '../core/records.ts';
import { normalizeEmail } from '../checks/kit/people.ts';
import { AT, emit, measure, peakRssMb, Random, ratioOf, runBenchmark, runPhase, say, scaled, SEED, type BenchArgs, type BenchResult } from './common.ts';
import { generateIdentities, generatePeople } from './records.ts';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';

/**
 * Every access check over 300k identities and 20k HR people, as evaluateControl runs them: one snapshot per source,
 * checkEvidence over them, each check's evaluate, and each deviation parsed. The floor is the least any join of
 * accounts to people must do: index the people by email once and look every identity up once.
 */

const IDENTITIES = 300_000;
const PEOPLE = 20_000;

interface Workload {
  people: HrPerson[];
  identities: Identity[];
}

function workload(scale: number): Workload {
  const random = new Random(SEED);
  const people = generatePeople(random, scaled(PEOPLE, scale));
  const identities = generateIdentities(random, scaled(IDENTITIES, scale), people);
  return { people, identities };
}

/** One snapshot per source, as the control's sources would have committed them. */
function snapshotsOf({ people, identities }: Workload): { evidenceId: string; records: EvidenceRecord[] }[] {
  const bySource = new Map<string, EvidenceRecord[]>();
  for (const identity of identities) {
    const list = bySource.get(identity.source) ?? [];
    list.push(identity);
    bySource.set(identity.source, list);
  }
  return [...[...bySource].map(([source, records]) => ({ evidenceId: `ev-${source}`, records })), { evidenceId: 'ev-hr', records: people }];
}

interface CheckFigure {
  checkId: string;
  deviations: number;
  evaluateS: number;
  parseS: number;
}

interface PhaseOutcome {
  wallS: number;
  cpuS: number;
  peakRssMb: number;
  identities: number;
  people: number;
  checks?: CheckFigure[];
  matched?: number;
}

async function ours(args: BenchArgs): Promise<void> {
  const data = workload(args.scale);
  const snapshots = snapshotsOf(data);
  const params = accessChecks.map((check) => check.params.parse({}) as unknown);
  const run = await measure(() => {
    const evidence = checkEvidence(snapshots);
    return accessChecks.map((check, index): CheckFigure => {
      const started = performance.now();
      const found = check.evaluate(evidence, params[index], AT);
      const evaluated = performance.now();
      for (const deviation of found) Deviation.parse(deviation);
      return { checkId: check.id, deviations: found.length, evaluateS: (evaluated - started) / 1000, parseS: (performance.now() - evaluated) / 1000 };
    });
  });
  emit({
    wallS: run.wallS,
    cpuS: run.cpuS,
    peakRssMb: peakRssMb(),
    identities: data.identities.length,
    people: data.people.length,
    checks: run.value,
  } satisfies PhaseOutcome);
}

async function floor(args: BenchArgs): Promise<void> {
  const data = workload(args.scale);
  const run = await measure(() => {
    const byEmail = new Map<string, HrPerson>();
    for (const person of data.people) if (person.email) byEmail.set(person.email.toLowerCase(), person);
    let matched = 0;
    for (const identity of data.identities) {
      const address = normalizeEmail(identity.email ?? identity.username);
      if (address !== null && byEmail.has(address)) matched++;
    }
    return matched;
  });
  emit({
    wallS: run.wallS,
    cpuS: run.cpuS,
    peakRssMb: peakRssMb(),
    identities: data.identities.length,
    people: data.people.length,
    matched: run.value,
  } satisfies PhaseOutcome);
}

async function main(args: BenchArgs): Promise<void> {
  say(`access-review: ${scaled(IDENTITIES, args.scale).toLocaleString('en')} identities x ${scaled(PEOPLE, args.scale).toLocaleString('en')} HR people`);
  const floorRun = (await runPhase<PhaseOutcome>(import.meta.url, 'floor', args)).result;
  say(
    `  floor (index people by email, one pass over identities): ${floorRun.wallS.toFixed(3)} s, ${floorRun.matched} matched, peak RSS ${floorRun.peakRssMb} MB`,
  );
  const oursRun = (await runPhase<PhaseOutcome>(import.meta.url, 'ours', args, {}, { execArgv: [...WORKER_NODE_FLAGS] })).result;
  say(
    `  ours (${accessChecks.length} access checks + Deviation.parse): ${oursRun.wallS.toFixed(3)} s (CPU ${oursRun.cpuS.toFixed(3)} s), peak RSS ${oursRun.peakRssMb} MB`,
  );
  for (const check of oursRun.checks ?? []) {
    say(
      `    ${check.checkId.padEnd(22)} ${String(check.deviations).padStart(7)} deviations  evaluate ${check.evaluateS.toFixed(3)} s  parse ${check.parseS.toFixed(3)} s`,
    );
  }
  const workloadName = `${oursRun.identities.toLocaleString('en')} identities x ${oursRun.people.toLocaleString('en')} people, 7 checks`;
  const result: BenchResult = {
    benchmark: 'access-review',
    scale: args.scale,
    rows: [
      {
        benchmark: 'access-review',
        workload: workloadName,
        ours: oursRun.wallS,
        floor: floorRun.wallS,
        unit: 's',
        ratio: ratioOf(oursRun.wallS, floorRun.wallS),
        peakRssMb: oursRun.peakRssMb,
        targets: [
          { on: 'ours', op: '<', limit: 2 },
          { on: 'peakRssMb', op: '<', limit: 512 },
        ],
        note: 'peak RSS includes the generated records the checks read, as evaluateControl holds them',
      },
    ],
    figures: { floor: floorRun, ours: oursRun },
  };
  emit(result);
}

await runBenchmark(main, { ours, floor });
