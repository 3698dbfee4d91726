import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Node's compile cache (V8 code for the modules Node loads itself) for every process the tests start: each test
// file's fork and each `isms` the CLI tests run loads hundreds of modules, and with the cache a second load costs
// about a third less CPU (measured: 0.81 -> 0.5 s per CLI start; npm run test:unit 80 -> 65 s of CPU).
process.env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL('node_modules/.cache/node-compile-cache', import.meta.url));

export default defineConfig({
  test: {
    // Temporal's native worker and node:sqlite are happiest in child processes, not worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A test that needs a program besides Node carries its tag; `npm run test:unit` leaves these out.
    tags: [
      { name: 'moto', description: "needs moto_server (pip install 'moto[server]')" },
      { name: 'chromium', description: 'needs headless Chromium (apt-get install chromium, or CHROMIUM_PATH)' },
      { name: 'postgres', description: 'needs the PostgreSQL server binaries (apt-get install postgresql, or PG_BIN)' },
    ],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/temporal/**'],
          setupFiles: ['test/support/unit-hygiene.ts'],
          globalSetup: ['test/support/postgres-global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          globalSetup: ['test/support/temporal-global-setup.ts', 'test/support/postgres-global-setup.ts'],
          // One dev server serves the whole run; files share it, so keep them from crowding two cores.
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
