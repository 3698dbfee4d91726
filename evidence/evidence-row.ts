import { createHash } from 'node:crypto';

/** Evidence as the catalog describes it. */
export interface EvidenceRow {
  seq: number;
  id: string;
  runId: string;
  controlId: string;
  sourceName: string;
  connector: string;
  connectorVersion: string;
  kinds: string[];
  collectedAt: string;
  periodStart: string;
  periodEnd: string;
  sha256: string;
  size: number;
  storedSize: number;
  recordCount: number;
  uri: string;
  provenance: Record<string, unknown>;
  warnings: string[];
  prevHash: string;
  rowHash: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function rowHash(fields: Omit<EvidenceRow, 'rowHash'>): string {
  return sha256Hex(JSON.stringify(toDbValues({ ...fields, rowHash: '' }).slice(0, -1)));
}

/** Whether the row's fields still hash to the hash it carries: an edit that left `rowHash` alone shows here. */
export function holdsItsHash(row: EvidenceRow): boolean {
  const { rowHash: stored, ...fields } = row;
  return rowHash(fields) === stored;
}

export type DbRow = {
  seq: number;
  id: string;
  run_id: string;
  control_id: string;
  source_name: string;
  connector: string;
  connector_version: string;
  kinds: string;
  collected_at: string;
  period_start: string;
  period_end: string;
  sha256: string;
  size: number;
  stored_size: number;
  record_count: number;
  uri: string;
  provenance: string;
  warnings: string;
  prev_hash: string;
  row_hash: string;
};

export function toDbValues(row: EvidenceRow): (string | number)[] {
  return [
    row.seq,
    row.id,
    row.runId,
    row.controlId,
    row.sourceName,
    row.connector,
    row.connectorVersion,
    JSON.stringify(row.kinds),
    row.collectedAt,
    row.periodStart,
    row.periodEnd,
    row.sha256,
    row.size,
    row.storedSize,
    row.recordCount,
    row.uri,
    JSON.stringify(row.provenance),
    JSON.stringify(row.warnings),
    row.prevHash,
    row.rowHash,
  ];
}

export function fromDb(row: DbRow): EvidenceRow {
  return {
    seq: Number(row.seq),
    id: row.id,
    runId: row.run_id,
    controlId: row.control_id,
    sourceName: row.source_name,
    connector: row.connector,
    connectorVersion: row.connector_version,
    kinds: JSON.parse(row.kinds) as string[],
    collectedAt: row.collected_at,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    sha256: row.sha256,
    size: Number(row.size),
    storedSize: Number(row.stored_size),
    recordCount: Number(row.record_count),
    uri: row.uri,
    provenance: JSON.parse(row.provenance) as Record<string, unknown>,
    warnings: JSON.parse(row.warnings) as string[],
    prevHash: row.prev_hash,
    rowHash: row.row_hash,
  };
}
