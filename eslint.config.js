import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

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
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node APIs, no activity code.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins; do I/O in an activity.' })),
          patterns: [
            { group: ['**/activities/**', '**/activities', '**/connectors/**', '**/evidence/**', '**/worker/**', 'pino', '@aws-sdk/*', '@googleapis/*', '@microsoft/*'], allowTypeImports: true, message: 'Workflows only orchestrate: import activity types, never their code.' },
          ],
        },
      ],
    },
  },
  {
    // Checks are pure: evidence in, deviations out.
    files: ['checks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Checks are pure functions over records: no I/O.' })),
          patterns: [{ group: ['**/connectors/**', '**/activities/**', '**/worker/**', '@temporalio/*'], allowTypeImports: true, message: 'Checks are pure functions over records.' }],
        },
      ],
    },
  },
  {
    // Connectors know nothing of Temporal.
    files: ['connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@temporalio/*'], message: 'Connectors know nothing of Temporal; activities wrap them.' }] }],
    },
  },
);
