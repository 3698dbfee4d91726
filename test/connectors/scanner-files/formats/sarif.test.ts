import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../connectors/errors.ts';
import { parseSarif } from '../../../../connectors/scanner-files/index.ts';
import { collect, countBy, drain, findingsOf, fixture, parseError, scansOf, sortedKeys, streamed } from '../helpers.ts';

describe('SARIF fixtures', () => {
  it('semgrep-juice-shop.sarif: 77 results, severities from the word-valued security-severity, located at path:line', async () => {
    const { findings, scans, warnings } = await collect({ paths: ['semgrep-juice-shop.sarif'] });
    const mtime = (await stat(fixture('semgrep-juice-shop.sarif'))).mtime.toISOString();

    expect(findings).toHaveLength(77);
    expect(countBy(findings, (f) => f.severity)).toEqual({ critical: 34, high: 1, medium: 42 });
    expect(countBy(findings, (f) => String(f.raw?.level))).toEqual({ error: 35, warning: 42 });
    expect(new Set(findings.map((f) => f.id)).size).toBe(17);
    expect(new Set(findings.map((f) => f.location.replace(/:\d+$/, ''))).size).toBe(36);
    expect(findings.every((f) => f.scanner === 'semgrep' && f.source === 'scanner-files')).toBe(true);
    expect(findings.every((f) => f.cvss === null && f.fixAvailable === 'unknown' && f.fixedAt === null)).toBe(true);

    const first = findings[0]!;
    expect(first).toMatchObject({
      id: 'vulnerability-management-registry.semgrep-rules.gitlab-rules.sast-rules.javascript.pathtraversal.javascript_pathtraversal_rule-non-literal-fs-filename',
      title: "Improper limitation of a pathname to a restricted directory ('Path Traversal')",
      severity: 'medium',
      asset: 'semgrep-juice-shop.sarif',
      location: 'Gruntfile.js:75',
      scannedAt: mtime,
      firstSeenAt: mtime,
    });
    expect(first.raw).toMatchObject({ format: 'sarif', tool: 'Semgrep OSS', securitySeverity: 'MEDIUM', level: 'warning' });
    expect(String(first.raw?.message).length).toBeLessThanOrEqual(501);

    // No invocation states a time: the file's mtime stands in, and the auditor is told.
    expect(scans).toEqual([
      expect.objectContaining({
        scanner: 'semgrep',
        asset: 'semgrep-juice-shop.sarif',
        scannedAt: mtime,
        findingCount: 77,
        origin: fixture('semgrep-juice-shop.sarif'),
      }),
    ]);
    expect(scans[0]!.raw).toMatchObject({ assetFrom: 'file name', scanTimeFrom: 'file modification time', toolVersion: '1.69.0' });
    expect(warnings).toEqual([expect.stringMatching(/semgrep-juice-shop\.sarif: the file states no scan time .*modification time/)]);
  });

  it('grype-cxf-3.4.6.sarif: 22 results banded from numeric security-severity (critical 1, high 11, medium 4, low 6)', async () => {
    const { findings, scans } = await collect({ paths: ['grype-cxf-3.4.6.sarif'] });
    expect(findings).toHaveLength(22);
    expect(countBy(findings, (f) => f.severity)).toEqual({ critical: 1, high: 11, medium: 4, low: 6 });
    expect(findings.every((f) => f.scanner === 'grype')).toBe(true);
    const critical = findings.find((f) => f.severity === 'critical')!;
    expect(critical).toMatchObject({ id: 'CVE-2019-12419-cxf-xjc-runtime', location: 'lib/cxf-xjc-runtime-3.3.1.jar:1' });
    expect(critical.raw?.securitySeverity).toBe('9.8');
    expect(findings.find((f) => f.id === 'CVE-2008-0732-geronimo-jms_1.1_spec')).toMatchObject({
      severity: 'low',
      location: 'lib/geronimo-jms_1.1_spec-1.1.1.jar:1',
    });
    expect(findings.find((f) => f.id === 'CVE-2019-12406-cxf-xjc-runtime')?.severity).toBe('medium');
    expect(scans).toEqual([expect.objectContaining({ scanner: 'grype', asset: 'grype-cxf-3.4.6.sarif', findingCount: 22 })]);
  });

  it("trivy-alpine-310.sarif: 4 medium results on the image, at the same package locations as Trivy's JSON of the same scan", async () => {
    const sarif = await collect({ paths: ['trivy-alpine-310.sarif'] });
    const json = await collect({ paths: ['trivy-alpine-310.json'] });
    expect(sarif.findings).toHaveLength(4);
    expect(sarif.findings.every((f) => f.severity === 'medium' && f.scanner === 'trivy')).toBe(true);
    expect(sarif.findings.map((f) => f.raw?.securitySeverity)).toEqual(['5.3', '5.3', '5.3', '5.3']);
    expect(sarif.scans).toEqual([expect.objectContaining({ scanner: 'trivy', asset: 'testdata/fixtures/images/alpine-310.tar.gz', findingCount: 4 })]);
    expect(sarif.scans[0]!.raw?.assetFrom).toBe('properties.imageName');

    // The vulnerability SLA check merges findings by asset|id|location: both formats must agree on it.
    const identity = (f: { asset: string; id: string; location: string }) => `${f.asset}|${f.id}|${f.location}`;
    expect(sarif.findings.map(identity).sort()).toEqual(json.findings.map(identity).sort());
    expect(sarif.findings.map(identity).sort()).toEqual([
      'testdata/fixtures/images/alpine-310.tar.gz|CVE-2019-1549|libcrypto1.1@1.1.1c-r0',
      'testdata/fixtures/images/alpine-310.tar.gz|CVE-2019-1549|libssl1.1@1.1.1c-r0',
      'testdata/fixtures/images/alpine-310.tar.gz|CVE-2019-1551|libcrypto1.1@1.1.1c-r0',
      'testdata/fixtures/images/alpine-310.tar.gz|CVE-2019-1551|libssl1.1@1.1.1c-r0',
    ]);
  });
});

