// @module-tag postgres
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { collectEvidence, type CollectDeps } from '../../activities/collect.ts';
import { loadConfig } from '../../config/load.ts';
import type { CollectInput, EvidenceRef } from '../../core/contracts.ts';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { createLogger } from '../../worker/logger.ts';
import { postgresDatabase } from '../support/postgres.ts';
import { testRegistries } from '../support/test-connectors.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('collectEvidence when PostgreSQL goes away after the evidence row commits', () => {
  it('the retry returns the committed evidence and leaves nothing in staging: verify finds no orphaned staging file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-collect-lost-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'isms.yaml');
    writeFileSync(
      file,
      stringify({
        dataDir: 'data',
        controls: [
          {
            id: 'vuln',
            title: 'Technical vulnerabilities are remediated on time',
            reference: 'A.8.8',
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            sources: [{ name: 'scan', connector: 'paged-findings', config: { pages: 2, perPage: 3 } }],
            checks: [{ check: 'vulnerability-sla' }],
          },
        ],
      }),
    );
    const config = await loadConfig(file, testRegistries);
    const database = await postgresDatabase();
    cleanups.push(() => database.drop());
    const catalog = await new PostgresCatalog(database.url).open();
    const store = await EvidenceStore.open(config.dataDir, { catalog });
    cleanups.push(() => store.close());
    // The server ends the session as the writer clears the journal's waiting list, the step after the row commits.
    await catalog.run(
      `CREATE FUNCTION cut_session() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$`,
    );
    await catalog.run('CREATE TRIGGER cut_session BEFORE DELETE ON journal_waiting FOR EACH STATEMENT EXECUTE FUNCTION cut_session()');

    const deps: CollectDeps = { config, store, log: createLogger({ level: 'silent' }) };
    const input: CollectInput = {
      runId: 'control:vuln:2026-11-01T06:00:00.000Z',
      controlId: 'vuln',
      sourceName: 'scan',
      occurrence: '2026-11-01T06:00:00.000Z',
    };
    const retryPolicy = { maximumAttempts: 5 };
    const first = new MockActivityEnvironment({ attempt: 1, retryPolicy }).run(collectEvidence, deps, input);
    await expect(first).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(first).rejects.toMatchObject({ type: 'CatalogUnavailableError', nonRetryable: false });
    const committed = await store.findCommitted(input.runId, input.sourceName);
    expect(committed?.recordCount).toBe(1 + 2 * 3);

    await catalog.run('DROP TRIGGER cut_session ON journal_waiting');
    const ref = await new MockActivityEnvironment({ attempt: 2, retryPolicy }).run<[CollectDeps, CollectInput], EvidenceRef, typeof collectEvidence>(
      collectEvidence,
      deps,
      input,
    );
    expect(ref.id).toBe(committed!.id);
    expect(readdirSync(path.join(config.dataDir, 'evidence', 'staging'))).toEqual([]);
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(1);
  });
});
