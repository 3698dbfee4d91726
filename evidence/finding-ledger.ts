import { findingSubject } from '../core/check-results.ts';
import { insertionOrder, type Catalog, type CatalogSession, type ModuleSchema } from './catalog.ts';
import type { EvidenceRecord, Finding, Scan } from '../core/records.ts';

const MIGRATIONS = [
  `CREATE TABLE finding_ledger (
     subject TEXT PRIMARY KEY,
     asset TEXT NOT NULL,
     vulnerability TEXT NOT NULL,
     location TEXT NOT NULL,
     severity TEXT NOT NULL,
     first_seen_at TEXT NOT NULL,
     last_seen_at TEXT NOT NULL,
     fixed_at TEXT,
     scanners TEXT NOT NULL,
     episodes INTEGER NOT NULL
   );
   CREATE INDEX finding_ledger_asset ON finding_ledger (asset, fixed_at);
   CREATE TABLE finding_remediations (
     subject TEXT NOT NULL,
     severity TEXT NOT NULL,
     first_seen_at TEXT NOT NULL,
     fixed_at TEXT NOT NULL,
     days_to_fix REAL NOT NULL,
     PRIMARY KEY (subject, first_seen_at)
   );`,
  // The controls whose runs observed a finding: each control may set its own remediation SLA.
  `ALTER TABLE finding_ledger ADD COLUMN controls TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE finding_remediations ADD COLUMN controls TEXT NOT NULL DEFAULT '[]';`,
  // A scan closes what it no longer reports a page at a time, in subject order along this index, on either backend.
  `CREATE INDEX finding_ledger_open ON finding_ledger (asset, fixed_at, subject);`,
  // A scan pages through an asset's open findings by insertion order (rowid) instead: an index ordered by subject takes
  // every new finding at a random place, and those random inserts were most of folding a 1.46M-finding scan. SQLite's
  // (asset, fixed_at) index already ends in the rowid; PostgreSQL's rowid is a column and is indexed as one.
  insertionOrder('finding_ledger'),
  {
    sqlite: 'DROP INDEX finding_ledger_open;',
    postgres: `DROP INDEX finding_ledger_open;
      DROP INDEX finding_ledger_asset;
      CREATE INDEX finding_ledger_open ON finding_ledger (asset, fixed_at, rowid);`,
  },
];

export const FINDING_LEDGER_SCHEMA: ModuleSchema = { module: 'finding-ledger', migrations: MIGRATIONS };

/**
 * What the ledger reads of a finding. A caller folding a large scan in batches keeps only this of each finding until
 * its batch is folded, rather than the whole record with its source's raw fields.
 */
export type Sighting = Pick<Finding, 'kind' | 'asset' | 'id' | 'location' | 'severity' | 'scanner' | 'scannedAt' | 'firstSeenAt'>;

/** A finding as the ledger keeps it while a batch waits to be folded. */
export function sightingOf(finding: Finding): Sighting {
  const { kind, asset, id, location, severity, scanner, scannedAt, firstSeenAt } = finding;
  return { kind, asset, id, location, severity, scanner, scannedAt, firstSeenAt };
}

export interface LedgerEntry {
  subject: string;
  asset: string;
  vulnerability: string;
  location: string;
  severity: string;
  firstSeenAt: string;
  lastSeenAt: string;
  fixedAt: string | null;
  scanners: string[];
  episodes: number;
  /** The controls whose runs observed it; empty for findings recorded before the ledger kept them. */
  controls: string[];
}

export interface Remediation {
  subject: string;
  severity: string;
  firstSeenAt: string;
  fixedAt: string;
  daysToFix: number;
  controls: string[];
}

type Row = {
  subject: string;
  asset: string;
  vulnerability: string;
  location: string;
  severity: string;
  first_seen_at: string;
  last_seen_at: string;
  fixed_at: string | null;
  scanners: string;
  episodes: number;
  controls: string;
};

/** A row as a scan pages through them, with its place in insertion order. */
type PagedRow = Row & { rowid: number };

