import { afterEach, describe, expect, it } from 'vitest';
import { FINDING_LEDGER_SCHEMA, FindingLedger } from '../../evidence/finding-ledger.ts';
import { Finding, Scan } from '../../core/records.ts';
import { findingSubject } from '../../core/check-results.ts';
import { SqliteCatalog } from '../../evidence/catalog.ts';
import { BACKENDS, closeTestCatalogs, testCatalog } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

const day = (n: number) => new Date(Date.UTC(2026, 8, 1) + n * 86_400_000).toISOString();
const finding = (scanner: string, at: number, overrides: Partial<Finding> = {}) =>
  Finding.parse({
    kind: 'finding',
    source: 's',
    scanner,
    id: 'CVE-2024-6387',
    title: 'regreSSHion',
    severity: 'high',
    cvss: 8.1,
    asset: 'registry/api:1',
    location: 'openssh-client@9.2',
    scannedAt: day(at),
    firstSeenAt: day(at),
    fixAvailable: true,
    ...overrides,
  });
const scan = (scanner: string, at: number, asset = 'registry/api:1') =>
  Scan.parse({ kind: 'scan', source: 's', scanner, asset, scannedAt: day(at), origin: 'file', findingCount: 0 });
const subject = 'registry/api:1|CVE-2024-6387|openssh-client@9.2';

