import { basename } from 'node:path';
import { z } from 'zod';
import type { Finding, Scan, Severity } from '../../evidence/records.ts';
import { describeIssues, formatPath, MalformedResponseError } from '../errors.ts';
import { jsonEvents, JsonSkeleton, readJson, streamJson, type JsonKey, type JsonPass, type JsonPath, type JsonPlan, type JsonReading } from './json-stream.ts';
import { childOf, childText, detached, streamXml, type XmlElement, type XmlPlan } from './xml-stream.ts';

/**
 * The only place that knows the scanners' field names: SARIF 2.1.0, Trivy JSON, Grype JSON, Nessus v2 XML and
 * OpenVAS/Greenbone XML, mapped to `finding` and `scan` records. Choices the formats leave open are documented where
 * they are made and summarised in README.md beside this file.
 */

export const SOURCE = 'scanner-files';

export const ScanFormat = z.enum(['sarif', 'trivy', 'grype', 'nessus', 'openvas']);
export type ScanFormat = z.infer<typeof ScanFormat>;
export const JSON_FORMATS: ReadonlySet<ScanFormat> = new Set(['sarif', 'trivy', 'grype']);

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
// Format detection (from content, never from the file name)

/** The format of a JSON document by its top-level members (of the document, or of its context), or undefined when it is none we read. */
export function jsonFormatOf(document: unknown): ScanFormat | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const top = document as Record<string, unknown>;
  if (Array.isArray(top.runs) && (typeof top.version === 'string' || String(top.$schema ?? '').includes('sarif'))) return 'sarif';
  if (top.SchemaVersion !== undefined && ('ArtifactName' in top || 'Results' in top)) return 'trivy';
  if (Array.isArray(top.matches) && ('source' in top || 'descriptor' in top)) return 'grype';
  return undefined;
}

/** The format of an XML document by its root element. */
export function xmlFormatOf(root: string): ScanFormat | undefined {
  if (root === NESSUS_ROOT) return 'nessus';
  if (OPENVAS_ROOTS.has(root)) return 'openvas';
  return undefined;
}

export const KNOWN_FORMATS = 'SARIF 2.1.0, Trivy JSON (SchemaVersion 2), Grype JSON, Nessus v2 XML (NessusClientData_v2) or OpenVAS/Greenbone XML (<report>)';

// ---------------------------------------------------------------------------------------------------------------------
// Shared mapping rules

function malformed(origin: string, detail: string): MalformedResponseError {
  return new MalformedResponseError(`${SOURCE}: ${origin}: ${detail}`);
}

