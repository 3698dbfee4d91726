import { z } from 'zod';
import { RiskTreatment } from '../core/records.ts';
import { defineCheck, type CheckDeviation } from './kit/contract.ts';

export const RiskAcceptanceParams = z.strictObject({
  treatments: z
    .array(RiskTreatment)
    .min(1)
    .default(['accept'])
    .describe('Treatments whose risks need a recorded acceptance (who and when). Default: accept. Add the others to hold every residual risk to 6.1.3 f.'),
});

export const riskAcceptanceMissing = defineCheck({
  id: 'risk-acceptance-missing',
  title: 'Accepted risks record who accepted them and when',
  references: ['6.1.3', '8.3'],
  inputs: ['risk'],
  params: RiskAcceptanceParams,
  evaluate(evidence, params): CheckDeviation[] {
    const needed = new Set(params.treatments);
    return evidence.records('risk').flatMap((risk) => {
      if (!needed.has(risk.treatment)) return [];
      const acceptance = risk.acceptance;
      if (acceptance !== null && acceptance.by !== null && acceptance.on !== null) return [];
      const anonymous = acceptance === null || acceptance.by === null;
      return [
        {
          subject: `risk:${risk.id}`,
          title: anonymous ? `Risk accepted without an acceptor: ${risk.id} ${risk.title}` : `Risk acceptance without a date: ${risk.id} ${risk.title}`,
          // Nobody answerable for a risk is worse than not knowing since when someone is.
          severity: anonymous ? ('high' as const) : ('medium' as const),
          detail: anonymous
            ? `Risk ${risk.id} is treated by "${risk.treatment}" (residual score ${risk.residualScore}) but the register names nobody who accepted it.`
            : `Risk ${risk.id} is treated by "${risk.treatment}" and accepted by ${acceptance.by}, but the register does not say when.`,
          values: {
            risk: risk.id,
            owner: risk.owner,
            treatment: risk.treatment,
            residualScore: risk.residualScore,
            acceptedBy: acceptance?.by ?? null,
            acceptedOn: acceptance?.on ?? null,
          },
          evidenceIds: [evidence.evidenceIdOf(risk)],
        },
      ];
    });
  },
});
