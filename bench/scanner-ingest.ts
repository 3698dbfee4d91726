import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { JSONParser } from '@streamparser/json';
import { SaxesParser } from 'saxes';
import { READ_CHUNK_BYTES } from '../connectors/scanner-files/files.ts';
import { scannerFiles } from '../connectors/scanner-files/index.ts';
import { testContext } from '../test/support/connector-context.ts';
import {
  emit,
  MB,
  mbPerS,
  measure,
  peakRssMb,
  Random,
  ratioOf,
  round,
  runBenchmark,
  runPhase,
  say,
  scratchDir,
  SEED,
  type BenchArgs,
  type BenchResult,
  type Row,
} from './common.ts';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';

/**
 * Scanner exports through the scanner-files connector (content sniffing, sha256, parse, zod, mapping to findings and
 * scans), against the floor of a bare streaming parse of the same bytes in the same chunks: saxes with no handlers for
 * Nessus XML; for Trivy JSON, @streamparser/json's JSONParser handing over each vulnerability (what any streaming
 * reader built on that library does; JSON.parse cannot take a 1 GB file, V8's longest string being 512 MiB). Each
 * ingest runs in its own process, so its peak RSS is its own. Both formats are streamed and must stay flat in memory
 * from 100 MB to 1 GB.
 */

const XML_SIZES = [100 * MB, 1000 * MB];
const JSON_SIZES = [100 * MB, 1000 * MB];
const WRITE_BATCH = 1 << 20;

const WORDS = (
  'the remote host is affected by a vulnerability in the service which allows an unauthenticated attacker to execute ' +
  'arbitrary code cause a denial of service or disclose sensitive information via a crafted request upgrade to the latest ' +
  'version apply the vendor patch see the advisory for details openssl apache nginx kernel library package module buffer ' +
  'overflow injection traversal certificate expired weak cipher suite protocol version configuration default credentials'
).split(' ');

function sentence(random: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(random.pick(WORDS));
  return out.join(' ');
}

