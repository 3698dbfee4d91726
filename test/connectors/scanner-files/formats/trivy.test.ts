import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../connectors/errors.ts';
import { parseTrivy, readScanJson } from '../../../../connectors/scanner-files/index.ts';
import { streamJson } from '../../../../connectors/scanner-files/json-stream.ts';
import { collect, drain, findingsOf, fixture, parseError, scansOf, sortedKeys, streamed } from '../helpers.ts';

describe('Trivy JSON fixture', () => {
  it('trivy-alpine-310.json: 4 medium vulnerabilities in two packages, scanned at CreatedAt', async () => {
    const { findings, scans, warnings } = await collect({ paths: ['trivy-alpine-310.json'] });
    expect(findings.map((f) => [f.id, f.location, f.severity, f.cvss, f.fixAvailable])).toEqual([
      ['CVE-2019-1549', 'libcrypto1.1@1.1.1c-r0', 'medium', 5.3, true],
      ['CVE-2019-1551', 'libcrypto1.1@1.1.1c-r0', 'medium', 5.3, true],
      ['CVE-2019-1549', 'libssl1.1@1.1.1c-r0', 'medium', 5.3, true],
      ['CVE-2019-1551', 'libssl1.1@1.1.1c-r0', 'medium', 5.3, true],
    ]);
    expect(findings[0]).toEqual({
      kind: 'finding',
      source: 'scanner-files',
      scanner: 'trivy',
      id: 'CVE-2019-1549',
      title: 'openssl: information disclosure in fork()',
      severity: 'medium',
      cvss: 5.3,
      asset: 'testdata/fixtures/images/alpine-310.tar.gz',
      location: 'libcrypto1.1@1.1.1c-r0',
      scannedAt: '2021-08-25T12:20:30.000Z',
      firstSeenAt: '2021-08-25T12:20:30.000Z',
      fixedAt: null,
      fixAvailable: true,
      raw: {
        format: 'trivy',
        target: 'testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)',
        class: 'os-pkgs',
        type: 'alpine',
        pkgName: 'libcrypto1.1',
        installedVersion: '1.1.1c-r0',
        fixedVersion: '1.1.1d-r0',
        status: 'fixed',
        severity: 'MEDIUM',
        severitySource: 'nvd',
        publishedDate: '2019-09-10T17:15:00Z',
        primaryUrl: 'https://avd.aquasec.com/nvd/cve-2019-1549',
      },
    });
    expect(scans).toEqual([
      {
        kind: 'scan',
        source: 'scanner-files',
        scanner: 'trivy',
        asset: 'testdata/fixtures/images/alpine-310.tar.gz',
        scannedAt: '2021-08-25T12:20:30.000Z',
        origin: fixture('trivy-alpine-310.json'),
        findingCount: 4,
        raw: {
          format: 'trivy',
          trivyVersion: 'dev',
          artifactType: 'container_image',
          reportId: '017b7d41-e09f-7000-80ea-000000000001',
          scanTimeFrom: 'CreatedAt',
        },
      },
    ]);
    expect(warnings).toEqual([]);
  });
});

const MATCHED_SECRET = 'AKIAIOSFODNN7EXAMPLE';

function vulnerability(id: string, extra: Record<string, unknown> = {}) {
  return { VulnerabilityID: id, PkgName: 'openssl', InstalledVersion: '3.0.1', Severity: 'HIGH', ...extra };
}

const report = {
  SchemaVersion: 2,
  CreatedAt: '2024-02-02T02:02:02.123456789+02:00',
  ArtifactName: 'https://ci:glpat-TOKEN123@git.example.com/acme/app',
  ArtifactType: 'repository',
  Results: [
    {
      Target: 'package-lock.json',
      Class: 'lang-pkgs',
      Type: 'npm',
      Vulnerabilities: [
        vulnerability('CVE-A', { Severity: 'CRITICAL', SeveritySource: 'redhat', CVSS: { nvd: { V3Score: 9.8 }, redhat: { V3Score: 8.1 } } }),
        vulnerability('CVE-B', { Severity: 'LOW', CVSS: { ghsa: { V3Score: 3.1 }, bitnami: { V3Score: 3.7, V2Score: 5 } } }),
        vulnerability('CVE-C', { Severity: 'UNKNOWN', Status: 'affected', CVSS: { nvd: { V2Score: 5 } } }),
        vulnerability('CVE-D', { Severity: 'MEDIUM', Status: 'will_not_fix', InstalledVersion: undefined }),
        vulnerability('CVE-E', { Status: 'under_investigation', Title: 'line one\nline two' }),
      ],
    },
    {
      Target: 'Dockerfile',
      Class: 'config',
      Misconfigurations: [
        { ID: 'DS002', Title: 'Image user should not be root', Severity: 'HIGH', Status: 'FAIL', CauseMetadata: { StartLine: 3 } },
        { ID: 'DS001', Title: 'latest tag', Severity: 'MEDIUM', Status: 'PASS' },
      ],
    },
    {
      Target: 'deploy/config.env',
      Class: 'secret',
      Secrets: [
        {
          RuleID: 'aws-access-key-id',
          Category: 'AWS',
          Severity: 'CRITICAL',
          Title: 'AWS Access Key ID',
          StartLine: 2,
          Match: `AWS_ACCESS_KEY_ID=${MATCHED_SECRET}`,
        },
      ],
    },
    { Target: 'go.sum', Class: 'lang-pkgs', Type: 'gomod', Vulnerabilities: null },
  ],
};

