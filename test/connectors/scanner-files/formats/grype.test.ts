import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../connectors/errors.ts';
import { parseGrype } from '../../../../connectors/scanner-files/index.ts';
import { streamJson, type JsonPass } from '../../../../connectors/scanner-files/json-stream.ts';
import { jsonFormatOfExport, SNIFF_BYTES } from '../../../../connectors/scanner-files/sniff.ts';
import { readScanJson } from '../../../../connectors/scanner-files/index.ts';
import { chunked, collect, countBy, drain, findingsOf, fixture, parseError, scansOf, streamed } from '../helpers.ts';

describe('Grype JSON fixtures', () => {
  it('grype-busybox-1.32.1-epss.json: 15 matches on busybox:1.32.1 (critical 1, high 10, medium 2, low 2), 1 with a fix', async () => {
    const { findings, scans } = await collect({ paths: ['grype-busybox-1.32.1-epss.json'] });
    expect(findings).toHaveLength(15);
    expect(countBy(findings, (f) => f.severity)).toEqual({ critical: 1, high: 10, medium: 2, low: 2 });
    expect(countBy(findings, (f) => String(f.fixAvailable))).toEqual({ true: 1, unknown: 14 });
    expect(findings.every((f) => f.asset === 'busybox:1.32.1' && f.location === 'busybox@1.32.1' && f.scanner === 'grype')).toBe(true);
    expect(findings.every((f) => f.scannedAt === '2025-06-19T11:43:35.523Z')).toBe(true);

    expect(findings.find((f) => f.severity === 'critical')).toMatchObject({ id: 'CVE-2022-48174', cvss: 9.8 });
    expect(findings.find((f) => f.fixAvailable === true)).toMatchObject({ id: 'CVE-2021-42376', severity: 'medium', cvss: 5.5 });
    expect(findings.find((f) => f.fixAvailable === true)?.raw).toMatchObject({ fixState: 'fixed', fixVersions: ['1.34.0'] });
    // Only a Secondary v3 score: it is the best there is.
    expect(findings.find((f) => f.id === 'CVE-2024-58251')).toMatchObject({ severity: 'low', cvss: 2.5 });
    expect(findings[0]).toMatchObject({
      id: 'CVE-2022-28391',
      severity: 'high',
      cvss: 8.8,
      title: expect.stringMatching(/^BusyBox through 1\.35\.0 allows remote attackers to execute arbitrary code .*…$/),
    });
    expect(findings[0]!.title.length).toBeLessThanOrEqual(200);
    expect(findings[0]!.raw).toEqual({
      format: 'grype',
      severity: 'High',
      namespace: 'nvd:cpe',
      fixState: '',
      fixVersions: [],
      artifactType: 'binary',
      purl: 'pkg:generic/busybox@1.32.1',
      relatedVulnerabilities: [],
    });
    expect(scans).toEqual([
      {
        kind: 'scan',
        source: 'scanner-files',
        scanner: 'grype',
        asset: 'busybox:1.32.1',
        scannedAt: '2025-06-19T11:43:35.523Z',
        origin: fixture('grype-busybox-1.32.1-epss.json'),
        findingCount: 15,
        raw: { format: 'grype', grypeVersion: '0.94.0', sourceType: 'image', distro: 'busybox 1.32.1', scanTimeFrom: 'descriptor.timestamp' },
      },
    ]);
  });

  it('grype-fix-available.json: one High match with a fix, no v3 score, and the NUL in its version escaped', async () => {
    const { findings, scans } = await collect({ paths: ['grype-fix-available.json'] });
    expect(findings).toEqual([
      expect.objectContaining({
        id: 'CVE-2009-3882',
        severity: 'high',
        // Only a CVSS 2.0 score is offered.
        cvss: null,
        fixAvailable: true,
        asset: 'REDACTED',
        location: 'java@17.0.10+7\\u0000-J-ms8m',
        scannedAt: '2024-04-10T11:05:22.636Z',
      }),
    ]);
    expect(findings[0]!.raw).toMatchObject({
      artifactType: 'binary',
      fixState: 'fixed',
      fixVersions: ['1.2.3'],
      purl: 'pkg:generic/java@17.0.10%2B7\\u0000-J-ms8m',
    });
    expect(findings[0]!.location.includes('\u0000') || String(findings[0]!.raw?.purl).includes('\u0000')).toBe(false);
    expect(scans).toEqual([
      expect.objectContaining({ asset: 'REDACTED', findingCount: 1, raw: expect.objectContaining({ distro: 'ubuntu 20.04', grypeVersion: '0.75.0' }) }),
    ]);
  });
});

function match(id: string, severity: string, extra: { vulnerability?: Record<string, unknown>; relatedVulnerabilities?: unknown[] } = {}) {
  return {
    vulnerability: { id, severity, fix: { versions: [], state: 'unknown' }, ...extra.vulnerability },
    relatedVulnerabilities: extra.relatedVulnerabilities ?? [],
    artifact: { name: 'libc6', version: '2.31-13', type: 'deb', purl: 'pkg:deb/debian/libc6@2.31-13' },
  };
}

const v3 = (score: number, type = 'Primary') => ({ source: 'nvd@nist.gov', type, version: '3.1', vector: 'CVSS:3.1/AV:N', metrics: { baseScore: score } });

