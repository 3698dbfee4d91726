import { fileURLToPath } from 'node:url';
import {
  decodeResumeCursor,
  readScanJson,
  scannerFiles,
  ScannerFilesConfig,
  type ParseOptions,
  type ScannerRecord,
} from '../../../connectors/scanner-files/index.ts';
import { streamJson, type JsonPass } from '../../../connectors/scanner-files/json-stream.ts';
import type { ScanFormat } from '../../../connectors/scanner-files/formats/index.ts';
import type { ConnectorContext } from '../../../connectors/contract.ts';
import { EvidenceRecord, type Finding, type Scan } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

/** The project's copies of the scanner fixtures; tests never depend on /work/shared. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/scanners/', import.meta.url));

export function fixture(name: string): string {
  return `${FIXTURES}${name}`;
}

export function findingsOf(records: readonly ScannerRecord[]): Finding[] {
  return records.filter((record): record is Finding => record.kind === 'finding');
}

export function scansOf(records: readonly ScannerRecord[]): Scan[] {
  return records.filter((record): record is Scan => record.kind === 'scan');
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Runs the connector as the collector would, and checks every record against the evidence schemas. */
export async function collect(
  config: { paths: string[] } & Record<string, unknown>,
  overrides: Partial<Omit<ConnectorContext, 'heartbeat' | 'provenance' | 'warn'>> = {},
) {
  const context = testContext({ baseDir: FIXTURES, ...overrides });
  const records = await collectAll(scannerFiles.collect(ScannerFilesConfig.parse(config), context.ctx));
  for (const record of records) EvidenceRecord.parse(record);
  return { ...context, records, findings: findingsOf(records), scans: scansOf(records) };
}

/** Collects until the connector throws; returns what it yielded before and the error. */
export async function collectUntilError(
  config: { paths: string[] } & Record<string, unknown>,
  overrides: Partial<Omit<ConnectorContext, 'heartbeat' | 'provenance' | 'warn'>> = {},
) {
  const context = testContext({ baseDir: FIXTURES, ...overrides });
  const records: ScannerRecord[] = [];
  try {
    for await (const record of scannerFiles.collect(ScannerFilesConfig.parse(config), context.ctx)) records.push(record);
  } catch (error) {
    return { ...context, records, error: error as Error };
  }
  throw new Error(`expected the collection to fail; it yielded ${records.length} records`);
}

/** Drains a parser's records and checks each against the evidence schemas. */
export async function drain(records: Iterable<ScannerRecord> | AsyncIterable<ScannerRecord>): Promise<ScannerRecord[]> {
  const out: ScannerRecord[] = [];
  for await (const record of records) {
    EvidenceRecord.parse(record);
    out.push(record);
  }
  return out;
}

/** Feeds text in small chunks, so elements, entities and multi-byte characters straddle chunk boundaries. */
export async function* chunked(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Drains records until the parser throws; returns the error. */
export async function parseError(records: Iterable<ScannerRecord> | AsyncIterable<ScannerRecord>): Promise<Error> {
  try {
    for await (const _record of records) {
      // drained for the error
    }
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the parser to fail');
}

/** Streams `text` as the connector streams a file (in small chunks here), counting how many times it is read. */
export async function streamed(format: ScanFormat, text: string, options: ParseOptions = {}) {
  let reads = 0;
  const pass: JsonPass = (plan) => {
    reads += 1;
    return streamJson(chunked(text, 997), '/scans/streamed.json', plan);
  };
  const records = await drain(readScanJson(format, pass, '/scans/streamed.json', options));
  return { records, reads };
}

/** The same JSON value with every object's keys in code-unit order, as `jq -S` or a sort_keys dump writes it. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The paths each heartbeat's cursor says are read. */
export function pathsOfCursors(heartbeats: readonly (string | undefined)[]): string[][] {
  return heartbeats.map((cursor) => decodeResumeCursor(cursor).map((read) => read.path));
}