function validate<S extends z.ZodType>(schema: S, value: unknown, origin: string, at: readonly PropertyKey[], label?: string): z.output<S> {
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

const SeverityWord = z.string().transform((word, ctx) => {
  const severity = severityOfWord(word);
  if (severity === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown severity ${quoted(word)} (expected ${[...SEVERITY_WORDS.keys()].join(', ')})` });
    return z.NEVER;
  }
  return severity;
});

/** A CVSS-like score written as text (XML attributes and elements), 0-10. */
const ScoreText = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a score such as "7.5"')
  .transform(Number)
  .pipe(z.number().min(0).max(10));

/** A signed decimal written as text, blank meaning absent (OpenVAS severity is -1 for false positives). */
const DecimalText = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number such as "5.0"')
    .transform(Number)
    .optional(),
);

const CvssScore = z.number().min(0).max(10);

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
function cut(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return short.replace(/["\u0000-\u001f\u007f]/g, '?');
}

function quoted(value: string): string {
  return `"${cut(value)}"`;
}

interface TimeCandidate {
  /** The field the time comes from, for raw and for warnings. */
  readonly from: string;
  readonly value: string | undefined;
  readonly read?: (value: string) => string | undefined;
}

interface ScanTime {
  readonly at: string;
  readonly from: string;
  /** The file states none: `at` is a stand-in (the file's mtime). */
  readonly unknown?: true;
}

/** A scan time as finding fields: scannedAt, and the flag when it is a stand-in. */
function timeFields(time: ScanTime): { scannedAt: string; scanTimeUnknown?: true } {
  return time.unknown ? { scannedAt: time.at, scanTimeUnknown: true } : { scannedAt: time.at };
}

type Warn = (message: string) => void;

/** Warns each distinct message once per file: a thousand hosts without HOST_END make one warning, not a thousand. */
function onceWarner(options: ParseOptions): Warn {
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
function scanTimeOf(candidates: readonly TimeCandidate[], origin: string, options: ParseOptions, warn: (message: string) => void, where = ''): ScanTime {
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
function printable(text: string): string {
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
function excerpt(text: string | undefined, limit = 500): string | null {
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
    warn(`${SOURCE}: ${origin}: the ${field} ${quoted(value)} holds U+FFFD in place of bytes that could not be decoded, so it may not match the same ${field} in other scans`);
  }
}

function finding(fields: FindingFields, origin: string, warn: Warn): Finding {
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

interface TallyEntry {
  readonly scanner: string;
  readonly asset: string;
  scannedAt: string;
  scanTimeUnknown: boolean;
  findingCount: number;
  readonly raw: Record<string, unknown>;
}

/** A copy of `raw` whose strings are copies too (see `detached`). */
function detachedStrings(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, typeof value === 'string' ? detached(value) : value]));
}

/**
 * One scan record per scanner and asset a file covers, counting its findings; a clean asset gets a count of 0. It
 * lives until the end of the file, so it keeps copies of the strings it is given, never slices of a chunk.
 */
class ScanTally {
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

// ---------------------------------------------------------------------------------------------------------------------
// SARIF 2.1.0

const SarifLevel = z.enum(['none', 'note', 'warning', 'error']);
type SarifLevel = z.infer<typeof SarifLevel>;

const SECURITY_SEVERITY = 'security-severity';
const SecurityProperties = z.object({ [SECURITY_SEVERITY]: z.union([z.string(), z.number()]).optional() });

const SarifRule = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  shortDescription: z.object({ text: z.string() }).optional(),
  defaultConfiguration: z.object({ level: SarifLevel.optional() }).optional(),
  properties: SecurityProperties.optional(),
});
type SarifRule = z.infer<typeof SarifRule>;

const SarifToolComponent = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
  semanticVersion: z.string().optional(),
  rules: z.array(SarifRule).optional(),
});

const SarifLog = z.object({
  version: z.literal('2.1.0', { error: 'expected SARIF version "2.1.0"' }),
  runs: z.array(z.unknown()),
});

const SarifRun = z.object({
  tool: z.object({ driver: SarifToolComponent, extensions: z.array(SarifToolComponent).optional() }),
  invocations: z.array(z.object({ startTimeUtc: z.string().optional(), endTimeUtc: z.string().optional() })).optional(),
  versionControlProvenance: z.array(z.object({ repositoryUri: z.string().min(1) })).optional(),
  properties: z.object({ imageName: z.string().optional() }).optional(),
  artifacts: z.array(z.object({ location: z.object({ uri: z.string().optional() }).optional() })).optional(),
  // Validated one result at a time, so an error names its index and a huge run is not copied whole.
  results: z.array(z.unknown()).nullable().optional(),
});
type SarifRun = z.infer<typeof SarifRun>;

const SarifLocation = z.object({
  physicalLocation: z
    .object({
      artifactLocation: z.object({ uri: z.string().optional(), index: z.number().int().nonnegative().optional() }).optional(),
      region: z.object({ startLine: z.number().int().optional() }).optional(),
    })
    .optional(),
  logicalLocations: z.array(z.object({ fullyQualifiedName: z.string().optional(), name: z.string().optional() })).optional(),
  message: z.object({ text: z.string().optional() }).optional(),
});
type SarifLocation = z.infer<typeof SarifLocation>;

const SarifResult = z.object({
  ruleId: z.string().min(1).optional(),
  ruleIndex: z.number().int().optional(),
  rule: z
    .object({
      id: z.string().min(1).optional(),
      index: z.number().int().optional(),
      toolComponent: z.object({ index: z.number().int().nonnegative().optional() }).optional(),
    })
    .optional(),
  kind: z.enum(['notApplicable', 'pass', 'fail', 'review', 'open', 'informational']).optional(),
  level: SarifLevel.optional(),
  message: z.object({ text: z.string().optional() }).optional(),
  locations: z.array(SarifLocation).optional(),
  baselineState: z.enum(['new', 'unchanged', 'updated', 'absent']).optional(),
  fixes: z.array(z.unknown()).optional(),
  suppressions: z.array(z.object({ kind: z.string(), status: z.string().optional() })).optional(),
  properties: SecurityProperties.optional(),
});
type SarifResult = z.infer<typeof SarifResult>;

const LEVEL_SEVERITY: Record<SarifLevel, Severity> = { error: 'high', warning: 'medium', note: 'low', none: 'info' };

/**
 * SARIF severity of a failing result (kind `fail`, the default), in order: the rule's (or result's)
 * `security-severity` property, a number banded like CVSS or a word (Semgrep writes "CRITICAL"); then the result's
 * `level`; then the rule's `defaultConfiguration.level`; then SARIF's default, `warning`. A result of any other kind
 * is not a failure: its level is `none` whatever it or its rule says (SARIF 2.1.0, 3.27.10), so it is info, and the
 * rule's security-severity (how bad the problem would be) does not apply to it.
 */
function sarifSeverity(result: SarifResult, rule: SarifRule | undefined): { severity: Severity; securitySeverity: string | number | null; level: SarifLevel } {
  const declared = rule?.properties?.[SECURITY_SEVERITY] ?? result.properties?.[SECURITY_SEVERITY];
  if (result.kind !== undefined && result.kind !== 'fail') return { severity: 'info', securitySeverity: declared ?? null, level: 'none' };
  const level = result.level ?? rule?.defaultConfiguration?.level ?? 'warning';
  if (declared !== undefined) {
    const score = typeof declared === 'number' ? declared : /^\s*\d+(\.\d+)?\s*$/.test(declared) ? Number(declared) : undefined;
    const severity = score !== undefined && score <= 10 ? severityOfScore(score) : typeof declared === 'string' ? severityOfWord(declared) : undefined;
    if (severity !== undefined) return { severity, securitySeverity: declared, level };
  }
  return { severity: LEVEL_SEVERITY[level], securitySeverity: declared ?? null, level };
}

/**
 * The asset of a run: the repository it scanned (versionControlProvenance), else the image Trivy names in the run's
 * properties, else the SARIF file's base name. SARIF has no standard field for "what was scanned"; the file name is
 * the most stable stand-in (CI jobs name their outputs after the project), and `asset` in the config overrides it.
 */
function sarifAsset(run: SarifRun, origin: string): { asset: string; from: string } {
  const repository = run.versionControlProvenance?.find((provenance) => provenance.repositoryUri !== '')?.repositoryUri;
  if (repository !== undefined) return { asset: repository, from: 'versionControlProvenance.repositoryUri' };
  const image = run.properties?.imageName;
  if (image !== undefined && image !== '') return { asset: image, from: 'properties.imageName' };
  return { asset: basename(origin), from: 'file name' };
}

/**
 * `path:line` of the first location. When the location's message names a package as `<uri>: <name>@<version>`
 * (Trivy's SARIF does), the finding is about that package, and its location is `name@version` as in Trivy's JSON, so
 * the same scan in either format yields the same findings.
 */
function sarifLocation(result: SarifResult, run: SarifRun): string {
  const first: SarifLocation | undefined = result.locations?.[0];
  if (first === undefined) return '';
  const physical = first.physicalLocation;
  const index = physical?.artifactLocation?.index;
  const uri = physical?.artifactLocation?.uri ?? (index === undefined ? undefined : run.artifacts?.[index]?.location?.uri);
  const message = first.message?.text;
  if (uri !== undefined && message !== undefined && message.startsWith(`${uri}: `)) {
    const named = message.slice(uri.length + 2);
    if (/^@?[^\s@]+@[^\s@]+$/.test(named)) return named;
  }
  if (uri !== undefined) {
    const line = physical?.region?.startLine;
    return line === undefined ? uri : `${uri}:${line}`;
  }
  const logical = first.logicalLocations?.[0];
  return logical?.fullyQualifiedName ?? logical?.name ?? '';
}

function sarifRules(run: SarifRun): { byIndex: (component: number | undefined, index: number) => SarifRule | undefined; byId: Map<string, SarifRule> } {
  const byId = new Map<string, SarifRule>();
  for (const component of [run.tool.driver, ...(run.tool.extensions ?? [])]) {
    for (const rule of component.rules ?? []) if (!byId.has(rule.id)) byId.set(rule.id, rule);
  }
  const byIndex = (component: number | undefined, index: number) =>
    (component === undefined ? run.tool.driver : run.tool.extensions?.[component])?.rules?.[index];
  return { byIndex, byId };
}

function latestInstant(values: readonly (string | undefined)[]): string | undefined {
  let latest: string | undefined;
  for (const value of values) {
    if (value === undefined) continue;
    const at = isoInstant(value);
    if (at === undefined) return value;
    if (latest === undefined || at > latest) latest = at;
  }
  return latest;
}

const SARIF_RUN_CONTEXT = ['tool', 'invocations', 'versionControlProvenance', 'properties', 'artifacts'];

/** The log's version, each run's context whole and its results one at a time; the rest (taxonomies, graphs...) is passed over. */
const sarifShape: JsonShape = {
  plan: (path) => {
    if (path.length <= 1) return path.length === 0 || path[0] === 'runs' ? 'watch' : path[0] === 'version' || path[0] === '$schema' ? 'capture' : 'skip';
    if (path[0] !== 'runs') return 'skip';
    if (path.length === 2) return 'watch';
    if (path.length === 3) return path[2] === 'results' ? 'watch' : SARIF_RUN_CONTEXT.includes(path[2] as string) ? 'capture' : 'skip';
    return path.length === 4 && path[2] === 'results' ? 'capture' : 'skip';
  },
  isItem: (path) => path.length === 4 && path[0] === 'runs' && path[2] === 'results',
};

interface SarifRunContext {
  readonly index: JsonKey;
  readonly run: SarifRun;
  readonly scanner: string;
  readonly asset: string;
  readonly time: ScanTime;
  readonly scan: TallyEntry;
  readonly rules: ReturnType<typeof sarifRules>;
}

/** Result kinds that say there is no problem (SARIF 2.1.0, 3.27.9): the rule passed, does not apply, or only informs. */
const SARIF_NOT_FINDINGS = new Set(['pass', 'notApplicable', 'informational']);

/**
 * SARIF 2.1.0 (any tool) to findings and scans. Results of kind `pass`, `notApplicable` or `informational` and
 * results whose `baselineState` is `absent` are not findings (the tool says there is no problem there) and are only
 * counted in the scan's raw. Results of kind `review` or `open` (a person must look; the tool could not decide) are
 * kept as info findings with `raw.kind`, never rated by their rule (see sarifSeverity). Suppressed results are kept,
 * flagged `raw.suppressed`: accepting a risk belongs in the register, not in a code comment. The CVSS score is null:
 * `security-severity` is a severity rank, not a stated CVSS v3 base score.
 * A result is mapped once its run's tool, invocations, versionControlProvenance, properties and artifacts are known:
 * producers put them before or after `results` as they please (Semgrep sorts the keys, so `results` comes before
 * `tool`; Trivy writes `properties.imageName` after them), and then the log is read twice (see readJson).
 */
function sarifReading(origin: string, options: ParseOptions, warn: Warn): JsonReading<ScannerRecord> {
  return {
    ...sarifShape,
    ready: (context, path) => context.settled(['version']) && SARIF_RUN_CONTEXT.every((key) => context.settled([path[0]!, path[1]!, key])),
    start(context) {
      const tally = new ScanTally();
      let logChecked = false;
      let current: SarifRunContext | undefined;
      const checkLog = () => {
        if (logChecked) return;
        validate(SarifLog, context.root, origin, []);
        logChecked = true;
      };
      const runAt = (r: JsonKey): SarifRunContext => {
        if (current?.index === r) return current;
        const run = validate(SarifRun, context.at(['runs', r]), origin, ['runs', r]);
        const driver = run.tool.driver;
        const scanner = scannerName(driver.name);
        const { asset, from: assetFrom } = options.asset === undefined ? sarifAsset(run, origin) : { asset: options.asset, from: 'config' };
        const invocations = run.invocations ?? [];
        const time = scanTimeOf(
          [
            { from: `runs[${r}].invocations[].endTimeUtc`, value: latestInstant(invocations.map((invocation) => invocation.endTimeUtc)) },
            { from: `runs[${r}].invocations[].startTimeUtc`, value: latestInstant(invocations.map((invocation) => invocation.startTimeUtc)) },
          ],
          origin,
          options,
          warn,
        );
        const scan = tally.asset(scanner, asset, time, {
          format: 'sarif',
          tool: driver.name,
          toolVersion: driver.version ?? driver.semanticVersion ?? null,
          assetFrom,
          scanTimeFrom: time.from,
          notFindings: 0,
        });
        current = { index: r, run, scanner, asset, time, scan, rules: sarifRules(run) };
        return current;
      };
      return {
        item(path, value) {
          checkLog();
          const { run, scanner, asset, time, scan, rules } = runAt(path[1]!);
          const at = [...path];
          const result = validate(SarifResult, value, origin, at);
          if ((result.kind !== undefined && SARIF_NOT_FINDINGS.has(result.kind)) || result.baselineState === 'absent') {
            scan.raw.notFindings = (scan.raw.notFindings as number) + 1;
            return undefined;
          }
          const index = result.ruleIndex ?? result.rule?.index;
          const named = result.ruleId ?? result.rule?.id;
          const rule =
            (index !== undefined && index >= 0 ? rules.byIndex(result.rule?.toolComponent?.index, index) : undefined) ??
            (named === undefined ? undefined : rules.byId.get(named));
          const id = named ?? rule?.id;
          if (id === undefined) throw malformed(origin, `field ${formatPath([...at, 'ruleId'])}: the result names no rule`);
          const { severity, securitySeverity, level } = sarifSeverity(result, rule);
          scan.findingCount += 1;
          return finding(
            {
            scanner,
            id,
            title: rule?.shortDescription?.text ?? result.message?.text ?? rule?.name ?? id,
            severity,
            cvss: null,
            asset,
            location: sarifLocation(result, run),
            ...timeFields(time),
            fixAvailable: result.fixes !== undefined && result.fixes.length > 0 ? true : 'unknown',
            raw: {
              format: 'sarif',
              tool: run.tool.driver.name,
              ruleId: id,
              level,
              securitySeverity,
              message: excerpt(result.message?.text),
              ...(result.kind !== undefined && result.kind !== 'fail' ? { kind: result.kind } : {}),
              ...(result.suppressions !== undefined && result.suppressions.length > 0 ? { suppressed: true } : {}),
              ...(result.baselineState !== undefined ? { baselineState: result.baselineState } : {}),
            },
            },
            origin,
            warn,
          );
        },
        context(event) {
          // A run without results is still a scan; the log is checked first when its version has been read.
          if (event.path.length !== 2 || event.path[0] !== 'runs' || event.type === 'start') return;
          if (context.settled(['version'])) checkLog();
          runAt(event.path[1]!);
        },
        *finish() {
          checkLog();
          yield* tally.records(origin, warn);
        },
      };
    },
  };
}

/** Parses a SARIF log already read into memory; the connector streams files through `readScanJson`. */
export function parseSarif(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readScanJson('sarif', (plan) => jsonEvents(document, plan), origin, options);
}

// ---------------------------------------------------------------------------------------------------------------------
// Trivy JSON (SchemaVersion 2)

const TrivySeverity = z.enum(['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

const TrivyReport = z.object({
  SchemaVersion: z.literal(2, { error: 'expected Trivy SchemaVersion 2' }),
  ArtifactName: z.string().min(1),
  ArtifactType: z.string().optional(),
  CreatedAt: z.string().optional(),
  ReportID: z.string().optional(),
  Trivy: z.object({ Version: z.string().optional() }).optional(),
  Results: z.array(z.unknown()).nullable().optional(),
});

const TrivyResult = z.object({
  Target: z.string(),
  Class: z.string().optional(),
  Type: z.string().optional(),
  Vulnerabilities: z.array(z.unknown()).nullable().optional(),
  Misconfigurations: z.array(z.unknown()).nullable().optional(),
  Secrets: z.array(z.unknown()).nullable().optional(),
});
type TrivyResult = z.infer<typeof TrivyResult>;

const TrivyVulnerability = z.object({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string().min(1),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Status: z.string().optional(),
  Severity: TrivySeverity,
  SeveritySource: z.string().optional(),
  Title: z.string().optional(),
  PrimaryURL: z.string().optional(),
  PublishedDate: z.string().optional(),
  CVSS: z.record(z.string(), z.object({ V3Score: CvssScore.optional() })).optional(),
});
type TrivyVulnerability = z.infer<typeof TrivyVulnerability>;

const TrivyMisconfiguration = z.object({
  ID: z.string().min(1),
  Title: z.string().optional(),
  Severity: TrivySeverity,
  Status: z.string(),
  CauseMetadata: z.object({ StartLine: z.number().int().optional() }).optional(),
});

const TrivySecret = z.object({
  RuleID: z.string().min(1),
  Title: z.string().optional(),
  Severity: TrivySeverity,
  StartLine: z.number().int().optional(),
});

/** Trivy statuses that say no fix will come (https://trivy.dev: vulnerability status). */
const TRIVY_UNFIXED = new Set(['affected', 'will_not_fix', 'fix_deferred', 'end_of_life']);

/** The v3 score of the vendor Trivy took the severity from, else NVD's, else the highest v3 score offered. */
function trivyCvss(vulnerability: TrivyVulnerability): number | null {
  const scored = Object.entries(vulnerability.CVSS ?? {}).flatMap(([vendor, cvss]) => (cvss.V3Score === undefined ? [] : [[vendor, cvss.V3Score] as const]));
  const preferred = scored.find(([vendor]) => vendor === vulnerability.SeveritySource) ?? scored.find(([vendor]) => vendor === 'nvd');
  if (preferred) return preferred[1];
  return scored.length === 0 ? null : Math.max(...scored.map(([, score]) => score));
}

function trivyFixAvailable(vulnerability: TrivyVulnerability): boolean | 'unknown' {
  if (vulnerability.FixedVersion !== undefined && vulnerability.FixedVersion !== '') return true;
  if (vulnerability.Status !== undefined && TRIVY_UNFIXED.has(vulnerability.Status)) return false;
  return 'unknown';
}

const TRIVY_HEADER = ['SchemaVersion', 'ArtifactName', 'ArtifactType', 'CreatedAt', 'ReportID', 'Trivy'];
/** The header values every finding is mapped with; the others only describe the scan, which comes last. */
const TRIVY_FINDING_HEADER = ['SchemaVersion', 'ArtifactName', 'CreatedAt'];
const TRIVY_RESULT_CONTEXT = ['Target', 'Class', 'Type'];
const TRIVY_FINDING_LISTS = ['Vulnerabilities', 'Misconfigurations', 'Secrets'];

/** The header, each result's target, class and type, and its findings one at a time; Metadata and Packages are passed over. */
const trivyShape: JsonShape = {
  plan: (path) => {
    if (path.length <= 1) return path.length === 0 || path[0] === 'Results' ? 'watch' : TRIVY_HEADER.includes(path[0] as string) ? 'capture' : 'skip';
    if (path[0] !== 'Results') return 'skip';
    if (path.length === 2) return 'watch';
    const member = path[2] as string;
    if (path.length === 3) return TRIVY_FINDING_LISTS.includes(member) ? 'watch' : TRIVY_RESULT_CONTEXT.includes(member) ? 'capture' : 'skip';
    return path.length === 4 && TRIVY_FINDING_LISTS.includes(member) ? 'capture' : 'skip';
  },
  isItem: (path) => path.length === 4 && path[0] === 'Results' && TRIVY_FINDING_LISTS.includes(path[2] as string),
};

interface TrivyResultContext {
  readonly index: JsonKey;
  readonly result: TrivyResult;
  readonly where: { target: string; class: string | null; type: string | null };
}

/**
 * Trivy JSON to findings and one scan of `ArtifactName`. Vulnerabilities are located at `package@version`;
 * failed misconfigurations and secrets (which Trivy's SARIF also reports) at `target:line`. A secret's matched text
 * is never copied. Trivy writes its header and each result's Target, Class and Type before the findings, so a report
 * is read once; when a result states no Type (secrets), its findings wait for the result's end, and when the header
 * lacks CreatedAt (older Trivy versions) or comes after Results, the report is read twice (see readJson).
 */
function trivyReading(origin: string, options: ParseOptions, warn: Warn): JsonReading<ScannerRecord> {
  const headerSettled = (context: JsonSkeleton) => TRIVY_FINDING_HEADER.every((key) => context.settled([key]));
  return {
    ...trivyShape,
    ready(context, path) {
      if (!headerSettled(context)) return false;
      const result = path.slice(0, 2);
      return TRIVY_RESULT_CONTEXT.every((key) => context.settled([...result, key])) || result;
    },
    start(context) {
      const tally = new ScanTally();
      let opened: { scan: TallyEntry; common: { scanner: string; asset: string; scannedAt: string; scanTimeUnknown?: true } } | undefined;
      let current: TrivyResultContext | undefined;
      const open = () => {
        if (opened) return opened;
        const report = validate(TrivyReport, context.root, origin, []);
        const asset = options.asset ?? report.ArtifactName;
        const time = scanTimeOf([{ from: 'CreatedAt', value: report.CreatedAt }], origin, options, warn);
        // The version, type and id of the report are filled in at the end: they may come after the results.
        const scan = tally.asset('trivy', asset, time, { format: 'trivy', trivyVersion: null, artifactType: null, reportId: null, scanTimeFrom: time.from });
        opened = { scan, common: { scanner: 'trivy', asset, ...timeFields(time) } };
        return opened;
      };
      const resultAt = (r: JsonKey): TrivyResultContext => {
        if (current?.index === r) return current;
        const result = validate(TrivyResult, context.at(['Results', r]), origin, ['Results', r]);
        current = { index: r, result, where: { target: result.Target, class: result.Class ?? null, type: result.Type ?? null } };
        return current;
      };
      return {
        item(path, value) {
          const { scan, common } = open();
          const { result, where } = resultAt(path[1]!);
          const at = [...path];
          if (path[2] === 'Vulnerabilities') {
            const vulnerability = validate(TrivyVulnerability, value, origin, at);
            scan.findingCount += 1;
            return finding({
              ...common,
              id: vulnerability.VulnerabilityID,
              title: vulnerability.Title ?? vulnerability.VulnerabilityID,
              severity: severityOfWord(vulnerability.Severity)!,
              cvss: trivyCvss(vulnerability),
              location: vulnerability.InstalledVersion ? `${vulnerability.PkgName}@${vulnerability.InstalledVersion}` : vulnerability.PkgName,
              fixAvailable: trivyFixAvailable(vulnerability),
              raw: {
                format: 'trivy',
                ...where,
                pkgName: vulnerability.PkgName,
                installedVersion: vulnerability.InstalledVersion ?? null,
                fixedVersion: vulnerability.FixedVersion ?? null,
                status: vulnerability.Status ?? null,
                severity: vulnerability.Severity,
                severitySource: vulnerability.SeveritySource ?? null,
                publishedDate: vulnerability.PublishedDate ?? null,
                primaryUrl: vulnerability.PrimaryURL ?? null,
              },
            }, origin, warn);
          }
          if (path[2] === 'Misconfigurations') {
            const misconfiguration = validate(TrivyMisconfiguration, value, origin, at);
            if (misconfiguration.Status !== 'FAIL') return undefined;
            const line = misconfiguration.CauseMetadata?.StartLine;
            scan.findingCount += 1;
            return finding({
              ...common,
              id: misconfiguration.ID,
              title: misconfiguration.Title ?? misconfiguration.ID,
              severity: severityOfWord(misconfiguration.Severity)!,
              cvss: null,
              location: line === undefined || line === 0 ? result.Target : `${result.Target}:${line}`,
              fixAvailable: 'unknown',
              raw: { format: 'trivy', ...where, finding: 'misconfiguration', severity: misconfiguration.Severity, status: misconfiguration.Status },
            }, origin, warn);
          }
          const secret = validate(TrivySecret, value, origin, at);
          scan.findingCount += 1;
          return finding({
            ...common,
            id: secret.RuleID,
            title: secret.Title ?? secret.RuleID,
            severity: severityOfWord(secret.Severity)!,
            cvss: null,
            location: secret.StartLine === undefined ? result.Target : `${result.Target}:${secret.StartLine}`,
            fixAvailable: 'unknown',
            raw: { format: 'trivy', ...where, finding: 'secret', severity: secret.Severity },
          }, origin, warn);
        },
        context(event) {
          // A result without findings is checked all the same; the header first when it has been read.
          if (event.path.length !== 2 || event.path[0] !== 'Results' || event.type === 'start') return;
          if (headerSettled(context)) open();
          resultAt(event.path[1]!);
        },
        *finish() {
          const report = validate(TrivyReport, context.root, origin, []);
          const { scan } = open();
          Object.assign(scan.raw, detachedStrings({ trivyVersion: report.Trivy?.Version ?? null, artifactType: report.ArtifactType ?? null, reportId: report.ReportID ?? null }));
          yield* tally.records(origin, warn);
        },
      };
    },
  };
}

/** Parses a Trivy report already read into memory; the connector streams files through `readScanJson`. */
export function parseTrivy(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readScanJson('trivy', (plan) => jsonEvents(document, plan), origin, options);
}

// ---------------------------------------------------------------------------------------------------------------------
// Grype JSON

const GrypeCvss = z.object({
  source: z.string().optional(),
  type: z.string().optional(),
  version: z.string(),
  metrics: z.object({ baseScore: CvssScore }),
});
type GrypeCvss = z.infer<typeof GrypeCvss>;

const GrypeDocument = z.object({
  matches: z.array(z.unknown()),
  source: z.object({ type: z.string(), target: z.unknown() }).optional(),
  descriptor: z.object({ name: z.string().min(1), version: z.string().optional(), timestamp: z.string().optional() }).optional(),
  distro: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
});
type GrypeDocument = z.infer<typeof GrypeDocument>;

const GrypeMatch = z.object({
  vulnerability: z.object({
    id: z.string().min(1),
    severity: z.string(),
    namespace: z.string().optional(),
    description: z.string().optional(),
    cvss: z.array(GrypeCvss).nullable().optional(),
    fix: z.object({ versions: z.array(z.string()).nullable().optional(), state: z.string() }).optional(),
  }),
  relatedVulnerabilities: z.array(z.object({ id: z.string(), description: z.string().optional(), cvss: z.array(GrypeCvss).nullable().optional() })).nullable().optional(),
  artifact: z.object({
    name: z.string().min(1),
    version: z.string(),
    type: z.string().optional(),
    purl: z.string().optional(),
  }),
});

/** The image, directory or file Grype scanned, as the user named it. */
function grypeAsset(document: GrypeDocument): string | undefined {
  const target = document.source?.target;
  if (typeof target === 'string' && target !== '') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  for (const key of ['userInput', 'path', 'name']) {
    const value = (target as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The primary (NVD) v3 score, else the highest v3 score; the match's own scores first, then its related records'. */
function grypeCvss(own: readonly GrypeCvss[], related: readonly GrypeCvss[]): number | null {
  const best = (scores: readonly GrypeCvss[]) => {
    const v3 = scores.filter((cvss) => cvss.version.startsWith('3'));
    const primary = v3.find((cvss) => cvss.type?.toLowerCase() === 'primary');
    if (primary) return primary.metrics.baseScore;
    return v3.length === 0 ? undefined : Math.max(...v3.map((cvss) => cvss.metrics.baseScore));
  };
  return best(own) ?? best(related) ?? null;
}

/** Grype fix states: fixed, not-fixed, wont-fix, unknown, or "" (newer databases when no state is known). */
function grypeFixAvailable(fix: { versions?: string[] | null; state: string } | undefined): boolean | 'unknown' {
  if (fix === undefined) return 'unknown';
  if (fix.state === 'fixed' || (fix.versions ?? []).length > 0) return true;
  if (fix.state === 'not-fixed' || fix.state === 'wont-fix') return false;
  return 'unknown';
}

const GRYPE_CONTEXT = ['source', 'distro', 'descriptor'];

/** The matches one at a time and the source, distro and descriptor whole; ignoredMatches are passed over. */
const grypeShape: JsonShape = {
  plan: (path) => {
    if (path.length <= 1) return path.length === 0 || path[0] === 'matches' ? 'watch' : GRYPE_CONTEXT.includes(path[0] as string) ? 'capture' : 'skip';
    return path.length === 2 && path[0] === 'matches' ? 'capture' : 'skip';
  },
  isItem: (path) => path.length === 2 && path[0] === 'matches',
};

/**
 * Grype JSON to findings and one scan of the source it names (image as the user typed it, directory or file).
 * Findings are located at `package@version`; the title is the first line of the description. Grype writes `source`,
 * `distro` and `descriptor` after its matches, so a report is read twice: its context first (see readJson).
 */
function grypeReading(origin: string, options: ParseOptions, warn: Warn): JsonReading<ScannerRecord> {
  return {
    ...grypeShape,
    ready: (context) => GRYPE_CONTEXT.every((key) => context.settled([key])),
    start(context) {
      const tally = new ScanTally();
      let opened: { scanner: string; asset: string; time: ScanTime; scan: TallyEntry } | undefined;
      const open = () => {
        if (opened) return opened;
        const grype = validate(GrypeDocument, context.root, origin, []);
        const scanner = scannerName(grype.descriptor?.name ?? 'grype');
        let asset = options.asset ?? grypeAsset(grype);
        if (asset === undefined) {
          asset = basename(origin);
          warn(`${SOURCE}: ${origin}: the Grype report names no source target; the asset is the file name "${asset}"`);
        }
        const time = scanTimeOf([{ from: 'descriptor.timestamp', value: grype.descriptor?.timestamp }], origin, options, warn);
        const scan = tally.asset(scanner, asset, time, {
          format: 'grype',
          grypeVersion: grype.descriptor?.version ?? null,
          sourceType: grype.source?.type ?? null,
          distro: grype.distro?.name === undefined ? null : `${grype.distro.name} ${grype.distro.version ?? ''}`.trim(),
          scanTimeFrom: time.from,
        });
        opened = { scanner, asset, time, scan };
        return opened;
      };
      return {
        item(path, value) {
          const { scanner, asset, time, scan } = open();
          const at = [...path];
          const match = validate(GrypeMatch, value, origin, at);
          const { vulnerability, artifact } = match;
          const severity = validate(SeverityWord, vulnerability.severity, origin, [...at, 'vulnerability', 'severity']);
          const related = match.relatedVulnerabilities ?? [];
          const description = vulnerability.description ?? related.find((entry) => entry.description !== undefined)?.description;
          scan.findingCount += 1;
          return finding({
            scanner,
            id: vulnerability.id,
            title: description ?? `${vulnerability.id} in ${artifact.name} ${artifact.version}`,
            severity,
            cvss: grypeCvss(
              vulnerability.cvss ?? [],
              related.flatMap((entry) => entry.cvss ?? []),
            ),
            asset,
            location: artifact.version === '' ? artifact.name : `${artifact.name}@${artifact.version}`,
            ...timeFields(time),
            fixAvailable: grypeFixAvailable(vulnerability.fix),
            raw: {
              format: 'grype',
              severity: vulnerability.severity,
              namespace: vulnerability.namespace ?? null,
              fixState: vulnerability.fix?.state ?? null,
              fixVersions: vulnerability.fix?.versions ?? [],
              artifactType: artifact.type ?? null,
              purl: artifact.purl === undefined ? null : printable(artifact.purl),
              relatedVulnerabilities: related.map((entry) => entry.id),
            },
          }, origin, warn);
        },
        context() {},
        *finish() {
          open();
          yield* tally.records(origin, warn);
        },
      };
    },
  };
}

/** Parses a Grype report already read into memory; the connector streams files through `readScanJson`. */
export function parseGrype(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readScanJson('grype', (plan) => jsonEvents(document, plan), origin, options);
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading JSON exports

/** Where a JSON format keeps its items, and the rest of it a reader looks at. */
interface JsonShape {
  readonly plan: JsonPlan;
  readonly isItem: (path: JsonPath) => boolean;
}

const JSON_SHAPES: readonly JsonShape[] = [sarifShape, trivyShape, grypeShape];

/** The context of every JSON format, with no items: enough to tell the format, and to map whichever it is. */
const JSON_CONTEXT_PLAN: JsonPlan = (path) => {
  for (const shape of JSON_SHAPES) {
    const action = shape.isItem(path) ? 'skip' : shape.plan(path);
    if (action !== 'skip') return action;
  }
  return 'skip';
};

/**
 * The format of a JSON export from its top-level members: those in its first bytes when they tell it (SARIF and
 * Trivy state theirs first), else those of the whole document. That whole read keeps the context of every JSON
 * format, so it also serves as the context of the format found (Grype names its source after its matches).
 * `whole` says the head is the whole file.
 */
export async function jsonFormatOfExport(head: Uint8Array, whole: boolean, pass: JsonPass, origin: string): Promise<{ format: ScanFormat | undefined; context?: JsonSkeleton }> {
  const seen = new JsonSkeleton();
  for await (const event of streamJson([head], origin, JSON_CONTEXT_PLAN, { partial: !whole })) seen.add(event);
  const format = jsonFormatOf(seen.root);
  if (whole) return { format, context: seen };
  if (format !== undefined || typeof seen.root !== 'object' || seen.root === null || Array.isArray(seen.root)) return { format };
  const context = new JsonSkeleton();
  for await (const event of pass(JSON_CONTEXT_PLAN)) context.add(event);
  return { format: jsonFormatOf(context.root), context };
}

/**
 * Reads a JSON export of a known format, one pass (or two, see readJson) of `pass` at a time. `context` is the
 * whole document's context when it has been read already.
 */
export function readScanJson(format: ScanFormat, pass: JsonPass, origin: string, options: ParseOptions = {}, context?: JsonSkeleton): AsyncGenerator<ScannerRecord> {
  const warn = onceWarner(options);
  switch (format) {
    case 'sarif':
      return readJson(sarifReading(origin, options, warn), pass, context);
    case 'trivy':
      return readJson(trivyReading(origin, options, warn), pass, context);
    case 'grype':
      return readJson(grypeReading(origin, options, warn), pass, context);
    default:
      throw new Error(`${format} is not a JSON format`);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Nessus v2 XML

const NESSUS_ROOT = 'NessusClientData_v2';
const NESSUS_SEVERITY: Record<string, Severity> = { '0': 'info', '1': 'low', '2': 'medium', '3': 'high', '4': 'critical' };

const NessusReportItem = z.object({
  '@port': z.string().regex(/^\d+$/, 'expected a port number'),
  '@protocol': z.string(),
  '@svc_name': z.string().optional(),
  '@severity': z.enum(['0', '1', '2', '3', '4'], { error: 'expected a severity 0 to 4' }),
  '@pluginID': z.string().min(1),
  '@pluginName': z.string().optional(),
  '@pluginFamily': z.string().optional(),
  cvss3_base_score: ScoreText.optional(),
  cvss_base_score: ScoreText.optional(),
  cvss3_vector: z.string().optional(),
  risk_factor: z.string().optional(),
  patch_publication_date: z.string().optional(),
  synopsis: z.string().optional(),
  cve: z.array(z.string()),
});

/** The child elements of a ReportItem this mapping reads; plugin_output and description stay out of the records. */
const NESSUS_ITEM_CHILDREN = new Set(['cvss3_base_score', 'cvss_base_score', 'cvss3_vector', 'risk_factor', 'patch_publication_date', 'synopsis']);

/** A ReportItem's attributes (as `@name`), the text of the child elements read (first of each name) and all its CVEs. */
function nessusItemFields(item: XmlElement): Record<string, unknown> {
  const attributes = item.attributes;
  const cves: string[] = [];
  const fields: Record<string, unknown> = {
    '@port': attributes.port,
    '@protocol': attributes.protocol,
    '@svc_name': attributes.svc_name,
    '@severity': attributes.severity,
    '@pluginID': attributes.pluginID,
    '@pluginName': attributes.pluginName,
    '@pluginFamily': attributes.pluginFamily,
    cve: cves,
  };
  for (const child of item.children) {
    if (child.name === 'cve') cves.push(child.text.trim());
    else if (NESSUS_ITEM_CHILDREN.has(child.name) && fields[child.name] === undefined) fields[child.name] = child.text;
  }
  return fields;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Nessus's `Fri Dec 11 03:25:29 2009` (no zone stated; read as UTC). Years before 1000 are refused: Date.UTC reads 0-99 as 1900-1999. */
function nessusDate(value: string): string | undefined {
  const parts = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([1-9]\d{3})$/.exec(value.trim());
  if (!parts) return undefined;
  const month = MONTHS.indexOf(parts[1]!);
  if (month < 0) return undefined;
  return instantText(Date.UTC(Number(parts[6]), month, Number(parts[2]), Number(parts[3]), Number(parts[4]), Number(parts[5])));
}

/** Seconds since the epoch (Nessus's `_TIMESTAMP` tags); undefined past year 9999, which Date cannot write as a record's time. */
function epochSeconds(value: string): string | undefined {
  return /^\d+$/.test(value.trim()) ? instantText(Number(value.trim()) * 1000) : undefined;
}

interface NessusHost {
  readonly name: string;
  readonly index: number;
  properties: Map<string, string>;
  time: ScanTime | undefined;
  scan: TallyEntry | undefined;
  items: number;
}

/**
 * The host's scan time: HOST_END (the end of this host's scan, stated before its items), else HOST_START; the
 * `_TIMESTAMP` variants (epoch seconds) first, as they are unambiguous. The text form states no time zone and is read
 * as UTC, with a warning.
 */
function nessusHostTime(host: NessusHost, origin: string, options: ParseOptions, warn: (message: string) => void): ScanTime {
  const tag = (name: string) => host.properties.get(name);
  const time = scanTimeOf(
    [
      { from: 'HOST_END_TIMESTAMP', value: tag('HOST_END_TIMESTAMP'), read: epochSeconds },
      { from: 'HOST_END', value: tag('HOST_END'), read: nessusDate },
      { from: 'HOST_START_TIMESTAMP', value: tag('HOST_START_TIMESTAMP'), read: epochSeconds },
      { from: 'HOST_START', value: tag('HOST_START'), read: nessusDate },
    ],
    origin,
    options,
    warn,
    `ReportHost ${quoted(host.name)}`,
  );
  if (time.from === 'HOST_END' || time.from === 'HOST_START') {
    warn(`${SOURCE}: ${origin}: Nessus ${time.from} times state no time zone (such as "${tag(time.from)}"); they are read as UTC`);
  }
  return time;
}

/** The text a ReportItem's or HostProperties' children are read for; plugin_output, description and the like are never built. */
const NESSUS_TEXT = { ReportItem: new Set([...NESSUS_ITEM_CHILDREN, 'cve']), HostProperties: new Set(['tag']) };

const nessusPlan: XmlPlan = {
  capture: (path) => path.length === 4 && path[2] === 'ReportHost' && (path[3] === 'ReportItem' || path[3] === 'HostProperties') && path[1] === 'Report',
  watch: (path) => (path.length === 3 && path[2] === 'ReportHost' && path[1] === 'Report') || (path.length === 2 && path[1] === 'Report'),
  keepText: (path) => path.length === 5 && NESSUS_TEXT[path[3] as keyof typeof NESSUS_TEXT].has(path[4]!),
};

/**
 * Streams a Nessus v2 export (`.nessus`): one finding per ReportItem, informational (severity 0) items included as
 * info, and one scan per ReportHost. The asset is the ReportHost's name (what the scan was pointed at: an address or
 * a host name); the location is `port/protocol`; the id is the plugin id, with the item's CVEs in raw. The CVSS score
 * is `cvss3_base_score`; a CVSS v2 `cvss_base_score` is kept in raw only. Only the current ReportItem is in memory.
 */
export async function* parseNessus(chunks: AsyncIterable<string | Uint8Array>, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  const warn = onceWarner(options);
  const tally = new ScanTally();
  let reportName: string | null = null;
  let host: NessusHost | undefined;
  let hosts = 0;
  // The scan time and scan record of a host are settled at its first item (its properties come before its items).
  const openHost = (current: NessusHost): TallyEntry => {
    if (current.scan) return current.scan;
    const time = (current.time ??= nessusHostTime(current, origin, options, warn));
    const properties = current.properties;
    current.scan = tally.asset('nessus', options.asset ?? current.name, time, {
      format: 'nessus',
      reportName,
      hostIp: properties.get('host-ip') ?? null,
      hostFqdn: properties.get('host-fqdn') ?? null,
      operatingSystem: properties.get('operating-system') ?? null,
      scanTimeFrom: time.from,
    });
    return current.scan;
  };

  for await (const event of streamXml(chunks, origin, nessusPlan, { maxValueBytes: options.maxValueBytes, warn })) {
    if (event.type === 'start') {
      if (event.path.length === 1 && event.path[0] !== NESSUS_ROOT) throw malformed(origin, `the root element is <${cut(event.path[0]!)}>, not <${NESSUS_ROOT}>`);
      if (event.path.length === 2) reportName = event.attributes.name === undefined ? null : detached(event.attributes.name);
      if (event.path.length === 3) {
        const name = event.attributes.name?.trim();
        if (!name) throw malformed(origin, `ReportHost ${hosts + 1} has no name attribute`);
        host = { name, index: hosts, properties: new Map(), time: undefined, scan: undefined, items: 0 };
        hosts += 1;
      }
    } else if (event.type === 'end') {
      if (event.path.length === 3 && host) {
        openHost(host);
        host = undefined;
      }
    } else if (host) {
      const element = event.element;
      if (element.name === 'HostProperties') {
        for (const tag of element.children) if (tag.name === 'tag' && tag.attributes.name) host.properties.set(tag.attributes.name, tag.text.trim());
        continue;
      }
      const scan = openHost(host);
      const item = validate(NessusReportItem, nessusItemFields(element), origin, ['ReportHost', host.index, 'ReportItem', host.items], `ReportHost ${quoted(host.name)}`);
      host.items += 1;
      scan.findingCount += 1;
      const port = `${item['@port']}/${item['@protocol']}`;
      const pluginName = item['@pluginName'] ?? '';
      yield finding({
        scanner: 'nessus',
        id: item['@pluginID'],
        // Plugin 0 items are the port scanner's open-port entries, which carry no name.
        title: pluginName !== '' ? pluginName : `Open port ${port} (${item['@svc_name'] ?? 'unknown service'})`,
        severity: NESSUS_SEVERITY[item['@severity']]!,
        cvss: item.cvss3_base_score ?? null,
        asset: options.asset ?? host.name,
        location: port,
        ...timeFields(host.time!),
        fixAvailable: item.patch_publication_date !== undefined && item.patch_publication_date.trim() !== '' ? true : 'unknown',
        raw: {
          format: 'nessus',
          host: host.name,
          severity: Number(item['@severity']),
          pluginFamily: item['@pluginFamily'] || null,
          svcName: item['@svc_name'] || null,
          riskFactor: item.risk_factor ?? null,
          cves: item.cve,
          cvss2: item.cvss_base_score ?? null,
          cvss3Vector: item.cvss3_vector ?? null,
          synopsis: excerpt(item.synopsis),
        },
      }, origin, warn);
    }
  }
  if (hosts === 0) warn(`${SOURCE}: ${origin}: the Nessus report has no ReportHost, so it proves no scan of any asset`);
  yield* tally.records(origin, warn);
}

// ---------------------------------------------------------------------------------------------------------------------
// OpenVAS / Greenbone XML

const OPENVAS_ROOTS = new Set(['report', 'get_reports_response']);

/** The path below the inner `report` element (`report/report/...`, also inside a GMP `get_reports_response`). */
function belowInnerReport(path: readonly string[]): readonly string[] | undefined {
  const offset = path[0] === 'report' ? 0 : path[0] === 'get_reports_response' ? 1 : -1;
  if (offset < 0 || path[offset] !== 'report' || path[offset + 1] !== 'report') return undefined;
  return path.slice(offset + 2);
}

/** The elements of a result whose text is read (openVasResultFields); the description and the like are never built. */
const OPENVAS_RESULT_TEXT = new Set(['name', 'host', 'host/hostname', 'port', 'threat', 'severity', 'qod/value', 'nvt/name', 'nvt/family', 'nvt/cvss_base', 'nvt/tags', 'nvt/cve', 'nvt/severities/severity/score']);

const openVasPlan: XmlPlan = {
  capture: (path) => {
    if (path.length < 3 || path.length > 5) return false;
    const below = belowInnerReport(path);
    if (below === undefined) return false;
    if (below.length === 2) return below[0] === 'results' && below[1] === 'result';
    return below.length === 1 && (below[0] === 'scan_start' || below[0] === 'timestamp' || below[0] === 'host');
  },
  watch: (path) => path.length <= 3 && belowInnerReport(path)?.length === 0,
  keepText: (path) => {
    const below = belowInnerReport(path) ?? [];
    if (below[0] === 'results') return OPENVAS_RESULT_TEXT.has(below.slice(2).join('/'));
    return below[0] === 'host' ? below.length === 2 && below[1] === 'ip' : below.length === 1;
  },
};

const OpenVasResult = z.object({
  '@id': z.string().optional(),
  name: z.string().optional(),
  host: z.string({ error: 'the result names no host' }).min(1, 'the result names no host'),
  hostname: z.string().optional(),
  port: z.string().optional(),
  threat: z.string().optional(),
  severity: DecimalText,
  qod: z.string().optional(),
  nvt: z.object(
    {
      '@oid': z.string().min(1, 'the NVT has no oid'),
      name: z.string().optional(),
      family: z.string().optional(),
      cvss_base: DecimalText,
      tags: z.string().optional(),
      solutionType: z.string().optional(),
      cvssV3: ScoreText.optional(),
      cves: z.array(z.string()),
    },
    { error: 'the result has no nvt' },
  ),
});

function trimmed(text: string | undefined): string | undefined {
  const value = text?.trim();
  return value === '' ? undefined : value;
}

function nvtTag(tags: string | undefined, name: string): string | undefined {
  if (tags === undefined) return undefined;
  const match = new RegExp(`(?:^|\\|)${name}=([^|]*)`).exec(tags);
  return trimmed(match?.[1]);
}

/** A result's fields by name; the host is the `host` element's own text (its children are asset and hostname). */
function openVasResultFields(result: XmlElement): Record<string, unknown> {
  const nvt = childOf(result, 'nvt');
  const host = childOf(result, 'host');
  const refs = childOf(nvt, 'refs')?.children ?? [];
  // GMP 8 and later list CVEs as refs; older reports as one comma-separated <cve> element ("NOCVE" when none).
  const legacy = (childText(nvt, 'cve') ?? '').split(/[\s,]+/).filter((cve) => /^CVE-/i.test(cve));
  const v3 = childOf(nvt, 'severities')?.children.find((severity) => severity.name === 'severity' && severity.attributes.type?.startsWith('cvss_base_v3'));
  return {
    '@id': result.attributes.id,
    name: trimmed(childText(result, 'name')),
    host: trimmed(host?.text),
    hostname: trimmed(childText(host, 'hostname')),
    port: trimmed(childText(result, 'port')),
    threat: trimmed(childText(result, 'threat')),
    severity: childText(result, 'severity'),
    qod: trimmed(childText(childOf(result, 'qod'), 'value')),
    nvt: nvt && {
      '@oid': nvt.attributes.oid ?? '',
      name: trimmed(childText(nvt, 'name')),
      family: trimmed(childText(nvt, 'family')),
      cvss_base: childText(nvt, 'cvss_base'),
      tags: childText(nvt, 'tags'),
      solutionType: trimmed(childOf(nvt, 'solution')?.attributes.type) ?? nvtTag(childText(nvt, 'tags'), 'solution_type'),
      cvssV3: trimmed(childText(v3, 'score')),
      cves: [...refs.filter((ref) => ref.name === 'ref' && ref.attributes.type?.toLowerCase() === 'cve' && ref.attributes.id).map((ref) => ref.attributes.id!), ...legacy],
    },
  };
}

/** Greenbone threat words, for results without a numeric severity. */
const OPENVAS_THREAT = new Map<string, Severity>([
  ['critical', 'critical'],
  ['high', 'high'],
  ['medium', 'medium'],
  ['low', 'low'],
  ['log', 'info'],
  ['debug', 'info'],
  ['false positive', 'info'],
  ['alarm', 'info'],
  ['error', 'info'],
]);

/** Greenbone solution types (https://docs.greenbone.net): a vendor fix is a fix; "none available" and "will not fix" say none will come. */
function openVasFixAvailable(solutionType: string | undefined): boolean | 'unknown' {
  if (solutionType === 'VendorFix') return true;
  if (solutionType === 'NoneAvailable' || solutionType === 'WillNotFix') return false;
  return 'unknown';
}

/**
 * Streams an OpenVAS/Greenbone XML report (`<report>` as exported, or a GMP `<get_reports_response>`): one finding
 * per `report/report/results/result` and one scan per host (hosts of the report's host summary without results get a
 * scan with 0 findings). The severity is the result's numeric severity banded like CVSS (so 9.0-10 is critical, where
 * Greenbone's classic scale says High), else its threat word. The id is the NVT OID, the location the port
 * (`80/tcp`, `general/tcp`). The CVSS score is the NVT's `cvss_base_v3` severity, or `cvss_base` when the NVT's
 * vector is CVSS 3. The scan time is `scan_start` (then `timestamp`): both come before the results, so findings
 * stream; the end time comes after them.
 */
export async function* parseOpenVas(chunks: AsyncIterable<string | Uint8Array>, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  const warn = onceWarner(options);
  const tally = new ScanTally();
  let reportId: string | null = null;
  let scanStart: string | undefined;
  let timestamp: string | undefined;
  let time: ScanTime | undefined;
  const hosts: string[] = [];
  const scanTime = () =>
    (time ??= scanTimeOf(
      [
        { from: 'scan_start', value: scanStart },
        { from: 'timestamp', value: timestamp },
      ],
      origin,
      options,
      warn,
    ));
  const scanOf = (host: string) => {
    const at = scanTime();
    return tally.asset('openvas', options.asset ?? host, at, { format: 'openvas', reportId, host, scanTimeFrom: at.from });
  };
  let results = 0;

  for await (const event of streamXml(chunks, origin, openVasPlan, { maxValueBytes: options.maxValueBytes, warn })) {
    if (event.type === 'start') {
      if (event.path.length === 1 && !OPENVAS_ROOTS.has(event.path[0]!)) throw malformed(origin, `the root element is <${cut(event.path[0]!)}>, not an OpenVAS <report>`);
      if (event.path.length > 1 && event.attributes.id !== undefined) reportId = detached(event.attributes.id);
      continue;
    }
    if (event.type === 'end') continue;
    const element = event.element;
    if (element.name === 'scan_start') scanStart = detached(element.text);
    else if (element.name === 'timestamp') timestamp = detached(element.text);
    else if (element.name === 'host') {
      const ip = trimmed(childText(element, 'ip'));
      if (ip !== undefined) hosts.push(detached(ip));
    } else {
      const result = validate(OpenVasResult, openVasResultFields(element), origin, ['results', results]);
      results += 1;
      const { nvt } = result;
      const threat = result.threat === undefined ? undefined : OPENVAS_THREAT.get(result.threat.toLowerCase());
      const severity = result.severity !== undefined ? severityOfScore(result.severity) : threat;
      if (severity === undefined) throw malformed(origin, `field results[${results - 1}].severity: the result has neither a numeric severity nor a known threat (${cut(result.threat ?? 'none')})`);
      const scan = scanOf(result.host);
      scan.findingCount += 1;
      const vector = nvtTag(nvt.tags, 'cvss_base_vector');
      yield finding({
        scanner: 'openvas',
        id: nvt['@oid'],
        title: nvt.name ?? result.name ?? nvt['@oid'],
        severity,
        cvss: nvt.cvssV3 ?? (vector?.startsWith('CVSS:3') && nvt.cvss_base !== undefined && nvt.cvss_base >= 0 && nvt.cvss_base <= 10 ? nvt.cvss_base : null),
        asset: options.asset ?? result.host,
        location: result.port ?? '',
        ...timeFields(scanTime()),
        fixAvailable: openVasFixAvailable(nvt.solutionType),
        raw: {
          format: 'openvas',
          resultId: result['@id'] ?? null,
          hostname: result.hostname ?? null,
          threat: result.threat ?? null,
          severityScore: result.severity ?? null,
          qod: result.qod === undefined ? null : Number(result.qod),
          nvtFamily: nvt.family ?? null,
          solutionType: nvt.solutionType ?? null,
          cves: nvt.cves,
        },
      }, origin, warn);
    }
  }
  for (const host of hosts) scanOf(host);
  if (results === 0 && hosts.length === 0) {
    if (options.asset !== undefined) scanOf(options.asset);
    else warn(`${SOURCE}: ${origin}: the OpenVAS report names no host, so it proves no scan of any asset`);
  }
  yield* tally.records(origin, warn);
}

/** Streams an XML scan document of a known format. */
export function parseScanXml(format: ScanFormat, chunks: AsyncIterable<string | Uint8Array>, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  switch (format) {
    case 'nessus':
      return parseNessus(chunks, origin, options);
    case 'openvas':
      return parseOpenVas(chunks, origin, options);
    default:
      throw new Error(`${format} is not an XML format`);
  }
}
