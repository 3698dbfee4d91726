import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker and node:sqlite are happiest in child processes, not worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/temporal/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          globalSetup: ['test/support/temporal-global-setup.ts'],
          // One dev server serves the whole run; files share it, so keep them from crowding two cores.
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
