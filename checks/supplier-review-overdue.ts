import { defineCheck, type CheckDeviation } from './kit/contract.ts';
import { ReviewParams, reviewLapse } from './kit/reviews.ts';

export const supplierReviewOverdue = defineCheck({
  id: 'supplier-review-overdue',
  title: 'Suppliers are reviewed at planned intervals',
  references: ['A.5.19', 'A.5.22'],
  inputs: ['supplier'],
  params: ReviewParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    return evidence.records('supplier').flatMap((supplier) => {
      const lapse = reviewLapse(supplier, at, params.graceDays);
      if (lapse === undefined) return [];
      return [
        {
          subject: `supplier:${supplier.name}`,
          title: lapse.daysLate === null ? `Supplier never reviewed: ${supplier.name}` : `Supplier review overdue: ${supplier.name}`,
          // A critical supplier's service or data is one the organisation cannot do without.
          severity: supplier.criticality === 'critical' ? ('high' as const) : ('medium' as const),
          detail: `Supplier ${supplier.name} (${supplier.criticality}, owner ${supplier.owner ?? 'none'}): ${lapse.detail} at ${at.toISOString()}.`,
          values: { supplier: supplier.name, criticality: supplier.criticality, owner: supplier.owner, ...lapse.values },
          evidenceIds: [evidence.evidenceIdOf(supplier)],
        },
      ];
    });
  },
});
