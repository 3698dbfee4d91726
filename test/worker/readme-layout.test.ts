import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The folders the README's layout block names, each at the start of a line ending in "/". */
function layoutFolders(): string[] {
  const section = readme.slice(readme.indexOf('\n## Layout\n'));
  const block = section.slice(section.indexOf('```') + 3, section.indexOf('```', section.indexOf('```') + 3));
  return [...block.matchAll(/^([a-z][\w-]*)\/\s/gm)].map((match) => match[1]!);
}

/** The top-level folders of the repository as git tracks them (a clean clone's tree). */
function trackedFolders(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' }).split('\n');
  return [...new Set(files.filter((file) => file.includes('/') && !file.startsWith('.')).map((file) => file.slice(0, file.indexOf('/'))))];
}

describe("the README's layout section", () => {
  it('names every top-level folder of the tree and no folder that is not there', () => {
    expect(layoutFolders().length).toBeGreaterThan(5);
    expect(new Set(layoutFolders())).toEqual(new Set(trackedFolders()));
  });
});
