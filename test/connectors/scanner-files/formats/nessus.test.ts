import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../connectors/errors.ts';
import { parseNessus } from '../../../../connectors/scanner-files/index.ts';
import { chunked, collect, countBy, drain, findingsOf, fixture, parseError, scansOf } from '../helpers.ts';

describe('Nessus fixture', () => {
  it('nessus-ruby-nessus-example-v2.nessus: 69 items on 2 hosts, severity 0 as info (19), 1 as low (47), 2 as medium (3)', async () => {
    const { findings, scans, warnings } = await collect({ paths: ['nessus-ruby-nessus-example-v2.nessus'] });
    expect(findings).toHaveLength(69);
    expect(countBy(findings, (f) => f.severity)).toEqual({ info: 19, low: 47, medium: 3 });
    expect(countBy(findings, (f) => `${f.asset} ${f.severity}`)).toEqual({
      'snorby.org info': 12,
      'snorby.org low': 34,
      'snorby.org medium': 1,
      'scanme.insecure.org info': 7,
      'scanme.insecure.org low': 13,
      'scanme.insecure.org medium': 2,
    });
    expect(findings.every((f) => f.scanner === 'nessus' && f.cvss === null)).toBe(true);
    expect(findings.filter((f) => (f.raw?.cves as string[]).length > 0).map((f) => [f.id, f.raw?.cves])).toEqual([
      ['42880', ['CVE-2009-3555']],
      ['10114', ['CVE-1999-0524']],
      ['10539', ['CVE-1999-0024']],
    ]);
    expect(findings.filter((f) => f.raw?.cvss2 !== null)).toHaveLength(4);
    expect(findings.filter((f) => f.fixAvailable === true).map((f) => f.id)).toEqual(['42880']);

    expect(findings.find((f) => f.id === '11720')).toEqual({
      kind: 'finding',
      source: 'scanner-files',
      scanner: 'nessus',
      id: '11720',
      title: 'Secure HyperText Transfer Protocol (S-HTTP) Detection',
      severity: 'medium',
      cvss: null,
      asset: 'snorby.org',
      location: '9090/tcp',
      scannedAt: '2009-12-11T03:25:29.000Z',
      firstSeenAt: '2009-12-11T03:25:29.000Z',
      fixedAt: null,
      fixAvailable: 'unknown',
      raw: {
        format: 'nessus',
        host: 'snorby.org',
        severity: 2,
        pluginFamily: 'Service detection',
        svcName: 'www',
        riskFactor: 'Medium',
        cves: [],
        cvss2: 5,
        cvss3Vector: null,
        synopsis: 'The remote web server encrypts traffic using an obsolete protocol.',
      },
    });
    // The port scanner's entries (plugin 0) have no name; they are kept as informational open ports.
    expect(findings[0]).toMatchObject({ id: '0', title: 'Open port 0/icmp (unknown)', severity: 'info', location: '0/icmp' });

    expect(scans).toEqual([
      {
        kind: 'scan',
        source: 'scanner-files',
        scanner: 'nessus',
        asset: 'snorby.org',
        scannedAt: '2009-12-11T03:25:29.000Z',
        origin: fixture('nessus-ruby-nessus-example-v2.nessus'),
        findingCount: 47,
        raw: {
          format: 'nessus',
          reportName: 'Ruby-Nessus',
          hostIp: '173.45.230.150',
          hostFqdn: 'snorby.org',
          operatingSystem: 'NetBSD 3.0',
          scanTimeFrom: 'HOST_END',
        },
      },
      expect.objectContaining({ asset: 'scanme.insecure.org', scannedAt: '2009-12-11T03:07:22.000Z', findingCount: 22 }),
    ]);
    // HOST_END names no zone: read as UTC, said once for the file.
    expect(warnings).toEqual([expect.stringMatching(/nessus-ruby-nessus-example-v2\.nessus: Nessus HOST_END times state no time zone .*read as UTC/)]);
  });
});

