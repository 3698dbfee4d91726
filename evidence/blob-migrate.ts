import { describeBlob, holds, inspectBlob, type BlobStore } from './blob-store.ts';
import type { FilesystemBlobStore } from './blob-store-fs.ts';
import type { Journal } from './journal.ts';
import type { EvidenceStore, VerifyProblem } from './store.ts';

export interface BlobMigrationReport {
  /** Catalog rows whose blobs were looked at. */
  rows: number;
  /** Blobs written to the target. */
  copied: number;
  /** Blobs the target already held with the right content (a migration run again). */
  present: number;
  journalEntries: number;
  /** Rows whose blob could not be copied whole: by evidence id, with what was found. */
  problems: VerifyProblem[];
}

/**
 * Copies the blobs of every catalog row, and the journal, from this host's filesystem store to another store (S3).
 * Nothing at the source is changed or removed. Each blob is re-hashed before it is copied and again where it
 * landed; a blob that does not hold its row's content is reported by evidence id and not copied. Running it again
 * copies only what is still missing.
 */
export async function migrateBlobs(
  store: EvidenceStore,
  from: FilesystemBlobStore,
  to: BlobStore,
  journals?: { from: Journal; to: Journal },
): Promise<BlobMigrationReport> {
  const rows = (await store.list({ limit: Number.MAX_SAFE_INTEGER })).reverse();
  const report: BlobMigrationReport = { rows: rows.length, copied: 0, present: 0, journalEntries: 0, problems: [] };
  const done = new Set<string>();
  for (const row of rows) {
    if (done.has(row.uri)) continue;
    done.add(row.uri);
    const expected = { sha256: row.sha256, size: row.size, storedSize: row.storedSize };
    if (await to.inspect(row.uri)) {
      const there = await inspectBlob(to, row.uri);
      if (holds(there, expected)) report.present++;
      else
        report.problems.push({
          evidenceId: row.id,
          problem: 'blob-modified',
          detail: `blob ${row.uri} in ${to.location} is ${describeBlob(there)}; the catalog says sha256 ${row.sha256}`,
        });
      continue;
    }
    const source = await inspectBlob(from, row.uri);
    if ('unreadable' in source && source.unreadable === 'missing') {
      report.problems.push({ evidenceId: row.id, problem: 'blob-missing', detail: `blob ${row.uri} is missing from ${from.location}; not copied` });
      continue;
    }
    if (!holds(source, expected)) {
      report.problems.push({
        evidenceId: row.id,
        problem: 'blob-modified',
        detail: `blob ${row.uri} in ${from.location} is ${describeBlob(source)}; the catalog says sha256 ${row.sha256}; not copied`,
      });
      continue;
    }
    await to.write(from.pathOf(row.uri), row.uri, { replace: false, storedSize: source.storedSize });
    const copy = await inspectBlob(to, row.uri);
    if (!holds(copy, expected)) {
      report.problems.push({
        evidenceId: row.id,
        problem: 'blob-modified',
        detail: `the copy of blob ${row.uri} in ${to.location} is ${describeBlob(copy)}; the catalog says sha256 ${row.sha256}`,
      });
      continue;
    }
    report.copied++;
  }
  if (journals) {
    const { entries, malformed } = await journals.from.read();
    await journals.to.append(entries);
    report.journalEntries = entries.length;
    for (const entry of malformed) report.problems.push({ evidenceId: entry.where, problem: 'journal-malformed', detail: `${entry.detail}; not copied` });
  }
  return report;
}
