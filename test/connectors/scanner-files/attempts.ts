import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { collectEvidence } from '../../../activities/collect.ts';
import { loadConfig } from '../../../config/load.ts';
import type { EvidenceRecord } from '../../../core/records.ts';
import { EvidenceStore } from '../../../evidence/store.ts';
import { defaultRegistries } from '../../../worker/runtime.ts';
import { createLogger } from '../../../worker/logger.ts';
import type { EvidenceRef } from '../../../core/contracts.ts';

export interface Attempt {
  readonly ref?: EvidenceRef;
  readonly error?: Error;
  /** The cursors this attempt checkpointed, in order. */
  readonly cursors: (string | undefined)[];
}

/**
 * The real collectEvidence activity and evidence store over one scanner-files source, attempt after attempt as
 * Temporal retries it: each attempt starts with the heartbeat details the previous one last reported, so it resumes
 * from that checkpoint (the staged records cut back to it, the connector given its cursor).
 */
export async function scannerSourceAttempts(sourceConfig: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env) {
  const dir = await mkdtemp(join(tmpdir(), 'scanner-files-attempts-'));
  const file = join(dir, 'isms.yaml');
  await writeFile(
    file,
    stringify({
      dataDir: 'data',
      controls: [
        {
          id: 'vulns',
          title: 'Vulnerabilities are fixed',
          reference: 'A.8.8',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [{ name: 'scans', connector: 'scanner-files', config: sourceConfig }],
          checks: [{ check: 'vulnerability-sla' }],
        },
      ],
    }),
  );
  const config = await loadConfig(file, defaultRegistries);
  const store = await EvidenceStore.open(config.dataDir);
  const deps = { config, store, log: createLogger({ level: 'silent' }), env };
  const input = { runId: 'control:vulns:2026-11-25T06:00:00.000Z', controlId: 'vulns', sourceName: 'scans', occurrence: '2026-11-25T06:00:00.000Z' };
  let lastDetails: unknown;
  let attempts = 0;

  return {
    dir,
    store,
    /** Runs the next attempt; `onCheckpoint` sees each new cursor once its records are durable, before the next file is read. */
    async attempt(onCheckpoint?: (cursor: string | undefined, index: number) => void): Promise<Attempt> {
      attempts += 1;
      const activity = new MockActivityEnvironment({ attempt: attempts, heartbeatDetails: lastDetails });
      const cursors: (string | undefined)[] = [];
      activity.on('heartbeat', async (details: { cursor?: string }) => {
        const fresh = details !== lastDetails && cursors.at(-1) !== details.cursor;
        lastDetails = details;
        if (!fresh) return;
        cursors.push(details.cursor);
        onCheckpoint?.(details.cursor, cursors.length - 1);
      });
      try {
        return { ref: await activity.run(collectEvidence, deps, input), cursors };
      } catch (error) {
        return { error: error as Error, cursors };
      }
    },
    async records(ref: EvidenceRef): Promise<EvidenceRecord[]> {
      const records: EvidenceRecord[] = [];
      for await (const record of store.records(ref.id)) records.push(record);
      return records;
    },
    async row(ref: EvidenceRef) {
      return (await store.get(ref.id))!;
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
