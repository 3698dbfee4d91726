import { afterAll, vi } from 'vitest';

// `npm run test:unit` runs the unit files of a worker in one process, one after another (--no-isolate: a third less
// CPU than a process per file). What a file changed through vitest's fakes is undone before the next file starts.
afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});
