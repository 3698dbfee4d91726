import { describe, expect, it } from 'vitest';
import { riskReviewOverdue } from '../../checks/risk-review-overdue.ts';
import { AT } from '../support/records.ts';
import { RISK_EVIDENCE, risk, runRegisterCheck } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

// AT is 2025-06-01T00:00:00Z; the register's days are UTC days here.
const rows: {
  name: string;
  lastReview: string | null;
  reviewEvery?: string;
  params?: Record<string, unknown>;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'reviewed last month, yearly', lastReview: '2025-05-01', expected: [] },
  { name: 'due today (2024-12-01 + 6 months): on time through the due day', lastReview: '2024-12-01', reviewEvery: '6 months', expected: [] },
  { name: 'due yesterday: late from the first instant of today', lastReview: '2024-05-31', expected: [{ subject: 'risk:R-1', severity: 'medium' }] },
  { name: 'due long ago', lastReview: '2023-01-10', expected: [{ subject: 'risk:R-1', severity: 'medium' }] },
  { name: 'no last review is late: nothing shows the risk was ever assessed', lastReview: null, expected: [{ subject: 'risk:R-1', severity: 'medium' }] },
  { name: '90-day interval, due in two days', lastReview: '2025-03-05', reviewEvery: '90 days', expected: [] },
  { name: 'due yesterday with one day of grace', lastReview: '2024-05-31', params: { graceDays: 1 }, expected: [] },
  {
    name: 'due two days ago with one day of grace',
    lastReview: '2024-05-30',
    params: { graceDays: 1 },
    expected: [{ subject: 'risk:R-1', severity: 'medium' }],
  },
];

describe('risk-review-overdue', () => {
  it.each(rows)('$name', ({ lastReview, reviewEvery, params, expected }) => {
    expect(outcome(runRegisterCheck(riskReviewOverdue, { risks: [risk({ lastReview, reviewEvery })], params }))).toEqual(expected);
  });

  it('says how late the review is and carries the review values', () => {
    const [deviation] = runRegisterCheck(riskReviewOverdue, { risks: [risk({ lastReview: '2024-05-30' })] });
    expect(deviation).toMatchObject({
      checkId: 'risk-review-overdue',
      title: 'Risk review overdue: R-1 Unpatched shop front',
      detail: `Risk R-1 (owner owner@example.com): the review due on 2025-05-30 (every 1 year) is 2 day(s) late at ${AT.toISOString()}.`,
      values: { risk: 'R-1', owner: 'owner@example.com', lastReviewAt: '2024-05-30T00:00:00.000Z', reviewDue: '2025-05-30', daysLate: 2, graceDays: 0 },
      evidenceIds: [RISK_EVIDENCE],
    });
  });

  it('calls a risk with no review "never reviewed"', () => {
    const [deviation] = runRegisterCheck(riskReviewOverdue, { risks: [risk({ lastReview: null })] });
    expect(deviation).toMatchObject({ title: 'Risk never reviewed: R-1 Unpatched shop front', values: { daysLate: null, reviewDue: null } });
  });
});
