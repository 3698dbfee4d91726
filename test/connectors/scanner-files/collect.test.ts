import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError, NotFoundError, PermissionError, UnavailableError } from '../../../connectors/errors.ts';
import { fileFailure } from '../../../connectors/scanner-files/files.ts';
import { sameContent } from '../../../connectors/scanner-files/input.ts';
import { ResumeCursorWriter, scannerFiles, ScannerFilesConfig, type FileRead } from '../../../connectors/scanner-files/index.ts';
import { collect, collectUntilError, fixture, pathsOfCursors } from './helpers.ts';

const SCANS = [
  'grype-busybox-1.32.1-epss.json',
  'grype-cxf-3.4.6.sarif',
  'grype-fix-available.json',
  'nessus-ruby-nessus-example-v2.nessus',
  'openvas-gmp22-report-detail-v2.xml',
  'openvas-many-vuln.xml',
  'openvas-one-vuln.xml',
  'semgrep-juice-shop.sarif',
  'trivy-alpine-310.json',
  'trivy-alpine-310.sarif',
];

/** Findings each file yields, from SOURCES.md. */
const FINDINGS: Record<string, number> = {
  'grype-busybox-1.32.1-epss.json': 15,
  'grype-cxf-3.4.6.sarif': 22,
  'grype-fix-available.json': 1,
  'nessus-ruby-nessus-example-v2.nessus': 69,
  'openvas-gmp22-report-detail-v2.xml': 1,
  'openvas-many-vuln.xml': 44,
  'openvas-one-vuln.xml': 1,
  'semgrep-juice-shop.sarif': 77,
  'trivy-alpine-310.json': 4,
  'trivy-alpine-310.sarif': 4,
};

let workspace: string;

