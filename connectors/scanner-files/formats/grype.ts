import { basename } from 'node:path';
import { z } from 'zod';
import { jsonEvents, type JsonReading } from '../json-stream.ts';
import {
  CvssScore,
  finding,
  printable,
  readJsonExport,
  ScanTally,
  scannerName,
  scanTimeOf,
  SeverityWord,
  SOURCE,
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
  relatedVulnerabilities: z
    .array(z.object({ id: z.string(), description: z.string().optional(), cvss: z.array(GrypeCvss).nullable().optional() }))
    .nullable()
    .optional(),
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
          return finding(
            {
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
            },
            origin,
            warn,
          );
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

/** A Grype report: `matches` (an array) with `source` or `descriptor`. */
export const grype: JsonScanFormat<'grype'> = {
  name: 'grype',
  title: 'Grype JSON',
  container: 'json',
  isDocument: (top) => Array.isArray(top.matches) && ('source' in top || 'descriptor' in top),
  shape: grypeShape,
  reading: grypeReading,
};

/** Parses a Grype report already read into memory; the connector streams files through `readScanJson`. */
export function parseGrype(document: unknown, origin: string, options: ParseOptions = {}): AsyncGenerator<ScannerRecord> {
  return readJsonExport(grype, (plan) => jsonEvents(document, plan), origin, options);
}
