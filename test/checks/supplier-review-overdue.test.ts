import { describe, expect, it } from 'vitest';
import { supplierReviewOverdue } from '../../checks/supplier-review-overdue.ts';
import { runRegisterCheck, supplier } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

const rows: {
  name: string;
  lastReview: string | null;
  criticality?: 'critical' | 'high' | 'medium' | 'low';
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'reviewed last month', lastReview: '2025-05-01', expected: [] },
  { name: 'due today: on time', lastReview: '2024-06-01', expected: [] },
  { name: 'due yesterday, critical: high', lastReview: '2024-05-31', expected: [{ subject: 'supplier:CloudHost', severity: 'high' }] },
  { name: 'due yesterday, high: medium', lastReview: '2024-05-31', criticality: 'high', expected: [{ subject: 'supplier:CloudHost', severity: 'medium' }] },
  { name: 'never reviewed', lastReview: null, criticality: 'low', expected: [{ subject: 'supplier:CloudHost', severity: 'medium' }] },
];

describe('supplier-review-overdue', () => {
  it.each(rows)('$name', ({ lastReview, criticality, expected }) => {
    expect(outcome(runRegisterCheck(supplierReviewOverdue, { suppliers: [supplier({ lastReview, ...(criticality ? { criticality } : {}) })] }))).toEqual(
      expected,
    );
  });

  it('names the supplier, its criticality and how late the review is', () => {
    const [deviation] = runRegisterCheck(supplierReviewOverdue, { suppliers: [supplier({ lastReview: '2024-05-01' })] });
    expect(deviation).toMatchObject({
      title: 'Supplier review overdue: CloudHost',
      values: { supplier: 'CloudHost', criticality: 'critical', reviewDue: '2025-05-01', daysLate: 31 },
    });
  });
});
