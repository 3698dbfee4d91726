import { afterEach, describe, expect, it } from 'vitest';
import type { Deviation } from '../../core/check-results.ts';
import { Register } from '../../evidence/register.ts';
import { BACKENDS, closeTestCatalogs, testCatalog } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

const deviation = (subject: string): Deviation => ({
  checkId: 'vulnerability-sla',
  subject,
  title: `overdue ${subject}`,
  severity: 'high',
  detail: 'past SLA',
  values: { subject },
  evidenceIds: [`ev-${subject}`],
});

async function run(
  register: Register,
  runId: string,
  subjects: string[],
  status: 'pass' | 'fail' | 'error' = subjects.length ? 'fail' : 'pass',
  gaps: { sourceName: string; reason: string; errorType: string }[] = [],
) {
  const checkRun = await register.saveCheckRun(
    { runId, controlId: 'vuln', evaluatedAt: runId, status, results: [{ checkId: 'vulnerability-sla', status, deviations: subjects.length }] },
    subjects.map(deviation),
  );
  return await register.reconcile({
    checkRunId: checkRun.id,
    controlId: 'vuln',
    reference: 'A.8.8',
    owner: 'sec',
    at: runId,
    gaps,
    collectedSources: gaps.length ? [] : ['scans'],
  });
}

describe.each(BACKENDS)('nonconformity register (%s)', (backend) => {
  it('opens, keeps observing, marks no longer observed, and reopens', async () => {
    const register = new Register(await testCatalog(backend));
    const first = await run(register, '2026-11-01', ['a', 'b']);
    expect(first.opened).toEqual(['NC-0001', 'NC-0002']);
    const second = await run(register, '2026-11-02', ['a']);
    expect(second).toEqual({ opened: [], stillObserved: ['NC-0001'], reopened: [], noLongerObserved: ['NC-0002'] });
    expect(await register.get('NC-0001')).toMatchObject({ occurrences: 2, firstObserved: '2026-11-01', lastObserved: '2026-11-02', status: 'open' });
    expect((await register.get('NC-0002'))!.status).toBe('no-longer-observed');
    const third = await run(register, '2026-11-03', ['a', 'b']);
    expect(third.reopened).toEqual(['NC-0002']);
    expect((await register.historyOf('NC-0002')).map((entry) => entry.toStatus)).toEqual(['open', 'no-longer-observed', 'open']);
  });

  it('leaves nonconformities alone when their check could not run, and records an evidence gap', async () => {
    const register = new Register(await testCatalog(backend));
    await run(register, '2026-11-01', ['a']);
    const gapRun = await run(register, '2026-11-02', [], 'error', [{ sourceName: 'scans', reason: 'token refused', errorType: 'AuthError' }]);
    expect(gapRun.noLongerObserved).toEqual([]);
    expect(gapRun.opened).toHaveLength(1);
    expect(await register.get(gapRun.opened[0]!)).toMatchObject({ checkId: 'evidence-gap', subject: 'scans', detail: 'token refused', status: 'open' });
    const recovered = await run(register, '2026-11-03', ['a']);
    expect(recovered.noLongerObserved).toEqual([gapRun.opened[0]]);
  });

  it('reconciles a check run once, whatever the retries', async () => {
    const register = new Register(await testCatalog(backend));
    const checkRun = await register.saveCheckRun(
      { runId: 'r', controlId: 'vuln', evaluatedAt: 'r', status: 'fail', results: [{ checkId: 'vulnerability-sla', status: 'fail', deviations: 1 }] },
      [deviation('a')],
    );
    const input = { checkRunId: checkRun.id, controlId: 'vuln', reference: 'A.8.8', owner: 'sec', at: 'r', gaps: [], collectedSources: ['scans'] };
    const once = await register.reconcile(input);
    expect(await register.reconcile(input)).toEqual(once);
    expect((await register.get('NC-0001'))!.occurrences).toBe(1);
  });

  it('moves through the lifecycle only along allowed steps, with root cause and corrective action', async () => {
    const register = new Register(await testCatalog(backend));
    await run(register, '2026-11-01', ['a']);
    const at = '2026-11-05T00:00:00Z';
    await expect(register.transition('NC-0001', 'verified', { actor: 'alice', at })).rejects.toThrow(
      /open; it can move to root-cause, corrective-action, closed, not verified/,
    );
    await expect(register.transition('NC-0001', 'root-cause', { actor: 'alice', at })).rejects.toThrow(/root cause is required/);
    await register.transition('NC-0001', 'root-cause', { actor: 'alice', at, rootCause: 'patching job disabled' });
    await register.transition('NC-0001', 'corrective-action', { actor: 'alice', at, correctiveAction: 're-enabled nightly patching' });
    await register.transition('NC-0001', 'verified', { actor: 'bob', at });
    const closed = await register.transition('NC-0001', 'closed', { actor: 'bob', at, note: 'verified by rescan' });
    expect(closed).toMatchObject({ status: 'closed', rootCause: 'patching job disabled', correctiveAction: 're-enabled nightly patching' });
    expect((await register.historyOf('NC-0001')).at(-1)).toMatchObject({
      actor: 'bob',
      fromStatus: 'verified',
      toStatus: 'closed',
      note: 'verified by rescan',
    });
  });
});
