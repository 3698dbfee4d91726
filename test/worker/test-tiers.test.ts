import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const testFiles = (readdirSync(path.join(root, 'test'), { recursive: true }) as string[])
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => path.join('test', file));

/** The program a test needs besides Node, by the helper that starts it. */
const NEEDS = [
  { tag: 'moto', starts: /\bstartMoto\(/ },
  { tag: 'chromium', starts: /\bheadlessChromium\(/ },
  { tag: 'postgres', starts: /\bpostgresDatabase\(|\b(testStore|testCatalog)\('postgres'\)/ },
];

/**
 * Whether a helper beside the test (a setup.ts of its folder, not test/support/) starts the program for it: the
 * file then needs the tag on the file as a whole.
 */
function startsThroughLocalHelper(file: string, text: string, starts: RegExp): boolean {
  return [...text.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)]
    .map((match) => path.join(path.dirname(file), match[1]!))
    .filter((imported) => imported.startsWith(`test${path.sep}`) && !imported.startsWith(path.join('test', 'support')) && existsSync(path.join(root, imported)))
    .some((imported) => starts.test(readFileSync(path.join(root, imported), 'utf8')));
}

/** The lines declaring the top-level describe and the test that `index` falls in. */
function enclosingDeclarations(text: string, index: number): string[] {
  const lines = text.slice(0, index).split('\n');
  const last = (pattern: RegExp) => lines.findLast((line) => pattern.test(line)) ?? '';
  return [last(/^describe(\.\w+)*\(/), last(/^\s*(it|test)(\.\w+)*\(/)];
}

describe('npm run test:unit', () => {
  it('runs the unit project without the tests tagged as needing moto, Chromium or PostgreSQL (and never the Temporal project), the catalog suites on SQLite only', () => {
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['test:unit']).toBe(
      "ISMS_TEST_BACKENDS=sqlite vitest run --project unit --tags-filter='!moto && !chromium && !postgres' --maxWorkers=100% --no-isolate",
    );
    expect(scripts.test).toBe('vitest run');
    const projects = (config.test?.projects ?? []) as { test: { name: string; include: string[]; exclude?: string[]; setupFiles?: string[] } }[];
    const unit = projects.find((project) => project.test.name === 'unit')!;
    expect(unit.test.exclude).toContain('test/temporal/**');
    // Files share a process there: vitest's fakes are undone after each.
    expect(unit.test.setupFiles).toEqual(['test/support/unit-hygiene.ts']);
    expect((config.test?.tags ?? []).map((tag) => tag.name).sort()).toEqual(NEEDS.map((need) => need.tag).sort());
  });

  it.each(NEEDS)('a test file that starts $tag carries the tag on the file or on the describe around it', ({ tag, starts }) => {
    const untagged = testFiles
      .filter((file) => !file.startsWith(path.join('test', 'temporal')))
      .filter((file) => {
        const text = readFileSync(path.join(root, file), 'utf8');
        const at = text.search(starts);
        if (at < 0) return !startsThroughLocalHelper(file, text, starts) ? false : !new RegExp(`^// @module-tag ${tag}$`, 'm').test(text);
        if (new RegExp(`^// @module-tag ${tag}$`, 'm').test(text)) return false;
        const enclosing = enclosingDeclarations(text, at);
        return !enclosing.some((line) => line.includes(`tags: ['${tag}']`));
      });
    expect(untagged).toEqual([]);
  });
});