/** A sorted JSON list of names with `item` added (unchanged when it is there already or undefined). */
const withItem = (json: string, item: string | undefined): string => {
  const items = JSON.parse(json) as string[];
  return item === undefined || items.includes(item) ? json : JSON.stringify([...items, item].sort());
};

/** Subjects per lookup and open rows per page: a bound on memory, and well under SQLite's 32,766 parameters. */
const LOOKUP_BATCH = 1000;
/** Rows per upsert: 11 parameters each, under SQLite's 32,766. */
const WRITE_BATCH = 500;

/*
 * Every distinct count of parameters is a statement of its own, prepared and kept in the catalog's statement cache:
 * a 500-row upsert holds about 440 KB of SQLite's memory and a 1,000-subject lookup about 160 KB. Batches therefore
 * come in a few sizes only (full, or a power of two), rather than one per remainder a scan happens to leave.
 */

/** The distinct subjects in lists of LOOKUP_BATCH, the last padded to a power of two with its own last subject (IN ignores repeats). */
function* lookupBatches(subjects: readonly string[]): Generator<string[]> {
  const unique = [...new Set(subjects)];
  for (let from = 0; from < unique.length; from += LOOKUP_BATCH) {
    const batch = unique.slice(from, from + LOOKUP_BATCH);
    const size = Math.min(LOOKUP_BATCH, 2 ** Math.ceil(Math.log2(batch.length)));
    while (batch.length < size) batch.push(batch.at(-1)!);
    yield batch;
  }
}

/** Rows in upserts of WRITE_BATCH, the rest in descending powers of two: an upsert may not name one row twice, so no padding. */
function* writeBatches(rows: readonly Row[]): Generator<readonly Row[]> {
  let from = 0;
  for (; rows.length - from >= WRITE_BATCH; from += WRITE_BATCH) yield rows.slice(from, from + WRITE_BATCH);
  for (let size = 2 ** Math.floor(Math.log2(WRITE_BATCH)); size >= 1; size /= 2) {
    if (rows.length - from >= size) {
      yield rows.slice(from, from + size);
      from += size;
    }
  }
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);
const earlier = (a: string, b: string) => (Date.parse(a) <= Date.parse(b) ? a : b);

/**
 * Every vulnerability ever seen on an asset (CVE or rule + asset + package or port), across scans, scanners and runs.
 * It keeps when each was first detected, so the remediation SLA clock starts there and survives later scans, and marks
 * a finding fixed when a later complete scan of its asset by a scanner that reported it no longer does.
 */
