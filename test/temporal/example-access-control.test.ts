import { afterEach, describe, expect, it } from 'vitest';
import { runControl } from '../../worker/run-control.ts';
import { exampleAccessControl } from '../support/example-access-control.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { LeaverClock } from '../../evidence/leaver-clock.ts';

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('the example access-control control over examples/hr and examples/identities', () => {
  it('raises exactly the nonconformities the example exports were written to show', async () => {
    current = await harness({ controls: [exampleAccessControl()] });
    const { client, worker, runtime } = current;
    // Checks judge at the occurrence, not at the wall clock, so the example keeps its meaning whenever it runs.
    const summary = await worker.runUntil(runControl(client, runtime.config, 'access-control', new Date('2026-11-25T06:00:00Z')));

    expect(summary.status).toBe('fail');
    expect(summary.gaps).toEqual([]);
    expect(summary.evidence.map((ref) => [ref.sourceName, ref.recordCount, ref.warnings]).sort()).toEqual([
      ['hr', 12, 0],
      // Jira's export has no MFA column: the connector says so in the evidence.
      ['jira', 13, 1],
      ['vpn', 11, 0],
    ]);
    expect(summary.checks).toEqual([
      { checkId: 'leaver-still-active', status: 'fail', deviations: 2 },
      { checkId: 'orphan-account', status: 'fail', deviations: 1 },
      { checkId: 'mfa-missing', status: 'fail', deviations: 1 },
      { checkId: 'account-never-used', status: 'fail', deviations: 1 },
      { checkId: 'inactive-account', status: 'fail', deviations: 1 },
    ]);

    const open = await runtime.register.list({ status: 'open', controlId: 'access-control' });
    expect(open.map((nc) => `${nc.checkId} ${nc.subject}`).sort()).toEqual([
      // Luca Romano's VPN account was created 2026-09-26, 60 days before the occurrence, and never used (grace 14).
      'account-never-used identity-csv:corporate-vpn:lromano',
      // Finn O'Brien last used the VPN on 2026-08-14, 102 days before the occurrence (limit 90).
      'inactive-account identity-csv:corporate-vpn:fobrien',
      // Hugo Larsen (1008) left on 2026-11-06 and can still connect to the VPN.
      'leaver-still-active identity-csv:corporate-vpn:hlarsen',
      // Carla Mendes (1003) left on 2026-09-04 and still has an active Jira account, last seen 2026-09-21.
      'leaver-still-active identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e03',
      // Dev Patel connects to the VPN without MFA.
      'mfa-missing identity-csv:corporate-vpn:dpatel',
      // The Northwind contractor is in Jira but not in HR.
      'orphan-account identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e0e',
    ]);
    expect(summary.nonconformities.opened).toHaveLength(6);

    // What is NOT raised matters as much: the deactivated leaver (Elif, Jira), the disabled leaver (Carla, VPN),
    // the alias-only account (j.weber@, Jonas), the service account (svc-ci@) and the admin whose MFA Jira cannot show.
    const subjects = new Set(open.map((nc) => nc.subject));
    for (const quiet of [
      'identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e05',
      'identity-csv:corporate-vpn:cmendes',
      'identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e0a',
      'identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e0d',
      'identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e02',
    ]) {
      expect(subjects.has(quiet)).toBe(false);
    }

    const byCheck = new Map(open.map((nc) => [`${nc.checkId} ${nc.subject}`, nc]));
    expect(byCheck.get('leaver-still-active identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e03')).toMatchObject({ severity: 'high' });
    expect(byCheck.get('orphan-account identity-csv:jira-cloud:5b10ac8d82e05b22cc7d4e0e')).toMatchObject({ severity: 'medium' });
    expect((await runtime.store.verify()).ok).toBe(true);

    // The leaver clock records every leaver's account, revoked in time or not.
    const clock = (await new LeaverClock(runtime.store.catalog).list()).map((row) => [
      row.employeeId,
      row.tenant,
      row.revokedObservedAt === null ? 'usable' : 'revoked',
    ]);
    expect(clock.sort()).toEqual(
      [
        ['1003', 'corporate-vpn', 'revoked'],
        ['1003', 'jira-cloud', 'usable'],
        ['1005', 'jira-cloud', 'revoked'],
        ['1008', 'corporate-vpn', 'usable'],
      ].sort(),
    );
  });
});
