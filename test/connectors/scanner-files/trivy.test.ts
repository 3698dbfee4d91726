import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { parseTrivy } from '../../../connectors/scanner-files/index.ts';
import { collect, drain, findingsOf, fixture, parseError, scansOf } from './helpers.ts';

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
        raw: { format: 'trivy', trivyVersion: 'dev', artifactType: 'container_image', reportId: '017b7d41-e09f-7000-80ea-000000000001', scanTimeFrom: 'CreatedAt' },
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
      Secrets: [{ RuleID: 'aws-access-key-id', Category: 'AWS', Severity: 'CRITICAL', Title: 'AWS Access Key ID', StartLine: 2, Match: `AWS_ACCESS_KEY_ID=${MATCHED_SECRET}` }],
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
    expect(findingsOf(records).at(-1)?.raw).toEqual({ format: 'trivy', target: 'deploy/config.env', class: 'secret', type: null, finding: 'secret', severity: 'CRITICAL' });
    expect(scansOf(records)).toEqual([expect.objectContaining({ asset: 'https://git.example.com/acme/app', scannedAt: '2024-02-02T00:02:02.123Z', findingCount: 7 })]);
  });

  it('copies neither the matched secret nor the credentials in the artifact URL', async () => {
    const text = JSON.stringify(await drain(parseTrivy(report, '/scans/app.json')));
    expect(text).not.toContain(MATCHED_SECRET);
    expect(text).not.toContain('glpat-TOKEN123');
    expect(text).toContain('https://git.example.com/acme/app');
  });

  it('records a clean scan when there are no results, at the fallback time with a warning when CreatedAt is missing', async () => {
    const warnings: string[] = [];
    const records = await drain(parseTrivy({ SchemaVersion: 2, ArtifactName: 'registry.example.com/app:1.0' }, '/scans/clean.json', { fallbackScannedAt: '2024-01-01T00:00:00.000Z', warn: (m) => warnings.push(m) }));
    expect(records).toEqual([expect.objectContaining({ kind: 'scan', asset: 'registry.example.com/app:1.0', findingCount: 0, scannedAt: '2024-01-01T00:00:00.000Z' })]);
    expect(warnings).toEqual([expect.stringContaining('/scans/clean.json: the file states no scan time (CreatedAt)')]);
  });

  it.each([
    [{ SchemaVersion: 1, ArtifactName: 'x' }, /\/scans\/bad\.json: field SchemaVersion: expected Trivy SchemaVersion 2/],
    [{ SchemaVersion: 2, ArtifactName: 'x', Results: [{ Target: 't', Vulnerabilities: [vulnerability('CVE-X', { Severity: 'SEVERE' })] }] }, /field Results\[0\]\.Vulnerabilities\[0\]\.Severity/],
    [{ SchemaVersion: 2, ArtifactName: 'x', Results: [{ Target: 't', Vulnerabilities: [vulnerability('CVE-X', { CVSS: { nvd: { V3Score: 11 } } })] }] }, /field Results\[0\]\.Vulnerabilities\[0\]\.CVSS\.nvd\.V3Score/],
    [{ SchemaVersion: 2, Results: [] }, /field ArtifactName/],
  ])('refuses a malformed report naming the field (%#)', async (document, message) => {
    const error = await parseError(parseTrivy(document, '/scans/bad.json'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(message);
  });
});