const SECRET = 'ghp_s3cretT0kenValue';

function log(runs: unknown[]) {
  return { version: '2.1.0', $schema: 'https://json.schemastore.org/sarif-2.1.0.json', runs };
}

function rule(id: string, extra: Record<string, unknown> = {}) {
  return { id, shortDescription: { text: `${id} title` }, ...extra };
}

function result(ruleId: string, extra: Record<string, unknown> = {}) {
  return {
    ruleId,
    message: { text: `${ruleId} message` },
    locations: [{ physicalLocation: { artifactLocation: { uri: 'src/app.js' }, region: { startLine: 12 } } }],
    ...extra,
  };
}

const codeql = {
  tool: {
    driver: {
      name: 'GitHub CodeQL',
      semanticVersion: '2.15.0',
      rules: [
        rule('r-9.0', { properties: { 'security-severity': '9.0' } }),
        rule('r-8.9', { properties: { 'security-severity': '8.9' } }),
        rule('r-7.0', { properties: { 'security-severity': '7.0' } }),
        rule('r-6.9', { properties: { 'security-severity': '6.9' } }),
        rule('r-4.0', { properties: { 'security-severity': 4 } }),
        rule('r-3.9', { properties: { 'security-severity': '3.9' } }),
        rule('r-0.1', { properties: { 'security-severity': '0.1' } }),
        rule('r-word', { properties: { 'security-severity': 'High' } }),
        rule('r-unreadable', { properties: { 'security-severity': 'n/a' }, defaultConfiguration: { level: 'note' } }),
        rule('r-default-note', { defaultConfiguration: { level: 'note' } }),
        rule('r-plain'),
      ],
    },
  },
  invocations: [
    { startTimeUtc: '2024-03-01T10:00:00Z', endTimeUtc: '2024-03-01T10:05:00.123+01:00' },
    { startTimeUtc: '2024-03-01T08:00:00Z', endTimeUtc: '2024-03-01T08:30:00Z' },
  ],
  versionControlProvenance: [{ repositoryUri: `https://x-access-token:${SECRET}@github.com/acme/shop` }],
  artifacts: [{ location: { uri: 'lib/indexed.js' } }],
  results: [
    result('r-9.0'),
    result('r-8.9'),
    result('r-7.0'),
    result('r-6.9'),
    result('r-4.0'),
    result('r-3.9'),
    result('r-0.1'),
    result('r-word'),
    result('r-unreadable'),
    result('r-plain', { level: 'error' }),
    result('r-plain', { level: 'warning' }),
    result('r-plain', { level: 'note' }),
    result('r-plain', { level: 'none' }),
    result('r-default-note'),
    result('r-plain'),
    result('r-plain', { kind: 'pass' }),
    result('r-plain', { kind: 'notApplicable' }),
    result('r-plain', { baselineState: 'absent' }),
    result('r-plain', { suppressions: [{ kind: 'inSource', status: 'accepted' }], baselineState: 'unchanged' }),
    result('r-plain', {
      fixes: [{ description: { text: 'use a constant' } }],
      locations: [{ physicalLocation: { artifactLocation: { uri: 'src/no-region.js' } } }],
    }),
    { ruleIndex: 2, message: { text: 'by index' }, locations: [{ physicalLocation: { artifactLocation: { index: 0 }, region: { startLine: 3 } } }] },
    { ruleId: 'r-plain', message: { text: 'logical' }, locations: [{ logicalLocations: [{ fullyQualifiedName: 'Acme.Shop.Checkout' }] }] },
    { ruleId: 'r-unlisted', message: { text: 'A rule the driver does not list\nsecond line' } },
  ],
};

