// @module-tag postgres
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresDatabase } from '../support/postgres.ts';
import { runIsms } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-catalog-cli-'));
const config = path.join(dir, 'isms.yaml');
writeFileSync(config, 'dataDir: data\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('isms with a PostgreSQL catalog', () => {
  it('runs on the database ISMS_CATALOG_URL names when the config names no catalog', async () => {
    const database = await postgresDatabase();
    try {
      const listed = await runIsms(['evidence', 'list', '--json', '--config', config], { env: { ISMS_CATALOG_URL: database.url } });
      expect(listed).toMatchObject({ code: 0, stdout: '[]\n' });
      const verified = await runIsms(['evidence', 'verify', '--config', config], { env: { ISMS_CATALOG_URL: database.url } });
      expect(verified.code).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it('refuses to start on an unreachable catalog, naming host and database but never the password, exit 3', async () => {
    const port = await closedPort();
    const result = await runIsms(['evidence', 'list', '--config', config], {
      env: { ISMS_CATALOG_URL: `postgres://isms:hunter2-secret@127.0.0.1:${port}/isms_catalog` },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`PostgreSQL database "isms_catalog" on 127.0.0.1:${port}`);
    expect(result.stderr).toContain('unreachable');
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
  });

  it('calls a catalog URL that does not parse a config error (exit 2), without echoing it', async () => {
    const result = await runIsms(['evidence', 'list', '--config', config], { env: { ISMS_CATALOG_URL: 'postgres://isms:hunter2-secret@[bad/x' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the catalog URL does not parse');
    expect(result.stderr).not.toContain('hunter2-secret');
  });
});
