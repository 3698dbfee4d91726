import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('the lint rules that keep the rooms apart', () => {
  it('refuse Node built-ins and activity code in workflows, but allow activity types', async () => {
    const found = await problems(
      'workflows/bad.ts',
      [
        "import { readFile } from 'node:fs/promises';",
        "import { createActivities } from '../activities/index.ts';",
        "import type { Activities } from '../activities/index.ts';",
        'export const x: [typeof readFile, typeof createActivities, Activities | undefined] = [readFile, createActivities, undefined];',
      ].join('\n'),
    );
    expect(found.filter((message) => message.startsWith('no-restricted-imports'))).toHaveLength(2);
    expect(found.join('\n')).toMatch(/Workflows must not use Node built-ins/);
    expect(found.join('\n')).toMatch(/Workflows only orchestrate/);
  });

  it('refuse I/O in checks and Temporal in connectors', async () => {
    expect((await problems('checks/bad.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n")).join('\n')).toMatch(/Checks are pure/);
    expect((await problems('connectors/bad/index.ts', "import { Context } from '@temporalio/activity';\nexport const c = Context;\n")).join('\n')).toMatch(/Connectors know nothing of Temporal/);
  });

  it('accept the real workflow code', async () => {
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    expect(results.flatMap((result) => result.messages)).toEqual([]);
  });
});
