import { z } from 'zod';
import type { JsonPass, JsonSkeleton } from '../json-stream.ts';
import { grype } from './grype.ts';
import { nessus } from './nessus.ts';
import { openVas } from './openvas.ts';
import { sarif } from './sarif.ts';
import { readJsonExport, type ParseOptions, type ScanFormatDefinition, type ScannerRecord } from './shared.ts';
import { trivy } from './trivy.ts';

export { parseGrype } from './grype.ts';
export { parseNessus } from './nessus.ts';
export { parseOpenVas } from './openvas.ts';
export { parseSarif } from './sarif.ts';
export { parseTrivy } from './trivy.ts';
export type { ParseOptions, ScannerRecord } from './shared.ts';

/**
 * Every format the connector reads. A file is of the first format of its container (JSON or XML) whose test it
 * passes, in this order. A new format is a file beside these exporting its definition, and a row here.
 */
export const SCAN_FORMATS = [sarif, trivy, grype, nessus, openVas] as const;

export const ScanFormat = z.enum(SCAN_FORMATS.map((format) => format.name));
export type ScanFormat = z.infer<typeof ScanFormat>;

const titles = SCAN_FORMATS.map((format) => format.title);
/** The formats read, as a message refusing a file names them. */
export const KNOWN_FORMATS = `${titles.slice(0, -1).join(', ')} or ${titles.at(-1)}`;

export function formatNamed(name: ScanFormat): ScanFormatDefinition {
  return SCAN_FORMATS.find((format) => format.name === name)!;
}

/** `readJsonExport` of the JSON format named. */
export function readScanJson(
  format: ScanFormat,
  pass: JsonPass,
  origin: string,
  options: ParseOptions = {},
  context?: JsonSkeleton,
): AsyncGenerator<ScannerRecord> {
  const definition = formatNamed(format);
  if (definition.container !== 'json') throw new Error(`${format} is not a JSON format`);
  return readJsonExport(definition, pass, origin, options, context);
}

/** Streams an XML scan document of a known format. */
export function parseScanXml(
  format: ScanFormat,
  chunks: AsyncIterable<string | Uint8Array>,
  origin: string,
  options: ParseOptions = {},
): AsyncGenerator<ScannerRecord> {
  const definition = formatNamed(format);
  if (definition.container !== 'xml') throw new Error(`${format} is not an XML format`);
  return definition.parse(chunks, origin, options);
}
