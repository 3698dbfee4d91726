import { z } from 'zod';
import type { EvidenceRecord } from '../core/records.ts';
import { daysBetween, defineCheck, type CheckDeviation } from './kit/contract.ts';
import { matchesPattern } from './kit/patterns.ts';

const AssetGroup = z.strictObject({
  name: z.string().min(1).describe("The group's name, as deviations call it."),
  assets: z.array(z.string().min(1)).min(1).describe('Assets in the group, by name with `*` wildcards.'),
  maxAgeDays: z.number().positive().optional().describe("This group's limit in days; the check's maxAgeDays by default."),
  expected: z.array(z.string().min(1)).default([]).describe('Assets that must each have been scanned; one missing or stale is a deviation of its own.'),
  per: z
    .enum(['asset', 'group'])
    .default('asset')
    .describe(
      '`asset`: every asset of the group in the evidence needs a recent scan of its own. `group`: one recent scan of any asset of the group stands for all of them (assets scanned in rotation, or copies of one image).',
    ),
});
type AssetGroup = z.output<typeof AssetGroup>;

/** A scan time this far past the evaluation is a clock gone wrong (or a hostile file), not a recent scan. */
const CLOCK_SKEW_DAYS = 1;

interface Sighting {
  readonly scannedAt: string;
  readonly evidenceId: string;
}

/** What the evidence says of one asset: its newest scan with a credible time, and a scan whose time proves nothing. */
interface AssetScans {
  dated?: Sighting;
  undated?: Sighting & { readonly why: 'unknown' | 'future' };
}

/** The strictest limit an asset is judged by, and the group that sets it. */
interface Judgement {
  readonly maxAge: number;
  readonly group: string;
}

/**
 * Vulnerability scans are recent (A.8.8): by default every asset in the evidence, and every expected asset, needs a
 * scan newer than the group's limit (the strictest, when groups overlap); `per: group` lets one asset's scan stand
 * for its group. Findings prove a scan as scan records do.
 *
 * A scan whose time is unknown (the export stated none, so scannedAt is a stand-in such as the file's modification
 * time) or lies more than a day in the future proves nothing about recency. An asset with only such scans is a
 * deviation of its own kind (medium, as a stale scan; subject `asset:<name>` as a stale scan, so one nonconformity
 * follows the asset whether its scans are stale or undated): the evidence was collected and does not show the
 * control is met, which is a nonconformity, fail-closed. It is not the check's `error`, which means not evaluated
 * and would leave every other asset of the run unjudged.
 */
export const scanStaleness = defineCheck({
  id: 'scan-staleness',
  title: 'Vulnerability scans are recent',
  references: ['A.8.8'],
  inputs: ['scan', 'finding'],
  params: z.strictObject({
    maxAgeDays: z.number().positive().default(7).describe('Days after which a scan is stale; exactly this many days is still recent.'),
    groups: z
      .array(AssetGroup)
      .default([{ name: 'all assets', assets: ['*'], expected: [], per: 'asset' }])
      .describe('Asset groups, each judged against its own limit; by default one group of every asset, each asset judged on its own.'),
  }),
  start(params, at) {
    const byAsset = new Map<string, AssetScans>();
    return {
      add(record: EvidenceRecord, evidenceId: string) {
        if (record.kind !== 'scan' && record.kind !== 'finding') return;
        let scans = byAsset.get(record.asset);
        if (!scans) byAsset.set(record.asset, (scans = {}));
        const why = record.scanTimeUnknown === true ? 'unknown' : daysBetween(at, record.scannedAt) > CLOCK_SKEW_DAYS ? 'future' : undefined;
        if (why !== undefined) scans.undated ??= { scannedAt: record.scannedAt, evidenceId, why };
        else if (!scans.dated || Date.parse(record.scannedAt) > Date.parse(scans.dated.scannedAt)) scans.dated = { scannedAt: record.scannedAt, evidenceId };
      },
      finish: () => staleness(byAsset, params, at),
    };
  },
});

/** Every group and expected asset against what the evidence says of each asset. */
function staleness(byAsset: ReadonlyMap<string, AssetScans>, params: { maxAgeDays: number; groups: readonly AssetGroup[] }, at: Date): CheckDeviation[] {
  const deviations: CheckDeviation[] = [];
  const judged = new Map<string, Judgement>();
  const judge = (asset: string, group: AssetGroup, maxAge: number) => {
    const known = judged.get(asset);
    if (!known || maxAge < known.maxAge) judged.set(asset, { maxAge, group: group.name });
  };
  for (const group of params.groups) {
    const maxAge = group.maxAgeDays ?? params.maxAgeDays;
    const members = [...byAsset.keys()].filter((asset) => group.assets.some((pattern) => matchesPattern(pattern, asset)));
    if (members.length === 0) {
      deviations.push({
        subject: `group:${group.name}`,
        title: `No vulnerability scan of ${group.name} in the evidence`,
        severity: 'high',
        detail: `No scan in the collected evidence covers an asset matching ${group.assets.join(', ')}.`,
        values: { group: group.name, assets: group.assets, maxAgeDays: maxAge, newestScanAt: null },
        evidenceIds: [],
      });
    } else if (group.per === 'group') {
      const groupDeviation = staleGroup(group, members, byAsset, maxAge, at);
      if (groupDeviation) deviations.push(groupDeviation);
    } else {
      for (const asset of members) judge(asset, group, maxAge);
    }
    for (const asset of group.expected) judge(asset, group, maxAge);
  }
  for (const [asset, judgement] of judged) {
    const deviation = staleAsset(asset, byAsset.get(asset), judgement, at);
    if (deviation) deviations.push(deviation);
  }
  return deviations;
}

