import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

/**
 * The layers, lowest first: a folder imports only from itself and the folders it stands `on`. core/ is the ground
 * floor, the vocabulary every layer shares; worker/ is the top; tests and benchmarks stand outside the house. The one
 * arrow up: workflows import the types of activities (`import type { Activities }`) to proxy them.
 */
const LAYERS = {
  core: { on: [], why: 'core/ is the ground floor: it imports nothing of ours.' },
  connectors: { on: ['core'], why: 'Connectors stand on core/ only: they know nothing of checks, the store or config.' },
  checks: { on: ['core'], why: 'Checks are pure functions over records: they stand on core/ only.' },
  evidence: { on: ['core'], why: 'evidence/ stands on core/ only: the store knows nothing of connectors, checks or config.' },
  config: { on: ['core', 'connectors', 'checks'], why: 'config/ stands on core/, connectors/ and checks/ (whose options it validates), never on the store.' },
  activities: { on: ['core', 'connectors', 'checks', 'evidence', 'config'], why: 'Activities stand below workflows/ and worker/: they never import them.' },
  workflows: { on: ['core'], typesOf: ['activities'], why: 'Workflows only orchestrate: they import core/ and the types of activities, never their code.' },
  worker: {
    on: ['core', 'connectors', 'checks', 'evidence', 'config', 'activities', 'workflows'],
    why: 'worker/ is the top of the house: tests and benchmarks stand outside it.',
  },
};
const OURS = [...Object.keys(LAYERS), 'test', 'bench'];
/** Below activities nothing knows Temporal: activities wrap connectors, and the store and checks are plain code. */
const TEMPORAL_FREE = {
  core: 'core/ knows nothing of Temporal: workflows bundle it.',
  connectors: 'Connectors know nothing of Temporal; activities wrap them.',
  checks: 'Checks know nothing of Temporal: they are pure functions over records.',
  evidence: 'evidence/ knows nothing of Temporal; activities call the store.',
  config: 'config/ knows nothing of Temporal; the worker turns config into schedules.',
};

/** The catalog's drivers: only evidence/ speaks SQL, everyone else goes through the store and its catalog interface. */
const DATABASE_DRIVERS = ['pg', 'pg-*', 'node:sqlite'];
const SQL_ONLY_IN_EVIDENCE = 'Only evidence/ speaks SQL: go through the store, the register and the catalog interface.';

function importRule(folder, { paths = [], patterns = [] } = {}) {
  const { on, typesOf = [], why } = LAYERS[folder];
  const forbidden = OURS.filter((other) => other !== folder && !on.includes(other));
  const temporal = TEMPORAL_FREE[folder] ? [{ group: ['@temporalio/*'], message: TEMPORAL_FREE[folder] }] : [];
  const database = folder === 'evidence' ? [] : [{ group: DATABASE_DRIVERS, message: SQL_ONLY_IN_EVIDENCE }];
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths,
          patterns: [
            ...forbidden.map((other) => ({ group: [`**/${other}/**`], allowTypeImports: typesOf.includes(other), message: why })),
            ...temporal,
            ...database,
            ...patterns,
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.isms/**', 'dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  importRule('core'),
  importRule('connectors'),
  // Checks are pure: evidence in, deviations out.
  importRule('checks', { paths: nodeBuiltins.map((name) => ({ name, message: 'Checks are pure functions over records: no I/O.' })) }),
  importRule('evidence'),
  importRule('config'),
  importRule('activities'),
  // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node APIs, no activity code.
  importRule('workflows', {
    paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins; do I/O in an activity.' })),
    patterns: [
      { group: ['pino', '@aws-sdk/*', '@googleapis/*', '@microsoft/*'], message: 'Workflows only orchestrate: SDKs and loggers belong in activities.' },
    ],
  }),
  importRule('worker'),
);