describe.each(BACKENDS)('finding ledger (%s)', (backend) => {
  it('keeps the first detection across later scans, so the SLA clock is not reset', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    expect((await ledger.observe([finding('trivy', 0), scan('trivy', 0)])).get(subject)).toBe(day(0));
    expect((await ledger.observe([finding('trivy', 20), scan('trivy', 20)])).get(subject)).toBe(day(0));
    expect((await ledger.observe([finding('trivy', 20), scan('trivy', 20)])).get(subject)).toBe(day(0));
    expect(await ledger.get(subject)).toMatchObject({ firstSeenAt: day(0), lastSeenAt: day(20), fixedAt: null, episodes: 1 });
  });

  it('makes one finding of the same vulnerability from Trivy and Grype', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    await ledger.observe([finding('grype', 3), scan('grype', 3), finding('trivy', 5), scan('trivy', 5)]);
    expect(await ledger.list()).toHaveLength(1);
    expect(await ledger.get(subject)).toMatchObject({ scanners: ['grype', 'trivy'], firstSeenAt: day(3) });
  });

  it('marks a finding fixed when a later complete scan of its asset no longer reports it, and records the time to fix', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    await ledger.observe([finding('trivy', 0), scan('trivy', 0)]);
    expect((await ledger.observe([scan('trivy', 12)])).size).toBe(0);
    expect(await ledger.get(subject)).toMatchObject({ fixedAt: day(12) });
    expect(await ledger.remediations()).toEqual([{ subject, severity: 'high', firstSeenAt: day(0), fixedAt: day(12), daysToFix: 12, controls: [] }]);
    // The old scan read again does not reopen it.
    await ledger.observe([finding('trivy', 0), scan('trivy', 0)]);
    expect((await ledger.get(subject))!.fixedAt).toBe(day(12));
  });

  it('a scan by another scanner, or of another asset, does not fix it', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    await ledger.observe([finding('trivy', 0), scan('trivy', 0)]);
    await ledger.observe([scan('nessus', 10), scan('trivy', 10, 'registry/web:1')]);
    expect((await ledger.get(subject))!.fixedAt).toBeNull();
  });

  it('a vulnerability that returns after its fix starts a new episode with its own clock', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    await ledger.observe([finding('trivy', 0), scan('trivy', 0)]);
    await ledger.observe([scan('trivy', 10)]);
    expect((await ledger.observe([finding('trivy', 30), scan('trivy', 30)])).get(subject)).toBe(day(30));
    expect(await ledger.get(subject)).toMatchObject({ episodes: 2, fixedAt: null, firstSeenAt: day(30) });
  });

  it('keeps which controls observed a finding, into its remediation record', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    await ledger.observe([finding('trivy', 0), scan('trivy', 0)], 'internet-facing');
    await ledger.observe([finding('trivy', 1), scan('trivy', 1)], 'all-assets');
    await ledger.observe([finding('trivy', 2), scan('trivy', 2)], 'internet-facing');
    expect((await ledger.get(subject))?.controls).toEqual(['all-assets', 'internet-facing']);
    await ledger.observe([scan('trivy', 5)], 'all-assets');
    expect((await ledger.remediations()).map((entry) => entry.controls)).toEqual([['all-assets', 'internet-facing']]);
  });

  it('a scan closes every unreported open finding of its asset across many pages, in whatever order they were first seen', async () => {
    const ledger = new FindingLedger(await testCatalog(backend));
    // 2,500 open findings (pages of 1,000), first seen in an order unrelated to their subjects.
    const locations = Array.from({ length: 2500 }, (_, index) => `pkg-${(index * 7919) % 2500}@1`);
    for (let from = 0; from < locations.length; from += 700) {
      await ledger.fold(locations.slice(from, from + 700).map((location) => finding('trivy', 0, { location })));
    }
    // The next scan still reports every third one; the rest are fixed by it, page boundaries or not.
    const stillReported = locations.filter((_, index) => index % 3 === 0);
    await ledger.observe([...stillReported.map((location) => finding('trivy', 9, { location })), scan('trivy', 9)]);
    const fixed = (await ledger.list({ open: false })).map((entry) => entry.location).sort();
    const open = (await ledger.list({ open: true })).map((entry) => entry.location).sort();
    expect(open).toEqual([...stillReported].sort());
    expect(fixed).toEqual(locations.filter((_, index) => index % 3 !== 0).sort());
    expect(await ledger.remediations()).toHaveLength(fixed.length);
  });

  it('folds batches of every size whole, through a few statement shapes rather than one per size', async () => {
    const catalog = await testCatalog(backend);
    const ledger = new FindingLedger(catalog);
    const statementsBefore = catalog instanceof SqliteCatalog ? catalog.preparedStatements : 0;
    let folded = 0;
    let seenAgain = 0;
    // 40 batches of 37 to 1,480 findings, each size different, half of them seen again with a later scan.
    for (let size = 37; size <= 1480; size += 37) {
      const batch = Array.from({ length: size }, (_, index) => finding('trivy', 1, { location: `pkg-${folded + index}@1` }));
      await ledger.fold(batch);
      const again = batch.slice(0, Math.floor(size / 2));
      await ledger.fold(again.map((seen) => ({ ...seen, scannedAt: day(2) })));
      seenAgain += again.length;
      expect((await ledger.firstSeen(batch.map(findingSubject))).size).toBe(size);
      folded += size;
    }
    expect(await ledger.list()).toHaveLength(folded);
    expect((await ledger.list()).filter((entry) => entry.lastSeenAt === day(2))).toHaveLength(seenAgain);
    if (catalog instanceof SqliteCatalog) expect(catalog.preparedStatements - statementsBefore).toBeLessThan(40);
  });

  it('a ledger paged by subject before the rowid index keeps its rows and closes them as before', async () => {
    const catalog = await testCatalog(backend);
    await catalog.migrateModule(FINDING_LEDGER_SCHEMA.module, FINDING_LEDGER_SCHEMA.migrations.slice(0, 3));
    for (const location of ['pkg-b@1', 'pkg-a@1', 'pkg-c@1']) {
      await catalog.run(
        `INSERT INTO finding_ledger (subject, asset, vulnerability, location, severity, first_seen_at, last_seen_at, fixed_at, scanners, episodes, controls)
         VALUES (?, 'registry/api:1', 'CVE-2024-6387', ?, 'high', ?, ?, NULL, '["trivy"]', 1, '[]')`,
        `registry/api:1|CVE-2024-6387|${location}`,
        location,
        day(0),
        day(0),
      );
    }
    const ledger = new FindingLedger(catalog);
    await ledger.observe([finding('trivy', 4, { location: 'pkg-a@1' }), scan('trivy', 4)]);
    expect((await ledger.list({ open: true })).map((entry) => entry.location)).toEqual(['pkg-a@1']);
    expect((await ledger.list({ open: false })).map((entry) => [entry.location, entry.fixedAt])).toEqual([
      ['pkg-b@1', day(4)],
      ['pkg-c@1', day(4)],
    ]);
  });

  it('adds the controls column to a ledger written before it, keeping every row', async () => {
    const catalog = await testCatalog(backend);
    await catalog.migrateModule('finding-ledger', [
      `CREATE TABLE finding_ledger (subject TEXT PRIMARY KEY, asset TEXT NOT NULL, vulnerability TEXT NOT NULL, location TEXT NOT NULL,
         severity TEXT NOT NULL, first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, fixed_at TEXT, scanners TEXT NOT NULL, episodes INTEGER NOT NULL);
       CREATE INDEX finding_ledger_asset ON finding_ledger (asset, fixed_at);
       CREATE TABLE finding_remediations (subject TEXT NOT NULL, severity TEXT NOT NULL, first_seen_at TEXT NOT NULL, fixed_at TEXT NOT NULL,
         days_to_fix REAL NOT NULL, PRIMARY KEY (subject, first_seen_at));`,
    ]);
    await catalog.run(
      "INSERT INTO finding_ledger VALUES (?, 'api', 'CVE-OLD', 'pkg@1', 'high', ?, ?, NULL, '[\"trivy\"]', 1)",
      'api|CVE-OLD|pkg@1',
      day(0),
      day(0),
    );
    const ledger = new FindingLedger(catalog);
    expect(await ledger.get('api|CVE-OLD|pkg@1')).toMatchObject({ vulnerability: 'CVE-OLD', controls: [] });
    await ledger.observe([finding('trivy', 1), scan('trivy', 1)], 'weekly');
    expect((await ledger.get(subject))?.controls).toEqual(['weekly']);
  });
});