/** A group judged as one (`per: group`): its newest credibly dated scan must be recent. */
function staleGroup(
  group: AssetGroup,
  members: readonly string[],
  byAsset: ReadonlyMap<string, AssetScans>,
  maxAge: number,
  at: Date,
): CheckDeviation | undefined {
  let newest: [string, Sighting] | undefined;
  let undated: Sighting | undefined;
  for (const asset of members) {
    const scans = byAsset.get(asset)!;
    if (scans.dated && (!newest || Date.parse(scans.dated.scannedAt) > Date.parse(newest[1].scannedAt))) newest = [asset, scans.dated];
    undated ??= scans.undated;
  }
  if (!newest) {
    return {
      subject: `group:${group.name}`,
      title: `Vulnerability scans of ${group.name} have no known time`,
      severity: 'medium',
      detail: `No scan of ${group.name} in the collected evidence states when it ran (or it claims a time in the future), so none shows a scan within ${maxAge} days.`,
      values: { group: group.name, newestScanAt: null, scanTime: 'unknown', maxAgeDays: maxAge },
      evidenceIds: undated ? [undated.evidenceId] : [],
    };
  }
  const age = daysBetween(newest[1].scannedAt, at);
  if (age <= maxAge) return undefined;
  return {
    subject: `group:${group.name}`,
    title: `Vulnerability scans of ${group.name} are stale`,
    severity: 'medium',
    detail: `The newest scan of ${group.name} (${newest[0]}) ran ${newest[1].scannedAt}, ${Math.floor(age)} days ago; the limit is ${maxAge} days.`,
    values: { group: group.name, newestAsset: newest[0], newestScanAt: newest[1].scannedAt, ageDays: Math.floor(age), maxAgeDays: maxAge },
    evidenceIds: [newest[1].evidenceId],
  };
}

/** One asset against the strictest limit of the groups that judge it: missing, stale, or with no credible time. */
function staleAsset(asset: string, scans: AssetScans | undefined, { maxAge, group }: Judgement, at: Date): CheckDeviation | undefined {
  const base = { subject: `asset:${asset}` };
  if (!scans) {
    return {
      ...base,
      title: `${asset} has no vulnerability scan`,
      severity: 'high',
      detail: `${asset} is expected in ${group} but no collected scan covers it.`,
      values: { group, asset, lastScanAt: null, maxAgeDays: maxAge },
      evidenceIds: [],
    };
  }
  const undated = scans.undated;
  const undatedNote =
    undated === undefined
      ? ''
      : ` A scan of it ${undated.why === 'unknown' ? 'that states no scan time' : `claiming to have run ${undated.scannedAt}, in the future,`} does not count.`;
  if (scans.dated) {
    const age = daysBetween(scans.dated.scannedAt, at);
    if (age <= maxAge) return undefined;
    return {
      ...base,
      title: `Vulnerability scan of ${asset} is stale`,
      severity: 'medium',
      detail: `${asset} was last scanned ${scans.dated.scannedAt}, ${Math.floor(age)} days ago; the limit for ${group} is ${maxAge} days.${undatedNote}`,
      values: { group, asset, lastScanAt: scans.dated.scannedAt, ageDays: Math.floor(age), maxAgeDays: maxAge },
      evidenceIds: [scans.dated.evidenceId, ...(undated ? [undated.evidenceId] : [])].filter((id, index, ids) => ids.indexOf(id) === index),
    };
  }
  const why =
    undated!.why === 'unknown'
      ? `its scans in the collected evidence state no scan time (their scannedAt, ${undated!.scannedAt}, is a stand-in such as the file's modification time)`
      : `its newest scan claims to have run ${undated!.scannedAt}, more than ${CLOCK_SKEW_DAYS} day after this evaluation`;
  return {
    ...base,
    title: `Vulnerability scan of ${asset} has no known time`,
    severity: 'medium',
    detail: `${asset} cannot be shown to have been scanned within ${maxAge} days (the limit for ${group}): ${why}.`,
    values: {
      group,
      asset,
      lastScanAt: null,
      scanTime: undated!.why === 'unknown' ? 'unknown' : 'in the future',
      statedScanAt: undated!.scannedAt,
      maxAgeDays: maxAge,
    },
    evidenceIds: [undated!.evidenceId],
  };
}
