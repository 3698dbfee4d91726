import { z } from 'zod';
import type { Severity } from '../../../core/records.ts';
import { childOf, childText, detached, streamXml, type XmlElement, type XmlPlan } from '../xml-stream.ts';
import {
  cut,
  finding,
  malformed,
  onceWarner,
  ScanTally,
  scanTimeOf,
  ScoreText,
  severityOfScore,
  SOURCE,
  timeFields,
  validate,
  type ParseOptions,
  type ScannerRecord,
  type ScanTime,
  type XmlScanFormat,
} from './shared.ts';

const OPENVAS_ROOTS = new Set(['report', 'get_reports_response']);

/** The path below the inner `report` element (`report/report/...`, also inside a GMP `get_reports_response`). */
function belowInnerReport(path: readonly string[]): readonly string[] | undefined {
  const offset = path[0] === 'report' ? 0 : path[0] === 'get_reports_response' ? 1 : -1;
  if (offset < 0 || path[offset] !== 'report' || path[offset + 1] !== 'report') return undefined;
  return path.slice(offset + 2);
}

/** The elements of a result whose text is read (openVasResultFields); the description and the like are never built. */
const OPENVAS_RESULT_TEXT = new Set([
  'name',
  'host',
  'host/hostname',
  'port',
  'threat',
  'severity',
  'qod/value',
  'nvt/name',
  'nvt/family',
  'nvt/cvss_base',
  'nvt/tags',
  'nvt/cve',
  'nvt/severities/severity/score',
]);

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
      cves: [
        ...refs.filter((ref) => ref.name === 'ref' && ref.attributes.type?.toLowerCase() === 'cve' && ref.attributes.id).map((ref) => ref.attributes.id!),
        ...legacy,
      ],
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
      if (event.path.length === 1 && !OPENVAS_ROOTS.has(event.path[0]!))
        throw malformed(origin, `the root element is <${cut(event.path[0]!)}>, not an OpenVAS <report>`);
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
      if (severity === undefined)
        throw malformed(
          origin,
          `field results[${results - 1}].severity: the result has neither a numeric severity nor a known threat (${cut(result.threat ?? 'none')})`,
        );
      const scan = scanOf(result.host);
      scan.findingCount += 1;
      const vector = nvtTag(nvt.tags, 'cvss_base_vector');
      yield finding(
        {
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
        },
        origin,
        warn,
      );
    }
  }
  for (const host of hosts) scanOf(host);
  if (results === 0 && hosts.length === 0) {
    if (options.asset !== undefined) scanOf(options.asset);
    else warn(`${SOURCE}: ${origin}: the OpenVAS report names no host, so it proves no scan of any asset`);
  }
  yield* tally.records(origin, warn);
}

/** An OpenVAS/Greenbone report: `<report>` as exported, or a GMP `<get_reports_response>`. */
export const openVas: XmlScanFormat<'openvas'> = {
  name: 'openvas',
  title: 'OpenVAS/Greenbone XML (<report>)',
  container: 'xml',
  roots: OPENVAS_ROOTS,
  parse: parseOpenVas,
};