export class FindingLedger {
  private readonly catalog: Catalog;
  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(FINDING_LEDGER_SCHEMA.module, FINDING_LEDGER_SCHEMA.migrations);
    return this.catalog;
  }

  /**
   * Folds findings and scans into the ledger and returns the findings with `firstSeenAt` set to the start of their
   * current episode, recording `controlId` as one of the controls that observe them. Idempotent: folding the same
   * records again changes nothing.
   */
  async observe(records: readonly EvidenceRecord[], controlId?: string): Promise<Map<string, string>> {
    return (await this.migrated()).transaction(async (tx) => {
      await this.foldIn(tx, records, controlId);
      return this.firstSeenIn(
        tx,
        records.flatMap((record) => (record.kind === 'finding' ? [findingSubject(record)] : [])),
      );
    });
  }

  /**
   * Folds records in as `observe` does, for an evaluation too large to hold: fold every batch of findings first, then
   * the scans, which close what the findings folded before them no longer report.
   */
  async fold(records: readonly (EvidenceRecord | Sighting)[], controlId?: string): Promise<void> {
    await (await this.migrated()).transaction((tx) => this.foldIn(tx, records, controlId));
  }

  /** The start of the current episode of each of these subjects that is open; fixed and unknown ones are left out. */
  async firstSeen(subjects: readonly string[]): Promise<Map<string, string>> {
    return this.firstSeenIn(await this.migrated(), subjects);
  }

  private async firstSeenIn(db: CatalogSession, subjects: readonly string[]): Promise<Map<string, string>> {
    const firstSeen = new Map<string, string>();
    for (const batch of lookupBatches(subjects)) {
      const rows = await db.all<{ subject: string; first_seen_at: string }>(
        `SELECT subject, first_seen_at FROM finding_ledger WHERE fixed_at IS NULL AND subject IN (${placeholders(batch.length)})`,
        ...batch,
      );
      for (const row of rows) firstSeen.set(row.subject, row.first_seen_at);
    }
    return firstSeen;
  }

  /**
   * The rows of the subjects these findings touch are read at once (a page of subjects per query), changed in memory
   * finding by finding in scan order, and written back with one upsert per page: a statement per finding made folding
   * a million-finding scan take minutes.
   */
  private async foldIn(tx: CatalogSession, records: readonly (EvidenceRecord | Sighting)[], controlId: string | undefined): Promise<void> {
    const findings = records.filter((record): record is Sighting => record.kind === 'finding');
    const scans = records.filter((record): record is Scan => record.kind === 'scan');
    const rows = await this.rowsOf(tx, findings.map(findingSubject));
    const touched = new Map<string, Row>();
    for (const finding of [...findings].sort((a, b) => Date.parse(a.scannedAt) - Date.parse(b.scannedAt))) {
      const row = see(rows.get(findingSubject(finding)), finding, controlId);
      if (!row) continue;
      rows.set(row.subject, row);
      touched.set(row.subject, row);
    }
    await this.write(tx, [...touched.values()]);
    for (const scan of scans) await this.closeMissing(tx, scan, findings);
  }

  private async rowsOf(tx: CatalogSession, subjects: readonly string[]): Promise<Map<string, Row>> {
    const rows = new Map<string, Row>();
    for (const batch of lookupBatches(subjects)) {
      for (const row of await tx.all<Row>(`SELECT * FROM finding_ledger WHERE subject IN (${placeholders(batch.length)})`, ...batch))
        rows.set(row.subject, row);
    }
    return rows;
  }

  private async write(tx: CatalogSession, rows: readonly Row[]): Promise<void> {
    for (const batch of writeBatches(rows)) {
      await tx.run(
        `INSERT INTO finding_ledger (subject, asset, vulnerability, location, severity, first_seen_at, last_seen_at, fixed_at, scanners, episodes, controls)
         VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (subject) DO UPDATE SET severity = excluded.severity, first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
           fixed_at = excluded.fixed_at, scanners = excluded.scanners, episodes = excluded.episodes, controls = excluded.controls`,
        ...batch.flatMap((row) => [
          row.subject,
          row.asset,
          row.vulnerability,
          row.location,
          row.severity,
          row.first_seen_at,
          row.last_seen_at,
          row.fixed_at,
          row.scanners,
          row.episodes,
          row.controls,
        ]),
      );
    }
  }

  private async closeMissing(tx: CatalogSession, scan: Scan, findings: readonly Sighting[]): Promise<void> {
    const reported = new Set(
      findings
        .filter((finding) => finding.asset === scan.asset && finding.scanner === scan.scanner && Date.parse(finding.scannedAt) === Date.parse(scan.scannedAt))
        .map(findingSubject),
    );
    // In pages along the (asset, fixed_at, rowid) index: an asset may have millions open. A row keeps its rowid for life,
    // so a page boundary is an identity: closing rows on one page moves nothing on the next.
    for (let after = 0, open: PagedRow[]; (open = await this.openPage(tx, scan.asset, after)).length > 0; after = open.at(-1)!.rowid) {
      await this.closeUnreported(tx, scan, open, reported);
    }
  }

  private async openPage(tx: CatalogSession, asset: string, after: number): Promise<PagedRow[]> {
    return tx.all<PagedRow>(
      'SELECT rowid, * FROM finding_ledger WHERE asset = ? AND fixed_at IS NULL AND rowid > ? ORDER BY rowid LIMIT ?',
      asset,
      after,
      LOOKUP_BATCH,
    );
  }

  private async closeUnreported(tx: CatalogSession, scan: Scan, open: readonly Row[], reported: ReadonlySet<string>): Promise<void> {
    for (const row of open) {
      if (reported.has(row.subject)) continue;
      if (!(JSON.parse(row.scanners) as string[]).includes(scan.scanner)) continue;
      if (Date.parse(scan.scannedAt) <= Date.parse(row.last_seen_at)) continue;
      await tx.run('UPDATE finding_ledger SET fixed_at = ? WHERE subject = ?', scan.scannedAt, row.subject);
      await tx.run(
        'INSERT INTO finding_remediations (subject, severity, first_seen_at, fixed_at, days_to_fix, controls) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        row.subject,
        row.severity,
        row.first_seen_at,
        scan.scannedAt,
        (Date.parse(scan.scannedAt) - Date.parse(row.first_seen_at)) / 86_400_000,
        row.controls,
      );
    }
  }

  async get(subject: string): Promise<LedgerEntry | undefined> {
    const row = await (await this.migrated()).get<Row>('SELECT * FROM finding_ledger WHERE subject = ?', subject);
    return row && toEntry(row);
  }

  async list(filter: { open?: boolean } = {}): Promise<LedgerEntry[]> {
    const where = filter.open === undefined ? '' : filter.open ? 'WHERE fixed_at IS NULL' : 'WHERE fixed_at IS NOT NULL';
    return (await (await this.migrated()).all<Row>(`SELECT * FROM finding_ledger ${where} ORDER BY first_seen_at, subject`)).map(toEntry);
  }

  /** Time to remediate of every fixed episode, for the report's distribution. */
  async remediations(): Promise<Remediation[]> {
    const rows = await (
      await this.migrated()
    ).all<{ subject: string; severity: string; first_seen_at: string; fixed_at: string; days_to_fix: number; controls: string }>(
      'SELECT * FROM finding_remediations ORDER BY fixed_at, subject',
    );
    return rows.map((row) => ({
      subject: row.subject,
      severity: row.severity,
      firstSeenAt: row.first_seen_at,
      fixedAt: row.fixed_at,
      daysToFix: Number(row.days_to_fix),
      controls: JSON.parse(row.controls) as string[],
    }));
  }
}

