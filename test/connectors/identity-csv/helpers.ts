import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { identityCsv } from '../../../connectors/identity-csv/index.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

/** A generic export with every column we map; each test row starts from DEFAULT_ROW and changes what it is about. */
export const COLUMNS = {
  id: 'id',
  username: 'user',
  email: 'email',
  displayName: 'name',
  status: 'status',
  privileged: 'admin',
  mfa: 'mfa',
  lastLogin: 'last login',
  created: 'created',
  groups: 'groups',
};

export const DEFAULT_ROW = {
  id: '1',
  user: 'ana',
  email: 'ana@example.com',
  name: 'Ana',
  status: 'active',
  admin: 'no',
  mfa: 'yes',
  'last login': '2026-11-20',
  created: '2026-01-05',
  groups: '',
};
type Cells = Partial<typeof DEFAULT_ROW>;

export const HEADER = Object.keys(DEFAULT_ROW).join(',');

/** One CSV line: DEFAULT_ROW with `cells` in place, each written exactly as given (quotes included). */
export function line(cells: Cells = {}): string {
  return (Object.keys(DEFAULT_ROW) as (keyof typeof DEFAULT_ROW)[]).map((column) => cells[column] ?? DEFAULT_ROW[column]).join(',');
}

export const rows = (...lines: string[]) => [HEADER, ...lines].join('\n') + '\n';

/** A temporary folder for the exports a test file writes; removed after the file's tests. */
export function exportFolder(): { dir(): string; write(content: string | Buffer): Promise<string> } {
  let dir = '';
  let written = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'identity-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    async write(content) {
      written += 1;
      const name = `users-${written}.csv`;
      await writeFile(join(dir, name), content);
      return name;
    },
  };
}

export async function pull(
  folder: ReturnType<typeof exportFolder>,
  content: string | Buffer,
  config: Record<string, unknown> = {},
  context = testContext({ baseDir: folder.dir() }),
) {
  const path = await folder.write(content);
  const parsed = identityCsv.config.parse({ path, system: 'legacy-crm', columns: COLUMNS, ...config });
  const records = await collectAll(identityCsv.collect(parsed, context.ctx));
  return { records, path, ...context };
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the pull to fail');
  return error;
}
