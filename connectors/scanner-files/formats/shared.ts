import { z } from 'zod';
import type { Finding, Scan, Severity } from '../../../core/records.ts';
import { MalformedResponseError } from '../../errors.ts';
import { describeIssues } from '../../../core/zod-issues.ts';
import { readJson, type JsonPass, type JsonPath, type JsonPlan, type JsonReading, type JsonSkeleton } from '../json-stream.ts';
import { detached } from '../xml-stream.ts';

/**
 * What every scan format shares: the shape of a format's definition (one per file beside this one, listed in
 * index.ts), and the mapping rules all of them follow (severity bands and words, scan times, a finding's identity,
 * one scan record per asset, warnings said once). Choices the formats leave open are documented where they are made
 * and summarised in the README beside the connector.
 */

export const SOURCE = 'scanner-files';

export type ScannerRecord = Finding | Scan;

export interface ParseOptions {
  /** Replaces the asset every record names (config `asset`). */
  readonly asset?: string;
  /**
   * What scannedAt holds when the file states no scan time (the connector passes the file's mtime; without it, the
   * time of parsing). The records then say the scan time is unknown: a stand-in proves nothing about when it ran.
   */
  readonly fallbackScannedAt?: string;
  /** The longest value kept from an XML file (config `maxValueBytes`); JSON gets it through the pass that streams it. */
  readonly maxValueBytes?: number;
  /** Degraded data the auditor should know about (ctx.warn). */
  readonly warn?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------------------------------
// Format definitions

/** Where a JSON format keeps its items, and the rest of it a reader looks at. */
export interface JsonShape {
  readonly plan: JsonPlan;
  readonly isItem: (path: JsonPath) => boolean;
}

/** A JSON export, told by its top-level members and read as a stream of items mapped with their context. */
export interface JsonScanFormat<Name extends string = string> {
  readonly name: Name;
  /** How a message listing the formats read names it. */
  readonly title: string;
  readonly container: 'json';
  /** Whether a document's top-level members (of the whole document, or of its context) are this format's. */
  isDocument(top: Readonly<Record<string, unknown>>): boolean;
  readonly shape: JsonShape;
  /** How one export is mapped; `warn` says each distinct warning once per export. */
  reading(origin: string, options: ParseOptions, warn: Warn): JsonReading<ScannerRecord>;
}

/** An XML export, told by its root element and streamed by its own parser. */
export interface XmlScanFormat<Name extends string = string> {
  readonly name: Name;
  /** How a message listing the formats read names it. */
  readonly title: string;
  readonly container: 'xml';
  readonly roots: ReadonlySet<string>;
  parse(chunks: AsyncIterable<string | Uint8Array>, origin: string, options?: ParseOptions): AsyncGenerator<ScannerRecord>;
}

export type ScanFormatDefinition = JsonScanFormat | XmlScanFormat;

/**
 * Reads a JSON export of `format`, one pass (or two, see readJson) of `pass` at a time. `context` is the whole
 * document's context when it has been read already.
 */
export function readJsonExport(
  format: JsonScanFormat,
  pass: JsonPass,
  origin: string,
  options: ParseOptions = {},
  context?: JsonSkeleton,
): AsyncGenerator<ScannerRecord> {
  return readJson(format.reading(origin, options, onceWarner(options)), pass, context);
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared mapping rules

export function malformed(origin: string, detail: string): MalformedResponseError {
  return new MalformedResponseError(`${SOURCE}: ${origin}: ${detail}`);
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, origin: string, at: readonly PropertyKey[], label?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Record keys in issue paths are the file's text: a long one is cut short.
  const short = (key: PropertyKey) => (typeof key === 'string' && key.length > 60 ? `${key.slice(0, 60)}…` : key);
  const issues = parsed.error.issues.map((issue) => ({ ...issue, path: [...at, ...issue.path].map(short) }));
  throw malformed(origin, `${label === undefined ? '' : `${label}: `}${describeIssues(issues)}`);
}

/**
 * CVSS bands (NVD, FIRST): 9.0-10 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low, 0 none. Negative scores
 * (OpenVAS marks false positives -1, errors -3) carry no risk and are info.
 */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

/**
 * Severity words as scanners write them, in any case. "Negligible" (Grype, from Debian and Ubuntu) is mapped to low,
 * not info: it is still a known vulnerability in an installed package, so it stays under the lowest remediation SLA
 * instead of vanishing with informational notes; raw keeps the original word for a check that wants to drop it.
 * "Unknown" means the scanner could not rate it: info, with the word kept in raw.
 */
const SEVERITY_WORDS = new Map<string, Severity>([
  ['critical', 'critical'],
  ['high', 'high'],
  ['important', 'high'],
  ['medium', 'medium'],
  ['moderate', 'medium'],
  ['low', 'low'],
  ['negligible', 'low'],
  ['info', 'info'],
  ['informational', 'info'],
  ['none', 'info'],
  ['log', 'info'],
  ['debug', 'info'],
  ['unknown', 'info'],
]);

export function severityOfWord(word: string): Severity | undefined {
  return SEVERITY_WORDS.get(word.trim().toLowerCase());
}

export const SeverityWord = z.string().transform((word, ctx) => {
  const severity = severityOfWord(word);
  if (severity === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown severity ${quoted(word)} (expected ${[...SEVERITY_WORDS.keys()].join(', ')})` });
    return z.NEVER;
  }
  return severity;
});

/** A CVSS-like score written as text (XML attributes and elements), 0-10. */
export const ScoreText = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a score such as "7.5"')
  .transform(Number)
  .pipe(z.number().min(0).max(10));

export const CvssScore = z.number().min(0).max(10);

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The instants a record can hold: toISOString with a four-digit year (0000-9999); outside it, Date has no text or none the schemas take. */
const FIRST_INSTANT = -62_167_219_200_000;
const LAST_INSTANT = 253_402_300_799_999;

/** Milliseconds since the epoch as toISOString's text, or undefined when they are no instant a record can hold (never a RangeError). */
export function instantText(ms: number): string | undefined {
  return Number.isFinite(ms) && ms >= FIRST_INSTANT && ms <= LAST_INSTANT ? new Date(ms).toISOString() : undefined;
}

/** An ISO 8601 timestamp with a zone as a UTC instant in milliseconds, or undefined when it is not one. */
export function isoInstant(value: string): string | undefined {
  const text = value.trim();
  if (!ISO_INSTANT.test(text)) return undefined;
  return instantText(Date.parse(text));
}

/** A value of the file in a message: short, on one line, without quotes of its own (a hostile file chooses its values). */
export function cut(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return short.replace(/["\u0000-\u001f\u007f]/g, '?');
}

export function quoted(value: string): string {
  return `"${cut(value)}"`;
}

interface TimeCandidate {
  /** The field the time comes from, for raw and for warnings. */
  readonly from: string;
  readonly value: string | undefined;
  readonly read?: (value: string) => string | undefined;
}

export interface ScanTime {
  readonly at: string;
  readonly from: string;
  /** The file states none: `at` is a stand-in (the file's mtime). */
  readonly unknown?: true;
}

/** A scan time as finding fields: scannedAt, and the flag when it is a stand-in. */
export function timeFields(time: ScanTime): { scannedAt: string; scanTimeUnknown?: true } {
  return time.unknown ? { scannedAt: time.at, scanTimeUnknown: true } : { scannedAt: time.at };
}

export type Warn = (message: string) => void;

/** Warns each distinct message once per file: a thousand hosts without HOST_END make one warning, not a thousand. */
export function onceWarner(options: ParseOptions): Warn {
  const said = new Set<string>();
  return (message) => {
    // Quoted examples differ from host to host; the warning is about the kind of thing, so they do not count.
    const gist = message.replace(/"[^"]*"/g, '""');
    if (said.has(gist)) return;
    // Both outlive the item they quote from.
    said.add(detached(gist));
    options.warn?.(detached(message));
  };
}

/**
 * The scan time the file states, from the first candidate that holds a readable timestamp (one out of range is no
 * more readable than a word). Otherwise the scan time is unknown, with a warning: scannedAt then holds the fallback
 * (the file's mtime), which says when the file was written or copied, not when the scan ran, so the records say so
 * and scan-staleness does not take it as recent. `where` names the part of the file (a Nessus host).
 */
export function scanTimeOf(candidates: readonly TimeCandidate[], origin: string, options: ParseOptions, warn: (message: string) => void, where = ''): ScanTime {
  const of = where === '' ? '' : ` of ${where}`;
  for (const candidate of candidates) {
    if (candidate.value === undefined || candidate.value.trim() === '') continue;
    const time = (candidate.read ?? isoInstant)(candidate.value);
    if (time !== undefined) return { at: time, from: candidate.from };
    warn(`${SOURCE}: ${origin}: ${candidate.from}${of} ${quoted(candidate.value)} is not a timestamp between the years 0000 and 9999; ignored`);
  }
  const standIn = options.fallbackScannedAt ?? new Date().toISOString();
  warn(
    `${SOURCE}: ${origin}: the file states no scan time (${candidates.map((candidate) => candidate.from).join(', ')})${where === '' ? '' : ` for ${where}`}; scannedAt is the file's modification time ${standIn}, a stand-in: the scan time is unknown and does not count as a recent scan`,
  );
  return { at: standIn, from: 'file modification time', unknown: true };
}

/** URLs in scanner output may carry credentials (https://token@host/repo); evidence must never hold them. */
export function withoutCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, '$1');
}

/**
 * Control characters (Grype writes a NUL inside some Java versions) are escaped as \uXXXX text: PostgreSQL refuses
 * NUL in text and JSON columns, and an escape keeps the value faithful and readable.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A one-line title: the first non-blank line, at most 200 characters, cut at a word where possible. */
function headline(text: string): string {
  const line =
    text
      .split(/\r?\n/)
      .map((part) => part.trim())
      .find((part) => part !== '') ?? '';
  if (line.length <= 200) return line;
  const cut = line.slice(0, 199);
  const space = cut.lastIndexOf(' ');
  return `${space > 120 ? cut.slice(0, space) : cut}…`;
}

/** Trims long free text kept in raw, so one record stays small. */
export function excerpt(text: string | undefined, limit = 500): string | null {
  if (text === undefined) return null;
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

interface FindingFields {
  scanner: string;
  id: string;
  title: string;
  severity: Severity;
  cvss: number | null;
  asset: string;
  location: string;
  scannedAt: string;
  scanTimeUnknown?: true;
  fixAvailable: boolean | 'unknown';
  raw: Record<string, unknown>;
}

const UNDECODED = '\uFFFD';

/**
 * A finding's identity (vulnerability, asset, location) holding U+FFFD, which stands for bytes that could not be
 * decoded (by this reader, or by the scanner before it wrote the file), is kept, but not silently: it may not match
 * what other scans call the same asset or package, so the evidence says which.
 */
function warnUndecoded(fields: { asset: string; id?: string; location?: string }, origin: string, warn: Warn): void {
  for (const field of ['asset', 'id', 'location'] as const) {
    const value = fields[field];
    if (value === undefined || !value.includes(UNDECODED)) continue;
    warn(
      `${SOURCE}: ${origin}: the ${field} ${quoted(value)} holds U+FFFD in place of bytes that could not be decoded, so it may not match the same ${field} in other scans`,
    );
  }
}

export function finding(fields: FindingFields, origin: string, warn: Warn): Finding {
  const record: Finding = {
    kind: 'finding',
    source: SOURCE,
    scanner: fields.scanner,
    id: printable(fields.id),
    title: printable(headline(fields.title)),
    severity: fields.severity,
    cvss: fields.cvss,
    asset: printable(withoutCredentials(fields.asset)),
    location: printable(withoutCredentials(fields.location)),
    scannedAt: fields.scannedAt,
    ...(fields.scanTimeUnknown ? { scanTimeUnknown: true } : {}),
    // The catalog keeps the earliest sighting across scans; one file knows only its own.
    firstSeenAt: fields.scannedAt,
    fixedAt: null,
    fixAvailable: fields.fixAvailable,
    raw: fields.raw,
  };
  warnUndecoded(record, origin, warn);
  return record;
}

export interface TallyEntry {
  readonly scanner: string;
  readonly asset: string;
  scannedAt: string;
  scanTimeUnknown: boolean;
  findingCount: number;
  readonly raw: Record<string, unknown>;
}

/** A copy of `raw` whose strings are copies too (see `detached`). */
export function detachedStrings(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, typeof value === 'string' ? detached(value) : value]));
}

