import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { collectEvidence, type CollectDeps } from '../../activities/collect.ts';
import { defaultChecks } from '../../checks/index.ts';
import { loadConfig, type LoadedConfig } from '../../config/load.ts';
import { connectorRegistry, defineConnector } from '../../connectors/contract.ts';
import { AuthError, UnavailableError } from '../../connectors/errors.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { createLogger } from '../../worker/logger.ts';
import type { CollectInput, EvidenceRef } from '../../core/contracts.ts';
import { testRegistries } from '../support/test-connectors.ts';

/** Two pages, each checkpointed, then the fault the config names: the staging file holds both pages when it strikes. */
const failingAfterTwoPages = defineConnector({
  name: 'failing-after-two-pages',
  kinds: ['finding'],
  version: '1',
  config: z.strictObject({ fault: z.enum(['auth', 'unavailable']) }),
  async *collect(config, ctx) {
    for (let page = 0; page < 2; page++) {
      yield {
        kind: 'finding' as const,
        source: 'fixture',
        scanner: 'fixture',
        id: `CVE-2026-${page}`,
        title: 'fixture vulnerability',
        severity: 'high' as const,
        cvss: 7.5,
        asset: 'app',
        location: 'pkg@1.0.0',
        scannedAt: '2026-11-01T00:00:00Z',
        firstSeenAt: '2026-11-01T00:00:00Z',
        fixedAt: null,
        fixAvailable: true,
      };
      await ctx.heartbeat(String(page + 1));
    }
    if (config.fault === 'auth') throw new AuthError('failing-after-two-pages: the token was refused (401)');
    throw new UnavailableError('failing-after-two-pages: the service answered 503');
  },
});

let dir: string;
let config: LoadedConfig;
let store: EvidenceStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-collect-'));
  const file = path.join(dir, 'isms.yaml');
  const source = (name: string, fault: string) => ({ name, connector: 'failing-after-two-pages', config: { fault } });
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
          sources: [source('refused', 'auth'), source('flaky', 'unavailable')],
          checks: [{ check: 'vulnerability-sla' }],
        },
      ],
    }),
  );
  config = await loadConfig(file, { connectors: connectorRegistry([failingAfterTwoPages]), checks: defaultChecks });
  store = await EvidenceStore.open(config.dataDir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const input = (sourceName: string): CollectInput => ({
  runId: 'control:vuln:2026-11-25T06:00:00.000Z',
  controlId: 'vuln',
  sourceName,
  occurrence: '2026-11-25T06:00:00.000Z',
});
const staging = () => readdirSync(path.join(config.dataDir, 'evidence/staging'));
const collect = (sourceName: string, attempt: number) =>
  new MockActivityEnvironment({ attempt, retryPolicy: { maximumAttempts: 3, nonRetryableErrorTypes: ['AuthError'] } }).run(
    collectEvidence,
    { config, store, log: createLogger({ level: 'silent' }) },
    input(sourceName),
  );

describe('collectEvidence', () => {
  it('removes the staging file of a collection that failed for good: a non-retryable error', async () => {
    const failed = collect('refused', 1);
    await expect(failed).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(failed).rejects.toMatchObject({ type: 'AuthError', nonRetryable: true });
    expect(staging()).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('keeps the staging file for the retry while attempts remain, and removes it after the last', async () => {
    await expect(collect('flaky', 2)).rejects.toMatchObject({ type: 'UnavailableError', nonRetryable: false });
    // The staging file and the record of its run, for attempt 3 to resume from.
    expect(staging()).toHaveLength(2);
    await expect(collect('flaky', 3)).rejects.toMatchObject({ type: 'UnavailableError' });
    expect(staging()).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });
});

describe('collectEvidence as an activity: heartbeats and cancellation', () => {
  it('heartbeats the cursor and a synced checkpoint after each page; cancelled, it ends cancelled at once and the retry resumes from the last heartbeat', async () => {
    const pagedDir = mkdtempSync(path.join(tmpdir(), 'isms-collect-paged-'));
    try {
      const fetchLog = path.join(pagedDir, 'fetched.log');
      const file = path.join(pagedDir, 'isms.yaml');
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
              sources: [{ name: 'paged', connector: 'paged-findings', config: { pages: 4, perPage: 2, delayMs: 150, fetchLog } }],
              checks: [{ check: 'vulnerability-sla' }],
            },
          ],
        }),
      );
      const pagedConfig = await loadConfig(file, testRegistries);
      const pagedStore = await EvidenceStore.open(pagedConfig.dataDir);
      try {
        const deps = { config: pagedConfig, store: pagedStore, log: createLogger({ level: 'silent' }) };
        const first = new MockActivityEnvironment({ attempt: 1, retryPolicy: { maximumAttempts: 3 } });
        const beats: { cursor: string; checkpoint: unknown }[] = [];
        first.on('heartbeat', (details: { cursor: string; checkpoint: unknown }) => {
          beats.push(details);
          if (details.cursor === '2') first.cancel();
        });
        const cancelled = first.run(collectEvidence, deps, input('paged'));
        await expect(cancelled).rejects.toBeInstanceOf(CancelledFailure);
        expect(beats.map((beat) => beat.cursor)).toEqual(['1', '2']);
        expect(beats.every((beat) => typeof beat.checkpoint === 'object' && beat.checkpoint !== null)).toBe(true);
        // Cancelled while waiting for page 3: not fetched, nothing committed, the staging file kept for the retry.
        expect(readFileSync(fetchLog, 'utf8')).toBe('1\n2\n');
        expect(await pagedStore.list()).toEqual([]);
        expect(readdirSync(path.join(pagedConfig.dataDir, 'evidence/staging')).length).toBeGreaterThan(0);

        const second = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beats.at(-1), retryPolicy: { maximumAttempts: 3 } });
        const ref = await second.run<[CollectDeps, CollectInput], EvidenceRef, typeof collectEvidence>(collectEvidence, deps, input('paged'));
        expect(readFileSync(fetchLog, 'utf8')).toBe('1\n2\n3\n4\n');
        // The scan record and 4 pages of 2 findings, each once.
        expect(ref.recordCount).toBe(9);
        const ids: string[] = [];
        for await (const record of pagedStore.records(ref.id)) if (record.kind === 'finding') ids.push(record.id);
        expect(new Set(ids).size).toBe(8);
        expect((await pagedStore.get(ref.id))!.provenance).toMatchObject({ attempt: 2, resumed: true });
        expect((await pagedStore.verify()).ok).toBe(true);
      } finally {
        pagedStore.close();
      }
    } finally {
      rmSync(pagedDir, { recursive: true, force: true });
    }
  });
});