const edge = `<?xml version="1.0" encoding="UTF-8"?>
<NessusClientData_v2>
<Policy><policyName>edge</policyName><Preferences><ServerPreferences><preference><name>x</name><value>y</value></preference></ServerPreferences></Preferences></Policy>
<Report name="Edge &amp; cases">
<ReportHost name="web-01.example.com">
<HostProperties>
<tag name="HOST_END">Wed Jun 19 10:03:35 2024</tag>
<tag name="HOST_END_TIMESTAMP">1718791415</tag>
<tag name="host-ip">192.0.2.7</tag>
</HostProperties>
<ReportItem port="443" svc_name="www" protocol="tcp" severity="4" pluginID="201198" pluginName="Apache &lt; 2.4.60 &amp; Café ☕ Multiple Vulnerabilities" pluginFamily="Web Servers">
<cvss3_base_score>9.8</cvss3_base_score>
<cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>
<cvss_base_score>10.0</cvss_base_score>
<patch_publication_date>2024/07/01</patch_publication_date>
<cve>CVE-2024-38474</cve>
<cve>CVE-2024-38475</cve>
<plugin_output><![CDATA[<Server: Apache/2.4.58> & more]]></plugin_output>
</ReportItem>
<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="3" pluginID="187315" pluginName="SSH Terrapin Prefix Truncation Weakness">
<cvss3_base_score>5.9</cvss3_base_score>
</ReportItem>
</ReportHost>
<ReportHost name="db-01">
<HostProperties><tag name="HOST_START">Wed Jun 19 09:00:00 2024</tag></HostProperties>
</ReportHost>
<ReportHost name="203.0.113.9">
<ReportItem port="0" svc_name="general" protocol="udp" severity="0" pluginID="19506" pluginName="Nessus Scan Information"/>
</ReportHost>
</Report>
</NessusClientData_v2>
`;

