import { createReadStream, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { parseNessus, parseOpenVas } from '../../../connectors/scanner-files/index.ts';
import { collectUntilError, fixture, parseError } from './helpers.ts';

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
      new RegExp(`^scanner-files: ${fixture('truncated.nessus').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: XML ends inside <NessusClientData_v2/Report/ReportHost/ReportItem/plugin_output> at line \\d+: the file is truncated`),
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
