import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.ts';
import { parseDockerfile } from '../support/dockerfile.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(`${root}/${file}`, 'utf8');

/** The words between `node` and the script in a command line. */
function flagsBefore(words: readonly string[], script: string): string[] {
  const node = words.indexOf('node');
  const at = words.indexOf(script);
  if (node < 0 || at < node) throw new Error(`no "node ... ${script}" in: ${words.join(' ')}`);
  return words.slice(node + 1, at);
}

describe('the worker process runs with WORKER_NODE_FLAGS wherever it is started', () => {
  it('npm scripts', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['isms', 'dev']) expect(flagsBefore(scripts[name]!.split(' '), 'worker/cli.ts'), name).toEqual(WORKER_NODE_FLAGS);
  });

  it('the isms shebang', () => {
    const shebang = read('worker/cli.ts').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node')).toBe(true);
    expect(shebang.split(' ').slice(3)).toEqual(WORKER_NODE_FLAGS);
  });

  it('the image entrypoint, and the compose workers that wrap it', () => {
    const entrypoint = parseDockerfile(read('Dockerfile'))
      .at(-1)!
      .instructions.findLast((instruction) => instruction.keyword === 'ENTRYPOINT')!.exec!;
    expect(flagsBefore(entrypoint, 'worker/cli.ts')).toEqual(WORKER_NODE_FLAGS);
    const compose = parse(read('docker-compose.yml')) as { services: { worker: { entrypoint: string[] } } };
    const script = compose.services.worker.entrypoint.find((word) => word.includes('worker/cli.ts'))!;
    expect(flagsBefore(script.split(' '), 'worker/cli.ts')).toEqual(WORKER_NODE_FLAGS);
  });

  it('Node accepts the flags, and the shebang starts the CLI with them', async () => {
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    const probe = await promisify(execFile)(process.execPath, [...WORKER_NODE_FLAGS, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))']);
    expect((JSON.parse(probe.stdout) as string[]).slice(0, WORKER_NODE_FLAGS.length)).toEqual(WORKER_NODE_FLAGS);
    const cli = await promisify(execFile)(`${root}/worker/cli.ts`, ['--help'], { env });
    expect(cli.stdout).toContain('Usage: isms');
  });
});
