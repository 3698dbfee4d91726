import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseNessus, readScanJson, type ScannerRecord } from '../../../connectors/scanner-files/index.ts';
import { streamJson } from '../../../connectors/scanner-files/json-stream.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const CHUNKS = 48;

/** What the process holds once garbage is collected: JS heap, strings outside it, and buffers. */
function retained(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * Drains `records` and returns how much more memory is held once every finding has been read, when the scans (kept
 * until the end of the file) are all that should remain: measured at the first scan record, as the file ends.
 */
async function heldAtEnd(records: AsyncIterable<ScannerRecord>): Promise<{ grewBy: number; findings: number; scans: number }> {
  const before = retained();
  let grewBy = 0;
  let findings = 0;
  let scans = 0;
  for await (const record of records) {
    if (record.kind === 'finding') {
      findings += 1;
      continue;
    }
    if (scans === 0) grewBy = retained() - before;
    scans += 1;
  }
  return { grewBy, findings, scans };
}

/** One chunk of about 1 MiB: a host whose properties (13+ characters) outlive it, then filler items. */
function nessusHost(index: number): string {
  const head = `<ReportHost name="10.0.${index >> 8}.${index & 255}"><HostProperties><tag name="HOST_END_TIMESTAMP">1767225600</tag><tag name="host-fqdn">host-${index}.datacentre.corp.example</tag><tag name="operating-system">Microsoft Windows Server 2022 Datacenter</tag></HostProperties>`;
  const item = (i: number) =>
    `<ReportItem port="443" svc_name="www" protocol="tcp" severity="2" pluginID="${i}" pluginName="Plugin ${i}"><plugin_output>${'o'.repeat(900)}</plugin_output></ReportItem>`;
  const items: string[] = [];
  for (let i = 0, size = head.length; size < MiB - 2048; i++) {
    items.push(item(i));
    size += items.at(-1)!.length;
  }
  return `${head}${items.join('')}</ReportHost>`;
}

describe('memory held while streaming', () => {
  it('Nessus: the strings kept until the end (host names, properties) hold no chunk of the file', async () => {
    const encoder = new TextEncoder();
    async function* chunks() {
      yield encoder.encode('<?xml version="1.0"?><NessusClientData_v2><Report name="A report name long enough to be sliced">');
      // One host per decoded MiB: had any string kept for the host's scan stayed a slice, its whole chunk would stay too.
      for (let index = 0; index < CHUNKS; index++) yield encoder.encode(nessusHost(index));
      yield encoder.encode('</Report></NessusClientData_v2>');
    }
    const { grewBy, findings, scans } = await heldAtEnd(parseNessus(chunks(), '/scans/big.nessus'));
    expect(scans).toBe(CHUNKS);
    expect(findings).toBeGreaterThan(CHUNKS * 500);
    // 48 MiB were read; the 48 scans themselves take a few KB.
    expect(grewBy).toBeLessThan(8 * MiB);
  }, 60_000);

  it('Trivy JSON: memory does not follow the report, item after item', async () => {
    const encoder = new TextEncoder();
    const vulnerability = (i: number) =>
      JSON.stringify({
        VulnerabilityID: `CVE-2026-${i}`,
        PkgName: 'openssl',
        InstalledVersion: '3.0.1',
        Severity: 'HIGH',
        Title: `Title ${i}`,
        Description: 'd'.repeat(1500),
      });
    async function* chunks() {
      yield encoder.encode('{"SchemaVersion": 2, "CreatedAt": "2026-01-14T06:00:00Z", "ArtifactName": "registry.example.com/app:1", "Results": [');
      let i = 0;
      for (let result = 0; result < CHUNKS; result++) {
        const items: string[] = [];
        for (let size = 0; size < MiB; size += items.at(-1)!.length) items.push(vulnerability(i++));
        yield encoder.encode(
          `${result === 0 ? '' : ','}{"Target": "t${result}", "Class": "lang-pkgs", "Type": "npm", "Packages": [{"Name": "skipped"}], "Vulnerabilities": [${items.join(',')}]}`,
        );
      }
      yield encoder.encode(']}');
    }
    const { grewBy, findings, scans } = await heldAtEnd(readScanJson('trivy', (plan) => streamJson(chunks(), '/scans/big.json', plan), '/scans/big.json'));
    expect(scans).toBe(1);
    expect(findings).toBeGreaterThan(CHUNKS * 600);
    // The context kept is the header and one small object per result.
    expect(grewBy).toBeLessThan(8 * MiB);
  }, 60_000);

  /**
   * Streams `head`, then `fill` MiB of filler in 1 MiB chunks, then `tail`, and returns the most memory held while
   * the filler was being read (measured after every fourth chunk of it), over what was held before it began.
   */
  async function heldWhileFilling(parse: (chunks: AsyncIterable<Uint8Array>) => AsyncIterable<ScannerRecord>, head: string, fill: number, tail: string) {
    const encoder = new TextEncoder();
    const filler = new Uint8Array(MiB).fill(0x78);
    let most = 0;
    let before = 0;
    async function* chunks() {
      yield encoder.encode(head);
      before = retained();
      for (let i = 0; i < fill; i++) {
        yield filler;
        if (i % 4 === 3) most = Math.max(most, retained() - before);
      }
      yield encoder.encode(tail);
    }
    const records: ScannerRecord[] = [];
    for await (const record of parse(chunks())) records.push(record);
    return { most, records };
  }

  it('JSON: a string of 32 MiB in a member the reader skips is passed over, never built', async () => {
    const vulnerability = JSON.stringify({ VulnerabilityID: 'CVE-2026-1', PkgName: 'openssl', InstalledVersion: '3.0.1', Severity: 'HIGH' });
    const { most, records } = await heldWhileFilling(
      (chunks) => readScanJson('trivy', (plan) => streamJson(chunks, '/scans/padded.json', plan), '/scans/padded.json'),
      '{"SchemaVersion": 2, "CreatedAt": "2026-01-14T06:00:00Z", "ArtifactName": "app", "Metadata": {"ImageConfig": "',
      32,
      `"}, "Results": [{"Target": "app", "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": [${vulnerability}]}]}`,
    );
    expect(records.map((record) => record.kind)).toEqual(['finding', 'scan']);
    expect(most).toBeLessThan(8 * MiB);
  }, 60_000);

  it('Nessus: a plugin_output of 32 MiB, which the mapping does not read, is never built', async () => {
    const { most, records } = await heldWhileFilling(
      (chunks) => parseNessus(chunks, '/scans/padded.nessus'),
      '<NessusClientData_v2><Report name="r"><ReportHost name="10.0.0.1"><HostProperties><tag name="HOST_END_TIMESTAMP">1767225600</tag></HostProperties>' +
        '<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="1" pluginName="long"><synopsis>kept</synopsis><plugin_output>',
      32,
      '</plugin_output></ReportItem></ReportHost></Report></NessusClientData_v2>',
    );
    expect(records.map((record) => [record.kind, record.kind === 'finding' ? record.raw?.synopsis : record.asset])).toEqual([
      ['finding', 'kept'],
      ['scan', '10.0.0.1'],
    ]);
    expect(most).toBeLessThan(8 * MiB);
  }, 60_000);
});
