import { z } from 'zod';
import type { Risk } from '../core/records.ts';
import { DAY_MS, defineCheck, epochMillis, type CheckDeviation } from './kit/contract.ts';

export const RiskChangeParams = z.strictObject({
  reviewWithinDays: z
    .number()
    .int()
    .positive()
    .default(14)
    .describe(
      "Days after a change is recorded by which the risks it names must be reviewed, when the catalog holds no due date for the change's review. Default: 14.",
    ),
});

export const riskChangeUnreviewed = defineCheck({
  id: 'risk-change-unreviewed',
  title: 'Risks a change affects are reviewed after the change',
  references: ['6.3', '8.2'],
  inputs: ['risk'],
  context: ['isms-change'],
  params: RiskChangeParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const risks = new Map<string, Risk>(evidence.records('risk').map((risk) => [risk.id, risk]));
    const deviations: CheckDeviation[] = [];
    for (const change of evidence.context('isms-change')) {
      if (!change.affects.includes('risk')) continue;
      const recorded = epochMillis(change.recordedAt);
      const due = change.reviewDue ?? new Date(recorded + params.reviewWithinDays * DAY_MS).toISOString();
      if (at.getTime() <= epochMillis(due)) continue;
      for (const riskId of change.risks) {
        const risk = risks.get(riskId);
        // A review is recorded by its day: one on the day of the change counts, since the day ends after the change.
        const reviewedSince = risk?.lastReviewAt != null && epochMillis(risk.lastReviewAt) + DAY_MS > recorded;
        if (reviewedSince) continue;
        deviations.push({
          subject: `change:${change.id}:risk:${riskId}`,
          title:
            risk === undefined
              ? `Change ${change.id} names a risk the register does not hold: ${riskId}`
              : `Risk ${riskId} not reviewed after change ${change.id}`,
          severity: 'medium',
          detail:
            risk === undefined
              ? `Change ${change.id} (${change.title}, recorded ${change.recordedAt}) affects risk ${riskId}, which is not in the risk register: the register was not updated for the change.`
              : `Change ${change.id} (${change.title}, recorded ${change.recordedAt}, review due ${due}) affects risk ${riskId}, whose last review is ${risk.lastReviewAt ?? 'not recorded'}.`,
          values: {
            change: change.id,
            changeTitle: change.title,
            recordedAt: change.recordedAt,
            reviewDue: due,
            risk: riskId,
            lastReviewAt: risk?.lastReviewAt ?? null,
          },
          evidenceIds: risk === undefined ? [] : [evidence.evidenceIdOf(risk)],
        });
      }
    }
    return deviations;
  },
});
