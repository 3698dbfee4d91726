import { afterEach, describe, expect, it } from 'vitest';
import type { LeaverClockEntry } from '../../core/check-results.ts';
import { LeaverClock } from '../../evidence/leaver-clock.ts';
import { BACKENDS, closeTestCatalogs, testCatalog } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

const entry = (account: string, active: boolean, overrides: Partial<LeaverClockEntry> = {}): LeaverClockEntry => ({
  employeeId: 'E1',
  system: 'google',
  tenant: 'example.com',
  account,
  terminationDate: '2026-11-01T00:00:00.000Z',
  active,
  hoursSinceTermination: 0,
  ...overrides,
});
const systems = new Set(['google|example.com', 'vpn|vpn']);

describe.each(BACKENDS)('leaver clock across runs (%s)', (backend) => {
  it('bounds time to revoke by the last run that found the account usable and the first that found it revoked', async () => {
    const clock = new LeaverClock(await testCatalog(backend));
    await clock.observe([entry('jane', true)], systems, '2026-11-01T06:00:00.000Z');
    await clock.observe([entry('jane', true)], systems, '2026-11-02T06:00:00.000Z');
    await clock.observe([entry('jane', false)], systems, '2026-11-03T06:00:00.000Z');
    await clock.observe([entry('jane', false)], systems, '2026-11-04T06:00:00.000Z');
    expect(await clock.list()).toEqual([
      expect.objectContaining({
        account: 'jane',
        lastSeenActiveAt: '2026-11-02T06:00:00.000Z',
        revokedObservedAt: '2026-11-03T06:00:00.000Z',
        revokedAfterHours: { atLeast: 30, atMost: 54 },
      }),
    ]);
  });

  it('records accounts revoked in time too, and an account removed from a collected system as revoked', async () => {
    const clock = new LeaverClock(await testCatalog(backend));
    await clock.observe([entry('jane', false), entry('jdoe', true, { system: 'vpn', tenant: 'vpn' })], systems, '2026-11-01T12:00:00.000Z');
    await clock.observe([], systems, '2026-11-02T12:00:00.000Z');
    const rows = await clock.list();
    expect(rows.find((row) => row.account === 'jane')).toMatchObject({
      lastSeenActiveAt: null,
      revokedObservedAt: '2026-11-01T12:00:00.000Z',
      revokedAfterHours: { atLeast: 0, atMost: 12 },
    });
    expect(rows.find((row) => row.account === 'jdoe')).toMatchObject({
      revokedObservedAt: '2026-11-02T12:00:00.000Z',
      revokedAfterHours: { atLeast: 12, atMost: 36 },
    });
  });

  it('keeps the clock running for an account in a system that was not collected this time', async () => {
    const clock = new LeaverClock(await testCatalog(backend));
    await clock.observe([entry('jdoe', true, { system: 'vpn', tenant: 'vpn' })], systems, '2026-11-01T12:00:00.000Z');
    await clock.observe([], new Set(['google|example.com']), '2026-11-02T12:00:00.000Z');
    expect((await clock.list())[0]!.revokedObservedAt).toBeNull();
  });

  it('an account re-enabled after revocation runs the clock again', async () => {
    const clock = new LeaverClock(await testCatalog(backend));
    await clock.observe([entry('jane', false)], systems, '2026-11-01T12:00:00.000Z');
    await clock.observe([entry('jane', true)], systems, '2026-11-05T12:00:00.000Z');
    expect((await clock.list())[0]).toMatchObject({
      lastSeenActiveAt: '2026-11-05T12:00:00.000Z',
      revokedObservedAt: null,
      revokedAfterHours: { atLeast: 108, atMost: null },
    });
  });
});