const CURSOR_WITH_A_BAD_ENTRY = await (async () => {
  const writer = new ResumeCursorWriter();
  try {
    return await writer.add({ path: '/x' } as FileRead);
  } finally {
    writer.close();
  }
})();

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'scanner-files-'));
  // Extensions say nothing: the format comes from the content.
  await mkdir(join(workspace, 'renamed'));
  await copyFile(fixture('nessus-ruby-nessus-example-v2.nessus'), join(workspace, 'renamed', 'a.json'));
  await copyFile(fixture('trivy-alpine-310.json'), join(workspace, 'renamed', 'b.xml'));
  await copyFile(fixture('openvas-one-vuln.xml'), join(workspace, 'renamed', 'c'));
  await mkdir(join(workspace, 'renamed', 'nested'));
  await copyFile(fixture('grype-fix-available.json'), join(workspace, 'renamed', 'nested', 'd.sarif'));
  await copyFile(fixture('grype-cxf-3.4.6.sarif'), join(workspace, 'renamed', 'nested', 'e.sarif'));
  await symlink('nested/e.sarif', join(workspace, 'renamed', 'e-link'));
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('scanner-files connector', () => {
  it('reads every fixture in sorted order, with one heartbeat per file whose cursor lists the files read', async () => {
    const paths = ['trivy-*', 'semgrep-*', 'openvas-*', 'nessus-*', 'grype-*'];
    const { records, heartbeats, provenance } = await collect({ paths });
    const origins = [...new Set(records.map((r) => (r.kind === 'scan' ? r.origin : undefined)).filter((origin) => origin !== undefined))];
    expect(origins).toEqual(SCANS.map(fixture));
    expect(pathsOfCursors(heartbeats)).toEqual(SCANS.map((_, index) => SCANS.slice(0, index + 1).map(fixture)));
    for (const name of SCANS) {
      const scans = records.filter((r) => r.kind === 'scan' && r.origin === fixture(name));
      expect(
        scans.reduce((sum, scan) => sum + (scan.kind === 'scan' ? scan.findingCount : 0), 0),
        name,
      ).toBe(FINDINGS[name]);
    }
    expect(records.filter((r) => r.kind === 'finding')).toHaveLength(Object.values(FINDINGS).reduce((a, b) => a + b, 0));
    expect(provenance).toMatchObject({ paths, format: 'auto', filesMatched: 10 });
  }, 30_000);

  it('keeps provenance of each file read: format, size, mtime, sha256 of the bytes and record count', async () => {
    const { provenance } = await collect({ paths: ['trivy-alpine-310.json', 'nessus-ruby-nessus-example-v2.nessus', 'grype-cxf-3.4.6.sarif'] });
    const expected = await Promise.all(
      [
        ['grype-cxf-3.4.6.sarif', 'sarif', 23],
        ['nessus-ruby-nessus-example-v2.nessus', 'nessus', 71],
        ['trivy-alpine-310.json', 'trivy', 5],
      ].map(async ([name, format, records]) => {
        const bytes = await readFile(fixture(name as string));
        const modifiedAt = (await stat(fixture(name as string))).mtime.toISOString();
        return { path: fixture(name as string), format, size: bytes.length, modifiedAt, sha256: createHash('sha256').update(bytes).digest('hex'), records };
      }),
    );
    expect(provenance.filesRead).toEqual(expected);
  });

  it("tells formats from content, not names; reads a directory's files (not subdirectories) and follows symlinks within it", async () => {
    const { provenance, scans } = await collect({ paths: [join(workspace, 'renamed')] });
    expect(
      (provenance.filesRead as { path: string; format: string; realPath?: string }[]).map((read) => [
        read.path.slice(workspace.length),
        read.format,
        read.realPath,
      ]),
    ).toEqual([
      ['/renamed/a.json', 'nessus', undefined],
      ['/renamed/b.xml', 'trivy', undefined],
      ['/renamed/c', 'openvas', undefined],
      ['/renamed/e-link', 'sarif', join(workspace, 'renamed', 'nested', 'e.sarif')],
    ]);
    expect(scans.map((scan) => scan.asset)).toEqual([
      'snorby.org',
      'scanme.insecure.org',
      'testdata/fixtures/images/alpine-310.tar.gz',
      '10.0.101.2',
      'e-link',
    ]);
  });

  it('globs recursively relative to baseDir, and reads a file matched twice once', async () => {
    const { provenance } = await collect({ paths: ['renamed/**/*', 'renamed/b.xml'] }, { baseDir: workspace });
    expect((provenance.filesRead as { path: string }[]).map((read) => read.path.slice(workspace.length))).toEqual([
      '/renamed/a.json',
      '/renamed/b.xml',
      '/renamed/c',
      '/renamed/e-link',
      '/renamed/nested/d.sarif',
      '/renamed/nested/e.sarif',
    ]);
  });

  it('resumes after the files the cursor lists, skipping exactly those, and lists every file read in provenance', async () => {
    const paths = ['trivy-alpine-310.json', 'openvas-one-vuln.xml', 'grype-fix-available.json'];
    const whole = await collect({ paths });
    const { records, heartbeats, provenance } = await collect({ paths }, { resumeCursor: whole.heartbeats[1] });
    expect(records.map((r) => (r.kind === 'scan' ? r.origin : r.id))).toEqual([
      'CVE-2019-1549',
      'CVE-2019-1551',
      'CVE-2019-1549',
      'CVE-2019-1551',
      fixture('trivy-alpine-310.json'),
    ]);
    expect(pathsOfCursors(heartbeats)).toEqual([paths.map((path) => fixture(path)).sort()]);
    expect(provenance).toMatchObject({ filesMatched: 3, earlierAttempts: { filesRead: 2, changedSinceRead: [], goneSinceRead: [] } });
    expect(provenance.filesRead).toEqual(whole.provenance.filesRead);
    const done = await collect({ paths }, { resumeCursor: whole.heartbeats[2] });
    expect(done.records).toEqual([]);
    expect(done.heartbeats).toEqual([]);
  });

  it('stops sending a cursor that outgrew 256 KiB; a retry from the last one sent reads the rest once', async () => {
    const dir = join(workspace, 'many');
    await mkdir(dir);
    const names: string[] = [];
    // Random names keep the deflated cursor from shrinking them away: about 250 characters a file.
    for (let index = 0; index < 1_300; index++) {
      const name = `${String(index).padStart(4, '0')}-${randomBytes(100).toString('hex')}.json`;
      names.push(join(dir, name));
      await writeFile(join(dir, name), JSON.stringify({ SchemaVersion: 2, CreatedAt: '2026-11-20T00:00:00Z', ArtifactName: `asset-${index}`, Results: [] }));
    }
    const whole = await collect({ paths: [dir] });
    expect(whole.records).toHaveLength(1_300);
    expect(whole.heartbeats.length).toBeGreaterThan(500);
    expect(whole.heartbeats.length).toBeLessThan(1_300);
    expect(Math.max(...whole.heartbeats.map((cursor) => cursor!.length))).toBeLessThanOrEqual(256 * 1024);
    expect(whole.logLines.some((line) => line.includes('outgrew the resume cursor'))).toBe(true);
    const sent = whole.heartbeats.length;
    const resumed = await collect({ paths: [dir] }, { resumeCursor: whole.heartbeats.at(-1) });
    expect(resumed.scans.map((scan) => scan.asset)).toEqual(names.slice(sent).map((_, index) => `asset-${sent + index}`));
    expect((resumed.provenance.filesRead as { path: string }[]).map((read) => read.path)).toEqual(names);
  }, 120_000);

  it.each([
    ['2', 'scanner-files: resume cursor "2" is a file index from an earlier version, which cannot say which files were read; run the collection again'],
    ['page-2', 'scanner-files: resume cursor is not one this connector wrote (deflated NDJSON of the files read)'],
    [CURSOR_WITH_A_BAD_ENTRY, 'scanner-files: resume cursor is not a list of the files read: entry 1: field format: '],
  ])('refuses a cursor that does not list the files read (%s)', async (cursor, message) => {
    const { error } = await collectUntilError({ paths: ['trivy-alpine-310.json'] }, { resumeCursor: cursor });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message.startsWith(message)).toBe(true);
  });

  it('stops at a broken file with an error naming it, after yielding and heartbeating the files before it', async () => {
    const { records, heartbeats, error } = await collectUntilError({ paths: ['grype-fix-available.json', 'truncated.nessus', 'trivy-alpine-310.json'] });
    expect(error.message).toContain(fixture('truncated.nessus'));
    // Sorted: grype-fix-available.json, trivy-alpine-310.json, then truncated.nessus, which fails after its first item.
    expect(pathsOfCursors(heartbeats)).toEqual([
      [fixture('grype-fix-available.json')],
      [fixture('grype-fix-available.json'), fixture('trivy-alpine-310.json')],
    ]);
    expect(records.filter((r) => r.kind === 'scan').map((r) => r.asset)).toEqual(['REDACTED', 'testdata/fixtures/images/alpine-310.tar.gz']);
    expect(records.at(-1)).toMatchObject({ kind: 'finding', asset: '192.0.2.10', id: '42873', cvss: 7.5, scannedAt: '2024-06-19T10:03:35.000Z' });
  });

  it.each([
    [['missing.json'], NotFoundError, /^scanner-files: paths\[0\] "missing\.json": no such file or directory \(.*missing\.json\)$/],
    [['trivy-alpine-310.json', 'nothing-*.json'], NotFoundError, /^scanner-files: paths\[1\] "nothing-\*\.json": matched no files$/],
  ])('a configured path that names nothing is an evidence gap, not an empty result (%j)', async (paths, type, message) => {
    const { error } = await collectUntilError({ paths });
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
  });

  it('holds the file mtime as a stand-in when the file states no scan time, flags the time unknown, and says so', async () => {
    const copy = join(workspace, 'dated.sarif');
    await copyFile(fixture('trivy-alpine-310.sarif'), copy);
    await utimes(copy, new Date('2024-02-29T12:00:00Z'), new Date('2024-02-29T12:00:00Z'));
    const { records, warnings } = await collect({ paths: [copy] });
    expect(new Set(records.map((r) => r.scannedAt))).toEqual(new Set(['2024-02-29T12:00:00.000Z']));
    expect(records.every((r) => (r.kind === 'finding' || r.kind === 'scan') && r.scanTimeUnknown === true)).toBe(true);
    expect(warnings).toEqual([
      `scanner-files: ${copy}: the file states no scan time (runs[0].invocations[].endTimeUtc, runs[0].invocations[].startTimeUtc); scannedAt is the file's modification time 2024-02-29T12:00:00.000Z, a stand-in: the scan time is unknown and does not count as a recent scan`,
    ]);
  });

  it('names every record after the configured asset', async () => {
    const { records } = await collect({ paths: ['semgrep-juice-shop.sarif', 'openvas-one-vuln.xml'], asset: 'juice-shop' });
    expect(new Set(records.map((r) => r.asset))).toEqual(new Set(['juice-shop']));
    expect(records.filter((r) => r.kind === 'scan').map((r) => [r.scanner, r.kind === 'scan' && r.findingCount])).toEqual([
      ['openvas', 1],
      ['semgrep', 77],
    ]);
  });

  it('reads every file as the forced format, and fails a file that is not that format, naming it', async () => {
    const forced = await collect({ paths: ['trivy-alpine-310.json'], format: 'trivy' });
    expect(forced.records).toHaveLength(5);
    const { error } = await collectUntilError({ paths: ['trivy-alpine-310.json'], format: 'grype' });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/trivy-alpine-310\.json: field matches: /);
    const xml = await collectUntilError({ paths: ['trivy-alpine-310.json'], format: 'openvas' });
    expect(xml.error.message).toMatch(/trivy-alpine-310\.json: XML is not well-formed at \d+:\d+: text data outside of root node/);
  });

  it.each([
    [{ paths: ['trivy-alpine-310.json'], maxJsonBytes: 20_000 }, /trivy-alpine-310\.json: 20632 bytes is more than maxJsonBytes \(20000\)/],
    [{ paths: ['openvas-one-vuln.xml'], maxXmlBytes: 5_000 }, /openvas-one-vuln\.xml: 5752 bytes is more than maxXmlBytes \(5000\)/],
  ])('refuses a file above the size limit before parsing it (%#)', async (config, message) => {
    const { error, records } = await collectUntilError(config);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(message);
    expect(records).toEqual([]);
  });

  it('names the file when JSON is broken or not UTF-8', async () => {
    const broken = join(workspace, 'broken.json');
    await writeFile(broken, '{"SchemaVersion": 2, "ArtifactName": ');
    const latin1 = join(workspace, 'latin1.json');
    await writeFile(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
    const brokenError = (await collectUntilError({ paths: [broken] })).error;
    const latin1Error = (await collectUntilError({ paths: [latin1] })).error;
    expect(brokenError).toBeInstanceOf(MalformedResponseError);
    expect(brokenError.message).toMatch(new RegExp(`^scanner-files: ${broken}: not valid JSON: `));
    expect(latin1Error.message).toBe(`scanner-files: ${latin1}: is not valid UTF-8`);
  });

  it('tells a JSON format from the whole file when its first 16 KiB do not, and reads it through', async () => {
    const log = JSON.parse(await readFile(fixture('semgrep-juice-shop.sarif'), 'utf8')) as Record<string, unknown>;
    delete log.$schema;
    // `runs` comes first and `version` only after it: nothing in the head says SARIF.
    const file = join(workspace, 'no-schema.sarif');
    await writeFile(file, JSON.stringify(log));
    const { findings, provenance } = await collect({ paths: [file] });
    expect(findings).toHaveLength(77);
    const bytes = await readFile(file);
    const modifiedAt = (await stat(file)).mtime.toISOString();
    expect(provenance.filesRead).toEqual([
      { path: file, format: 'sarif', size: bytes.length, modifiedAt, sha256: createHash('sha256').update(bytes).digest('hex'), records: 78 },
    ]);
  });

  it('never writes credentials from a scanned URL into records, provenance or warnings', async () => {
    const token = 'glpat-Sup3rSecretT0ken';
    const leaky = join(workspace, 'leaky.json');
    const report = JSON.parse(await readFile(fixture('trivy-alpine-310.json'), 'utf8')) as Record<string, unknown>;
    delete report.CreatedAt;
    report.ArtifactName = `https://ci-bot:${token}@gitlab.example.com/acme/app.git`;
    await writeFile(leaky, JSON.stringify(report));
    const { records, provenance, warnings, logLines } = await collect({ paths: [leaky] });
    expect(records.every((r) => r.asset === 'https://gitlab.example.com/acme/app.git')).toBe(true);
    for (const text of [JSON.stringify(records), JSON.stringify(provenance), JSON.stringify(warnings), logLines.join('\n')]) expect(text).not.toContain(token);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { error, records } = await collectUntilError({ paths: ['trivy-alpine-310.json'] }, { signal: controller.signal });
    expect(error.name).toBe('AbortError');
    expect(records).toEqual([]);
  });

  it('validates its config', () => {
    expect(ScannerFilesConfig.parse({ paths: ['scans/'] })).toEqual({
      paths: ['scans/'],
      allowOutside: [],
      format: 'auto',
      maxJsonBytes: 8 * 1024 ** 3,
      maxXmlBytes: 8 * 1024 ** 3,
      maxValueBytes: 16 * 1024 ** 2,
    });
    expect(ScannerFilesConfig.safeParse({ paths: [] }).success).toBe(false);
    expect(ScannerFilesConfig.safeParse({ paths: ['x'], format: 'csv' }).success).toBe(false);
    expect(ScannerFilesConfig.safeParse({ paths: ['x'], patterns: ['y'] }).success).toBe(false);
    expect(scannerFiles.kinds).toEqual(['finding', 'scan']);
  });
});

