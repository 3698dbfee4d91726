import { createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { scannerFiles } from '../connectors/scanner-files/index.ts';
import { testContext } from '../test/support/connector-context.ts';
import { WORKER_NODE_FLAGS } from '../worker/node-flags.ts';
import { emit, MB, measure, peakRssMb, runBenchmark, runPhase, say, scratchDir, type BenchArgs, type BenchResult, type Row } from './common.ts';

/**
 * Hostile scan exports through the scanner-files connector, each in a process of its own so its peak RSS is its own:
 * a huge string in a member the reader skips (Trivy's Metadata), a huge text the reader does not keep (a Nessus
 * plugin_output), a huge string the reader would keep (a Trivy Title) and a huge DTD. What is measured is the peak RSS
 * and what the connector made of the file (records, or its error). The files are written to a temp dir, each deleted
 * once measured. There is no floor: the bound is absolute (the memory of an ordinary scan, not of the file).
 */

const SIZE = 400 * MB;
const DTD_SIZE = 300 * MB;
const FILL = Buffer.alloc(1 << 20, 'x');

interface Workload {
  name: string;
  file: string;
  /** How many filler bytes go between `head` and `tail`. */
  fill: number;
  head: string;
  tail: string;
  /** The connector's `format`: forced where content sniffing would stop first (a DTD longer than the 16 KiB it reads). */
  format?: 'nessus';
}

const trivyVulnerability = (id: number, title = `Title ${id}`) =>
  JSON.stringify({
    VulnerabilityID: `CVE-2026-${1000 + id}`,
    PkgName: 'openssl',
    InstalledVersion: '3.0.1',
    FixedVersion: '3.0.2',
    Severity: 'HIGH',
    Title: title,
  });
const trivyHead = '{"SchemaVersion": 2, "CreatedAt": "2026-01-14T06:00:00Z", "ArtifactName": "registry.example.com/app:1"';

function workloads(dir: string, scale: number): Workload[] {
  const size = Math.round(SIZE * scale);
  const vulnerabilities = Array.from({ length: 100 }, (_, i) => trivyVulnerability(i)).join(',');
  const nessusItem = (i: number) =>
    `<ReportItem port="443" svc_name="www" protocol="tcp" severity="2" pluginID="${10_000 + i}" pluginName="Plugin ${i}"><synopsis>s</synopsis></ReportItem>`;
  const skippedHead = `${trivyHead}, "Metadata": {"ImageConfig": "`;
  const skippedTail = `"}, "Results": [{"Target": "app", "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": [${vulnerabilities}]}]}`;
  return [
    {
      name: 'Trivy JSON: the same report with an empty string (the process floor, for reference)',
      file: path.join(dir, 'reference.json'),
      fill: 0,
      head: skippedHead,
      tail: skippedTail,
    },
    {
      name: `Trivy JSON: a ${size / MB} MB string in a skipped member (Metadata)`,
      file: path.join(dir, 'skipped-string.json'),
      fill: size,
      head: skippedHead,
      tail: skippedTail,
    },
    {
      name: `Trivy JSON: a ${size / MB} MB string in a kept value (a vulnerability's Title)`,
      file: path.join(dir, 'kept-string.json'),
      fill: size,
      head: `${trivyHead}, "Results": [{"Target": "app", "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": [${vulnerabilities}, ${trivyVulnerability(100, '').slice(0, -2)}`,
      tail: `"}]}]}`,
    },
    {
      name: `Nessus XML: a ${size / MB} MB plugin_output (text not kept)`,
      file: path.join(dir, 'long-output.nessus'),
      fill: size,
      head:
        '<?xml version="1.0"?><NessusClientData_v2><Report name="r"><ReportHost name="10.0.0.1"><HostProperties><tag name="HOST_END_TIMESTAMP">1767225600</tag></HostProperties>' +
        `${Array.from({ length: 100 }, (_, i) => nessusItem(i)).join('')}<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="1" pluginName="long"><plugin_output>`,
      tail: '</plugin_output></ReportItem></ReportHost></Report></NessusClientData_v2>',
    },
    {
      name: `Nessus XML: a ${Math.round((DTD_SIZE * scale) / MB)} MB DTD`,
      file: path.join(dir, 'dtd.nessus'),
      fill: Math.round(DTD_SIZE * scale),
      head: '<?xml version="1.0"?><!DOCTYPE NessusClientData_v2 [<!ENTITY filler "',
      tail: '">]><NessusClientData_v2><Report name="r"></Report></NessusClientData_v2>',
      format: 'nessus',
    },
  ];
}

async function write(workload: Workload): Promise<number> {
  const stream = createWriteStream(workload.file);
  const put = async (data: string | Buffer) => {
    if (!stream.write(data)) await once(stream, 'drain');
  };
  await put(workload.head);
  for (let left = workload.fill; left > 0; left -= FILL.length) await put(left >= FILL.length ? FILL : FILL.subarray(0, left));
  await put(workload.tail);
  stream.end();
  await once(stream, 'finish');
  return statSync(workload.file).size;
}

interface Outcome {
  wallS: number;
  findings: number;
  scans: number;
  peakRssMb: number;
  error?: { name: string; message: string };
}

async function ingest(args: BenchArgs): Promise<void> {
  const file = args.options.file!;
  const { ctx } = testContext({ baseDir: path.dirname(file) });
  const config = scannerFiles.config.parse({ paths: [file], ...(args.options.format ? { format: args.options.format } : {}) });
  let findings = 0;
  let scans = 0;
  const started = performance.now();
  try {
    await measure(async () => {
      for await (const record of scannerFiles.collect(config, ctx)) {
        if (record.kind === 'finding') findings++;
        else scans++;
      }
    });
    emit({ wallS: (performance.now() - started) / 1000, findings, scans, peakRssMb: peakRssMb() } satisfies Outcome);
  } catch (error) {
    const { name, message } = error as Error;
    emit({
      wallS: (performance.now() - started) / 1000,
      findings,
      scans,
      peakRssMb: peakRssMb(),
      error: { name, message: message.replace(file, '<file>').slice(0, 300) },
    } satisfies Outcome);
  }
}

async function main(args: BenchArgs): Promise<void> {
  const scratch = scratchDir('hostile-scans');
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    for (const workload of workloads(scratch.dir, args.scale)) {
      const bytes = await write(workload);
      const { result } = await runPhase<Outcome>(
        import.meta.url,
        'ingest',
        args,
        { file: workload.file, ...(workload.format ? { format: workload.format } : {}) },
        { execArgv: [...WORKER_NODE_FLAGS] },
      );
      const outcome = result.error ? `${result.error.name}: ${result.error.message}` : `${result.findings} findings + ${result.scans} scans`;
      say(`hostile-scans: ${workload.name} (${Math.round(bytes / MB)} MB): ${result.wallS.toFixed(1)} s, peak RSS ${result.peakRssMb} MB; ${outcome}`);
      figures[workload.name] = { bytes, ...result };
      rows.push({
        benchmark: 'hostile-scans',
        workload: workload.name,
        ours: result.peakRssMb,
        floor: null,
        unit: 'MB',
        ratio: null,
        peakRssMb: result.peakRssMb,
        targets: [{ on: 'peakRssMb', op: '<', limit: 300 }],
        note: outcome,
      });
      await rm(workload.file, { force: true });
    }
  } finally {
    scratch.remove();
  }
  emit({ benchmark: 'hostile-scans', scale: args.scale, rows, figures } satisfies BenchResult);
}

await runBenchmark(main, { ingest });
