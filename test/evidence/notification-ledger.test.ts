import { afterEach, describe, expect, it } from 'vitest';
import { NotificationLedger } from '../../evidence/notification-ledger.ts';
import { BACKENDS, closeTestCatalogs, testCatalog } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

describe.each(BACKENDS)('notification ledger (%s)', (backend) => {
  it('keeps one delivery per run, target and event, the first one', async () => {
    const catalog = await testCatalog(backend);
    const ledger = new NotificationLedger(catalog);
    const run = 'control:vuln-mgmt:2026-11-25T06:00:00.000Z';
    await ledger.record({
      runId: run,
      target: 'chat',
      events: ['nonconformity-opened', 'run-error'],
      deliveryId: 'first',
      deliveredAt: '2026-11-25T06:01:00.000Z',
    });
    await ledger.record({ runId: run, target: 'chat', events: ['run-error'], deliveryId: 'second', deliveredAt: '2026-11-25T06:02:00.000Z' });
    await ledger.record({ runId: 'another-run', target: 'chat', events: ['run-error'], deliveryId: 'other', deliveredAt: '2026-11-25T06:03:00.000Z' });

    expect(await ledger.deliveredEvents(run, 'chat')).toEqual(new Set(['nonconformity-opened', 'run-error']));
    expect(await ledger.deliveredEvents(run, 'mail')).toEqual(new Set());
    expect((await ledger.deliveries(run)).map((delivery) => [delivery.event, delivery.deliveryId])).toEqual([
      ['nonconformity-opened', 'first'],
      ['run-error', 'first'],
    ]);
    // A second ledger on the same catalog (another activity factory) finds the table and its rows.
    expect((await new NotificationLedger(catalog).deliveredEvents(run, 'chat')).size).toBe(2);
  });
});
