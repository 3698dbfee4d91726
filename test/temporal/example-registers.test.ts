import { afterEach, describe, expect, it } from 'vitest';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { runControl } from '../../worker/run-control.ts';
import { exampleControls } from '../support/example-config.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

// Not the access-control example test's 06:00: one occurrence of a control is one workflow id, and the two tests
// share the Temporal server, so the second to start would be handed the first one's run.
const OCCURRENCE = new Date('2026-11-25T07:00:00Z');

describe('the example registers and training export, run through the example config', () => {
  it('raises exactly the nonconformities the example files were written to show', async () => {
    current = await harness(exampleControls('access-control', 'vulnerability-management', 'supplier-management', 'awareness-training', 'risk-management'));
    const { client, worker, runtime } = current;
    const run = (controlId: string) => runControl(client, runtime.config, controlId, OCCURRENCE);
    const openOf = async (controlId: string) =>
      (await runtime.register.list({ status: 'open', controlId })).map((nc) => `${nc.checkId} ${nc.subject} ${nc.severity}`).sort();

    // The risk register is judged on the other controls' latest runs: these run first. A worker runs once, so
    // every run (and the change recorded between them) happens within it.
    const [access, suppliers, training, risks] = await worker.runUntil(async () => {
      const before = [await run('access-control'), await run('supplier-management'), await run('awareness-training')];
      // A change to the access set-up recorded on 2026-10-20 names R-002; R-002 was last reviewed on 2026-09-01.
      await new CalendarStore(runtime.store.catalog).recordChange(
        { title: 'VPN moved to SSO', affects: ['risk'], risks: ['R-002'], recordedAt: '2026-10-20T10:00:00.000Z', recordedBy: 'isms@example.com' },
        (id) => `activity:change-review:${id}`,
      );
      return [...before, await run('risk-management')];
    });
    expect(access!.status).toBe('fail');

    expect(suppliers!.gaps).toEqual([]);
    expect(suppliers!.evidence.map((ref) => [ref.sourceName, ref.recordCount, ref.warnings])).toEqual([['suppliers', 4, 0]]);
    expect(await openOf('supplier-management')).toEqual([
      // CloudHost's SOC 2 report ran until 2026-10-31.
      'supplier-certificate-expiry supplier:CloudHost AG:certificate:SOC 2 Type II report high',
      // PayFast's ISO/IEC 27001 certificate runs until 2026-12-10: 15 days after the occurrence, within the 30 watched.
      'supplier-certificate-expiry supplier:PayFast Payments GmbH:certificate:ISO/IEC 27001 low',
      // MailRelay (high, not critical) was last reviewed 2025-08-15, yearly.
      'supplier-review-overdue supplier:MailRelay Ltd medium',
    ]);

    expect(training!.gaps).toEqual([]);
    expect(training!.evidence.map((ref) => [ref.sourceName, ref.recordCount]).sort()).toEqual([
      ['hr', 12],
      ['knowbe4', 13],
    ]);
    expect(await openOf('awareness-training')).toEqual([
      // The Northwind contractor trained, but HR does not know her.
      'training-overdue learner:marta.kowalski@northwind-consulting.com low',
      // Ben Hartley last completed on 2025-11-20; his 2026 course is not started.
      'training-overdue person:1002 medium',
      // Kemi Adeyemi joined 2026-01-12 and has not completed the course.
      'training-overdue person:1011 medium',
    ]);

    expect(risks!.status).toBe('fail');
    expect(risks!.gaps).toEqual([]);
    expect(risks!.evidence.map((ref) => [ref.sourceName, ref.recordCount, ref.warnings])).toEqual([['risks', 7, 0]]);
    expect(await openOf('risk-management')).toEqual([
      // R-005 is accepted, but the register names nobody who accepted it.
      'risk-acceptance-missing risk:R-005 high',
      'risk-change-unreviewed change:CHG-0001:risk:R-002 medium',
      // No example control gives evidence for A.8.13 (backups).
      'risk-control-ineffective risk:R-001:A.8.13 medium',
      // access-control (A.5.18, A.8.5) failed its latest run.
      'risk-control-ineffective risk:R-002:A.5.18 high',
      'risk-control-ineffective risk:R-002:A.8.5 high',
      // vulnerability-management (A.8.8) is configured but has not run.
      'risk-control-ineffective risk:R-003:A.8.8 medium',
      // supplier-management (A.5.19) failed its latest run.
      'risk-control-ineffective risk:R-004:A.5.19 high',
      // R-006 was last reviewed on 2025-10-01, yearly.
      'risk-review-overdue risk:R-006 medium',
    ]);

    // The register is evidence like any source: its records and the file's hash are in the store, verifiable.
    const [snapshot] = await runtime.store.list({ controlId: 'risk-management' });
    expect(snapshot?.provenance).toMatchObject({ file: { format: 'yaml', entries: 7, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const stored = [];
    for await (const record of runtime.store.records(snapshot!.id)) stored.push(record);
    expect(stored.find((record) => record.kind === 'risk' && record.id === 'R-002')).toMatchObject({
      controls: ['A.5.18', 'A.8.5'],
      residualScore: 4,
      reviewDue: '2027-09-01',
    });
    expect((await runtime.store.verify()).ok).toBe(true);
  });
});
