import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermissionError, UnavailableError } from '../../../connectors/errors.ts';
import { filesOfPath } from '../../../connectors/scanner-files/files.ts';
import { collect, collectUntilError, fixture } from './helpers.ts';

/** What a `{ file: }` secret holds: none of it may reach an error, a record, provenance or a log. */
const API_KEY = 'sk-live-4f9c2a7e1b8d3f6a0c5e9b2d7a1f';

let base: string;
let scans: string;
let secrets: string;
let runs: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'scanner-files-roots-'));
  scans = join(base, 'scans');
  secrets = join(base, 'secrets');
  runs = join(base, 'runs');
  for (const folder of [scans, secrets, runs, join(scans, 'sub')]) await mkdir(folder);
  await writeFile(join(secrets, 'api-key'), `${API_KEY}\n`);
  await copyFile(fixture('trivy-alpine-310.json'), join(scans, 'a-trivy.json'));
  await copyFile(fixture('grype-fix-available.json'), join(runs, 'run-42.json'));
  // Sorts after a-trivy.json: refusing it must come before a-trivy.json is read.
  await symlink(join(secrets, 'api-key'), join(scans, 'z-latest.json'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Everything the collection left behind that leaves the worker: error, records, provenance, warnings, log lines. */
function leaked(result: { error?: Error; records: unknown[]; provenance: unknown; warnings: string[]; logLines: string[] }): string {
  return [result.error?.message ?? '', JSON.stringify(result.records), JSON.stringify(result.provenance), ...result.warnings, ...result.logLines].join('\n');
}

describe('scanner-files reads only inside the folders its paths name', () => {
  it('refuses a symlink in the scan folder that leads outside it, before reading any file, naming the link, its target and the root', async () => {
    const result = await collectUntilError({ paths: [scans] });
    expect(result.error).toBeInstanceOf(PermissionError);
    expect(result.error.message).toBe(
      `scanner-files: paths[0] "${scans}": ${join(scans, 'z-latest.json')} resolves to ${join(secrets, 'api-key')}, outside the configured root ${scans} ` +
        '(no allowOutside folders are configured); refused, not read. If files there are meant to be read, add their folder to allowOutside',
    );
    expect(result.records).toEqual([]);
    expect(leaked(result)).not.toContain('sk-live');
  });

  it('refuses the link whichever way the path names it: the file itself, a glob; and a glob climbing out with .. after its literal folder', async () => {
    for (const paths of [[join(scans, 'z-latest.json')], ['scans/*.json'], ['scans/*/../../secrets/*']]) {
      const result = await collectUntilError({ paths }, { baseDir: base });
      expect(result.error, JSON.stringify(paths)).toBeInstanceOf(PermissionError);
      expect(result.error.message).toContain(`resolves to ${join(secrets, 'api-key')}, outside the configured root`);
      expect(leaked(result)).not.toContain('sk-live');
    }
  });

  it('reads a link into a folder allowOutside names, and says in provenance where it led', async () => {
    const dir = join(base, 'latest');
    await mkdir(dir);
    await symlink(join(runs, 'run-42.json'), join(dir, 'grype.json'));
    const { findings, provenance } = await collect({ paths: ['latest/'], allowOutside: ['runs'] }, { baseDir: base });
    expect(findings).toHaveLength(1);
    expect(provenance).toMatchObject({
      allowOutside: ['runs'],
      filesRead: [{ path: join(dir, 'grype.json'), realPath: join(runs, 'run-42.json'), format: 'grype' }],
    });
    // allowOutside opens that folder only.
    const refused = await collectUntilError({ paths: [scans], allowOutside: ['runs'] }, { baseDir: base });
    expect(refused.error.message).toContain(`outside the configured root ${scans} (nor in allowOutside (${runs}))`);
  });

  it('follows links in the configured path itself: the root is where it leads', async () => {
    await symlink(runs, join(base, 'current'));
    const { findings, provenance } = await collect({ paths: ['current'] }, { baseDir: base });
    expect(findings).toHaveLength(1);
    expect(provenance.filesRead).toEqual([expect.objectContaining({ path: join(base, 'current', 'run-42.json') })]);
  });

  it('refuses a file whose link was turned outside after it was listed: the check is repeated on the opened file', async () => {
    const dir = join(base, 'swapped');
    await mkdir(dir);
    await copyFile(fixture('trivy-alpine-310.json'), join(dir, 'report.json'));
    await symlink(join(dir, 'report.json'), join(dir, 'link.json'));
    const link = (await filesOfPath(dir, 0, base, []))!.find((file) => file.origin === join(dir, 'link.json'));
    await unlink(join(dir, 'link.json'));
    await symlink(join(secrets, 'api-key'), join(dir, 'link.json'));
    const error = await link!.facts().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    expect(error).toBeInstanceOf(PermissionError);
    expect(error!.message).toBe(
      `scanner-files: ${join(dir, 'link.json')}: ${join(dir, 'link.json')} resolves to ${join(secrets, 'api-key')}, outside the configured root ${dir} ` +
        '(no allowOutside folders are configured); refused, not read. If files there are meant to be read, add their folder to allowOutside',
    );
    await link!.close();
  });

  it('names the file actually opened when a link was turned to another file inside the root after listing', async () => {
    const dir = join(base, 'retargeted');
    await mkdir(dir);
    await copyFile(fixture('trivy-alpine-310.json'), join(dir, 'monday.json'));
    await copyFile(fixture('grype-fix-available.json'), join(dir, 'tuesday.json'));
    await symlink('monday.json', join(dir, 'latest'));
    const latest = (await filesOfPath(dir, 0, base, []))!.find((file) => file.origin === join(dir, 'latest'))!;
    expect(latest.identity().realPath).toBe(join(dir, 'monday.json'));
    await unlink(join(dir, 'latest'));
    await symlink('tuesday.json', join(dir, 'latest'));
    await latest.facts();
    await latest.close();
    expect(latest.identity().realPath).toBe(join(dir, 'tuesday.json'));
  });

  it('a FIFO put in place of a listed file fails retryably without blocking the read', async () => {
    const dir = join(base, 'fifo');
    await mkdir(dir);
    await copyFile(fixture('trivy-alpine-310.json'), join(dir, 'report.json'));
    const [listed] = (await filesOfPath(dir, 0, base, []))!;
    await unlink(join(dir, 'report.json'));
    execFileSync('mkfifo', [join(dir, 'report.json')]);
    const error = await listed!.facts().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error!.message).toBe(`scanner-files: ${join(dir, 'report.json')}: is no longer a regular file; it is listed again on retry`);
  });

  it('fails retryably when a file changes while it is read, rather than keep a hash of no one version', async () => {
    const dir = join(base, 'growing');
    await mkdir(dir);
    await copyFile(fixture('trivy-alpine-310.json'), join(dir, 'report.json'));
    const [file] = (await filesOfPath(dir, 0, base, []))!;
    await file!.facts();
    for await (const _chunk of file!.chunks(new AbortController().signal)) {
      // read through
    }
    await writeFile(join(dir, 'report.json'), '\n', { flag: 'a' });
    const error = await file!.settle().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    await file!.close();
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error!.message).toMatch(/report\.json: changed while it was read \(size 20632 then 20633\); it is read again on retry$/);
  });
});
