import { basename } from 'node:path';
import { z } from 'zod';
import type { Severity } from '../../../core/records.ts';
import { formatPath } from '../../../core/zod-issues.ts';
import { jsonEvents, type JsonKey, type JsonReading } from '../json-stream.ts';
import {
  excerpt,
  finding,
  isoInstant,
  malformed,
  readJsonExport,
  ScanTally,
  scannerName,
  scanTimeOf,
  severityOfScore,
  severityOfWord,
  timeFields,
  validate,
  type JsonScanFormat,
  type JsonShape,
  type ParseOptions,
  type ScannerRecord,
  type ScanTime,
  type TallyEntry,
  type Warn,
} from './shared.ts';

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

/** A SARIF log: `runs` (an array) with a string `version`, or a `$schema` naming SARIF. Only 2.1.0 is read. */
export const sarif: JsonScanFormat<'sarif'> = {
  name: 'sarif',
  title: 'SARIF 2.1.0',
  container: 'json',
  isDocument: (top) => Array.isArray(top.runs) && (typeof top.version === 'string' || String(top.$schema ?? '').includes('sarif')),
  shape: sarifShape,
  reading: sarifReading,
};

/** Parses a SARIF log already read into memory; the connector streams files through `readScanJson`. */
export function parseSarif(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readJsonExport(sarif, (plan) => jsonEvents(document, plan), origin, options);
}