/**
 * One scan record per scanner and asset a file covers, counting its findings; a clean asset gets a count of 0. It
 * lives until the end of the file, so it keeps copies of the strings it is given, never slices of a chunk.
 */
export class ScanTally {
  private readonly entries = new Map<string, TallyEntry>();

  /** The entry for an asset, opened on first sight; a later scan time of the same asset wins, and a stated one over a stand-in. */
  asset(scanner: string, asset: string, time: ScanTime, raw: Record<string, unknown>): TallyEntry {
    const key = `${scanner}\u0000${asset}`;
    const known = this.entries.get(key);
    if (known) {
      const later = time.at !== known.scannedAt && Date.parse(time.at) > Date.parse(known.scannedAt);
      if (known.scanTimeUnknown ? !time.unknown || later : !time.unknown && later) {
        known.scannedAt = detached(time.at);
        known.scanTimeUnknown = time.unknown === true;
      }
      return known;
    }
    const entry: TallyEntry = {
      scanner: detached(scanner),
      asset: detached(asset),
      scannedAt: detached(time.at),
      scanTimeUnknown: time.unknown === true,
      findingCount: 0,
      raw: detachedStrings(raw),
    };
    this.entries.set(`${entry.scanner}\u0000${entry.asset}`, entry);
    return entry;
  }

