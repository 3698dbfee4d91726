import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}
const importProblems = async (file: string, code: string) => (await problems(file, code)).filter((message) => message.startsWith('no-restricted-imports'));

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
    expect((await problems('checks/bad.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n")).join('\n')).toMatch(
      /Checks are pure/,
    );
    expect((await problems('connectors/bad/index.ts', "import { Context } from '@temporalio/activity';\nexport const c = Context;\n")).join('\n')).toMatch(
      /Connectors know nothing of Temporal/,
    );
  });

  // One row per folder and wrong-way arrow: the file the snippet stands in, what it imports, and what lint says.
  // Type-only imports are refused as well: a type that two layers share belongs on the floor below both.
  it.each([
    ['core/bad.ts', "import type { Check } from '../checks/contract.ts';", /core\/ is the ground floor/],
    ['core/bad.ts', "import { EvidenceStore } from '../evidence/store.ts';", /core\/ is the ground floor/],
    ['core/bad.ts', "import type { LoadedConfig } from '../config/load.ts';", /core\/ is the ground floor/],
    ['core/bad.ts', "import type { ControlRunInput } from '../workflows/control-run.ts';", /core\/ is the ground floor/],
    ['core/bad.ts', "import { defineUpdate } from '@temporalio/workflow';", /core\/ knows nothing of Temporal/],
    ['connectors/bad/index.ts', "import type { IsmsConfig } from '../../config/schema.ts';", /Connectors stand on core\/ only/],
    ['connectors/bad/index.ts', "import type { EvidenceStore } from '../../evidence/store.ts';", /Connectors stand on core\/ only/],
    ['connectors/bad/index.ts', "import { defineCheck } from '../../checks/contract.ts';", /Connectors stand on core\/ only/],
    ['checks/bad.ts', "import type { EvidenceStore } from '../evidence/store.ts';", /Checks are pure functions over records: they stand on core\/ only/],
    ['checks/bad.ts', "import type { AnyConnector } from '../connectors/contract.ts';", /Checks are pure functions over records: they stand on core\/ only/],
    ['checks/bad.ts', "import { Duration } from '../config/schedule.ts';", /Checks are pure functions over records: they stand on core\/ only/],
    ['evidence/bad.ts', "import { defineCheck } from '../checks/contract.ts';", /evidence\/ stands on core\/ only/],
    ['evidence/bad.ts', "import type { LoadedConfig } from '../config/load.ts';", /evidence\/ stands on core\/ only/],
    ['evidence/bad.ts', "import { ConnectorError } from '../connectors/errors.ts';", /evidence\/ stands on core\/ only/],
    ['evidence/bad.ts', "import type { Activities } from '../activities/index.ts';", /evidence\/ stands on core\/ only/],
    ['evidence/bad.ts', "import { defineUpdate } from '@temporalio/workflow';", /evidence\/ knows nothing of Temporal/],
    ['config/bad.ts', "import type { EvidenceStore } from '../evidence/store.ts';", /config\/ stands on core\/, connectors\/ and checks\//],
    ['config/bad.ts', "import { defaultRegistries } from '../worker/runtime.ts';", /config\/ stands on core\/, connectors\/ and checks\//],
    ['config/bad.ts', "import type { ControlRunInput } from '../workflows/control-run.ts';", /config\/ stands on core\/, connectors\/ and checks\//],
    ['config/bad.ts', "import { ScheduleOverlapPolicy } from '@temporalio/client';", /config\/ knows nothing of Temporal/],
    ['activities/bad.ts', "import { decideUpdate } from '../workflows/access-review.ts';", /Activities stand below workflows\/ and worker\//],
    ['activities/bad.ts', "import type { Runtime } from '../worker/runtime.ts';", /Activities stand below workflows\/ and worker\//],
    ['workflows/bad.ts', "import type { EvidenceStore } from '../evidence/store.ts';", /Workflows only orchestrate/],
    ['workflows/bad.ts', "import type { Schedule } from '../config/schedule.ts';", /Workflows only orchestrate/],
    ['workflows/bad.ts', "import type { Runtime } from '../worker/runtime.ts';", /Workflows only orchestrate/],
    ['worker/bad.ts', "import { fakeOkta } from '../test/support/okta.ts';", /worker\/ is the top of the house/],
    ['worker/bad.ts', "import pg from 'pg';", /Only evidence\/ speaks SQL/],
    ['activities/bad.ts', "import { DatabaseSync } from 'node:sqlite';", /Only evidence\/ speaks SQL/],
    ['config/bad.ts', "import type { Pool } from 'pg';", /Only evidence\/ speaks SQL/],
  ])('%s: refuse %s', async (file, line, message) => {
    const found = await importProblems(file, `${line}\nexport type Used = unknown;\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['connectors/good/index.ts', "import type { Identity } from '../../core/records.ts';"],
    ['checks/good.ts', "import type { Deviation } from '../core/check-results.ts';"],
    ['evidence/good.ts', "import type { EvidenceRef } from '../core/contracts.ts';"],
    ['config/good.ts', "import { defaultConnectors } from '../connectors/index.ts';"],
    ['config/good.ts', "import { DEFAULT_JOIN } from '../checks/join.ts';"],
    ['activities/good.ts', "import { EvidenceStore } from '../evidence/store.ts';"],
    ['activities/good.ts', "import { Context } from '@temporalio/activity';"],
    ['workflows/good.ts', "import type { Activities } from '../activities/index.ts';"],
    ['workflows/good.ts', "import { NON_RETRYABLE_ERROR_TYPES } from '../core/contracts.ts';"],
    ['worker/good.ts', "import { controlRun } from '../workflows/control-run.ts';"],
  ])('%s: accept %s', async (file, line) => {
    expect(await importProblems(file, `${line}\nexport type Used = unknown;\n`)).toEqual([]);
  });

  it('accept the real workflow code', async () => {
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    expect(results.flatMap((result) => result.messages)).toEqual([]);
  });
});

/** The import circles among the files under `folders`, each as the chain of files that leads back to its start. */
async function circles(folders: string[], baseDir = process.cwd()): Promise<{ circles: string[]; unresolved: string[] }> {
  const { output } = await cruise(
    folders,
    {
      baseDir,
      validate: true,
      tsPreCompilationDeps: true,
      includeOnly: `^(${folders.join('|')})/`,
      ruleSet: { forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }] },
    },
    { extensions: ['.ts'] },
  );
  const result = output as ICruiseResult;
  return {
    circles: result.summary.violations.map((violation) => [violation.from, ...(violation.cycle ?? []).map((step) => step.name)].join(' > ')),
    unresolved: result.modules.flatMap((module) =>
      module.dependencies
        .filter((dependency) => dependency.couldNotResolve && dependency.module.startsWith('.'))
        .map((dependency) => `${module.source} -> ${dependency.module}`),
    ),
  };
}

describe('import circles', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'isms-circles-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('are found, type-only imports included', async () => {
    mkdirSync(path.join(scratch, 'loop'));
    writeFileSync(path.join(scratch, 'loop/a.ts'), "import type { B } from './b.ts';\nexport type A = { b?: B };\n");
    writeFileSync(path.join(scratch, 'loop/b.ts'), "import { c } from './c.ts';\nexport type B = { c: typeof c };\n");
    writeFileSync(path.join(scratch, 'loop/c.ts'), "import type { A } from './a.ts';\nexport const c: A | undefined = undefined;\n");
    const found = await circles(['loop'], scratch);
    expect(found.unresolved).toEqual([]);
    expect(found.circles.length).toBeGreaterThan(0);
    expect(new Set(found.circles[0]!.split(' > '))).toEqual(new Set(['loop/a.ts', 'loop/b.ts', 'loop/c.ts']));
  });

  it('none among the files of our folders', async () => {
    const found = await circles(['core', 'config', 'connectors', 'checks', 'evidence', 'activities', 'workflows', 'worker', 'test', 'bench']);
    expect(found.unresolved).toEqual([]);
    expect(found.circles).toEqual([]);
  });
});
