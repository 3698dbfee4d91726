import { afterEach, describe, expect, it } from 'vitest';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { activityControlOf, MISSED_ACTIVITY_CHECK, Register } from '../../evidence/register.ts';
import type { ActivityOccurrence } from '../../core/calendar-contracts.ts';
import type { Catalog } from '../../evidence/catalog.ts';
import { BACKENDS, closeTestCatalogs, testCatalog } from '../support/catalogs.ts';

afterEach(closeTestCatalogs);

const occurrence: ActivityOccurrence = {
  occurrenceId: 'activity:access-review:2026-12-31',
  activityId: 'access-review',
  origin: 'calendar',
  title: 'User access review',
  reference: 'A.5.18',
  owner: 'it@example.com',
  due: '2026-12-31T08:00:00.000Z',
  dueDate: '2026-12-31',
  timeZone: 'Europe/Berlin',
  opensAt: '2026-12-17T08:00:00.000Z',
  graceUntil: '2027-01-14T08:00:00.000Z',
  closesAt: '2027-03-31T07:00:00.000Z',
  reminders: [],
  evidence: [{ name: 'record', required: true }],
};

let catalog: Catalog;

describe.each(BACKENDS)('missed activities in the one register (%s)', (backend) => {
  it('raises one nonconformity per occurrence however often asked, and settles it once when completed late', async () => {
    catalog = await testCatalog(backend);
    const register = new Register(catalog);
    const raise = () =>
      register.raiseMissedActivity({
        activityId: 'access-review',
        occurrenceId: occurrence.occurrenceId,
        reference: 'A.5.18',
        owner: 'it@example.com',
        title: 'Missed activity: User access review',
        at: occurrence.graceUntil,
        detail: 'not completed',
      });
    const first = await raise();
    const again = await raise();
    expect(first).toEqual({ id: 'NC-0001', opened: true });
    expect(again).toEqual({ id: 'NC-0001', opened: false });
    expect(await register.get('NC-0001')).toMatchObject({
      controlId: activityControlOf('access-review'),
      checkId: MISSED_ACTIVITY_CHECK,
      subject: occurrence.occurrenceId,
      status: 'open',
      occurrences: 1,
      owner: 'it@example.com',
      reference: 'A.5.18',
    });
    // Another occurrence of the same activity is a nonconformity of its own.
    expect(
      (
        await register.raiseMissedActivity({
          activityId: 'access-review',
          occurrenceId: 'activity:access-review:2027-03-31',
          reference: 'A.5.18',
          owner: 'o',
          title: 't',
          at: 'x',
          detail: 'd',
        })
      ).id,
    ).toBe('NC-0002');

    const settle = async () =>
      await register.settleMissedActivity({
        activityId: 'access-review',
        occurrenceId: occurrence.occurrenceId,
        at: '2027-01-20T10:00:00.000Z',
        note: 'completed late by it@example.com; verify and close',
        evidenceIds: ['ev-1'],
      });
    expect(await settle()).toBe('NC-0001');
    expect(await settle()).toBe('NC-0001');
    expect(await register.get('NC-0001')).toMatchObject({ status: 'no-longer-observed', evidenceIds: ['ev-1'] });
    expect((await register.historyOf('NC-0001')).map((entry) => [entry.change, entry.toStatus, entry.note])).toEqual([
      ['opened', 'open', 'not completed'],
      ['status', 'no-longer-observed', 'completed late by it@example.com; verify and close'],
    ]);
    expect((await register.get('NC-0002'))!.status).toBe('open');
    expect(await register.settleMissedActivity({ activityId: 'other', occurrenceId: 'activity:other:2026-01-01', at: 'x', note: 'n' })).toBeUndefined();
  });
});

