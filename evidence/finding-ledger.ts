import { findingSubject } from '../checks/vulnerability-sla.ts';
import type { Catalog, CatalogSession, ModuleSchema } from './catalog.ts';
import type { EvidenceRecord, Finding, Scan } from './records.ts';

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
];

export const FINDING_LEDGER_SCHEMA: ModuleSchema = { module: 'finding-ledger', migrations: MIGRATIONS };

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

/** A sorted JSON list of names with `item` added (unchanged when it is there already or undefined). */
const withItem = (json: string, item: string | undefined): string => {
  const items = JSON.parse(json) as string[];
  return item === undefined || items.includes(item) ? json : JSON.stringify([...items, item].sort());
};

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
    const findings = records.filter((record): record is Finding => record.kind === 'finding');
    const scans = records.filter((record): record is Scan => record.kind === 'scan');
    return (await this.migrated()).transaction(async (tx) => {
      for (const finding of [...findings].sort((a, b) => Date.parse(a.scannedAt) - Date.parse(b.scannedAt))) await this.see(tx, finding, controlId);
      for (const scan of scans) await this.closeMissing(tx, scan, findings);
      const firstSeen = new Map<string, string>();
      for (const finding of findings) {
        const subject = findingSubject(finding);
        const row = await this.row(tx, subject);
        if (row && row.fixed_at === null) firstSeen.set(subject, row.first_seen_at);
      }
      return firstSeen;
    });
  }

  private async see(tx: CatalogSession, finding: Finding, controlId: string | undefined): Promise<void> {
    const subject = findingSubject(finding);
    const row = await this.row(tx, subject);
    if (!row) {
      await tx.run(
        `INSERT INTO finding_ledger (subject, asset, vulnerability, location, severity, first_seen_at, last_seen_at, fixed_at, scanners, episodes, controls)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, 1, ?)`,
        subject,
        finding.asset,
        finding.id,
        finding.location,
        finding.severity,
        earlier(finding.firstSeenAt, finding.scannedAt),
        finding.scannedAt,
        JSON.stringify([finding.scanner]),
        withItem('[]', controlId),
      );
      return;
    }
    const controls = withItem(row.controls, controlId);
    const scanners = withItem(row.scanners, finding.scanner);
    if (row.fixed_at !== null) {
      // A scan from before the fix, read again, does not reopen it; a later sighting is a new episode with its own clock.
      if (Date.parse(finding.scannedAt) <= Date.parse(row.fixed_at)) return;
      await tx.run(
        'UPDATE finding_ledger SET first_seen_at = ?, last_seen_at = ?, fixed_at = NULL, severity = ?, scanners = ?, episodes = episodes + 1, controls = ? WHERE subject = ?',
        later(finding.firstSeenAt, row.fixed_at),
        finding.scannedAt,
        finding.severity,
        scanners,
        controls,
        subject,
      );
      return;
    }
    await tx.run(
      'UPDATE finding_ledger SET first_seen_at = ?, last_seen_at = ?, severity = ?, scanners = ?, controls = ? WHERE subject = ?',
      earlier(row.first_seen_at, earlier(finding.firstSeenAt, finding.scannedAt)),
      later(row.last_seen_at, finding.scannedAt),
      finding.severity,
      scanners,
      controls,
      subject,
    );
  }

  private async closeMissing(tx: CatalogSession, scan: Scan, findings: readonly Finding[]): Promise<void> {
    const reported = new Set(
      findings
        .filter((finding) => finding.asset === scan.asset && finding.scanner === scan.scanner && Date.parse(finding.scannedAt) === Date.parse(scan.scannedAt))
        .map(findingSubject),
    );
    const open = await tx.all<Row>('SELECT * FROM finding_ledger WHERE asset = ? AND fixed_at IS NULL ORDER BY subject', scan.asset);
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

  private async row(db: CatalogSession, subject: string): Promise<Row | undefined> {
    return db.get<Row>('SELECT * FROM finding_ledger WHERE subject = ?', subject);
  }

  async get(subject: string): Promise<LedgerEntry | undefined> {
    const row = await this.row(await this.migrated(), subject);
    return row && toEntry(row);
  }

  async list(filter: { open?: boolean } = {}): Promise<LedgerEntry[]> {
    const where = filter.open === undefined ? '' : filter.open ? 'WHERE fixed_at IS NULL' : 'WHERE fixed_at IS NOT NULL';
    return (await (await this.migrated()).all<Row>(`SELECT * FROM finding_ledger ${where} ORDER BY first_seen_at, subject`)).map(toEntry);
  }

  /** Time to remediate of every fixed episode, for the report's distribution. */
  async remediations(): Promise<Remediation[]> {
    const rows = await (await this.migrated()).all<{ subject: string; severity: string; first_seen_at: string; fixed_at: string; days_to_fix: number; controls: string }>(
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
