import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/records.ts';
import { scannerSourceAttempts } from './attempts.ts';
import { pathsOfCursors } from './helpers.ts';

/** A Trivy report of one asset with the given vulnerabilities. */
function trivy(asset: string, ids: readonly string[]): string {
  return JSON.stringify({
    SchemaVersion: 2,
    CreatedAt: '2026-11-20T00:00:00Z',
    ArtifactName: asset,
    ArtifactType: 'container_image',
    Results: [
      {
        Target: `${asset} (debian 12.7)`,
        Class: 'os-pkgs',
        Type: 'debian',
        Vulnerabilities: ids.map((id) => ({
          VulnerabilityID: id,
          PkgName: 'openssl',
          InstalledVersion: '3.0.0',
          FixedVersion: '3.0.1',
          Status: 'fixed',
          Severity: 'HIGH',
        })),
      },
    ],
  });
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let attempts: Awaited<ReturnType<typeof scannerSourceAttempts>> | undefined;
afterEach(async () => {
  await attempts?.close();
  attempts = undefined;
});

/**
 * scans/ holds b, d, f and h. The first attempt reads b and d; then f is taken away (a scanner rotating its output),
 * so opening it fails retryably after the checkpoint that lists b and d. What happens to the folder before the retry
 * is each test's.
 */
async function firstAttemptStopsAtF() {
  attempts = await scannerSourceAttempts({ paths: ['scans/'] });
  const scans = join(attempts.dir, 'scans');
  mkdirSync(scans);
  const file = (name: string) => join(scans, `${name}.json`);
  for (const name of ['b', 'd', 'f', 'h']) writeFileSync(file(name), trivy(name, [`CVE-2026-${name}1`, `CVE-2026-${name}2`]));
  const original = { b: sha256(file('b')), d: sha256(file('d')) };
  const first = await attempts.attempt((_cursor, index) => {
    if (index === 1) renameSync(file('f'), join(attempts!.dir, 'f.aside'));
  });
  expect(first.error).toMatchObject({
    type: 'UnavailableError',
    nonRetryable: false,
    message: `scanner-files: ${file('f')}: disappeared after it was listed; the retry lists the files again`,
  });
  expect(pathsOfCursors(first.cursors)).toEqual([[file('b')], [file('b'), file('d')]]);
  renameSync(join(attempts.dir, 'f.aside'), file('f'));
  return { attempts, file, original };
}

async function findingsByAsset(ref: Parameters<NonNullable<typeof attempts>['records']>[0]): Promise<Record<string, string[]>> {
  const byAsset: Record<string, string[]> = {};
  for (const record of await attempts!.records(ref)) {
    if (record.kind !== 'finding') continue;
    (byAsset[record.asset] ??= []).push((record as Finding).id);
  }
  return byAsset;
}

describe('scanner-files resumes by file identity, not list position (through collectEvidence and the evidence store)', () => {
  it('a file added before the retry, sorting before those read, is read once and moves no other file', async () => {
    const { file } = await firstAttemptStopsAtF();
    writeFileSync(file('a'), trivy('a', ['CVE-2026-a1']));

    const second = await attempts!.attempt();
    expect(second.error).toBeUndefined();
    expect(await findingsByAsset(second.ref!)).toEqual({
      b: ['CVE-2026-b1', 'CVE-2026-b2'],
      d: ['CVE-2026-d1', 'CVE-2026-d2'],
      a: ['CVE-2026-a1'],
      f: ['CVE-2026-f1', 'CVE-2026-f2'],
      h: ['CVE-2026-h1', 'CVE-2026-h2'],
    });
    const row = await attempts!.row(second.ref!);
    expect((row.provenance.filesRead as { path: string }[]).map((read) => read.path)).toEqual(['b', 'd', 'a', 'f', 'h'].map(file));
    expect(row.provenance).toMatchObject({ earlierAttempts: { filesRead: 2, changedSinceRead: [], goneSinceRead: [] }, filesMatched: 5, attempt: 2 });
    expect(row.warnings).toEqual([]);
  });

  it('a file removed before the retry keeps the records read from it, and the file after it in the list is not skipped', async () => {
    const { file, original } = await firstAttemptStopsAtF();
    rmSync(file('b'));

    const second = await attempts!.attempt();
    expect(second.error).toBeUndefined();
    expect(Object.keys(await findingsByAsset(second.ref!))).toEqual(['b', 'd', 'f', 'h']);
    const row = await attempts!.row(second.ref!);
    const filesRead = row.provenance.filesRead as { path: string; sha256: string }[];
    expect(filesRead.map((read) => read.path)).toEqual(['b', 'd', 'f', 'h'].map(file));
    expect(filesRead[0]!.sha256).toBe(original.b);
    expect(row.provenance).toMatchObject({ earlierAttempts: { filesRead: 2, changedSinceRead: [], goneSinceRead: [file('b')] }, filesMatched: 3 });
    expect(row.warnings).toEqual([
      `scanner-files: ${file('b')}: gone since an earlier attempt of this collection read it; the evidence keeps the records of the version read (sha256 ${original.b})`,
    ]);
  });

  it('a file modified after it was read keeps the version read (not read twice, not mixed); one modified before it was read is read at its new version', async () => {
    const { file, original } = await firstAttemptStopsAtF();
    const before = statSync(file('b'));
    writeFileSync(file('b'), trivy('b', ['CVE-2026-b1', 'CVE-2026-b2', 'CVE-2026-b3']));
    writeFileSync(file('h'), trivy('h', ['CVE-2026-h3']));
    const after = statSync(file('b'));

    const second = await attempts!.attempt();
    expect(second.error).toBeUndefined();
    expect(await findingsByAsset(second.ref!)).toEqual({
      b: ['CVE-2026-b1', 'CVE-2026-b2'],
      d: ['CVE-2026-d1', 'CVE-2026-d2'],
      f: ['CVE-2026-f1', 'CVE-2026-f2'],
      h: ['CVE-2026-h3'],
    });
    const row = await attempts!.row(second.ref!);
    const filesRead = row.provenance.filesRead as { path: string; sha256: string; size: number; modifiedAt: string }[];
    expect(filesRead.map((read) => [read.path, read.sha256])).toEqual([
      [file('b'), original.b],
      [file('d'), original.d],
      [file('f'), sha256(file('f'))],
      [file('h'), sha256(file('h'))],
    ]);
    expect(filesRead[0]).toMatchObject({ size: before.size, modifiedAt: before.mtime.toISOString() });
    expect(row.provenance).toMatchObject({ earlierAttempts: { filesRead: 2, changedSinceRead: [file('b')], goneSinceRead: [] } });
    expect(row.warnings).toEqual([
      `scanner-files: ${file('b')}: changed since an earlier attempt of this collection read it (size ${before.size} then ${after.size}, modified ${before.mtime.toISOString()} then ${after.mtime.toISOString()}); ` +
        `the evidence keeps the records of the version read (sha256 ${original.b}), and the next collection reads the new one`,
    ]);
  });
});
