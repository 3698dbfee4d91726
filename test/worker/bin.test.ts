import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin/isms.js');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Nodes that cannot run the CLI's TypeScript: ours with type stripping off, and the machine's own (Node 20 here). */
const oldNodes = (): { name: string; node: string[] }[] => [
  { name: 'Node 24 with type stripping off', node: [process.execPath, '--no-experimental-strip-types'] },
  ...systemNodes.map((node) => ({ name: `the machine's ${node}`, node: [node] })),
];

/** The machine's own Nodes on PATH, outside node_modules (this project's machines have Node 20 there). */
const systemNodes = [
  ...new Set(
    spawnSync('sh', ['-c', 'which -a node'], {
      encoding: 'utf8',
      env: {
        PATH: (process.env.PATH ?? '')
          .split(path.delimiter)
          .filter((dir) => !dir.includes('node_modules'))
          .join(path.delimiter),
      },
    })
      .stdout.split('\n')
      .filter(Boolean)
      .map((file) => realpathSync(file)),
  ),
].filter((file) => file !== realpathSync(process.execPath));

async function run(command: string[], args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command[0]!, [...command.slice(1), ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A copy of the launcher in a fresh folder with no node_modules: as after a clone, before `npm ci`. */
function launcherWithoutPinnedNode(cli?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bin-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(bin, path.join(dir, 'bin/isms.js'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  if (cli !== undefined) {
    mkdirSync(path.join(dir, 'worker'));
    writeFileSync(path.join(dir, 'worker/cli.ts'), cli);
  }
  return path.join(dir, 'bin/isms.js');
}

describe('the isms bin', () => {
  it('is the launcher in package.json', () => {
    expect((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: unknown }).bin).toEqual({ isms: './bin/isms.js' });
  });

  it.each(oldNodes())('run by $name, runs the CLI on the Node 24 that npm ci installed', async ({ node }) => {
    const result = await run([...node, bin], ['config', 'check']);
    expect(result.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/isms\.example\.yaml: ok \(\d+ controls/) });
  });

  it.each(oldNodes())('run by $name before npm ci, says in one line that it needs Node 24 and how to get it (exit 3)', async ({ node }) => {
    const launcher = launcherWithoutPinnedNode();
    const result = await run([...node, launcher], ['config', 'check']);
    const probe = await run([...node, '-p', 'process.versions.node'], []);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `isms needs Node.js 24 and this is Node ${probe.stdout.trim()}: run \`npm ci\` in ${path.dirname(path.dirname(launcher))}${path.sep} (it installs Node 24 there), then \`npm run isms -- <command>\` or this command again\n`,
    );
  });

  it("on a Node that runs TypeScript, passes the arguments and exit code through and starts the CLI with the worker's Node flags", async () => {
    const launcher = launcherWithoutPinnedNode(
      'process.stdout.write(JSON.stringify({ execArgv: process.execArgv, args: process.argv.slice(2), compileCache: process.env.NODE_COMPILE_CACHE }));\nprocess.exitCode = 7;\n',
    );
    const result = await run([process.execPath, launcher], ['review', 'decide', 'a b', '--by', 'ada'], { NODE_COMPILE_CACHE: undefined });
    expect(result.code).toBe(7);
    expect(JSON.parse(result.stdout)).toEqual({
      execArgv: WORKER_NODE_FLAGS,
      args: ['review', 'decide', 'a b', '--by', 'ada'],
      compileCache: path.join(tmpdir(), 'node-compile-cache'),
    });
    const chosen = await run([process.execPath, launcher], [], { NODE_COMPILE_CACHE: '/var/cache/isms' });
    expect(JSON.parse(chosen.stdout)).toMatchObject({ compileCache: '/var/cache/isms' });
  });

  it("passes a supervisor's SIGTERM on to the CLI, which shuts down as it does when run directly", async () => {
    const launcher = launcherWithoutPinnedNode(
      "process.on('SIGTERM', () => { process.stdout.write('stopping\\n'); process.exitCode = 0; clearInterval(alive); });\nconst alive = setInterval(() => {}, 1000);\nprocess.stdout.write('ready\\n');\n",
    );
    const child = spawn(process.execPath, [launcher], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('ready')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await ready;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toBe('ready\nstopping\n');
  });
});