describe('parseSarif', () => {
  it('bands security-severity like CVSS, reads words, and falls back to level, then the rule default, then warning', async () => {
    const findings = findingsOf(await drain(parseSarif(log([codeql]), '/scans/codeql.sarif')));
    expect(findings.map((f) => [f.id, f.severity])).toEqual([
      ['r-9.0', 'critical'],
      ['r-8.9', 'high'],
      ['r-7.0', 'high'],
      ['r-6.9', 'medium'],
      ['r-4.0', 'medium'],
      ['r-3.9', 'low'],
      ['r-0.1', 'low'],
      ['r-word', 'high'],
      ['r-unreadable', 'low'],
      ['r-plain', 'high'],
      ['r-plain', 'medium'],
      ['r-plain', 'low'],
      ['r-plain', 'info'],
      ['r-default-note', 'low'],
      ['r-plain', 'medium'],
      ['r-plain', 'medium'],
      ['r-plain', 'medium'],
      ['r-7.0', 'high'],
      ['r-plain', 'medium'],
      ['r-unlisted', 'medium'],
    ]);
  });

  it('maps locations, titles, fixes, suppressions, scan time, scanner and asset of a run', async () => {
    const records = await drain(parseSarif(log([codeql]), '/scans/codeql.sarif'));
    const findings = findingsOf(records);
    expect(findings[0]).toEqual({
      kind: 'finding',
      source: 'scanner-files',
      scanner: 'codeql',
      id: 'r-9.0',
      title: 'r-9.0 title',
      severity: 'critical',
      cvss: null,
      asset: 'https://github.com/acme/shop',
      location: 'src/app.js:12',
      // The latest end time of the run's invocations, in UTC.
      scannedAt: '2024-03-01T09:05:00.123Z',
      firstSeenAt: '2024-03-01T09:05:00.123Z',
      fixedAt: null,
      fixAvailable: 'unknown',
      raw: { format: 'sarif', tool: 'GitHub CodeQL', ruleId: 'r-9.0', level: 'warning', securitySeverity: '9.0', message: 'r-9.0 message' },
    });
    const suppressed = findings[15]!;
    expect(suppressed.raw).toMatchObject({ suppressed: true, baselineState: 'unchanged' });
    expect(findings[16]).toMatchObject({ location: 'src/no-region.js', fixAvailable: true });
    expect(findings[17]).toMatchObject({ id: 'r-7.0', title: 'r-7.0 title', location: 'lib/indexed.js:3' });
    expect(findings[18]).toMatchObject({ location: 'Acme.Shop.Checkout' });
    expect(findings[19]).toMatchObject({ id: 'r-unlisted', title: 'A rule the driver does not list', location: '' });

    expect(scansOf(records)).toEqual([
      {
        kind: 'scan',
        source: 'scanner-files',
        scanner: 'codeql',
        asset: 'https://github.com/acme/shop',
        scannedAt: '2024-03-01T09:05:00.123Z',
        origin: '/scans/codeql.sarif',
        findingCount: 20,
        raw: {
          format: 'sarif',
          tool: 'GitHub CodeQL',
          toolVersion: '2.15.0',
          assetFrom: 'versionControlProvenance.repositoryUri',
          scanTimeFrom: 'runs[0].invocations[].endTimeUtc',
          notFindings: 3,
        },
      },
    ]);
  });

  it('takes only kind fail as a failure (SARIF 2.1.0, 3.27.9-10): review and open are info whatever their rule says, informational is no finding', async () => {
    const run = {
      tool: {
        driver: { name: 'GitHub CodeQL', rules: [rule('r-error', { defaultConfiguration: { level: 'error' }, properties: { 'security-severity': '9.1' } })] },
      },
      invocations: [{ endTimeUtc: '2024-03-01T10:00:00Z' }],
      results: [
        result('r-error'),
        result('r-error', { kind: 'fail' }),
        result('r-error', { kind: 'review' }),
        result('r-error', { kind: 'open', level: 'error' }),
        result('r-error', { kind: 'informational' }),
        result('r-error', { kind: 'pass' }),
        result('r-error', { kind: 'notApplicable' }),
      ],
    };
    const records = await drain(parseSarif(log([run]), '/scans/kinds.sarif'));
    expect(findingsOf(records).map((f) => [f.severity, f.raw?.level, f.raw?.kind ?? null])).toEqual([
      ['critical', 'error', null],
      ['critical', 'error', null],
      ['info', 'none', 'review'],
      ['info', 'none', 'open'],
    ]);
    expect(scansOf(records)).toEqual([expect.objectContaining({ findingCount: 4, raw: expect.objectContaining({ notFindings: 3 }) })]);
  });

  it('never copies credentials from a repository URL into records', async () => {
    const records = await drain(parseSarif(log([codeql]), '/scans/codeql.sarif'));
    expect(JSON.stringify(records)).not.toContain(SECRET);
    expect(JSON.stringify(records)).not.toContain('x-access-token');
  });

  it('yields one scan per tool and asset, uses the start time when no end time is stated, and the config asset over all', async () => {
    const trivyRun = {
      tool: { driver: { name: 'Trivy', version: '0.50.0', rules: [rule('CVE-1')] } },
      invocations: [{ startTimeUtc: '2024-05-01T00:00:00Z' }],
      results: [],
    };
    const both = await drain(parseSarif(log([codeql, trivyRun]), '/scans/multi.sarif'));
    expect(scansOf(both).map((s) => [s.scanner, s.asset, s.scannedAt, s.findingCount])).toEqual([
      ['codeql', 'https://github.com/acme/shop', '2024-03-01T09:05:00.123Z', 20],
      ['trivy', 'multi.sarif', '2024-05-01T00:00:00.000Z', 0],
    ]);
    const overridden = await drain(parseSarif(log([codeql, trivyRun]), '/scans/multi.sarif', { asset: 'shop' }));
    expect(new Set(overridden.map((r) => r.asset))).toEqual(new Set(['shop']));
    expect(scansOf(overridden)[0]!.raw?.assetFrom).toBe('config');
  });

  it('falls back to the given time and warns when no invocation states one', async () => {
    const warnings: string[] = [];
    const bare = { tool: { driver: { name: 'Semgrep OSS' } }, results: [result('x', { level: 'error' })] };
    const records = await drain(parseSarif(log([bare]), '/scans/bare.sarif', { fallbackScannedAt: '2024-06-01T12:00:00.000Z', warn: (m) => warnings.push(m) }));
    expect(records.map((r) => r.scannedAt)).toEqual(['2024-06-01T12:00:00.000Z', '2024-06-01T12:00:00.000Z']);
    expect(warnings).toEqual([expect.stringContaining('/scans/bare.sarif: the file states no scan time')]);
  });

  it('flags the records of a run without a scan time; the scan of an asset another run dates takes the stated time', async () => {
    const dated = { tool: { driver: { name: 'Semgrep OSS' } }, invocations: [{ endTimeUtc: '2024-05-01T00:00:00Z' }], results: [result('a')] };
    const undated = { tool: { driver: { name: 'Semgrep OSS' } }, results: [result('b')] };
    for (const runs of [
      [dated, undated],
      [undated, dated],
    ]) {
      const records = await drain(parseSarif(log(runs), '/scans/two-runs.sarif', { asset: 'shop', fallbackScannedAt: '2024-06-01T12:00:00.000Z' }));
      expect(
        findingsOf(records)
          .map((f) => [f.id, f.scannedAt, f.scanTimeUnknown ?? false])
          .sort(),
      ).toEqual([
        ['a', '2024-05-01T00:00:00.000Z', false],
        ['b', '2024-06-01T12:00:00.000Z', true],
      ]);
      expect(scansOf(records).map((s) => [s.asset, s.scannedAt, s.scanTimeUnknown ?? false, s.findingCount])).toEqual([
        ['shop', '2024-05-01T00:00:00.000Z', false, 2],
      ]);
    }
  });

  it.each([
    [{ version: '2.0.0', runs: [] }, /scanner-files: \/scans\/bad\.sarif: field version: expected SARIF version "2\.1\.0"/],
    [log([{ tool: { driver: {} }, results: [] }]), /field runs\[0\]\.tool\.driver\.name/],
    [log([{ tool: { driver: { name: 'x' } }, results: [{ ruleId: 'a', level: 'fatal' }] }]), /field runs\[0\]\.results\[0\]\.level/],
    [
      log([{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'no rule' } }] }]),
      /field runs\[0\]\.results\[0\]\.ruleId: the result names no rule/,
    ],
    [
      log([{ tool: { driver: { name: 'x', rules: [{ id: 'a', defaultConfiguration: { level: 7 } }] } }, results: [] }]),
      /field runs\[0\]\.tool\.driver\.rules\[0\]\.defaultConfiguration\.level/,
    ],
  ])('refuses a malformed log with an error naming the file and field (%#)', async (document, message) => {
    const error = await parseError(parseSarif(document, '/scans/bad.sarif'));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(message);
  });
});

