import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkEvidence, daysBetween, defineCheck, epochMillis } from '../../checks/kit/contract.ts';
import { identity, person } from '../support/records.ts';

describe('checkEvidence', () => {
  const jane = identity({ username: 'jane' });
  const bob = identity({ username: 'bob' });
  const hr = person({ employeeId: 'E1' });
  const snapshots = [
    { evidenceId: 'ev-iam', records: [jane] },
    { evidenceId: 'ev-hr', records: [hr] },
    { evidenceId: 'ev-google', records: [bob] },
  ];

  it('gives the same array for every request of a kind, so checks can memoize by it', () => {
    const evidence = checkEvidence(snapshots);
    expect(evidence.records('identity')).toBe(evidence.records('identity'));
    expect(evidence.records('hr-person')).toBe(evidence.records('hr-person'));
    expect(evidence.records('finding')).toBe(evidence.records('finding'));
    expect(evidence.records('identity')).toEqual([jane, bob]);
    expect(evidence.records('finding')).toEqual([]);
  });

  it('gives another evidence arrays of its own', () => {
    const first = checkEvidence(snapshots);
    const second = checkEvidence(snapshots);
    expect(second.records('identity')).not.toBe(first.records('identity'));
    expect(second.records('finding')).not.toBe(first.records('finding'));
    expect(second.records('identity')).toEqual(first.records('identity'));
  });

  it('keeps records of one kind in snapshot order when snapshots mix kinds', () => {
    const carol = identity({ username: 'carol' });
    const evidence = checkEvidence([
      { evidenceId: 'ev-a', records: [jane, hr, bob] },
      { evidenceId: 'ev-b', records: [carol] },
    ]);
    expect(evidence.records('identity')).toEqual([jane, bob, carol]);
    expect(evidence.records('hr-person')).toEqual([hr]);
    expect([jane, hr, bob, carol].map((record) => evidence.evidenceIdOf(record))).toEqual(['ev-a', 'ev-a', 'ev-a', 'ev-b']);
  });

  it('hands a check the catalog context it was given, and refuses a kind it was not', () => {
    const statuses = [
      { controlId: 'backups', references: ['A.8.13'], status: 'pass' as const, evaluatedAt: '2025-05-31T06:00:00.000Z', runId: 'control:backups:1' },
    ];
    const evidence = checkEvidence(snapshots, { 'control-status': statuses });
    expect(evidence.context('control-status')).toBe(statuses);
    expect(() => evidence.context('isms-change')).toThrow('no isms-change context was supplied to this evaluation');
    expect(() => checkEvidence(snapshots).context('control-status')).toThrow('no control-status context');
  });

  it('names the evidence that holds a record, and "unknown" for a record it does not hold', () => {
    const evidence = checkEvidence(snapshots);
    expect(evidence.evidenceIdOf(jane)).toBe('ev-iam');
    expect(evidence.evidenceIdOf(hr)).toBe('ev-hr');
    expect(evidence.evidenceIdOf(bob)).toBe('ev-google');
    expect(evidence.evidenceIdOf(identity({ username: 'jane' }))).toBe('unknown');
  });
});

describe('defineCheck', () => {
  it('stamps the check id on every deviation its evaluate returns', () => {
    const check = defineCheck({
      id: 'every-identity',
      title: 'Every identity deviates',
      references: ['A.5.16'],
      inputs: ['identity'],
      params: z.strictObject({}),
      evaluate: (evidence) =>
        evidence
          .records('identity')
          .map((record) => ({ subject: record.username, title: 't', severity: 'low' as const, detail: '', values: {}, evidenceIds: [] })),
    });
    const deviations = check.evaluate(
      checkEvidence([{ evidenceId: 'ev', records: [identity({ username: 'a' }), identity({ username: 'b' })] }]),
      {},
      new Date(),
    );
    expect(deviations.map(({ checkId, subject }) => ({ checkId, subject }))).toEqual([
      { checkId: 'every-identity', subject: 'a' },
      { checkId: 'every-identity', subject: 'b' },
    ]);
  });
});

describe('epochMillis', () => {
  it.each([
    '2025-06-01T00:00:00.000Z',
    '2025-06-01T12:34:56.789Z',
    '2025-06-01T12:34:56Z',
    '1969-12-31T23:59:59.999Z',
    '1970-01-01T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '0050-03-01T00:00:00Z',
    '1600-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-02-31T00:00:00Z',
    '2025-04-31T23:59:59.999Z',
    '9999-12-31T23:59:59.999Z',
    // Everything below is not the form the fast path reads: Date.parse decides.
    '2025-06-01T00:00:00.000+02:00',
    '2025-06-01T00:00:00.5Z',
    '2025-06-01T00:00:00.123456Z',
    '2025-06-01t00:00:00z',
    '2025-06-01T24:00:00Z',
    '2025-06-01T23:60:00Z',
    '2025-06-01T23:59:60Z',
    '2025-13-01T00:00:00Z',
    '2025-00-01T00:00:00Z',
    '2025-06-00T00:00:00Z',
    '2025-06-32T00:00:00Z',
    '2025-0a-01T00:00:00Z',
    '2025-06-01 00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '2025-06-01',
    'not a date',
    '',
  ])('%s as Date.parse reads it', (moment) => {
    expect(epochMillis(moment)).toBe(Date.parse(moment));
  });

  it('agrees with Date.parse on every day of every month, past the month end too, across leap years and centuries', () => {
    const disagreements: string[] = [];
    for (const year of [1, 99, 100, 1582, 1600, 1700, 1899, 1900, 1969, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          for (const time of ['00:00:00.000', '13:07:59.001', '23:59:59.999', '06:30:00']) {
            const moment = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${time}Z`;
            if (!Object.is(epochMillis(moment), Date.parse(moment))) disagreements.push(moment);
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('reads a Date by its time value', () => {
    const at = new Date('2025-06-01T00:00:00.000Z');
    expect(epochMillis(at)).toBe(at.getTime());
    expect(epochMillis(new Date(Number.NaN))).toBeNaN();
  });
});

describe('daysBetween', () => {
  it.each([
    { from: '2025-05-31T00:00:00.000Z', to: new Date('2025-06-01T00:00:00.000Z'), expected: 1 },
    { from: new Date('2025-06-01T00:00:00.000Z'), to: '2025-06-01T12:00:00Z', expected: 0.5 },
    { from: '2025-06-02T00:00:00+02:00', to: '2025-06-01T00:00:00Z', expected: -(22 / 24) },
    { from: 'never', to: '2025-06-01T00:00:00Z', expected: Number.NaN },
  ])('$from to $to is $expected days', ({ from, to, expected }) => {
    expect(daysBetween(from, to)).toBe(expected);
  });
});
