import type { CheckEvidence } from '../checks/kit/contract.ts';
import type { StateKind, StateWrites } from '../checks/kit/state.ts';
import { findingSubject } from '../core/check-results.ts';
import type { Catalog } from '../evidence/catalog.ts';
import { FindingLedger, sightingOf, type Sighting } from '../evidence/finding-ledger.ts';
import { LeaverClock } from '../evidence/leaver-clock.ts';
import type { EvidenceRecord, Scan } from '../core/records.ts';

/**
 * Findings folded into the ledger per transaction. Each commit writes back every index page its random inserts touched
 * (and checkpoints the WAL), so fewer, larger commits write each page fewer times: of the ledger's 1.46M inserts alone
 * (a SQLite microbenchmark), 10,000 per commit took 35.7 s and 50,000 took 25.4 s. The whole 1.46M-finding evaluation
 * took 81 s at 10,000 (peak RSS 540 MB) and 73 s at 25,000 (568 MB, and 607-639 MB before the ledger's statements came
 * in a few sizes): the peak is the checks' pass after the fold, whose heap a larger fold leaves bigger, and 600 MB is
 * the target. A batch waits as sightings, the few fields the ledger reads, not as records with their raw fields.
 */
const FOLD_BATCH = 10_000;

/** One source's snapshot, read as a stream in batches. */
export interface SnapshotStream {
  readonly sourceName: string;
  read(): AsyncIterable<readonly EvidenceRecord[]>;
}

/** How the records of a snapshot reach the checks, once a state kind has been loaded: a batch in, the batch as checks see it. */
export type RecordView = (batch: readonly EvidenceRecord[]) => Promise<readonly EvidenceRecord[]>;

interface StateProvider {
  /** Before any check reads: takes this run's snapshots of the sources the declaring checks read into the state, and says how checks see their records. */
  load?(catalog: Catalog, run: { controlId: string }, snapshots: readonly SnapshotStream[]): Promise<RecordView>;
  /** After a declaring check ran: stores what it handed over. */
  save?(catalog: Catalog, kept: StateWrites, evidence: CheckEvidence, at: Date): Promise<void>;
}

/** One provider per kind of state a check may keep (checks/kit/state.ts), whichever check declares it. */
export const stateProviders: { readonly [K in StateKind]: StateProvider } = {
  'finding-first-seen': {
    async load(catalog, { controlId }, snapshots) {
      const ledger = new FindingLedger(catalog);
      // Every finding first, then the scans: a scan closes what the findings before it no longer report.
      const scans: Scan[] = [];
      let findings: Sighting[] = [];
      for (const snapshot of snapshots) {
        for await (const batch of snapshot.read()) {
          for (const record of batch) {
            if (record.kind === 'finding') findings.push(sightingOf(record));
            else if (record.kind === 'scan') scans.push(record);
          }
          if (findings.length < FOLD_BATCH) continue;
          await ledger.fold(findings, controlId);
          findings = [];
        }
      }
      await ledger.fold(findings, controlId);
      await ledger.fold(scans, controlId);
      return async (batch) => {
        const subjects: string[] = [];
        for (const record of batch) if (record.kind === 'finding') subjects.push(findingSubject(record));
        if (subjects.length === 0) return batch;
        const firstSeen = await ledger.firstSeen(subjects);
        return batch.map((record) => {
          if (record.kind !== 'finding') return record;
          const since = firstSeen.get(findingSubject(record));
          return since === undefined || since === record.firstSeenAt ? record : { ...record, firstSeenAt: since };
        });
      };
    },
  },
  'leaver-clock': {
    async save(catalog, kept, evidence, at) {
      const entries = kept['leaver-clock'];
      if (!entries) return;
      // A known account missing from a system whose identities were collected was removed: revocation too.
      const systems = new Set(evidence.records('identity').map((identity) => `${identity.source}|${identity.tenant}`));
      await new LeaverClock(catalog).observe(entries, systems, at.toISOString());
    },
  },
};
