import { copyFile, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEvidence } from '../../checks/kit/contract.ts';
import { Deviation } from '../../core/check-results.ts';
import { scanStaleness } from '../../checks/scan-staleness.ts';
import { scannerFiles } from '../../connectors/scanner-files/index.ts';
import { Finding, Scan, type EvidenceRecord } from '../../core/records.ts';
import { collectAll, testContext } from '../support/connector-context.ts';

const AT = new Date('2026-11-25T00:00:00.000Z');
const daysAgo = (days: number) => new Date(AT.getTime() - days * 86_400_000).toISOString();

const scan = (asset: string, scannedAt: string, extra: Partial<Scan> = {}): Scan =>
  Scan.parse({ kind: 'scan', source: 'scans', scanner: 'trivy', asset, scannedAt, origin: 'file', findingCount: 0, ...extra });
const finding = (asset: string, scannedAt: string, extra: Partial<Finding> = {}): Finding =>
  Finding.parse({
    kind: 'finding',
    source: 'scans',
    scanner: 'trivy',
    id: 'CVE-2026-1',
    title: 't',
    severity: 'high',
    cvss: null,
    asset,
    location: 'p@1',
    scannedAt,
    firstSeenAt: scannedAt,
    fixAvailable: true,
    ...extra,
  });

function evaluate(records: readonly EvidenceRecord[], params: Record<string, unknown> = {}): Deviation[] {
  const evidence = checkEvidence([{ evidenceId: 'ev-1', records }]);
  return scanStaleness.evaluate(evidence, scanStaleness.params.parse(params), AT).map((deviation) => Deviation.parse(deviation));
}
const outcome = (deviations: readonly Deviation[]) => deviations.map((d) => [d.subject, d.severity, d.title]);

describe('scan-staleness', () => {
  it.each<[string, EvidenceRecord[], Record<string, unknown>, [string, string, string][]]>([
    [
      'by default every asset needs a recent scan of its own: one fresh asset does not cover a stale one',
      [scan('api', daysAgo(1)), scan('web', daysAgo(30))],
      {},
      [['asset:web', 'medium', 'Vulnerability scan of web is stale']],
    ],
    ['a finding proves a scan of its asset', [finding('api', daysAgo(1)), scan('web', daysAgo(2))], {}, []],
    [
      'a scan whose time is unknown proves nothing, however recent its stand-in',
      [scan('web', daysAgo(0), { scanTimeUnknown: true })],
      {},
      [['asset:web', 'medium', 'Vulnerability scan of web has no known time']],
    ],
    [
      'nor does a finding whose time is unknown',
      [finding('web', daysAgo(0), { scanTimeUnknown: true })],
      {},
      [['asset:web', 'medium', 'Vulnerability scan of web has no known time']],
    ],
    ['nor a scan dated years ahead', [scan('web', '5138-11-16T09:46:39.000Z')], {}, [['asset:web', 'medium', 'Vulnerability scan of web has no known time']]],
    ['a clock a few hours fast is still a recent scan', [scan('web', new Date(AT.getTime() + 6 * 3_600_000).toISOString())], {}, []],
    ['an undated scan beside a recent dated one: the dated one counts', [scan('web', daysAgo(0), { scanTimeUnknown: true }), scan('web', daysAgo(3))], {}, []],
    [
      'an undated scan beside a stale dated one: stale',
      [scan('web', daysAgo(0), { scanTimeUnknown: true }), scan('web', daysAgo(30))],
      {},
      [['asset:web', 'medium', 'Vulnerability scan of web is stale']],
    ],
    ['no scan at all', [], {}, [['group:all assets', 'high', 'No vulnerability scan of all assets in the evidence']]],
    [
      'per: group lets one recent scan stand for the group, as before',
      [scan('api', daysAgo(1)), scan('web', daysAgo(30))],
      { groups: [{ name: 'all', assets: ['*'], per: 'group' }] },
      [],
    ],
    [
      'per: group with no credibly dated scan is a deviation of the group',
      [scan('api', daysAgo(0), { scanTimeUnknown: true })],
      { groups: [{ name: 'all', assets: ['*'], per: 'group' }] },
      [['group:all', 'medium', 'Vulnerability scans of all have no known time']],
    ],
    [
      'per: group still judges its expected assets one by one',
      [scan('api', daysAgo(1)), scan('web', daysAgo(0), { scanTimeUnknown: true })],
      { groups: [{ name: 'all', assets: ['*'], per: 'group', expected: ['web', 'db'] }] },
      [
        ['asset:web', 'medium', 'Vulnerability scan of web has no known time'],
        ['asset:db', 'high', 'db has no vulnerability scan'],
      ],
    ],
    [
      'an asset in several groups is judged once, by the strictest limit',
      [scan('registry/api', daysAgo(10))],
      {
        groups: [
          { name: 'everything', assets: ['*'], maxAgeDays: 30 },
          { name: 'images', assets: ['registry/*'], maxAgeDays: 7, expected: ['registry/api'] },
        ],
      },
      [['asset:registry/api', 'medium', 'Vulnerability scan of registry/api is stale']],
    ],
  ])('%s', (_case, records, params, expected) => {
    expect(outcome(evaluate(records, params))).toEqual(expected);
  });

  it('says why an asset cannot be shown fresh, and keeps the evidence of the scan that does not count', () => {
    const [unknown] = evaluate([scan('web', daysAgo(0), { scanTimeUnknown: true })]);
    expect(unknown!.values).toEqual({ group: 'all assets', asset: 'web', lastScanAt: null, scanTime: 'unknown', statedScanAt: daysAgo(0), maxAgeDays: 7 });
    expect(unknown!.detail).toContain('state no scan time');
    expect(unknown!.evidenceIds).toEqual(['ev-1']);
    const [stale] = evaluate([scan('web', daysAgo(30)), scan('web', '5138-11-16T09:46:39.000Z')]);
    expect(stale!.values).toMatchObject({ lastScanAt: daysAgo(30), ageDays: 30 });
    expect(stale!.detail).toContain('claiming to have run 5138-11-16T09:46:39.000Z, in the future, does not count');
  });

  it('a freshly copied two-year-old SARIF that states no scan time does not make a stale estate look fresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scan-staleness-'));
    try {
      const copy = join(dir, 'old.sarif');
      // Trivy's SARIF states no invocation time; the copy's mtime is now, as after `cp`.
      await copyFile(new URL('../fixtures/scanners/trivy-alpine-310.sarif', import.meta.url), copy);
      await utimes(copy, AT, AT);
      const { ctx } = testContext({ baseDir: dir });
      const records = (await collectAll(scannerFiles.collect(scannerFiles.config.parse({ paths: [copy] }), ctx))) as EvidenceRecord[];
      expect(outcome(evaluate([...records, scan('registry/stale', daysAgo(700))]))).toEqual([
        ['asset:testdata/fixtures/images/alpine-310.tar.gz', 'medium', 'Vulnerability scan of testdata/fixtures/images/alpine-310.tar.gz has no known time'],
        ['asset:registry/stale', 'medium', 'Vulnerability scan of registry/stale is stale'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