describe('parseNessus', () => {
  it('maps high and critical items, v3 scores, CVEs and entities, across chunk boundaries', async () => {
    const warnings: string[] = [];
    const records = await drain(
      parseNessus(chunked(edge, 5), '/scans/edge.nessus', { fallbackScannedAt: '2024-06-20T00:00:00.000Z', warn: (m) => warnings.push(m) }),
    );
    const findings = findingsOf(records);
    expect(findings.map((f) => [f.asset, f.id, f.severity, f.cvss, f.location, f.fixAvailable, f.scannedAt])).toEqual([
      ['web-01.example.com', '201198', 'critical', 9.8, '443/tcp', true, '2024-06-19T10:03:35.000Z'],
      ['web-01.example.com', '187315', 'high', 5.9, '22/tcp', 'unknown', '2024-06-19T10:03:35.000Z'],
      ['203.0.113.9', '19506', 'info', null, '0/udp', 'unknown', '2024-06-20T00:00:00.000Z'],
    ]);
    expect(findings[0]!.title).toBe('Apache < 2.4.60 & Café ☕ Multiple Vulnerabilities');
    expect(findings[0]!.raw).toMatchObject({
      cves: ['CVE-2024-38474', 'CVE-2024-38475'],
      cvss2: 10,
      cvss3Vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      svcName: 'www',
    });
    expect(JSON.stringify(findings)).not.toContain('Apache/2.4.58');

    expect(scansOf(records).map((s) => [s.asset, s.scannedAt, s.findingCount, s.raw?.scanTimeFrom])).toEqual([
      ['web-01.example.com', '2024-06-19T10:03:35.000Z', 2, 'HOST_END_TIMESTAMP'],
      // A host with no items is still a scan of it: clean.
      ['db-01', '2024-06-19T09:00:00.000Z', 0, 'HOST_START'],
      ['203.0.113.9', '2024-06-20T00:00:00.000Z', 1, 'file modification time'],
    ]);
    expect(scansOf(records)[0]!.raw).toMatchObject({ reportName: 'Edge & cases', hostIp: '192.0.2.7' });
    expect(warnings).toEqual([
      expect.stringContaining('/scans/edge.nessus: Nessus HOST_START times state no time zone'),
      expect.stringContaining('/scans/edge.nessus: the file states no scan time (HOST_END_TIMESTAMP, HOST_END, HOST_START_TIMESTAMP, HOST_START)'),
    ]);
  });

  it('reads a timestamp out of range as no timestamp: the next tag is taken, or the time is unknown, never a RangeError', async () => {
    const host = (name: string, tags: string) =>
      `<ReportHost name="${name}"><HostProperties>${tags}</HostProperties><ReportItem port="1" protocol="tcp" severity="1" pluginID="1" pluginName="p"/></ReportHost>`;
    const far =
      '<NessusClientData_v2><Report name="r">' +
      host('h1', '<tag name="HOST_END_TIMESTAMP">99999999999999999</tag><tag name="HOST_START_TIMESTAMP">1718787600</tag>') +
      host('h2', '<tag name="HOST_END_TIMESTAMP">99999999999999999</tag><tag name="HOST_END">Thu Jan 01 03:25:29 0024</tag>') +
      '</Report></NessusClientData_v2>';
    const warnings: string[] = [];
    const records = await drain(
      parseNessus(chunked(far, 64), '/scans/far.nessus', { fallbackScannedAt: '2024-06-20T00:00:00.000Z', warn: (m) => warnings.push(m) }),
    );
    expect(scansOf(records).map((s) => [s.asset, s.scannedAt, s.scanTimeUnknown ?? false, s.raw?.scanTimeFrom])).toEqual([
      ['h1', '2024-06-19T09:00:00.000Z', false, 'HOST_START_TIMESTAMP'],
      ['h2', '2024-06-20T00:00:00.000Z', true, 'file modification time'],
    ]);
    expect(findingsOf(records).map((f) => [f.asset, f.scanTimeUnknown ?? false])).toEqual([
      ['h1', false],
      ['h2', true],
    ]);
    expect(warnings).toEqual([
      'scanner-files: /scans/far.nessus: HOST_END_TIMESTAMP of ReportHost "h1" "99999999999999999" is not a timestamp between the years 0000 and 9999; ignored',
      'scanner-files: /scans/far.nessus: HOST_END of ReportHost "h2" "Thu Jan 01 03:25:29 0024" is not a timestamp between the years 0000 and 9999; ignored',
      'scanner-files: /scans/far.nessus: the file states no scan time (HOST_END_TIMESTAMP, HOST_END, HOST_START_TIMESTAMP, HOST_START) for ReportHost "h2"; scannedAt is the file\'s modification time 2024-06-20T00:00:00.000Z, a stand-in: the scan time is unknown and does not count as a recent scan',
    ]);
  });

  it('warns once when bytes are not UTF-8, and names each identity holding the U+FFFD read in their place', async () => {
    const text = (host: Uint8Array, plugin: string) =>
      Buffer.concat([
        Buffer.from('<NessusClientData_v2><Report name="r"><ReportHost name="'),
        host,
        Buffer.from(
          `"><HostProperties><tag name="HOST_END_TIMESTAMP">1718787600</tag></HostProperties><ReportItem port="1" protocol="tcp" severity="1" pluginID="1" pluginName="${plugin}"/></ReportHost></Report></NessusClientData_v2>`,
        ),
      ]);
    // In chunks of 7 bytes, so sequences straddle chunks.
    const read = async (bytes: Uint8Array) => {
      const warnings: string[] = [];
      async function* chunks() {
        for (let at = 0; at < bytes.length; at += 7) yield bytes.subarray(at, at + 7);
      }
      const records = await drain(parseNessus(chunks(), '/scans/latin1.nessus', { warn: (m) => warnings.push(m) }));
      return { records, warnings };
    };
    // snorby.org with a Latin-1 é in its name: one byte UTF-8 does not allow.
    const latin1 = text(Buffer.concat([Buffer.from('snorby'), Buffer.from([0xe9]), Buffer.from('.org')]), 'café');
    const { records, warnings } = await read(latin1);
    expect(scansOf(records).map((s) => s.asset)).toEqual(['snorby\uFFFD.org']);
    expect(findingsOf(records).map((f) => f.title)).toEqual(['café']);
    expect(warnings).toEqual([
      'scanner-files: /scans/latin1.nessus: the asset "snorby\uFFFD.org" holds U+FFFD in place of bytes that could not be decoded, so it may not match the same asset in other scans',
      expect.stringMatching(
        /^scanner-files: \/scans\/latin1\.nessus: is not valid UTF-8: 1 byte sequence\(s\) were read as U\+FFFD, the first between bytes \d+ and \d+; names holding one are flagged$/,
      ),
    ]);
    const [first, last] = /between bytes (\d+) and (\d+)/.exec(warnings[1]!)!.slice(1).map(Number);
    const at = latin1.indexOf(0xe9);
    expect(first! <= at && at < last!).toBe(true);

    // A U+FFFD the file spells out (EF BF BD) is a character like any other: only the identity holding it is named.
    const spelled = await read(text(Buffer.from('snorby\uFFFD.org'), 'plugin \uFFFD'));
    expect(spelled.warnings).toEqual([
      'scanner-files: /scans/latin1.nessus: the asset "snorby\uFFFD.org" holds U+FFFD in place of bytes that could not be decoded, so it may not match the same asset in other scans',
    ]);
  });

  it('collapses every host into the configured asset', async () => {
    const records = await drain(parseNessus(chunked(edge, 4096), '/scans/edge.nessus', { asset: 'dmz', fallbackScannedAt: '2024-01-01T00:00:00.000Z' }));
    expect(new Set(records.map((r) => r.asset))).toEqual(new Set(['dmz']));
    expect(scansOf(records)).toEqual([expect.objectContaining({ asset: 'dmz', findingCount: 3, scannedAt: '2024-06-19T10:03:35.000Z' })]);
  });

  it('yields findings while the file is still being read', async () => {
    const items = 5_000;
    let produced = 0;
    async function* bigReport() {
      yield '<?xml version="1.0"?><NessusClientData_v2><Report name="big"><ReportHost name="10.0.0.1"><HostProperties><tag name="HOST_END_TIMESTAMP">1700000000</tag></HostProperties>';
      for (let i = 0; i < items; i++) {
        produced += 1;
        yield `<ReportItem port="${i % 65535}" svc_name="x" protocol="tcp" severity="${i % 5}" pluginID="${i}" pluginName="plugin ${i}"><plugin_output>${'x'.repeat(200)}</plugin_output></ReportItem>`;
      }
      yield '</ReportHost></Report></NessusClientData_v2>';
    }
    const iterator = parseNessus(bigReport(), '/scans/big.nessus')[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ kind: 'finding', id: '0' });
    expect(produced).toBeLessThan(10);
    let findings = 1;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.kind === 'finding') findings += 1;
    expect(findings).toBe(items);
    expect(produced).toBe(items);
  });

  it.each([
    [
      '<NessusClientData_v2><Report name="r"><ReportHost name="h1"><ReportItem port="1" protocol="tcp" severity="5" pluginID="1" pluginName="p"/></ReportHost></Report></NessusClientData_v2>',
      /\/scans\/bad\.nessus: ReportHost "h1": field ReportHost\[0\]\.ReportItem\[0\]\.@severity: expected a severity 0 to 4/,
    ],
    [
      '<NessusClientData_v2><Report name="r"><ReportHost name="h1"><ReportItem port="https" protocol="tcp" severity="1" pluginID="1"/></ReportHost></Report></NessusClientData_v2>',
      /field ReportHost\[0\]\.ReportItem\[0\]\.@port: expected a port number/,
    ],
    [
      '<NessusClientData_v2><Report name="r"><ReportHost name="h1"><ReportItem port="1" protocol="tcp" severity="1" pluginID="1"><cvss3_base_score>high</cvss3_base_score></ReportItem></ReportHost></Report></NessusClientData_v2>',
      /field ReportHost\[0\]\.ReportItem\[0\]\.cvss3_base_score/,
    ],
    ['<NessusClientData_v2><Report name="r"><ReportHost><ReportItem/></ReportHost></Report></NessusClientData_v2>', /ReportHost 1 has no name attribute/],
    ['<NessusClientData><Report/></NessusClientData>', /the root element is <NessusClientData>, not <NessusClientData_v2>/],
    ['<NessusClientData_v2><Report name="r"><ReportHost name="h1"></Report></NessusClientData_v2>', /XML is not well-formed at 1:\d+: unexpected close tag/],
    ['', /no XML root element/],
  ])('refuses a malformed export naming the file and place (%#)', async (xml, message) => {
    const error = await parseError(parseNessus(chunked(xml, 16), '/scans/bad.nessus'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^scanner-files: \/scans\/bad\.nessus: /);
    expect(error.message).toMatch(message);
  });
});