describe('parseGrype', () => {
  it('reads severity in any case, Negligible as low and Unknown as info, and picks the primary v3 score', async () => {
    const document = {
      matches: [
        match('CVE-1', 'Negligible'),
        match('CVE-2', 'UNKNOWN'),
        match('CVE-3', 'hIgH', { vulnerability: { cvss: [v3(6.1, 'Secondary'), v3(5.5)], fix: { versions: ['2.31-14'], state: '' } } }),
        match('CVE-4', 'critical', {
          vulnerability: { cvss: [], fix: { versions: null, state: 'wont-fix' } },
          relatedVulnerabilities: [{ id: 'CVE-4', description: 'From NVD', cvss: [v3(9.1)] }],
        }),
        match('CVE-5', 'Medium', { vulnerability: { fix: { versions: [], state: 'not-fixed' } } }),
        match('GHSA-xxxx', 'Low', { vulnerability: { fix: undefined, cvss: [v3(2.0, 'Secondary'), v3(3.3, 'Secondary')] } }),
      ],
      source: { type: 'directory', target: '/src/app' },
      descriptor: { name: 'grype', version: '0.80.0', timestamp: '2024-07-07T07:07:07Z' },
    };
    const records = await drain(parseGrype(document, '/scans/dir.json'));
    expect(findingsOf(records).map((f) => [f.id, f.severity, f.cvss, f.fixAvailable, f.title, f.location])).toEqual([
      ['CVE-1', 'low', null, 'unknown', 'CVE-1 in libc6 2.31-13', 'libc6@2.31-13'],
      ['CVE-2', 'info', null, 'unknown', 'CVE-2 in libc6 2.31-13', 'libc6@2.31-13'],
      ['CVE-3', 'high', 5.5, true, 'CVE-3 in libc6 2.31-13', 'libc6@2.31-13'],
      ['CVE-4', 'critical', 9.1, false, 'From NVD', 'libc6@2.31-13'],
      ['CVE-5', 'medium', null, false, 'CVE-5 in libc6 2.31-13', 'libc6@2.31-13'],
      ['GHSA-xxxx', 'low', 3.3, 'unknown', 'GHSA-xxxx in libc6 2.31-13', 'libc6@2.31-13'],
    ]);
    expect(findingsOf(records)[0]!.raw?.severity).toBe('Negligible');
    expect(scansOf(records)).toEqual([
      expect.objectContaining({
        asset: '/src/app',
        scannedAt: '2024-07-07T07:07:07.000Z',
        findingCount: 6,
        raw: expect.objectContaining({ sourceType: 'directory' }),
      }),
    ]);
  });

  it('names the asset after the file, with a warning, when the report names no source', async () => {
    const warnings: string[] = [];
    const records = await drain(
      parseGrype({ matches: [], descriptor: { name: 'grype', timestamp: '2024-07-07T07:07:07Z' } }, '/scans/sbom-scan.json', { warn: (m) => warnings.push(m) }),
    );
    expect(records).toEqual([expect.objectContaining({ kind: 'scan', asset: 'sbom-scan.json', findingCount: 0 })]);
    expect(warnings).toEqual([expect.stringContaining('names no source target; the asset is the file name "sbom-scan.json"')]);
  });

  it.each([
    [
      { matches: [match('CVE-1', 'Severe')], source: { type: 'image', target: { userInput: 'x' } } },
      /field matches\[0\]\.vulnerability\.severity: unknown severity "Severe"/,
    ],
    [
      { matches: [{ vulnerability: { id: 'CVE-1', severity: 'Low' }, artifact: { name: 'x' } }], source: { type: 'image', target: { userInput: 'x' } } },
      /field matches\[0\]\.artifact\.version/,
    ],
    [{ matches: 'none' }, /field matches/],
  ])('refuses a malformed report naming the field (%#)', async (document, message) => {
    const error = await parseError(parseGrype(document, '/scans/bad.json'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^scanner-files: \/scans\/bad\.json: /);
    expect(error.message).toMatch(message);
  });
});

describe('Grype JSON streamed', () => {
  it('grype-busybox-1.32.1-epss.json: source and descriptor come after the matches, so the report is read for them first', async () => {
    const text = await readFile(fixture('grype-busybox-1.32.1-epss.json'), 'utf8');
    expect(Object.keys(JSON.parse(text))).toEqual(['matches', 'source', 'distro', 'descriptor']);
    const { records, reads } = await streamed('grype', text);
    expect(reads).toBe(3);
    expect(findingsOf(records)).toHaveLength(15);
    expect(scansOf(records)).toEqual([expect.objectContaining({ asset: 'busybox:1.32.1', scannedAt: '2025-06-19T11:43:35.523Z', findingCount: 15 })]);
  });

  it('tells the format from the whole report when its head does not (matches first), and that read is the context: two reads in all', async () => {
    const text = await readFile(fixture('grype-busybox-1.32.1-epss.json'));
    expect(text.length).toBeGreaterThan(SNIFF_BYTES);
    let reads = 0;
    const pass: JsonPass = (plan) => {
      reads += 1;
      return streamJson(chunked(text.toString('utf8'), 4096), '/scans/busybox.json', plan);
    };
    const { format, context } = await jsonFormatOfExport(text.subarray(0, SNIFF_BYTES), false, pass, '/scans/busybox.json');
    expect([format, reads]).toEqual(['grype', 1]);
    const records = await drain(readScanJson('grype', pass, '/scans/busybox.json', {}, context));
    expect(reads).toBe(2);
    expect(findingsOf(records)).toHaveLength(15);
  });
});
