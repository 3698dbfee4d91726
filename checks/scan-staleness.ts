import { z } from 'zod';
import { daysBetween, defineCheck, type Deviation } from './contract.ts';
import { matchesPattern } from './patterns.ts';

const AssetGroup = z.strictObject({
  name: z.string().min(1).describe('The group\'s name, as deviations call it.'),
  assets: z.array(z.string().min(1)).min(1).describe('Assets in the group, by name with `*` wildcards.'),
  maxAgeDays: z.number().positive().optional().describe('This group\'s limit in days; the check\'s maxAgeDays by default.'),
  expected: z.array(z.string().min(1)).default([]).describe('Assets that must each have been scanned; one missing or stale is a deviation of its own.'),
});

export const scanStaleness = defineCheck({
  id: 'scan-staleness',
  title: 'Vulnerability scans are recent',
  references: ['A.8.8'],
  inputs: ['scan', 'finding'],
  params: z.strictObject({
    maxAgeDays: z.number().positive().default(7).describe('Days after which a scan is stale; exactly this many days is still recent.'),
    groups: z
      .array(AssetGroup)
      .default([{ name: 'all assets', assets: ['*'], expected: [] }])
      .describe('Asset groups, each judged against its own limit; by default one group of every asset.'),
  }),
  evaluate(evidence, params, at): Deviation[] {
    const newestByAsset = new Map<string, { scannedAt: string; evidenceId: string }>();
    const sightings = [...evidence.records('scan'), ...evidence.records('finding')];
    for (const record of sightings) {
      const known = newestByAsset.get(record.asset);
      if (!known || Date.parse(record.scannedAt) > Date.parse(known.scannedAt)) {
        newestByAsset.set(record.asset, { scannedAt: record.scannedAt, evidenceId: evidence.evidenceIdOf(record) });
      }
    }

    const deviations: Deviation[] = [];
    for (const group of params.groups) {
      const maxAge = group.maxAgeDays ?? params.maxAgeDays;
      const members = [...newestByAsset].filter(([asset]) => group.assets.some((pattern) => matchesPattern(pattern, asset)));
      const newest = members.reduce<[string, { scannedAt: string; evidenceId: string }] | undefined>(
        (best, candidate) => (!best || Date.parse(candidate[1].scannedAt) > Date.parse(best[1].scannedAt) ? candidate : best),
        undefined,
      );
      if (!newest) {
        deviations.push({
          checkId: 'scan-staleness',
          subject: `group:${group.name}`,
          title: `No vulnerability scan of ${group.name} in the evidence`,
          severity: 'high',
          detail: `No scan in the collected evidence covers an asset matching ${group.assets.join(', ')}.`,
          values: { group: group.name, assets: group.assets, maxAgeDays: maxAge, newestScanAt: null },
          evidenceIds: [],
        });
      } else {
        const age = daysBetween(newest[1].scannedAt, at);
        if (age > maxAge) {
          deviations.push({
            checkId: 'scan-staleness',
            subject: `group:${group.name}`,
            title: `Vulnerability scans of ${group.name} are stale`,
            severity: 'medium',
            detail: `The newest scan of ${group.name} (${newest[0]}) ran ${newest[1].scannedAt}, ${Math.floor(age)} days ago; the limit is ${maxAge} days.`,
            values: { group: group.name, newestAsset: newest[0], newestScanAt: newest[1].scannedAt, ageDays: Math.floor(age), maxAgeDays: maxAge },
            evidenceIds: [newest[1].evidenceId],
          });
        }
      }
      for (const asset of group.expected) {
        const seen = newestByAsset.get(asset);
        const age = seen ? daysBetween(seen.scannedAt, at) : Infinity;
        if (age <= maxAge) continue;
        deviations.push({
          checkId: 'scan-staleness',
          subject: `asset:${asset}`,
          title: seen ? `Vulnerability scan of ${asset} is stale` : `${asset} has no vulnerability scan`,
          severity: seen ? 'medium' : 'high',
          detail: seen
            ? `${asset} was last scanned ${seen.scannedAt}, ${Math.floor(age)} days ago; the limit for ${group.name} is ${maxAge} days.`
            : `${asset} is expected in ${group.name} but no collected scan covers it.`,
          values: { group: group.name, asset, lastScanAt: seen?.scannedAt ?? null, maxAgeDays: maxAge },
          evidenceIds: seen ? [seen.evidenceId] : [],
        });
      }
    }
    return deviations;
  },
});