describe('parseTrivy', () => {
  it('maps severities, best v3 score, fix availability, misconfigurations and secrets', async () => {
    const records = await drain(parseTrivy(report, '/scans/app.json'));
    expect(findingsOf(records).map((f) => [f.id, f.severity, f.cvss, f.fixAvailable, f.location, f.title])).toEqual([
      // The score of the vendor the severity came from wins, then NVD's, then the highest.
      ['CVE-A', 'critical', 8.1, 'unknown', 'openssl@3.0.1', 'CVE-A'],
      ['CVE-B', 'low', 3.7, 'unknown', 'openssl@3.0.1', 'CVE-B'],
      ['CVE-C', 'info', null, false, 'openssl@3.0.1', 'CVE-C'],
      ['CVE-D', 'medium', null, false, 'openssl', 'CVE-D'],
      ['CVE-E', 'high', null, 'unknown', 'openssl@3.0.1', 'line one'],
      ['DS002', 'high', null, 'unknown', 'Dockerfile:3', 'Image user should not be root'],
      ['aws-access-key-id', 'critical', null, 'unknown', 'deploy/config.env:2', 'AWS Access Key ID'],
    ]);
    expect(findingsOf(records).at(-1)?.raw).toEqual({
      format: 'trivy',
      target: 'deploy/config.env',
      class: 'secret',
      type: null,
      finding: 'secret',
      severity: 'CRITICAL',
    });
    expect(scansOf(records)).toEqual([
      expect.objectContaining({ asset: 'https://git.example.com/acme/app', scannedAt: '2024-02-02T00:02:02.123Z', findingCount: 7 }),
    ]);
  });

  it('copies neither the matched secret nor the credentials in the artifact URL', async () => {
    const text = JSON.stringify(await drain(parseTrivy(report, '/scans/app.json')));
    expect(text).not.toContain(MATCHED_SECRET);
    expect(text).not.toContain('glpat-TOKEN123');
    expect(text).toContain('https://git.example.com/acme/app');
  });

  it('records a clean scan when there are no results, at the fallback time with a warning when CreatedAt is missing', async () => {
    const warnings: string[] = [];
    const records = await drain(
      parseTrivy({ SchemaVersion: 2, ArtifactName: 'registry.example.com/app:1.0' }, '/scans/clean.json', {
        fallbackScannedAt: '2024-01-01T00:00:00.000Z',
        warn: (m) => warnings.push(m),
      }),
    );
    expect(records).toEqual([
      expect.objectContaining({ kind: 'scan', asset: 'registry.example.com/app:1.0', findingCount: 0, scannedAt: '2024-01-01T00:00:00.000Z' }),
    ]);
    expect(warnings).toEqual([expect.stringContaining('/scans/clean.json: the file states no scan time (CreatedAt)')]);
  });

  it.each([
    [{ SchemaVersion: 1, ArtifactName: 'x' }, /\/scans\/bad\.json: field SchemaVersion: expected Trivy SchemaVersion 2/],
    [
      { SchemaVersion: 2, ArtifactName: 'x', Results: [{ Target: 't', Vulnerabilities: [vulnerability('CVE-X', { Severity: 'SEVERE' })] }] },
      /field Results\[0\]\.Vulnerabilities\[0\]\.Severity/,
    ],
    [
      { SchemaVersion: 2, ArtifactName: 'x', Results: [{ Target: 't', Vulnerabilities: [vulnerability('CVE-X', { CVSS: { nvd: { V3Score: 11 } } })] }] },
      /field Results\[0\]\.Vulnerabilities\[0\]\.CVSS\.nvd\.V3Score/,
    ],
    [{ SchemaVersion: 2, Results: [] }, /field ArtifactName/],
  ])('refuses a malformed report naming the field (%#)', async (document, message) => {
    const error = await parseError(parseTrivy(document, '/scans/bad.json'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(message);
  });
});

describe('Trivy JSON streamed', () => {
  it('reads a report once when its header comes before Results, as Trivy writes it', async () => {
    const text = await readFile(fixture('trivy-alpine-310.json'), 'utf8');
    const { records, reads } = await streamed('trivy', text, { fallbackScannedAt: '2024-01-01T00:00:00.000Z' });
    expect(reads).toBe(1);
    expect(records).toEqual(await drain(parseTrivy(JSON.parse(text), '/scans/streamed.json', { fallbackScannedAt: '2024-01-01T00:00:00.000Z' })));
    expect(findingsOf(records).map((f) => f.id)).toEqual(['CVE-2019-1549', 'CVE-2019-1551', 'CVE-2019-1549', 'CVE-2019-1551']);
  });

  it("holds a result's findings until its end when the result states no Type (secrets, misconfigurations), still in one read", async () => {
    const { records, reads } = await streamed('trivy', JSON.stringify(report));
    expect(reads).toBe(1);
    expect(findingsOf(records).map((f) => [f.id, f.raw?.target, f.raw?.type])).toEqual([
      ['CVE-A', 'package-lock.json', 'npm'],
      ['CVE-B', 'package-lock.json', 'npm'],
      ['CVE-C', 'package-lock.json', 'npm'],
      ['CVE-D', 'package-lock.json', 'npm'],
      ['CVE-E', 'package-lock.json', 'npm'],
      ['DS002', 'Dockerfile', null],
      ['aws-access-key-id', 'deploy/config.env', null],
    ]);
  });

  it('reads a report twice, with the same records, when its header may still come after Results (keys sorted: SchemaVersion last)', async () => {
    const sorted = sortedKeys(report);
    expect(Object.keys(sorted as object)).toEqual(['ArtifactName', 'ArtifactType', 'CreatedAt', 'Results', 'SchemaVersion']);
    const { records, reads } = await streamed('trivy', JSON.stringify(sorted));
    // The first read stops at the first finding; then the header alone; then the findings.
    expect(reads).toBe(3);
    expect(records).toEqual(await drain(parseTrivy(report, '/scans/streamed.json')));
  });

  it('reads an older report without CreatedAt twice, and falls back to the given time', async () => {
    const { CreatedAt: _createdAt, ...older } = report;
    const warnings: string[] = [];
    const { records, reads } = await streamed('trivy', JSON.stringify(older), { fallbackScannedAt: '2024-05-05T00:00:00.000Z', warn: (m) => warnings.push(m) });
    expect(reads).toBe(3);
    expect(new Set(records.map((r) => r.scannedAt))).toEqual(new Set(['2024-05-05T00:00:00.000Z']));
    expect(findingsOf(records)).toHaveLength(7);
    expect(warnings).toEqual([expect.stringContaining('/scans/streamed.json: the file states no scan time (CreatedAt)')]);
  });

  it('fails at the end, naming the field, when a header value that only describes the scan comes malformed after the findings', async () => {
    const late = { ...report, Trivy: { Version: 7 } };
    const error = await parseError(readScanJson('trivy', (plan) => streamJson([JSON.stringify(late)], '/scans/late.json', plan), '/scans/late.json'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe('scanner-files: /scans/late.json: field Trivy.Version: Invalid input: expected string, received number');
  });

  it('checks a result without findings too', async () => {
    const error = await parseError(
      parseTrivy({ SchemaVersion: 2, ArtifactName: 'x', Results: [{ Target: 't', Vulnerabilities: [] }, { Class: 'lang-pkgs' }] }, '/scans/bad.json'),
    );
    expect(error.message).toMatch(/^scanner-files: \/scans\/bad\.json: field Results\[1\]\.Target: /);
  });

  it('yields findings while the report is still being read', async () => {
    const count = 5_000;
    let produced = 0;
    async function* bigReport() {
      yield '{"SchemaVersion": 2, "CreatedAt": "2026-01-14T06:00:00Z", "ArtifactName": "registry.example.com/app:1", "Results": [{"Target": "app", "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": [';
      for (let i = 0; i < count; i++) {
        produced += 1;
        yield `${i === 0 ? '' : ','}${JSON.stringify(vulnerability(`CVE-2026-${i}`, { Title: 'x'.repeat(200) }))}`;
      }
      yield ']}]}';
    }
    const iterator = readScanJson('trivy', (plan) => streamJson(bigReport(), '/scans/big.json', plan), '/scans/big.json')[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ kind: 'finding', id: 'CVE-2026-0' });
    expect(produced).toBeLessThan(10);
    let findings = 1;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.kind === 'finding') findings += 1;
    expect(findings).toBe(count);
  });
});
