import { z } from 'zod';
import { jsonEvents, type JsonKey, type JsonReading, type JsonSkeleton } from '../json-stream.ts';
import {
  CvssScore,
  detachedStrings,
  finding,
  readJsonExport,
  ScanTally,
  scanTimeOf,
  severityOfWord,
  timeFields,
  validate,
  type JsonScanFormat,
  type JsonShape,
  type ParseOptions,
  type ScannerRecord,
  type TallyEntry,
  type Warn,
} from './shared.ts';

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
            return finding(
              {
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
              },
              origin,
              warn,
            );
          }
          if (path[2] === 'Misconfigurations') {
            const misconfiguration = validate(TrivyMisconfiguration, value, origin, at);
            if (misconfiguration.Status !== 'FAIL') return undefined;
            const line = misconfiguration.CauseMetadata?.StartLine;
            scan.findingCount += 1;
            return finding(
              {
                ...common,
                id: misconfiguration.ID,
                title: misconfiguration.Title ?? misconfiguration.ID,
                severity: severityOfWord(misconfiguration.Severity)!,
                cvss: null,
                location: line === undefined || line === 0 ? result.Target : `${result.Target}:${line}`,
                fixAvailable: 'unknown',
                raw: { format: 'trivy', ...where, finding: 'misconfiguration', severity: misconfiguration.Severity, status: misconfiguration.Status },
              },
              origin,
              warn,
            );
          }
          const secret = validate(TrivySecret, value, origin, at);
          scan.findingCount += 1;
          return finding(
            {
              ...common,
              id: secret.RuleID,
              title: secret.Title ?? secret.RuleID,
              severity: severityOfWord(secret.Severity)!,
              cvss: null,
              location: secret.StartLine === undefined ? result.Target : `${result.Target}:${secret.StartLine}`,
              fixAvailable: 'unknown',
              raw: { format: 'trivy', ...where, finding: 'secret', severity: secret.Severity },
            },
            origin,
            warn,
          );
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
          Object.assign(
            scan.raw,
            detachedStrings({ trivyVersion: report.Trivy?.Version ?? null, artifactType: report.ArtifactType ?? null, reportId: report.ReportID ?? null }),
          );
          yield* tally.records(origin, warn);
        },
      };
    },
  };
}

/** A Trivy report: `SchemaVersion` with `ArtifactName` or `Results`. Only SchemaVersion 2 is read. */
export const trivy: JsonScanFormat<'trivy'> = {
  name: 'trivy',
  title: 'Trivy JSON (SchemaVersion 2)',
  container: 'json',
  isDocument: (top) => top.SchemaVersion !== undefined && ('ArtifactName' in top || 'Results' in top),
  shape: trivyShape,
  reading: trivyReading,
};

/** Parses a Trivy report already read into memory; the connector streams files through `readScanJson`. */
export function parseTrivy(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readJsonExport(trivy, (plan) => jsonEvents(document, plan), origin, options);
}
