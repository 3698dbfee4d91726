import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { ManagementReviewStore } from '../../evidence/management-review.ts';
import { isAbsent, renderManagementReview } from '../../worker/management-review.ts';
import { gatherManagementReview } from '../../worker/management-review-data.ts';
import { runControl } from '../../worker/run-control.ts';
import { EXAMPLE_CONFIG, exampleControls } from '../support/example-config.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';

let current: TemporalHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

// Its own occurrence: the other example tests run the same controls at 06:00 and 07:00 on the shared server.
const OCCURRENCE = new Date('2026-11-25T08:00:00Z');
const DAY_MS = 86_400_000;

describe('the management review pack of the example config', () => {
  it('renders every section for the example data, filled or saying why it is empty', async () => {
    const example = parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as { organisation: string; timezone: string; calendar: unknown };
    current = await harness({
      organisation: example.organisation,
      timezone: example.timezone,
      calendar: example.calendar,
      ...exampleControls('vulnerability-management', 'access-control', 'supplier-management', 'awareness-training', 'risk-management'),
    });
    const { client, worker, runtime } = current;
    await worker.runUntil(async () => {
      for (const controlId of ['vulnerability-management', 'access-control', 'supplier-management', 'awareness-training', 'risk-management'])
        await runControl(client, runtime.config, controlId, OCCURRENCE);
    });
    const now = Date.now();
    // A change and a review held earlier in the year, so those sections have something to show too.
    await new CalendarStore(runtime.store.catalog).recordChange(
      { title: 'VPN moved to SSO', affects: ['risk'], risks: ['R-002'], recordedAt: new Date(now - DAY_MS).toISOString(), recordedBy: 'isms@example.com' },
      (id) => `activity:change-review:${id}`,
    );
    const reviews = new ManagementReviewStore(runtime.store.catalog);
    const held = await reviews.open({
      packEvidenceId: 'ev-earlier-pack',
      period: { from: '2025-07-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' },
      at: '2026-01-20T09:00:00.000Z',
      by: 'ceo@example.com',
    });
    await reviews.decide({
      reviewId: held.id,
      text: 'Start a supplier register',
      owner: 'isms@example.com',
      dueDate: '2026-06-30',
      at: '2026-01-20T10:00:00.000Z',
      by: 'ceo@example.com',
    });
    await reviews.hold(held.id, { at: '2026-01-20T12:00:00.000Z', by: 'ceo@example.com', minutesEvidenceId: 'ev-earlier-minutes' });

    const pack = await gatherManagementReview(runtime, { from: Date.parse('2026-01-01T00:00:00+01:00'), to: now + DAY_MS }, now);
    expect(pack.organisation).toBe('Example Shop GmbH');
    expect(pack.previousActions.decisions.map((decision) => [decision.id, decision.status])).toEqual([['D-0001', 'open']]);
    expect(pack.changes.map((change) => change.title)).toEqual(['VPN moved to SSO']);
    expect(pack.nonconformities.opened).toBeGreaterThan(0);
    expect(pack.monitoring.controls.map((control) => [control.id, control.status])).toEqual([
      ['vulnerability-management', 'fail'],
      ['access-control', 'fail'],
      ['supplier-management', 'fail'],
      ['awareness-training', 'fail'],
      ['risk-management', 'fail'],
    ]);
    expect(pack.monitoring.remediation.bySeverity.length).toBeGreaterThan(0);
    expect(pack.monitoring.leavers.systems.length).toBeGreaterThan(0);
    // The shipped calendar's internal audit (June 30) and the readiness check of the first surveillance audit.
    expect(pack.audits.occurrences.map((occurrence) => occurrence.activityId)).toContain('internal-audit');
    expect(pack.audits.certification?.audits.map((audit) => audit.id)).toEqual(['surveillance-audit-1', 'surveillance-audit-2', 'recertification-audit']);
    for (const section of [pack.risks, pack.suppliers, pack.training]) expect(isAbsent(section), JSON.stringify(section)).toBe(false);
    if (isAbsent(pack.risks) || isAbsent(pack.suppliers) || isAbsent(pack.training)) throw new Error('unreachable');
    expect([pack.risks.total, pack.risks.byTreatment]).toEqual([7, { mitigate: 3, transfer: 1, accept: 2, avoid: 1 }]);
    expect(pack.risks.acceptanceMissing.map((risk) => risk.id)).toEqual(['R-005']);
    expect(pack.suppliers.total).toBe(4);
    expect(pack.suppliers.certificates.map((certificate) => certificate.supplier)).toContain('CloudHost AG');
    expect(pack.training.sources.map((source) => source.sourceName).sort()).toEqual(['hr', 'knowbe4']);
    expect(pack.training.active).toBeGreaterThan(0);
    expect(pack.improvement.length).toBeGreaterThan(0);
    expect(pack.trends.unit).toBe('month');

    const html = renderManagementReview(pack);
    expect([...html.matchAll(/<section id="([a-z]+)">/g)].map((match) => match[1])).toEqual([
      'trends',
      'actions',
      'changes',
      'nonconformities',
      'monitoring',
      'audits',
      'risks',
      'suppliers',
      'training',
      'improvement',
    ]);
    // Filled: none of the sentences that stand in for an empty section.
    for (const empty of [
      'No risk register',
      'No supplier register',
      'Training completion is not measured',
      'No change to the ISMS was recorded',
      'No management review has been held before',
      'No controls are configured',
    ]) {
      expect(html).not.toContain(empty);
    }
    expect(html.match(/<svg /g)).toHaveLength(4);
  }, 180_000);
});