describe('SARIF streamed', () => {
  it('semgrep-juice-shop.sarif: results come before tool (keys sorted), so the log is read for its context first, then for its results', async () => {
    const text = await readFile(fixture('semgrep-juice-shop.sarif'), 'utf8');
    expect(Object.keys(JSON.parse(text).runs[0])).toEqual(['invocations', 'results', 'tool']);
    const { records, reads } = await streamed('sarif', text, { fallbackScannedAt: '2024-01-01T00:00:00.000Z' });
    // The first read stops at the first result, as the run's tool may (and does) come later.
    expect(reads).toBe(3);
    expect(findingsOf(records)).toHaveLength(77);
    expect(records).toEqual(
      await drain(parseSarif(JSON.parse(text), '/scans/streamed.sarif', { fallbackScannedAt: '2024-01-01T00:00:00.000Z' })).then((all) =>
        JSON.parse(JSON.stringify(all).replaceAll('streamed.sarif', 'streamed.json')),
      ),
    );
  });

  it('reads a log once when every run states its tool, invocations, provenance, properties and artifacts before its results', async () => {
    const { results, ...context } = codeql;
    const ordered = { ...context, properties: {}, results };
    expect(Object.keys(ordered).at(-1)).toBe('results');
    const { records, reads } = await streamed('sarif', JSON.stringify(log([ordered])));
    expect(reads).toBe(1);
    expect(findingsOf(records)).toHaveLength(20);
  });

  it("yields a first run's results once, even when a later run's context comes after its results and the log is read again", async () => {
    const { results, ...context } = codeql;
    const first = { ...context, properties: {}, results };
    const later = sortedKeys({
      tool: { driver: { name: 'Trivy', rules: [rule('CVE-1', { properties: { 'security-severity': '9.1' } })] } },
      results: [result('CVE-1')],
      properties: { imageName: 'alpine:3.10' },
    });
    const { records, reads } = await streamed('sarif', JSON.stringify(log([first, later])));
    expect(reads).toBe(3);
    expect(findingsOf(records).map((f) => `${f.scanner}:${f.id}`)).toEqual([
      ...findingsOf(await drain(parseSarif(log([codeql]), '/x'))).map((f) => `codeql:${f.id}`),
      'trivy:CVE-1',
    ]);
    expect(scansOf(records).map((s) => [s.scanner, s.asset, s.findingCount])).toEqual([
      ['codeql', 'https://github.com/acme/shop', 20],
      ['trivy', 'alpine:3.10', 1],
    ]);
  });

  it('checks the version even when it comes after the runs (keys sorted)', async () => {
    const text = JSON.stringify(sortedKeys({ ...log([codeql]), version: '2.0.0' }));
    const error = await streamed('sarif', text).then(
      () => new Error('expected the log to be refused'),
      (failure: Error) => failure,
    );
    expect(error.message).toBe('scanner-files: /scans/streamed.json: field version: expected SARIF version "2.1.0"');
  });
});
