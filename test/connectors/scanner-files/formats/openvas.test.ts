import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../connectors/errors.ts';
import { parseOpenVas } from '../../../../connectors/scanner-files/index.ts';
import { chunked, collect, countBy, drain, findingsOf, fixture, parseError, scansOf } from '../helpers.ts';

describe('OpenVAS fixtures', () => {
  it('openvas-many-vuln.xml: 44 results on one host, banded by severity score (critical 8, high 11, medium 25)', async () => {
    const { findings, scans, warnings } = await collect({ paths: ['openvas-many-vuln.xml'] });
    expect(findings).toHaveLength(44);
    expect(countBy(findings, (f) => f.severity)).toEqual({ critical: 8, high: 11, medium: 25 });
    expect(countBy(findings, (f) => String(f.raw?.threat))).toEqual({ High: 19, Medium: 23, null: 2 });
    // The two results without a threat word still carry a score.
    expect(findings.filter((f) => f.raw?.threat === null).map((f) => [f.severity, f.raw?.severityScore, f.location])).toEqual([
      ['medium', 4, '5432/tcp'],
      ['medium', 4, '5432/tcp'],
    ]);
    expect(findings.filter((f) => (f.raw?.cves as string[]).length > 0)).toHaveLength(23);
    expect(countBy(findings, (f) => String(f.fixAvailable))).toEqual({ true: 14, false: 3, unknown: 27 });
    expect(findings.every((f) => f.asset === '192.168.1.1001' && f.scanner === 'openvas' && f.scannedAt === '2023-09-26T10:50:34.000Z')).toBe(true);
    expect(findings[0]).toEqual({
      kind: 'finding',
      source: 'scanner-files',
      scanner: 'openvas',
      id: '1.3.6.1.4.1.25623.1.0.100111',
      // The anonymised result name (a hex string) is not a title; the NVT's name is.
      title: 'The rexec service is running',
      severity: 'critical',
      cvss: null,
      asset: '192.168.1.1001',
      location: '512/tcp',
      scannedAt: '2023-09-26T10:50:34.000Z',
      firstSeenAt: '2023-09-26T10:50:34.000Z',
      fixedAt: null,
      fixAvailable: 'unknown',
      raw: {
        format: 'openvas',
        resultId: 'b87d3a32-8ff8-4010-aada-4b4f578b084d',
        hostname: 'b6b9f466d63',
        threat: 'High',
        severityScore: 10,
        qod: 80,
        nvtFamily: 'Useless services',
        solutionType: 'Mitigation',
        cves: ['CVE-1999-0618'],
      },
    });
    expect(scans).toEqual([
      {
        kind: 'scan',
        source: 'scanner-files',
        scanner: 'openvas',
        asset: '192.168.1.1001',
        scannedAt: '2023-09-26T10:50:34.000Z',
        origin: fixture('openvas-many-vuln.xml'),
        findingCount: 44,
        raw: { format: 'openvas', reportId: 'c827dcd6-b6e5-4106-bdb7-94213b500669', host: '192.168.1.1001', scanTimeFrom: 'scan_start' },
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('openvas-one-vuln.xml: one critical (10.0) result on 10.0.101.2 with 12 CVEs and a vendor fix', async () => {
    const { findings, scans } = await collect({ paths: ['openvas-one-vuln.xml'] });
    expect(findings).toEqual([
      expect.objectContaining({
        id: '1.3.6.1.4.1.25623.1.0.832260',
        title: 'Mozilla Firefox Security Update (mfsa_2023-32_2023-36) - Windows',
        severity: 'critical',
        asset: '10.0.101.2',
        location: 'general/tcp',
        scannedAt: '2023-09-28T14:48:02.000Z',
        fixAvailable: true,
      }),
    ]);
    expect(findings[0]!.raw).toMatchObject({ threat: 'High', severityScore: 10, qod: 97, solutionType: 'VendorFix' });
    expect(findings[0]!.raw?.cves).toHaveLength(12);
    expect(scans).toEqual([expect.objectContaining({ asset: '10.0.101.2', findingCount: 1, scannedAt: '2023-09-28T14:48:02.000Z' })]);
  });

  it('openvas-gmp22-report-detail-v2.xml: one 9.8 result with its CVSS v3 score, 93 CVEs, scan time converted to UTC', async () => {
    const { findings, scans } = await collect({ paths: ['openvas-gmp22-report-detail-v2.xml'] });
    expect(findings).toEqual([
      expect.objectContaining({
        id: '1.3.6.1.4.1.25623.1.0.836484',
        title: 'Microsoft Windows Multiple Vulnerabilities (KB5062557)',
        severity: 'critical',
        cvss: 9.8,
        asset: '10.99.99.99',
        location: '42/tcp',
        scannedAt: '2025-08-22T13:01:38.000Z',
        fixAvailable: true,
      }),
    ]);
    expect(findings[0]!.raw).toMatchObject({ hostname: 'server99', qod: 80, nvtFamily: 'Windows : Microsoft Bulletins' });
    expect(findings[0]!.raw?.cves).toHaveLength(93);
    expect(scans).toEqual([
      expect.objectContaining({ asset: '10.99.99.99', findingCount: 1, raw: expect.objectContaining({ reportId: '88bbda4b-25db-43cf-896d-b90686833b29' }) }),
    ]);
  });
});

function result(body: string, id = 'r1'): string {
  return `<result id="${id}"><name>n</name>${body}</result>`;
}

const nvt = (oid: string, inner = '') => `<nvt oid="${oid}"><type>nvt</type><name>NVT ${oid}</name><family>F</family>${inner}</nvt>`;

const gmp = `<get_reports_response status="200" status_text="OK">
<report id="rep-1" format_id="a994b278"><report id="rep-1">
<timestamp>2024-04-04T04:04:04Z</timestamp>
<ports><port>80/tcp<host>10.1.1.1</host><severity>7.5</severity><threat>High</threat></port></ports>
<results start="1" max="-1">
${result(
  `<host>10.1.1.1<asset asset_id="a"/><hostname>web</hostname></host><port>80/tcp</port>${nvt('1.1', '<cvss_base>7.5</cvss_base><tags>cvss_base_vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N|solution_type=WillNotFix</tags>')}<threat>High</threat><severity>7.5</severity><qod><value>70</value></qod>
  <detection><result id="detected-by"><details><detail><name>product</name><value>cpe:/a:x</value></detail></details></result></detection>`,
)}
${result(`<host>10.1.1.1</host><port>general/tcp</port>${nvt('1.2', '<cvss_base>10.0</cvss_base><tags>cvss_base_vector=AV:N/AC:L/Au:N/C:C/I:C/A:C|solution_type=NoneAvailable</tags><cve>CVE-2011-3389, CVE-2015-0204</cve>')}<threat>False Positive</threat><severity>-1.0</severity>`)}
${result(`<host>10.1.1.2</host><port>general/CPE-T</port>${nvt('1.3')}<threat>Log</threat><severity>0.0</severity>`)}
${result(`<host>10.1.1.2</host><port>22/tcp</port>${nvt('1.4', '<solution type="Workaround">w</solution>')}<threat>Medium</threat><severity></severity>`)}
${result(`<host>10.1.1.2</host><port>23/tcp</port>${nvt('1.5', '<severities score="3.5"><severity type="cvss_base_v3"><score>3.5</score></severity></severities>')}<threat>Low</threat><severity>3.5</severity>`)}
</results>
<host><ip>10.1.1.1</ip><start>2024-04-04T04:04:04Z</start><end>2024-04-04T05:00:00Z</end></host>
<host><ip>10.1.1.3</ip><start>2024-04-04T04:04:04Z</start><end>2024-04-04T04:30:00Z</end></host>
<scan_end>2024-04-04T05:00:00Z</scan_end>
</report></report>
</get_reports_response>`;

describe('parseOpenVas', () => {
  it('reads a GMP response: scores before threat words, false positives and logs as info, legacy CVEs, nested results ignored', async () => {
    const records = await drain(parseOpenVas(chunked(gmp, 9), '/scans/gmp.xml'));
    expect(findingsOf(records).map((f) => [f.asset, f.id, f.severity, f.cvss, f.location, f.fixAvailable, f.raw?.cves])).toEqual([
      ['10.1.1.1', '1.1', 'high', 7.5, '80/tcp', false, []],
      ['10.1.1.1', '1.2', 'info', null, 'general/tcp', false, ['CVE-2011-3389', 'CVE-2015-0204']],
      ['10.1.1.2', '1.3', 'info', null, 'general/CPE-T', 'unknown', []],
      ['10.1.1.2', '1.4', 'medium', null, '22/tcp', 'unknown', []],
      ['10.1.1.2', '1.5', 'low', 3.5, '23/tcp', 'unknown', []],
    ]);
    expect(findingsOf(records)[0]!.raw).toMatchObject({ hostname: 'web', qod: 70, threat: 'High', solutionType: 'WillNotFix', resultId: 'r1' });
    expect(findingsOf(records).every((f) => f.scannedAt === '2024-04-04T04:04:04.000Z')).toBe(true);
    // The host summary names a host with no results: a clean scan of it.
    expect(scansOf(records).map((s) => [s.asset, s.findingCount, s.raw?.scanTimeFrom, s.raw?.reportId])).toEqual([
      ['10.1.1.1', 2, 'timestamp', 'rep-1'],
      ['10.1.1.2', 3, 'timestamp', 'rep-1'],
      ['10.1.1.3', 0, 'timestamp', 'rep-1'],
    ]);
  });

  it('collapses hosts into the configured asset and falls back to the given time with a warning', async () => {
    const warnings: string[] = [];
    const xml = `<report><report>${'<results>'}${result(`<host>10.2.2.2</host><port>80/tcp</port>${nvt('2.1')}<threat>High</threat><severity>8.0</severity>`)}</results></report></report>`;
    const records = await drain(
      parseOpenVas(chunked(xml), '/scans/untimed.xml', { asset: 'office-lan', fallbackScannedAt: '2024-05-05T05:05:05.000Z', warn: (m) => warnings.push(m) }),
    );
    expect(records.map((r) => [r.kind, r.asset, r.scannedAt])).toEqual([
      ['finding', 'office-lan', '2024-05-05T05:05:05.000Z'],
      ['scan', 'office-lan', '2024-05-05T05:05:05.000Z'],
    ]);
    expect(warnings).toEqual([expect.stringContaining('/scans/untimed.xml: the file states no scan time (scan_start, timestamp)')]);
  });

  it('warns that a report without hosts proves no scan', async () => {
    const warnings: string[] = [];
    const records = await drain(
      parseOpenVas(chunked('<report id="x"><report id="x"><scan_start>2024-01-01T00:00:00Z</scan_start><results/></report></report>'), '/scans/empty.xml', {
        warn: (m) => warnings.push(m),
      }),
    );
    expect(records).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('/scans/empty.xml: the OpenVAS report names no host')]);
  });

  it.each([
    [
      `<report><report><results>${result(`<port>80/tcp</port>${nvt('3.1')}<severity>5.0</severity>`)}</results></report></report>`,
      /field results\[0\]\.host: the result names no host/,
    ],
    [
      `<report><report><results>${result('<host>10.0.0.1</host><severity>5.0</severity>')}</results></report></report>`,
      /field results\[0\]\.nvt: the result has no nvt/,
    ],
    [
      `<report><report><results>${result(`<host>10.0.0.1</host>${nvt('3.1')}<severity>high</severity>`)}</results></report></report>`,
      /field results\[0\]\.severity: expected a number/,
    ],
    [
      `<report><report><results>${result(`<host>10.0.0.1</host>${nvt('3.1')}<threat>Severe</threat>`)}</results></report></report>`,
      /results\[0\]\.severity: the result has neither a numeric severity nor a known threat \(Severe\)/,
    ],
    ['<reports><report/></reports>', /the root element is <reports>, not an OpenVAS <report>/],
  ])('refuses a malformed report naming the file and field (%#)', async (xml, message) => {
    const error = await parseError(parseOpenVas(chunked(xml), '/scans/bad.xml'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^scanner-files: \/scans\/bad\.xml: /);
    expect(error.message).toMatch(message);
  });
});
