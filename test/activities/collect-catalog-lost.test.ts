// @module-tag postgres
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
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
import { postgresBinaries, startPostgresCluster } from '../support/postgres-cluster.ts';
import { testRegistries } from '../support/test-connectors.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A config of one control whose one source is the paged-findings test connector with `pages`, in a folder of its own. */
async function scanConfig(prefix: string, pages: Record<string, number>) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
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
          sources: [{ name: 'scan', connector: 'paged-findings', config: pages }],
          checks: [{ check: 'vulnerability-sla' }],
        },
      ],
    }),
  );
  return loadConfig(file, testRegistries);
}

describe('collectEvidence when PostgreSQL goes away after the evidence row commits', () => {
  it('an attempt stopped after its row committed: the retry returns the committed evidence, journals it and leaves nothing in staging', async () => {
    const config = await scanConfig('isms-collect-lost-', { pages: 2, perPage: 3 });
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

    const lines: string[] = [];
    const deps: CollectDeps = { config, store, log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) };
    const input: CollectInput = {
      runId: 'control:vuln:2026-11-01T06:00:00.000Z',
      controlId: 'vuln',
      sourceName: 'scan',
      occurrence: '2026-11-01T06:00:00.000Z',
    };
    const retryPolicy = { maximumAttempts: 5 };
    // The first attempt waits for the catalog; its worker stops (cancels it) while it waits, the row already committed.
    const firstAttempt = new MockActivityEnvironment({ attempt: 1, retryPolicy });
    const first = firstAttempt.run(collectEvidence, deps, input);
    const waiting = () => lines.some((line) => line.includes('the collected snapshot waits for it'));
    while (!waiting()) await new Promise((resolve) => setTimeout(resolve, 50));
    firstAttempt.cancel();
    await expect(first).rejects.toBeInstanceOf(CancelledFailure);
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

  it(
    'a finished snapshot waits, heartbeating, for a catalog that went away, and commits in the same attempt when it returns',
    { timeout: 90_000 },
    async () => {
      const config = await scanConfig('isms-collect-waits-', { pages: 3, perPage: 3, delayMs: 1500 });
      // A cluster of its own: it is stopped mid-collection and started again on the same port.
      const cluster = await startPostgresCluster(postgresBinaries()!);
      cleanups.push(() => cluster.stop());
      const catalog = await new PostgresCatalog(cluster.url).open();
      const store = await EvidenceStore.open(config.dataDir, { catalog });
      cleanups.push(() => store.close());
      const lines: string[] = [];
      const deps: CollectDeps = { config, store, log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) };
      const input: CollectInput = {
        runId: 'control:vuln:2026-11-02T06:00:00.000Z',
        controlId: 'vuln',
        sourceName: 'scan',
        occurrence: '2026-11-02T06:00:00.000Z',
      };

      const environment = new MockActivityEnvironment({ attempt: 1, retryPolicy: { maximumAttempts: 5 } });
      const heartbeatsAt: number[] = [];
      let down: Promise<void> | undefined;
      let downAt = 0;
      let upAt = 0;
      environment.on('heartbeat', () => {
        heartbeatsAt.push(Date.now());
        // After the first page: PostgreSQL is down before the pull ends (two more pages, 1.5 s each) and stays down 5 s.
        down ??= cluster.pause('fast').then(async () => {
          downAt = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 5000));
          await cluster.resume();
          upAt = Date.now();
        });
      });
      const ref = await environment.run<[CollectDeps, CollectInput], EvidenceRef, typeof collectEvidence>(collectEvidence, deps, input);
      await down;

      expect(ref.recordCount).toBe(1 + 3 * 3);
      expect(upAt - downAt).toBeGreaterThanOrEqual(5000);
      const waits = lines.filter((line) => line.includes('the catalog is unreachable; the collected snapshot waits for it'));
      expect(waits.length).toBeGreaterThanOrEqual(2);
      expect(waits[0]).toContain('is unreachable');
      // It said it was alive while it waited: a heartbeat with each wait, after the pull's last page.
      const firstWaitAt = new Date((JSON.parse(waits[0]!) as { time: number | string }).time).getTime();
      expect(heartbeatsAt.filter((at) => at >= firstWaitAt && at <= upAt).length).toBeGreaterThanOrEqual(2);
      expect((await store.findCommitted(input.runId, input.sourceName))?.id).toBe(ref.id);
      expect(readdirSync(path.join(config.dataDir, 'evidence', 'staging'))).toEqual([]);
      expect((await store.verify()).problems).toEqual([]);
    },
  );
});
