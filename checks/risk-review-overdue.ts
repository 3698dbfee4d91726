import { defineCheck, type CheckDeviation } from './kit/contract.ts';
import { ReviewParams, reviewLapse } from './kit/reviews.ts';

export const riskReviewOverdue = defineCheck({
  id: 'risk-review-overdue',
  title: 'Risks are reviewed at planned intervals',
  references: ['6.1.2', '8.2'],
  inputs: ['risk'],
  params: ReviewParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    return evidence.records('risk').flatMap((risk) => {
      const lapse = reviewLapse(risk, at, params.graceDays);
      if (lapse === undefined) return [];
      return [
        {
          subject: `risk:${risk.id}`,
          title: lapse.daysLate === null ? `Risk never reviewed: ${risk.id} ${risk.title}` : `Risk review overdue: ${risk.id} ${risk.title}`,
          severity: 'medium' as const,
          detail: `Risk ${risk.id} (owner ${risk.owner ?? 'none'}): ${lapse.detail} at ${at.toISOString()}.`,
          values: { risk: risk.id, owner: risk.owner, residualScore: risk.residualScore, ...lapse.values },
          evidenceIds: [evidence.evidenceIdOf(risk)],
        },
      ];
    });
  },
});