describe.each(BACKENDS)('calendar store (%s)', (backend) => {
  it('records an occurrence once, each notice once, and its completion, reassignment and closing', async () => {
    catalog = await testCatalog(backend);
    const store = new CalendarStore(catalog);
    new CalendarStore(catalog);
    expect(await store.open(occurrence, '2026-12-17T08:00:00.000Z')).toMatchObject({
      status: 'open',
      owner: 'it@example.com',
      openedAt: '2026-12-17T08:00:00.000Z',
      expectedEvidence: [{ name: 'record', required: true }],
    });
    expect(await store.open({ ...occurrence, owner: 'changed' }, '2026-12-18T08:00:00.000Z')).toMatchObject({
      owner: 'it@example.com',
      openedAt: '2026-12-17T08:00:00.000Z',
    });

    const notice = {
      occurrenceId: occurrence.occurrenceId,
      at: '2026-12-24T08:00:00.000Z',
      kind: 'reminder' as const,
      actor: 'isms-worker',
      detail: 'due in 7 days',
    };
    expect(await store.event(notice)).toBe(true);
    expect(await store.event(notice)).toBe(false);
    await store.delivered(occurrence.occurrenceId, 'reminder', notice.at, ['slack']);
    await store.reassign(occurrence.occurrenceId, 'dba@example.com', 'it@example.com', '2026-12-25T08:00:00.000Z');
    await store.missed(occurrence.occurrenceId, 'NC-0001', occurrence.graceUntil);
    const done = await store.complete({
      occurrenceId: occurrence.occurrenceId,
      by: 'dba@example.com',
      performedAt: '2027-01-19T10:00:00.000Z',
      recordedAt: '2027-01-20T10:00:00.000Z',
      late: true,
      evidence: [{ name: 'record', link: 'https://wiki.example.com/review' }],
    });
    expect(done).toMatchObject({
      status: 'done',
      late: true,
      owner: 'dba@example.com',
      completedBy: 'dba@example.com',
      nonconformityId: 'NC-0001',
      closedAt: '2027-01-20T10:00:00.000Z',
    });
    expect((await store.events(occurrence.occurrenceId)).map((event) => [event.kind, event.actor, event.delivered])).toEqual([
      ['reminder', 'isms-worker', ['slack']],
      ['reassigned', 'it@example.com', []],
      ['missed', 'isms-worker', []],
      ['completed', 'dba@example.com', []],
    ]);
    expect(await store.list({ from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z' })).toHaveLength(1);
    expect(await store.list({ from: '2027-01-01T00:00:00Z' })).toHaveLength(0);
  });

  it('numbers recorded changes', async () => {
    catalog = await testCatalog(backend);
    const store = new CalendarStore(catalog);
    const record = async (title: string) =>
      await store.recordChange(
        { title, affects: ['scope'], recordedAt: '2026-11-25T10:00:00Z', recordedBy: 'me' },
        (id) => `activity:change-review-${id.toLowerCase()}:2026-12-09`,
      );
    expect((await record('New office')).id).toBe('CHG-0001');
    expect(await record('New supplier')).toMatchObject({ id: 'CHG-0002', occurrenceId: 'activity:change-review-chg-0002:2026-12-09' });
    expect((await store.changes()).map((change) => change.title)).toEqual(['New office', 'New supplier']);
  });

  it('keeps the risk register entries a change names, none when it names none', async () => {
    catalog = await testCatalog(backend);
    const store = new CalendarStore(catalog);
    const named = await store.recordChange(
      { title: 'VPN to SSO', affects: ['risk'], risks: ['R-002', 'R-007'], recordedAt: '2026-11-25T10:00:00Z', recordedBy: 'me' },
      (id) => `activity:${id}`,
    );
    await store.recordChange({ title: 'New office', affects: ['scope'], recordedAt: '2026-11-26T10:00:00Z', recordedBy: 'me' }, (id) => `activity:${id}`);
    expect(named.risks).toEqual(['R-002', 'R-007']);
    expect((await store.changes()).map((change) => [change.id, change.risks])).toEqual([
      ['CHG-0001', ['R-002', 'R-007']],
      ['CHG-0002', []],
    ]);
  });
});
