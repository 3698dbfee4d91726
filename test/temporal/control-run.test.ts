import { afterEach, describe, expect, it } from 'vitest';
import { runControl } from '../../worker/run-control.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';

const vulnControl = (sources: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'vuln-mgmt',
  title: 'Technical vulnerabilities are remediated on time',
  reference: 'A.8.8',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  sources,
  checks: [
    { check: 'vulnerability-sla', params: { days: { high: 30 } } },
    { check: 'scan-staleness', params: { maxAgeDays: 7 } },
  ],
  ...extra,
});

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('controlRun on a real Temporal server', () => {
  it('collects every source, evaluates the checks and opens nonconformities', async () => {
    current = await harness({
      controls: [
        vulnControl([
          { name: 'api-scan', connector: 'paged-findings', config: { asset: 'api', pages: 2, perPage: 2, scannedAt: '2026-09-01T00:00:00Z' } },
          { name: 'web-scan', connector: 'paged-findings', config: { asset: 'web', pages: 1, perPage: 1, scannedAt: '2026-11-20T00:00:00Z' } },
        ]),
      ],
    });
    const { client, worker, runtime } = current;
    const summary = await worker.runUntil(runControl(client, runtime.config, 'vuln-mgmt', new Date('2026-11-25T00:00:00Z')));

    expect(summary.status).toBe('fail');
    expect(summary.gaps).toEqual([]);
    expect(summary.evidence.map((ref) => [ref.sourceName, ref.recordCount]).sort()).toEqual([
      ['api-scan', 5],
      ['web-scan', 2],
    ]);
    // api was scanned 85 days before the run: its 4 high findings are past the 30-day SLA, web's one is not; api's scan is stale.
    expect(summary.checks).toEqual([
      { checkId: 'vulnerability-sla', status: 'fail', deviations: 4 },
      { checkId: 'scan-staleness', status: 'fail', deviations: 1 },
    ]);
    expect(summary.nonconformities.opened).toHaveLength(5);
    const open = await runtime.register.list({ status: 'open' });
    expect(open.map((nc) => nc.subject).sort()).toEqual([
      'api|CVE-2026-0000|pkg@1.0.0',
      'api|CVE-2026-0001|pkg@1.0.0',
      'api|CVE-2026-0002|pkg@1.0.0',
      'api|CVE-2026-0003|pkg@1.0.0',
      'asset:api',
    ]);
    expect(open[0]!.evidenceIds).toEqual([summary.evidence.find((ref) => ref.sourceName === 'api-scan')!.id]);
    expect(open[0]!.reference).toBe('A.8.8');

    const rows = await runtime.store.list({ controlId: 'vuln-mgmt' });
    expect(rows).toHaveLength(2);
    expect((await runtime.store.verify()).ok).toBe(true);

    const history = await client.workflow.getHandle(summary.runId).fetchHistory();
    const bytes = Buffer.byteLength(JSON.stringify(history));
    expect(history.events!.length).toBeLessThan(100);
    expect(bytes).toBeLessThan(64 * 1024);
  });

  it('runs an occurrence once: a second start yields the same run and one evidence row per source', async () => {
    current = await harness({ controls: [vulnControl([{ name: 'api-scan', connector: 'paged-findings', config: { delayMs: 200 } }])] });
    const { client, worker, runtime } = current;
    const occurrence = new Date('2026-11-25T06:00:00Z');
    const [first, second, third] = await worker.runUntil(async () => {
      const concurrent = await Promise.all([
        runControl(client, runtime.config, 'vuln-mgmt', occurrence),
        runControl(client, runtime.config, 'vuln-mgmt', occurrence),
      ]);
      const afterCompletion = await runControl(client, runtime.config, 'vuln-mgmt', occurrence);
      return [...concurrent, afterCompletion];
    });
    expect(second.runId).toBe(first.runId);
    expect(third).toEqual(first);
    expect(await runtime.store.list({ controlId: 'vuln-mgmt' })).toHaveLength(1);
    const runs = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${first.runId}'` })) runs.push(execution);
    expect(runs).toHaveLength(1);
  });

  it('turns a source that cannot be collected into an evidence gap: the run is error, never pass', async () => {
    current = await harness({
      controls: [
        vulnControl(
          [
            { name: 'good-scan', connector: 'paged-findings', config: { scannedAt: '2026-11-24T00:00:00Z' } },
            { name: 'broken-scan', connector: 'paged-findings', config: { fail: 'auth' } },
          ],
          { collection: { maximumAttempts: 2, initialRetryInterval: '100ms' } },
        ),
      ],
    });
    const { client, worker, runtime } = current;
    const summary = await worker.runUntil(runControl(client, runtime.config, 'vuln-mgmt', new Date('2026-11-25T07:00:00Z')));
    expect(summary.status).toBe('error');
    expect(summary.gaps).toEqual([{ sourceName: 'broken-scan', errorType: 'AuthError', reason: 'paged-findings: the token was refused (401)' }]);
    expect(summary.evidence.map((ref) => ref.sourceName)).toEqual(['good-scan']);
    expect(summary.checks.every((check) => check.status === 'error')).toBe(true);
    const gaps = (await runtime.register.list({ status: 'open' })).filter((nc) => nc.checkId === 'evidence-gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.subject).toBe('broken-scan');
    expect(gaps[0]!.title).toContain('Evidence gap');
  });

  it('retries a throttled source up to the attempt limit before declaring a gap', async () => {
    current = await harness({
      controls: [
        vulnControl([{ name: 'throttled', connector: 'paged-findings', config: { fail: 'throttled' } }], {
          collection: { maximumAttempts: 3, initialRetryInterval: '100ms' },
        }),
      ],
    });
    const { client, worker, runtime } = current;
    const summary = await worker.runUntil(runControl(client, runtime.config, 'vuln-mgmt', new Date('2026-11-25T08:00:00Z')));
    // Throttling is retryable: all three attempts are used before the gap is declared.
    expect(summary.status).toBe('error');
    expect(summary.gaps[0]!.errorType).toBe('ThrottledError');
    const history = await client.workflow.getHandle(summary.runId).fetchHistory();
    const failed = history.events!.filter((event) => event.activityTaskFailedEventAttributes);
    expect(failed).toHaveLength(1);
    const started = history.events!.find((event) => event.activityTaskStartedEventAttributes && event.activityTaskStartedEventAttributes.attempt === 3);
    expect(started).toBeDefined();
  });
});
