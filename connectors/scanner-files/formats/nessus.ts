import { z } from 'zod';
import type { Severity } from '../../../core/records.ts';
import { detached, streamXml, type XmlElement, type XmlPlan } from '../xml-stream.ts';
import {
  cut,
  excerpt,
  finding,
  instantText,
  malformed,
  onceWarner,
  quoted,
  ScanTally,
  scanTimeOf,
  ScoreText,
  SOURCE,
  timeFields,
  validate,
  type ParseOptions,
  type ScannerRecord,
  type ScanTime,
  type TallyEntry,
  type XmlScanFormat,
} from './shared.ts';

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
      if (event.path.length === 1 && event.path[0] !== NESSUS_ROOT)
        throw malformed(origin, `the root element is <${cut(event.path[0]!)}>, not <${NESSUS_ROOT}>`);
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
      const item = validate(
        NessusReportItem,
        nessusItemFields(element),
        origin,
        ['ReportHost', host.index, 'ReportItem', host.items],
        `ReportHost ${quoted(host.name)}`,
      );
      host.items += 1;
      scan.findingCount += 1;
      const port = `${item['@port']}/${item['@protocol']}`;
      const pluginName = item['@pluginName'] ?? '';
      yield finding(
        {
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
        },
        origin,
        warn,
      );
    }
  }
  if (hosts === 0) warn(`${SOURCE}: ${origin}: the Nessus report has no ReportHost, so it proves no scan of any asset`);
  yield* tally.records(origin, warn);
}

/** A Nessus v2 export (`.nessus`): the root element `NessusClientData_v2`. */
export const nessus: XmlScanFormat<'nessus'> = {
  name: 'nessus',
  title: `Nessus v2 XML (${NESSUS_ROOT})`,
  container: 'xml',
  roots: new Set([NESSUS_ROOT]),
  parse: parseNessus,
};
