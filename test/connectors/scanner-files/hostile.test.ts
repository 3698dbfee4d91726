import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { parseNessus, parseOpenVas, readScanJson } from '../../../connectors/scanner-files/index.ts';
import { streamJson } from '../../../connectors/scanner-files/json-stream.ts';
import { chunked, collectUntilError, drain, fixture, parseError } from './helpers.ts';

describe('hostile and broken files', () => {
  it('xxe.nessus: the DTD is refused before any entity is resolved, naming the file', async () => {
    const { records, error } = await collectUntilError({ paths: ['xxe.nessus'] });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(`scanner-files: ${fixture('xxe.nessus')}: DTDs are refused (possible XXE or entity expansion)`);
    expect(records).toEqual([]);
    expect(error.message).not.toMatch(/root:/);
  });

  it('xxe.nessus is refused even when the format is forced', async () => {
    const { error } = await collectUntilError({ paths: ['xxe.nessus'], format: 'nessus' });
    expect(error.message).toMatch(/xxe\.nessus: DTDs are refused/);
  });

  it('billion-laughs.xml: refused at once, without expanding a billion entities', async () => {
    const started = performance.now();
    const { records, error } = await collectUntilError({ paths: ['billion-laughs.xml'] });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(`scanner-files: ${fixture('billion-laughs.xml')}: DTDs are refused (possible XXE or entity expansion)`);
    expect(records).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('the streaming parsers refuse a DOCTYPE whatever the root', async () => {
    const nessus = await parseError(parseNessus(createReadStream(fixture('xxe.nessus')), 'xxe'));
    const openvas = await parseError(parseOpenVas(createReadStream(fixture('billion-laughs.xml')), 'lol'));
    expect([nessus.message, openvas.message]).toEqual([
      'scanner-files: xxe: DTDs are refused (possible XXE or entity expansion)',
      'scanner-files: lol: DTDs are refused (possible XXE or entity expansion)',
    ]);
  });

  it('truncated.nessus: the complete item is yielded, then an error names the file and says it is truncated', async () => {
    const { records, error } = await collectUntilError({ paths: ['truncated.nessus'] });
    expect(records.map((r) => [r.kind, r.kind === 'finding' ? r.id : '', r.kind === 'finding' ? r.severity : ''])).toEqual([['finding', '42873', 'high']]);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(
      new RegExp(
        `^scanner-files: ${fixture('truncated.nessus').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: XML ends inside <NessusClientData_v2/Report/ReportHost/ReportItem/plugin_output> at line \\d+: the file is truncated`,
      ),
    );
  });

  it('unknown.json: a MalformedResponseError naming the file and the formats it could have been', async () => {
    const { error } = await collectUntilError({ paths: ['unknown.json'] });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      `scanner-files: ${fixture('unknown.json')}: unknown format (JSON of no known shape; ${statSync(fixture('unknown.json')).size} bytes); expected SARIF 2.1.0, Trivy JSON (SchemaVersion 2), Grype JSON, Nessus v2 XML (NessusClientData_v2) or OpenVAS/Greenbone XML (<report>)`,
    );
  });
});

describe('values past their bounds', () => {
  const trivy = (title: string, metadata = '') =>
    `{"SchemaVersion": 2, "CreatedAt": "2026-01-14T06:00:00Z", "ArtifactName": "app"${metadata}, "Results": [{"Target": "app", "Class": "os-pkgs", "Type": "alpine", ` +
    `"Vulnerabilities": [{"VulnerabilityID": "CVE-2026-1", "PkgName": "openssl", "InstalledVersion": "3.0.1", "Severity": "HIGH", "Title": "${title}"}]}]}`;
  const readTrivy = (text: string, maxValueBytes: number, size = 7) =>
    readScanJson('trivy', (plan) => streamJson(chunked(text, size), '/scans/hostile.json', plan, { maxValueBytes }), '/scans/hostile.json');

  it('JSON: a kept string longer than maxValueBytes is malformed, named by its path, never quoted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scanner-hostile-'));
    try {
      const file = join(dir, 'long-title.json');
      await writeFile(file, trivy(`SECRET-MARKER ${'t'.repeat(2000)}`));
      const { records, error } = await collectUntilError({ paths: [file], maxValueBytes: 1024 });
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect((error as MalformedResponseError).retryable).toBe(false);
      expect(error.message).toBe(
        `scanner-files: ${file}: Results[0].Vulnerabilities[0].Title: a string longer than 1024 bytes (maxValueBytes); raise maxValueBytes or fix the export`,
      );
      expect(error.message).not.toContain('SECRET-MARKER');
      expect(records).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('JSON: a string over the limit in one chunk is refused as one cut across chunks is', async () => {
    for (const size of [7, 1 << 20]) {
      const error = await parseError(readTrivy(trivy('t'.repeat(400)), 300, size));
      expect(error.message, `chunks of ${size}`).toBe(
        'scanner-files: /scans/hostile.json: Results[0].Vulnerabilities[0].Title: a string longer than 300 bytes (maxValueBytes); raise maxValueBytes or fix the export',
      );
    }
  });

  it('JSON: a string in a skipped member may be any length, escapes and all: it is passed over and the records are whole', async () => {
    const skipped = `, "Metadata": {"Layers": ["${'a\\"b\\\\'.repeat(300)}\\\\", "x"], "ImageConfig": "${'é'.repeat(500)}"}`;
    for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
      const records = await drain(readTrivy(trivy('Title', skipped), 300, size));
      expect(
        records.map((record) => [record.kind, record.kind === 'finding' ? record.title : record.asset]),
        `chunks of ${size}`,
      ).toEqual([
        ['finding', 'Title'],
        ['scan', 'app'],
      ]);
    }
  });

  it('JSON: an item (or piece of context) spanning more than maxValueBytes is malformed, named by its path', async () => {
    const references = `, "References": [${Array.from({ length: 100 }, (_, i) => `"https://example.org/${i}"`).join(', ')}]`;
    const item = await parseError(readTrivy(trivy('Title').replace('"Title": "Title"', `"Title": "Title"${references}`), 1000, 64));
    expect(item.message).toBe(
      'scanner-files: /scans/hostile.json: Results[0].Vulnerabilities[0]: a value longer than 1000 bytes (maxValueBytes); raise maxValueBytes or fix the export',
    );
    const rules = Array.from({ length: 100 }, (_, i) => ({ id: `rule-${i}`, shortDescription: { text: `Rule ${i}` } }));
    const sarif = JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'CodeQL', rules } }, results: [] }] });
    const context = await parseError(
      readScanJson('sarif', (plan) => streamJson(chunked(sarif, 64), '/scans/rules.sarif', plan, { maxValueBytes: 1000 }), '/scans/rules.sarif'),
    );
    expect(context.message).toBe(
      'scanner-files: /scans/rules.sarif: runs[0].tool: a value longer than 1000 bytes (maxValueBytes); raise maxValueBytes or fix the export',
    );
  });

  it('JSON: after a skipped string, errors name the byte where they are', async () => {
    const text = `{"SchemaVersion": 2, "Metadata": "${'m'.repeat(500)}", "Results": [}`;
    const error = await parseError(readTrivy(text, 100, 64));
    expect(error.message).toBe(`scanner-files: /scans/hostile.json: not valid JSON: unexpected "}" at byte ${text.indexOf('[}') + 1} in Results[0]`);
  });

  it('JSON: a member name over the limit, a number of more than 1024 characters and nesting past 256 levels are malformed wherever they are', async () => {
    const name = await parseError(readTrivy(`{"SchemaVersion": 2, "Metadata": {"${'k'.repeat(200)}": 1}}`, 100));
    expect(name.message).toBe(
      'scanner-files: /scans/hostile.json: a member name in Metadata: a string longer than 100 bytes (maxValueBytes); raise maxValueBytes or fix the export',
    );
    const number = await parseError(readTrivy(`{"SchemaVersion": 2, "Metadata": {"Size": ${'9'.repeat(2000)}}}`, 100, 64));
    expect(number.message).toBe('scanner-files: /scans/hostile.json: Metadata.Size: a number longer than 1024 characters');
    const deep = await parseError(readTrivy(`{"Metadata": ${'['.repeat(300)}${']'.repeat(300)}}`, 100, 64));
    expect(deep.message).toMatch(/^scanner-files: \/scans\/hostile\.json: Metadata(\[0\])+: nested more than 256 levels deep$/);
    for (const error of [name, number, deep]) expect(error).toBeInstanceOf(MalformedResponseError);
  });

  const nessus = (item: string, properties = '<tag name="HOST_END_TIMESTAMP">1767225600</tag>') =>
    `<?xml version="1.0"?><NessusClientData_v2><Report name="r"><ReportHost name="10.0.0.1"><HostProperties>${properties}</HostProperties>` +
    `<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="1" pluginName="p">${item}</ReportItem></ReportHost></Report></NessusClientData_v2>`;

  it('XML: a text the mapping keeps, longer than maxValueBytes, is malformed, named by its element', async () => {
    const error = await parseError(
      parseNessus(chunked(nessus(`<synopsis>SECRET-MARKER ${'s'.repeat(300)}</synopsis>`), 64), '/scans/hostile.nessus', { maxValueBytes: 100 }),
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      'scanner-files: /scans/hostile.nessus: a text, attribute value, comment, CDATA section or processing instruction in <NessusClientData_v2/Report/ReportHost/ReportItem/synopsis> is longer than 100 characters (maxValueBytes); raise maxValueBytes or fix the export',
    );
    expect(error.message).not.toContain('SECRET-MARKER');
    // Text kept in pieces (CDATA sections, each short) counts toward the item that holds it.
    const pieces = await parseError(
      parseNessus(chunked(nessus(`<synopsis>${'<![CDATA[c]]>'.repeat(150)}</synopsis>`), 64), '/scans/hostile.nessus', { maxValueBytes: 100 }),
    );
    expect(pieces.message).toBe(
      'scanner-files: /scans/hostile.nessus: the element <NessusClientData_v2/Report/ReportHost/ReportItem> holds more than 100 characters (maxValueBytes); raise maxValueBytes or fix the export',
    );
  });

  it('XML: a captured element holding more than maxValueBytes, or more than 100,000 elements, is malformed, named by its path', async () => {
    const cves = Array.from({ length: 100 }, (_, i) => `<cve>CVE-2026-${1000 + i}</cve>`).join('');
    const error = await parseError(parseNessus(chunked(nessus(`<synopsis>s</synopsis>${cves}`), 64), '/scans/hostile.nessus', { maxValueBytes: 1000 }));
    expect(error.message).toBe(
      'scanner-files: /scans/hostile.nessus: the element <NessusClientData_v2/Report/ReportHost/ReportItem> holds more than 1000 characters (maxValueBytes); raise maxValueBytes or fix the export',
    );
    const many = await parseError(parseNessus(chunked(nessus('<x/>'.repeat(100_001)), 65_536), '/scans/many.nessus'));
    expect(many.message).toBe(
      'scanner-files: /scans/many.nessus: the element <NessusClientData_v2/Report/ReportHost/ReportItem> holds more than 100000 elements',
    );
  });

  it('XML: a text the mapping does not read may be any length: it is never built', async () => {
    const records = await drain(
      parseNessus(chunked(nessus(`<synopsis>s</synopsis><plugin_output>${'o'.repeat(5000)}</plugin_output>`), 64), '/scans/hostile.nessus', {
        maxValueBytes: 100,
      }),
    );
    expect(records.map((record) => record.kind)).toEqual(['finding', 'scan']);
  });

  it.each([
    ['a comment', `<!-- ${'c'.repeat(300)} -->`],
    ['a CDATA section', `<plugin_output><![CDATA[${'c'.repeat(300)}]]></plugin_output>`],
    ['an attribute value', `<cve note="${'a'.repeat(300)}">CVE-2026-1</cve>`],
    ['a processing instruction', `<?pi ${'p'.repeat(300)}?>`],
  ])('XML: %s longer than maxValueBytes is malformed wherever it is', async (_what, markup) => {
    const error = await parseError(parseNessus(chunked(nessus(markup), 64), '/scans/hostile.nessus', { maxValueBytes: 100 }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(
      /^scanner-files: \/scans\/hostile\.nessus: a text, attribute value, comment, CDATA section or processing instruction in <NessusClientData_v2\/Report\/ReportHost\/ReportItem(\/plugin_output)?> is longer than 100 characters \(maxValueBytes\)/,
    );
  });

  it('XML: nesting past 256 levels and a start tag of more than 1000 attributes are malformed', async () => {
    const deep = await parseError(parseNessus(chunked(nessus(`${'<a>'.repeat(300)}${'</a>'.repeat(300)}`), 4096), '/scans/deep.nessus'));
    expect(deep.message).toBe(
      'scanner-files: /scans/deep.nessus: elements nest more than 256 levels deep at <NessusClientData_v2/Report/ReportHost/ReportItem/a/a/a/a/...>',
    );
    const wide = await parseError(
      parseNessus(chunked(nessus(`<a ${Array.from({ length: 1001 }, (_, i) => `x${i}=""`).join(' ')}/>`), 4096), '/scans/wide.nessus'),
    );
    expect(wide.message).toBe(
      'scanner-files: /scans/wide.nessus: a start tag in <NessusClientData_v2/Report/ReportHost/ReportItem> has more than 1000 attributes',
    );
  });

  it("errors cut the file's text short: an element name, a saxes message, a severity word", async () => {
    const root = await parseError(parseNessus(chunked(`<${'r'.repeat(300)}/>`, 64), '/scans/root.nessus'));
    expect(root.message).toBe(`scanner-files: /scans/root.nessus: the root element is <${'r'.repeat(60)}…>, not <NessusClientData_v2>`);
    const name = 'a'.repeat(300);
    const saxes = await parseError(parseNessus(chunked(`<NessusClientData_v2 ${name}="1" ${name}="2"/>`, 64), '/scans/twice.nessus'));
    expect(saxes.message).toMatch(/^scanner-files: \/scans\/twice\.nessus: XML is not well-formed at 1:\d+: duplicate attribute: a+…$/);
    expect(saxes.message.length).toBeLessThan(320);
    const grype = JSON.stringify({
      matches: [{ vulnerability: { id: 'CVE-1', severity: 's'.repeat(5000) }, artifact: { name: 'a', version: '1' } }],
      source: { type: 'image', target: 'x' },
    });
    const severity = await parseError(readScanJson('grype', (plan) => streamJson(chunked(grype, 512), '/scans/word.json', plan), '/scans/word.json'));
    expect(severity.message).toContain(`unknown severity "${'s'.repeat(60)}…" (expected`);
    expect(severity.message.length).toBeLessThan(400);
  });

  it('XML: a DTD is refused as soon as it begins, before the rest of it is read', async () => {
    let pulled = 0;
    async function* hugeDtd() {
      yield new TextEncoder().encode('<?xml version="1.0"?>\n<!DOCTYPE NessusClientData_v2 [\n<!ENTITY filler "');
      const filler = new Uint8Array(256 * 1024).fill(0x78);
      for (let i = 0; i < 256; i++) {
        pulled += 1;
        yield filler;
      }
      yield new TextEncoder().encode('">]><NessusClientData_v2/>');
    }
    const error = await parseError(parseNessus(hugeDtd(), '/scans/dtd.nessus'));
    expect(error.message).toBe('scanner-files: /scans/dtd.nessus: DTDs are refused (possible XXE or entity expansion)');
    expect(pulled).toBeLessThanOrEqual(1);
  });
});