/** Writes generated text in batches, honouring backpressure, until `size` bytes or more are written. */
class Sink {
  readonly #stream: ReturnType<typeof createWriteStream>;
  #pending: string[] = [];
  #pendingBytes = 0;
  written = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file);
  }

  async write(text: string): Promise<void> {
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    this.written += Buffer.byteLength(text);
    if (this.#pendingBytes >= WRITE_BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

const SEVERITY_WORD = ['None', 'Low', 'Medium', 'High', 'Critical'];
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Nessus v2 export of about `size` bytes: hosts with their properties and 20-120 report items each. */
export async function writeNessus(file: string, size: number): Promise<number> {
  const random = new Random(SEED ^ 0x4e55);
  const sink = new Sink(file);
  await sink.write('<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Policy><policyName>Weekly internal</policyName><Preferences><ServerPreferences>');
  await sink.write('<preference><name>plugin_set</name><value>10180;10335;11219;19506;22964</value></preference></ServerPreferences></Preferences></Policy>\n');
  await sink.write('<Report name="Weekly internal scan" xmlns:cm="http://www.nessus.org/cm">\n');
  let host = 0;
  while (sink.written < size) {
    const ip = `10.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}`;
    const end = 1_767_225_600 + random.int(0, 3_000_000);
    await sink.write(
      `<ReportHost name="${ip}"><HostProperties>\n<tag name="HOST_END">Thu Jan 01 03:25:29 2026</tag>\n<tag name="HOST_END_TIMESTAMP">${end}</tag>\n` +
        `<tag name="operating-system">${random.pick(['Linux Kernel 5.15', 'Microsoft Windows Server 2022', 'Ubuntu 22.04'])}</tag>\n<tag name="host-ip">${ip}</tag>\n` +
        `<tag name="host-fqdn">host-${host}.corp.example</tag>\n<tag name="HOST_START_TIMESTAMP">${end - 1800}</tag>\n</HostProperties>\n`,
    );
    const items = random.int(20, 120);
    for (let i = 0; i < items && sink.written < size; i++) {
      const severity = random.float() < 0.5 ? 0 : random.int(1, 4);
      const port = random.pick([0, 22, 80, 443, 445, 3389, 5432, 8080]);
      const cves =
        severity > 0 ? Array.from({ length: random.int(0, 3) }, () => `<cve>CVE-${random.int(2015, 2025)}-${random.int(1000, 49999)}</cve>`).join('') : '';
      const score =
        severity > 0
          ? `<cvss3_base_score>${(severity * 2 + random.float() * 1.9).toFixed(1)}</cvss3_base_score><cvss_base_score>${(severity * 2).toFixed(1)}</cvss_base_score>`
          : '';
      await sink.write(
        `<ReportItem port="${port}" svc_name="${port === 443 ? 'www' : 'general'}" protocol="tcp" severity="${severity}" pluginID="${random.int(10_000, 200_000)}" ` +
          `pluginName="${escapeXml(sentence(random, 5))}" pluginFamily="${random.pick(['General', 'Web Servers', 'Windows', 'Ubuntu Local Security Checks'])}">\n` +
          `<description>${escapeXml(sentence(random, random.int(20, 80)))}</description>\n<plugin_modification_date>2025/11/0${random.int(1, 9)}</plugin_modification_date>\n` +
          `<risk_factor>${SEVERITY_WORD[severity]}</risk_factor>\n<solution>${escapeXml(sentence(random, 12))}</solution>\n<synopsis>${escapeXml(sentence(random, 10))}</synopsis>\n` +
          `${score}${cves}${random.chance(0.5) ? `<patch_publication_date>2025/0${random.int(1, 9)}/1${random.int(0, 9)}</patch_publication_date>` : ''}\n` +
          `<plugin_output>${escapeXml(sentence(random, random.int(5, 60)))}</plugin_output>\n</ReportItem>\n`,
      );
    }
    await sink.write('</ReportHost>\n');
    host++;
  }
  await sink.write('</Report>\n</NessusClientData_v2>\n');
  await sink.close();
  return sink.written;
}

const PAD = '  ';
const indent = (depth: number) => PAD.repeat(depth);

/** One vulnerability, indented as Trivy writes JSON (Go's MarshalIndent with two spaces). */
function trivyVulnerability(random: Random, depth: number): string {
  const severity = random.pick(['LOW', 'MEDIUM', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN']);
  const id = `CVE-${random.int(2015, 2025)}-${random.int(1000, 49999)}`;
  const pkg = `${random.pick(['lib', 'py-', 'node-', 'go-'])}${random.pick(WORDS)}${random.int(1, 99)}`;
  const version = `${random.int(0, 9)}.${random.int(0, 30)}.${random.int(0, 99)}`;
  const fixed = random.chance(0.6) ? `${version.split('.')[0]}.${random.int(31, 60)}.0` : undefined;
  const score = (random.float() * 10).toFixed(1);
  const value = {
    VulnerabilityID: id,
    PkgID: `${pkg}@${version}`,
    PkgName: pkg,
    PkgIdentifier: { PURL: `pkg:generic/${pkg}@${version}`, UID: random.hex(16) },
    InstalledVersion: version,
    ...(fixed ? { FixedVersion: fixed } : {}),
    Status: fixed ? 'fixed' : random.pick(['affected', 'will_not_fix', 'fix_deferred']),
    Layer: { Digest: `sha256:${random.hex(64)}`, DiffID: `sha256:${random.hex(64)}` },
    SeveritySource: random.pick(['nvd', 'redhat', 'ubuntu']),
    PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
    DataSource: { ID: 'alpine', Name: 'Alpine Secdb', URL: 'https://secdb.alpinelinux.org/' },
    Title: sentence(random, 8),
    Description: sentence(random, random.int(20, 70)),
    Severity: severity,
    CweIDs: [`CWE-${random.int(20, 900)}`],
    VendorSeverity: { nvd: random.int(1, 4), redhat: random.int(1, 4) },
    CVSS: {
      nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: Number(score) },
      redhat: { V3Vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', V3Score: Number(score) },
    },
    References: Array.from({ length: random.int(1, 4) }, () => `https://example.org/advisories/${random.hex(12)}`),
    PublishedDate: random.daysBefore(10, 2000),
    LastModifiedDate: random.daysBefore(0, 10),
  };
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent(depth)}`);
}

/** A Trivy JSON report (SchemaVersion 2) of about `size` bytes: results of 200-2000 vulnerabilities each. */
export async function writeTrivy(file: string, size: number): Promise<number> {
  const random = new Random(SEED ^ 0x7a1f);
  const sink = new Sink(file);
  const head = {
    SchemaVersion: 2,
    Trivy: { Version: '0.58.1' },
    ReportID: random.uuid(),
    CreatedAt: '2026-01-14T06:00:00.000000005Z',
    ArtifactName: 'registry.corp.example/platform/api:2026.01.14',
    ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'alpine', Name: '3.20.3' }, ImageID: `sha256:${random.hex(64)}`, RepoTags: ['registry.corp.example/platform/api:2026.01.14'] },
  };
  const opening = JSON.stringify(head, null, 2);
  await sink.write(`${opening.slice(0, -2)},\n${PAD}"Results": [`);
  let results = 0;
  while (sink.written < size) {
    await sink.write(
      `${results === 0 ? '' : ','}\n${indent(2)}{\n${indent(3)}"Target": "usr/lib/${random.pick(WORDS)}-${results} (${random.pick(['alpine', 'npm', 'pip', 'gomod'])})",\n`,
    );
    await sink.write(
      `${indent(3)}"Class": "lang-pkgs",\n${indent(3)}"Type": "${random.pick(['npm', 'pip', 'gomod', 'alpine'])}",\n${indent(3)}"Vulnerabilities": [`,
    );
    const count = random.int(200, 2000);
    for (let v = 0; v < count && sink.written < size; v++) await sink.write(`${v === 0 ? '' : ','}\n${indent(4)}${trivyVulnerability(random, 4)}`);
    await sink.write(`\n${indent(3)}]\n${indent(2)}}`);
    results++;
  }
  await sink.write(`\n${PAD}]\n}\n`);
  await sink.close();
  return sink.written;
}

interface IngestOutcome {
  bytes: number;
  wallS: number;
  cpuS: number;
  records: number;
  findings: number;
  scans: number;
  peakRssMb: number;
  /** Why the ingest could not run, when it could not. */
  error?: string;
}

async function ingestOurs(args: BenchArgs): Promise<void> {
  const file = args.options.file!;
  const bytes = statSync(file).size;
  const { ctx } = testContext({ baseDir: path.dirname(file) });
  const config = scannerFiles.config.parse({ paths: [file] });
  let findings = 0;
  let scans = 0;
  try {
    const run = await measure(async () => {
      for await (const record of scannerFiles.collect(config, ctx)) {
        if (record.kind === 'finding') findings++;
        else scans++;
      }
    });
    emit({ bytes, wallS: run.wallS, cpuS: run.cpuS, records: findings + scans, findings, scans, peakRssMb: peakRssMb() } satisfies IngestOutcome);
  } catch (error) {
    emit({
      bytes,
      wallS: 0,
      cpuS: 0,
      records: findings + scans,
      findings,
      scans,
      peakRssMb: peakRssMb(),
      error: (error as Error).message,
    } satisfies IngestOutcome);
  }
}

async function ingestFloor(args: BenchArgs): Promise<void> {
  const file = args.options.file!;
  const bytes = statSync(file).size;
  try {
    const run = await measure(async () => {
      const chunks = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>;
      if (args.options.format === 'xml') {
        const parser = new SaxesParser({ xmlns: false, position: true });
        const decoder = new TextDecoder('utf-8');
        for await (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }));
        parser.close();
      } else {
        const parser = new JSONParser({ paths: ['$.Results.*.Vulnerabilities.*'], keepStack: false });
        parser.onValue = () => {};
        for await (const chunk of chunks) parser.write(chunk);
        // The parser ends itself once the top-level value closes.
        if (!parser.isEnded) parser.end();
      }
    });
    emit({ bytes, wallS: run.wallS, cpuS: run.cpuS, records: 0, findings: 0, scans: 0, peakRssMb: peakRssMb() } satisfies IngestOutcome);
  } catch (error) {
    emit({ bytes, wallS: 0, cpuS: 0, records: 0, findings: 0, scans: 0, peakRssMb: peakRssMb(), error: (error as Error).message } satisfies IngestOutcome);
  }
}

const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;

function describe(label: string, run: IngestOutcome): string {
  if (run.error) return `  ${label}: could not run: ${run.error.slice(0, 300)} (peak RSS ${run.peakRssMb} MB)`;
  return `  ${label}: ${run.wallS.toFixed(2)} s = ${mbPerS(run.bytes, run.wallS)} MB/s${run.records ? `, ${run.findings.toLocaleString('en')} findings + ${run.scans} scans` : ''}, CPU ${run.cpuS.toFixed(2)} s, peak RSS ${run.peakRssMb} MB`;
}

async function main(args: BenchArgs): Promise<void> {
  const scratch = scratchDir('scanner-ingest');
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    const plan = [
      ...XML_SIZES.map((size) => ({ format: 'xml' as const, size: Math.round(size * args.scale), nominal: size })),
      ...JSON_SIZES.map((size) => ({ format: 'json' as const, size: Math.round(size * args.scale), nominal: size })),
    ];
    const rssBySize: Record<'xml' | 'json', { bytes: number; rss: number }[]> = { xml: [], json: [] };
    for (const { format, size } of plan) {
      const file = path.join(scratch.dir, format === 'xml' ? `scan-${size}.nessus` : `trivy-${size}.json`);
      const generated = await measure(() => (format === 'xml' ? writeNessus(file, size) : writeTrivy(file, size)));
      const bytes = generated.value;
      const name = format === 'xml' ? `Nessus XML ${mb(bytes)}` : `Trivy JSON ${mb(bytes)}`;
      say(`scanner-ingest: ${name} (generated in ${generated.wallS.toFixed(1)} s)`);
      const floorRun = (await runPhase<IngestOutcome>(import.meta.url, 'floor', args, { file, format }, { profileAs: `scanner-floor-${format}-${size}` }))
        .result;
      say(describe(format === 'xml' ? 'floor (saxes, no handlers)' : 'floor (@streamparser/json JSONParser, each vulnerability)', floorRun));
      const oursRun = (
        await runPhase<IngestOutcome>(
          import.meta.url,
          'ours',
          args,
          { file, format },
          { profileAs: `scanner-ours-${format}-${size}`, execArgv: [...WORKER_NODE_FLAGS] },
        )
      ).result;
      say(describe('ours (scanner-files connector)', oursRun));
      figures[name] = { floor: floorRun, ours: oursRun };
      const oursTput = oursRun.error ? null : mbPerS(bytes, oursRun.wallS);
      const floorTput = floorRun.error ? null : mbPerS(bytes, floorRun.wallS);
      if (!oursRun.error) rssBySize[format].push({ bytes, rss: oursRun.peakRssMb });
      const notes = [oursRun.error ? `ours refused: ${oursRun.error}` : undefined, floorRun.error ? `floor failed: ${floorRun.error}` : undefined].filter(
        Boolean,
      );
      rows.push({
        benchmark: 'scanner-ingest',
        workload: `${name}, throughput`,
        ours: oursTput,
        floor: floorTput,
        unit: 'MB/s',
        ratio: ratioOf(oursTput, floorTput),
        peakRssMb: oursRun.peakRssMb,
        targets: [{ on: 'peakRssMb', op: '<', limit: 300 }],
        ...(notes.length ? { note: notes.join('; ') } : {}),
      });
      // A file is deleted as soon as it is measured: 2.5 GB of scratch at once is more than a small disk may hold.
      await rm(file, { force: true });
    }
    for (const format of ['xml', 'json'] as const) {
      const [small, large] = rssBySize[format];
      if (!small || !large) continue;
      rows.push({
        benchmark: 'scanner-ingest',
        workload: `${format === 'xml' ? 'Nessus XML' : 'Trivy JSON'} peak RSS: ${mb(large.bytes)} (ours) vs ${mb(small.bytes)} (floor column)`,
        ours: large.rss,
        floor: small.rss,
        unit: 'MB',
        ratio: ratioOf(large.rss, small.rss),
        peakRssMb: large.rss,
        targets: [{ on: 'ratio', op: '<=', limit: 1.2 }],
        note: `memory must not grow with file size: ${round(large.bytes / small.bytes, 1)}x the bytes, ratio of peak RSS shown`,
      });
    }
  } finally {
    scratch.remove();
  }
  emit({ benchmark: 'scanner-ingest', scale: args.scale, rows, figures } satisfies BenchResult);
}

/** Writes one workload file, to profile an ingest by hand: --phase generate --format xml|json --size <bytes> --file <path>. */
async function generate(args: BenchArgs): Promise<void> {
  const { file, format, size } = args.options;
  if (!file || !size) throw new Error('generate needs --file and --size');
  const bytes = format === 'json' ? await writeTrivy(file, Number(size)) : await writeNessus(file, Number(size));
  emit({ file, bytes });
}

await runBenchmark(main, { generate, ours: ingestOurs, floor: ingestFloor });
