import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { SqliteCatalog } from '../../evidence/catalog.ts';
import { createLogger } from '../../worker/logger.ts';
import { runControl } from '../../worker/run-control.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { smallDisk } from '../support/small-disk.ts';
import { namespace, writeConfig } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';

const { EventType } = temporal.api.enums.v1;

// SQLite writes the catalog itself, past any shim: only a real small filesystem makes the run's bookkeeping fail.
const disk = smallDisk();
afterAll(() => disk.close());

interface Notification {
  status: string;
  gaps: { sourceName: string; reason: string; errorType: string }[];
  unrecorded?: { step: string; reason: string; errorType: string };
}

/** A webhook target that records each notification, and frees the disk when the first one arrives. */
async function webhook(onFirst: () => void): Promise<{ url: string; received: Notification[]; server: Server }> {
  const received: Notification[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(JSON.parse(body) as Notification);
      if (received.length === 1) onFirst();
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe(`a control run on a full disk (${disk.description})`, () => {
  // SQLite does its own file I/O, so only a real filesystem can fill under the catalog; CI runs as root and mounts one.
  it.runIf(disk.kind === 'tmpfs' || process.env.CI === 'true')(
    'ends with an explicit outcome: the owner is told at once, and the evidence gap is recorded once space returns',
    async () => {
      if (disk.kind !== 'tmpfs') throw new Error('CI could not mount a tmpfs for the end-to-end full-disk test: run it as root');
      const hook = await webhook(() => disk.free());
      process.env.ISMS_TEST_OWNER_HOOK = hook.url;
      const logLines: string[] = [];
      const dataDir = path.join(disk.dir, 'data');
      const { dir, file } = writeConfig({
        dataDir,
        notifications: [{ name: 'owner-hook', kind: 'webhook', url: { env: 'ISMS_TEST_OWNER_HOOK' }, format: 'json', events: ['run-error', 'evidence-gap'] }],
        controls: [
          {
            id: 'vuln-full',
            title: 'Technical vulnerabilities are remediated on time',
            reference: 'A.8.8',
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            notify: ['owner-hook'],
            sources: [{ name: 'api-scan', connector: 'paged-findings', config: { asset: 'api' } }],
            checks: [{ check: 'vulnerability-sla' }],
            collection: { maximumAttempts: 2, initialRetryInterval: '100ms' },
          },
        ],
      });
      const runtime: Runtime = await openRuntime(
        file,
        createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
        testRegistries,
      );
      const address = inject('temporalAddress');
      const nativeConnection = await NativeConnection.connect({ address });
      const worker = await createWorker(runtime, nativeConnection, { namespace, workflowBundle: { codePath: inject('workflowBundlePath') } });
      const connection = await Connection.connect({ address });
      const client = new Client({ connection, namespace });
      close = async () => {
        await connection.close();
        await nativeConnection.close();
        runtime.close();
        hook.server.close();
        rmSync(dir, { recursive: true, force: true });
      };

      // Every byte taken, and no room left in SQLite's write-ahead log either: the next catalog write has to grow a file.
      await (runtime.store.catalog as SqliteCatalog).exec('PRAGMA wal_checkpoint(TRUNCATE)');
      disk.fill(0);

      const summary = await worker.runUntil(runControl(client, runtime.config, 'vuln-full', new Date('2026-11-25T06:00:00Z')));

      // The collection met the full disk and became an evidence gap, naming the file and the free space.
      expect(summary.status).toBe('error');
      expect(summary.gaps).toEqual([
        {
          sourceName: 'api-scan',
          errorType: 'DiskFullError',
          reason: expect.stringMatching(/^ENOSPC: .*evidence\/staging\/.* \(\d+ bytes free on its filesystem\)$/),
        },
      ]);
      // The check run could not be written: the owner was told at once, with the cause, before any space returned.
      const [first, last] = hook.received;
      expect(first).toMatchObject({ status: 'error' });
      expect(first!.gaps.map((gap) => [gap.sourceName, gap.errorType])).toEqual([['api-scan', 'DiskFullError']]);
      expect(first!.unrecorded).toMatchObject({ step: 'evaluateControl', errorType: 'DiskFullError' });
      expect(first!.unrecorded!.reason).toMatch(/^ENOSPC: database or disk is full: .*catalog\.sqlite \(\d+ bytes free on its filesystem\)$/);
      // Once space returned the run recorded its outcome: the check run and the evidence-gap nonconformity.
      expect((await runtime.register.checkRunOf(summary.runId))?.status).toBe('error');
      const gaps = (await runtime.register.list({ status: 'open' })).filter((nc) => nc.checkId === 'evidence-gap');
      expect(gaps.map((nc) => [nc.subject, nc.detail])).toEqual([['api-scan', summary.gaps[0]!.reason]]);
      expect(summary.nonconformities.opened).toEqual(gaps.map((nc) => nc.id));
      expect(last).toMatchObject({ status: 'error', gaps: [{ sourceName: 'api-scan' }] });
      expect(hook.received).toHaveLength(2);

      // The operator's log names the path and the free space; nothing is left in staging.
      expect(logLines.some((line) => line.includes('"collection failed"') && /ENOSPC: .*staging.*bytes free/.test(line))).toBe(true);
      expect(readdirSync(path.join(dataDir, 'evidence/staging'))).toEqual([]);
      expect(await runtime.store.verify()).toEqual({ ok: true, checked: 0, problems: [] });

      const history = await client.workflow.getHandle(summary.runId).fetchHistory();
      const markers = history.events!.filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
      expect(markers.length).toBeGreaterThan(0);
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history);
    },
    120_000,
  );
});