/** The ledger row once `finding` is folded into `row` (undefined: none yet), or undefined when the finding changes nothing. */
function see(row: Row | undefined, finding: Sighting, controlId: string | undefined): Row | undefined {
  if (!row) {
    return {
      subject: findingSubject(finding),
      asset: finding.asset,
      vulnerability: finding.id,
      location: finding.location,
      severity: finding.severity,
      first_seen_at: earlier(finding.firstSeenAt, finding.scannedAt),
      last_seen_at: finding.scannedAt,
      fixed_at: null,
      scanners: JSON.stringify([finding.scanner]),
      episodes: 1,
      controls: withItem('[]', controlId),
    };
  }
  const controls = withItem(row.controls, controlId);
  const scanners = withItem(row.scanners, finding.scanner);
  if (row.fixed_at !== null) {
    // A scan from before the fix, read again, does not reopen it; a later sighting is a new episode with its own clock.
    if (Date.parse(finding.scannedAt) <= Date.parse(row.fixed_at)) return undefined;
    return {
      ...row,
      first_seen_at: later(finding.firstSeenAt, row.fixed_at),
      last_seen_at: finding.scannedAt,
      fixed_at: null,
      severity: finding.severity,
      scanners,
      episodes: Number(row.episodes) + 1,
      controls,
    };
  }
  return {
    ...row,
    first_seen_at: earlier(row.first_seen_at, earlier(finding.firstSeenAt, finding.scannedAt)),
    last_seen_at: later(row.last_seen_at, finding.scannedAt),
    severity: finding.severity,
    scanners,
    controls,
  };
}

function toEntry(row: Row): LedgerEntry {
  return {
    subject: row.subject,
    asset: row.asset,
    vulnerability: row.vulnerability,
    location: row.location,
    severity: row.severity,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    fixedAt: row.fixed_at,
    scanners: JSON.parse(row.scanners) as string[],
    episodes: Number(row.episodes),
    controls: JSON.parse(row.controls) as string[],
  };
}