describe('sameContent', () => {
  it('is the content every complete read saw, and a retryable failure when two reads of a file differ', () => {
    expect(
      sameContent('/scans/a.json', [
        { bytes: 3, sha256: 'aa' },
        { bytes: 3, sha256: 'aa' },
      ]),
    ).toEqual({ bytes: 3, sha256: 'aa' });
    let failure: unknown;
    try {
      sameContent('/scans/a.json', [
        { bytes: 3, sha256: 'aa' },
        { bytes: 4, sha256: 'bb' },
      ]);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as UnavailableError).retryable).toBe(true);
    expect((failure as Error).message).toBe('scanner-files: /scans/a.json: changed while it was read (sha256 aa then bb); it is read again on retry');
  });
});

describe('fileFailure', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });
  it.each([
    ['EACCES', PermissionError, 'scanner-files: /scans/a.nessus: permission denied (EACCES); let the worker read it'],
    ['EPERM', PermissionError, 'scanner-files: /scans/a.nessus: permission denied (EPERM); let the worker read it'],
    ['ENOENT', UnavailableError, 'scanner-files: /scans/a.nessus: disappeared after it was listed; the retry lists the files again'],
    ['EIO', UnavailableError, 'scanner-files: /scans/a.nessus: could not be read (EIO: EIO: something)'],
  ])('%s becomes a typed error naming the file', (code, type, message) => {
    const failure = fileFailure(errno(code), '/scans/a.nessus');
    expect(failure).toBeInstanceOf(type);
    expect(failure.message).toBe(message);
  });

  it('passes typed errors through and names the file on others', () => {
    const typed = new MalformedResponseError('scanner-files: /x: bad');
    expect(fileFailure(typed, '/x')).toBe(typed);
    expect(fileFailure(new TypeError('boom'), '/scans/a.json').message).toBe('scanner-files: /scans/a.json: boom');
  });
});