  *records(origin: string, warn: Warn): Generator<Scan> {
    for (const entry of this.entries.values()) {
      const scan: Scan = {
        kind: 'scan',
        source: SOURCE,
        scanner: entry.scanner,
        asset: printable(withoutCredentials(entry.asset)),
        scannedAt: entry.scannedAt,
        ...(entry.scanTimeUnknown ? { scanTimeUnknown: true } : {}),
        origin,
        findingCount: entry.findingCount,
        raw: entry.raw,
      };
      warnUndecoded(scan, origin, warn);
      yield scan;
    }
  }
}

const KNOWN_SCANNERS = ['semgrep', 'trivy', 'grype', 'codeql', 'snyk', 'checkov', 'gitleaks', 'bandit', 'kics', 'tfsec', 'gosec', 'osv-scanner', 'zap'];

/** A tool's display name as a scanner name: "Semgrep OSS" -> semgrep, "Trivy" -> trivy, others as a lower-case slug. */
export function scannerName(toolName: string): string {
  const lowered = toolName.trim().toLowerCase();
  const known = KNOWN_SCANNERS.find((name) => lowered.split(/[^a-z0-9-]+/).includes(name));
  if (known !== undefined) return known;
  const slug = lowered.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return slug === '' ? 'unknown' : slug;
}
