import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessChecks, leaverClock } from '../../checks/index.ts';
import { checkEvidence } from '../../checks/kit/contract.ts';
import type { EvidenceRecord } from '../../core/records.ts';
import { AT, accessKey, daysBefore, identity, leaver, person } from '../support/records.ts';

/** Something for every check to find, in two snapshots. */
function mixedEvidence(): { evidenceId: string; records: EvidenceRecord[] }[] {
  return [
    {
      evidenceId: 'ev-iam',
      records: [
        identity({ username: 'jane', email: 'jane.doe@example.com', privileged: true, mfaEnabled: false }),
        identity({ username: 'mallory', lastLoginAt: daysBefore(200) }),
        identity({ username: 'newbie', lastLoginAt: null, createdAt: daysBefore(30) }),
        identity({ username: 'svc-ci', email: null, lastLoginAt: null, credentials: [accessKey({ createdAt: daysBefore(300), lastUsedAt: daysBefore(100) })] }),
        identity({ username: '<root_account>', id: 'root', email: null, privileged: true, mfaEnabled: false, credentials: [accessKey({ id: 'AKIAROOT' })] }),
      ],
    },
    {
      evidenceId: 'ev-hr',
      records: [leaver(72, { employeeId: 'E1', email: 'jane.doe@example.com' }), person({ employeeId: 'E2', email: 'newbie@example.com' })],
    },
  ];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const ISO_REFERENCE = /^(A\.[5-8]\.\d{1,2}|(4|5|6|7|8|9|10)(\.\d+){0,2})$/;

describe('accessChecks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lists each access-control check once, with its Annex A references', () => {
    expect(accessChecks.map((check) => [check.id, check.references])).toEqual([
      ['leaver-still-active', ['A.5.18', 'A.6.5']],
      ['inactive-account', ['A.5.18', 'A.8.5']],
      ['account-never-used', ['A.5.18', 'A.8.5']],
      ['mfa-missing', ['A.8.5']],
      ['aws-root-account', ['A.8.2', 'A.8.5']],
      ['stale-credentials', ['A.5.17', 'A.8.5']],
      ['orphan-account', ['A.5.16', 'A.5.18']],
    ]);
    for (const check of accessChecks) {
      expect(check.title.length).toBeGreaterThan(0);
      for (const reference of check.references) expect(reference).toMatch(ISO_REFERENCE);
    }
  });

  it('reads HR records only where it joins accounts to people', () => {
    expect(accessChecks.filter((check) => check.inputs.includes('hr-person')).map((check) => check.id)).toEqual(['leaver-still-active', 'orphan-account']);
    for (const check of accessChecks) expect(check.inputs).toContain('identity');
  });

  it.each(accessChecks.map((check) => ({ id: check.id, check })))('$id: every param has a documented default and a misspelt param is refused', ({ check }) => {
    expect(() => check.params.parse({})).not.toThrow();
    expect(() => check.params.parse({ slaHour: 48 })).toThrow();
    for (const [name, field] of Object.entries((check.params as unknown as { shape: Record<string, { description?: string }> }).shape)) {
      expect(field.description, `${check.id}.${name}`).toMatch(/Default: /);
    }
  });

  it.each(accessChecks.map((check) => ({ id: check.id, check })))('$id: refuses params of the wrong type', ({ check }) => {
    const [first] = Object.keys((check.params as unknown as { shape: Record<string, unknown> }).shape);
    expect(() => check.params.parse({ [first as string]: { nonsense: true } })).toThrow();
  });

  it('finds what the mixed evidence holds', () => {
    const evidence = checkEvidence(mixedEvidence());
    const found = accessChecks.flatMap((check) =>
      check.evaluate(evidence, check.params.parse({}), AT).map((deviation) => `${deviation.checkId} ${deviation.subject}`),
    );
    expect(found.sort()).toEqual(
      [
        'leaver-still-active aws-iam:111122223333:jane',
        'inactive-account aws-iam:111122223333:mallory',
        'inactive-account aws-iam:111122223333:svc-ci',
        'account-never-used aws-iam:111122223333:newbie',
        'mfa-missing aws-iam:111122223333:jane',
        'mfa-missing aws-iam:111122223333:root',
        'aws-root-account aws-iam:111122223333:root:access-keys',
        'aws-root-account aws-iam:111122223333:root:mfa',
        'stale-credentials aws-iam:111122223333:svc-ci:access-key:AKIAEXAMPLE000000001',
        'orphan-account aws-iam:111122223333:mallory',
        'orphan-account aws-iam:111122223333:root',
      ].sort(),
    );
  });

  it('depends only on the evidence, the params and `at`: not the clock, and never changes the records', () => {
    const snapshots = deepFreeze(mixedEvidence());
    const evaluateAll = () => {
      const evidence = checkEvidence(snapshots);
      return { deviations: accessChecks.map((check) => check.evaluate(evidence, check.params.parse({}), AT)), clock: leaverClock(evidence, AT) };
    };
    vi.useFakeTimers({ now: new Date('2031-01-01T00:00:00Z') });
    const later = evaluateAll();
    vi.setSystemTime(new Date('2019-01-01T00:00:00Z'));
    const earlier = evaluateAll();
    expect(later).toEqual(earlier);
    expect(later.deviations.flat().length).toBeGreaterThan(0);
  });

  it('gives each deviation a subject unique within its check and the evidence it came from', () => {
    const evidence = checkEvidence(mixedEvidence());
    for (const check of accessChecks) {
      const deviations = check.evaluate(evidence, check.params.parse({}), AT);
      expect(new Set(deviations.map((deviation) => deviation.subject)).size).toBe(deviations.length);
      for (const deviation of deviations) {
        expect(deviation.checkId).toBe(check.id);
        expect(deviation.evidenceIds.length).toBeGreaterThan(0);
        expect(deviation.evidenceIds).not.toContain('unknown');
        expect(deviation.title).toContain('aws-iam');
      }
    }
  });
});

describe('record factories', () => {
  it('refuse records the schemas refuse', () => {
    expect(() => identity({ status: 'locked' as never })).toThrow();
    expect(() => identity({ lastLoginAt: '2025-06-01' })).toThrow();
    expect(() => person({ employeeId: '' })).toThrow();
    expect(() => accessKey({ createdAt: 'yesterday' })).toThrow();
  });
});
