#!/usr/bin/env node
// The `isms` command, for whichever Node is on PATH. The CLI is TypeScript that Node runs by type stripping (Node 24,
// engines >= 22.18); an older Node fails on it with ERR_UNKNOWN_FILE_EXTENSION and no word of why. So this file is
// plain JavaScript that any Node reads: it runs worker/cli.ts on the Node 24 that `npm ci` installs (the `node` dev
// dependency), else on this Node when it runs TypeScript, and otherwise says in one line what to do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

// worker/node-flags.ts WORKER_NODE_FLAGS (this file cannot import TypeScript; test/worker/bin.test.ts holds them equal).
const WORKER_NODE_FLAGS = ['--max-semi-space-size=16'];
const EXIT_ERROR = 3;

const root = fileURLToPath(new URL('..', import.meta.url));
const pinnedNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
const cli = fileURLToPath(new URL('../worker/cli.ts', import.meta.url));

const [major, minor] = process.versions.node.split('.').map(Number);
const runsOurTypeScript = Boolean(process.features.typescript) && (major > 22 || (major === 22 && minor >= 18));
const node = existsSync(pinnedNode) ? pinnedNode : runsOurTypeScript ? process.execPath : undefined;

if (node === undefined) {
  process.stderr.write(
    `isms needs Node.js 24 and this is Node ${process.versions.node}: run \`npm ci\` in ${root} (it installs Node 24 there), then \`npm run isms -- <command>\` or this command again\n`,
  );
  process.exit(EXIT_ERROR);
}

// Node's compile cache (its default folder) unless the caller chose one: the CLI loads hundreds of modules, and from
// the second start on they load with about a third less CPU.
const env = { NODE_COMPILE_CACHE: path.join(tmpdir(), 'node-compile-cache'), ...process.env };
const child = spawn(node, [...WORKER_NODE_FLAGS, cli, ...process.argv.slice(2)], { stdio: 'inherit', env });
// Ctrl-C reaches the whole process group, the CLI included, so SIGINT is left to it (a second one would stop it
// mid-shutdown); a supervisor's SIGTERM or SIGHUP reaches only this process, so it is passed on.
const passOn = (signal) => child.kill(signal);
process.on('SIGINT', () => {});
process.on('SIGTERM', passOn);
process.on('SIGHUP', passOn);
child.on('error', (error) => {
  process.stderr.write(`isms: cannot start ${node}: ${error.message}\n`);
  process.exit(EXIT_ERROR);
});
child.on('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? EXIT_ERROR);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
