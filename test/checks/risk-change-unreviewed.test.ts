import { describe, expect, it } from 'vitest';
import type { IsmsChange } from '../../checks/kit/context.ts';
import { riskChangeUnreviewed } from '../../checks/risk-change-unreviewed.ts';
import { ismsChange, RISK_EVIDENCE, risk, runRegisterCheck } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

// AT is 2025-06-01T00:00:00Z. Changes are recorded at 10:00 UTC unless said otherwise.
const SUBJECT = 'change:CHG-0001:risk:R-1';

const rows: {
  name: string;
  change: Partial<IsmsChange>;
  lastReview: string | null;
  params?: Record<string, unknown>;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'the named risk was reviewed after the change', change: { recordedAt: '2025-05-01T10:00:00.000Z' }, lastReview: '2025-05-10', expected: [] },
  { name: 'reviewed on the day of the change: counts', change: { recordedAt: '2025-05-01T10:00:00.000Z' }, lastReview: '2025-05-01', expected: [] },
  {
    name: 'last reviewed the day before the change',
    change: { recordedAt: '2025-05-01T10:00:00.000Z' },
    lastReview: '2025-04-30',
    expected: [{ subject: SUBJECT, severity: 'medium' }],
  },
  { name: 'never reviewed', change: { recordedAt: '2025-05-01T10:00:00.000Z' }, lastReview: null, expected: [{ subject: SUBJECT, severity: 'medium' }] },
  {
    name: 'its review is not due yet (recorded 10 days ago, 14 days to review)',
    change: { recordedAt: '2025-05-22T00:00:00.000Z' },
    lastReview: '2025-01-01',
    expected: [],
  },
  { name: 'exactly at the 14th day: still in time', change: { recordedAt: '2025-05-18T00:00:00.000Z' }, lastReview: '2025-01-01', expected: [] },
  {
    name: 'one second past the 14 days',
    change: { recordedAt: '2025-05-17T23:59:59.000Z' },
    lastReview: '2025-01-01',
    expected: [{ subject: SUBJECT, severity: 'medium' }],
  },
  {
    name: 'a shorter window',
    change: { recordedAt: '2025-05-22T00:00:00.000Z' },
    lastReview: '2025-01-01',
    params: { reviewWithinDays: 7 },
    expected: [{ subject: SUBJECT, severity: 'medium' }],
  },
  {
    name: "the change review's own due date rules when known",
    change: { recordedAt: '2025-04-01T10:00:00.000Z', reviewDue: '2025-06-15T07:00:00.000Z' },
    lastReview: '2025-01-01',
    expected: [],
  },
  {
    name: 'a change that does not affect risk',
    change: { affects: ['scope'], recordedAt: '2025-04-01T10:00:00.000Z' },
    lastReview: '2025-01-01',
    expected: [],
  },
  { name: 'a change affecting risk that names no risk', change: { risks: [], recordedAt: '2025-04-01T10:00:00.000Z' }, lastReview: '2025-01-01', expected: [] },
  {
    name: 'a named risk the register does not hold',
    change: { risks: ['R-1', 'R-9'], recordedAt: '2025-04-01T10:00:00.000Z' },
    lastReview: '2025-05-01',
    expected: [{ subject: 'change:CHG-0001:risk:R-9', severity: 'medium' }],
  },
];

describe('risk-change-unreviewed', () => {
  it.each(rows)('$name', ({ change, lastReview, params, expected }) => {
    const deviations = runRegisterCheck(riskChangeUnreviewed, { risks: [risk({ lastReview })], context: { 'isms-change': [ismsChange(change)] }, params });
    expect(outcome(deviations)).toEqual(expected);
  });

  it("names the change, its review due and the risk's last review", () => {
    const [deviation] = runRegisterCheck(riskChangeUnreviewed, { risks: [risk({ lastReview: '2025-03-01' })], context: { 'isms-change': [ismsChange()] } });
    expect(deviation).toMatchObject({
      title: 'Risk R-1 not reviewed after change CHG-0001',
      values: {
        change: 'CHG-0001',
        recordedAt: '2025-05-01T10:00:00.000Z',
        reviewDue: '2025-05-15T10:00:00.000Z',
        risk: 'R-1',
        lastReviewAt: '2025-03-01T00:00:00.000Z',
      },
      evidenceIds: [RISK_EVIDENCE],
    });
  });

  it('says that the register lacks a risk a change names', () => {
    const [deviation] = runRegisterCheck(riskChangeUnreviewed, { risks: [], context: { 'isms-change': [ismsChange({ risks: ['R-9'] })] } });
    expect(deviation).toMatchObject({ title: 'Change CHG-0001 names a risk the register does not hold: R-9', evidenceIds: [] });
  });
});
