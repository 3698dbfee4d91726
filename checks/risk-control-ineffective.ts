import { z } from 'zod';
import type { ControlStatus } from './kit/context.ts';
import { DAY_MS, defineCheck, epochMillis, type CheckDeviation } from './kit/contract.ts';

export const RiskControlParams = z.strictObject({
  maxStatusAgeDays: z
    .number()
    .positive()
    .optional()
    .describe('A control run older than this many days is no evidence that the control works now. Default: any age counts.'),
});

type Verdict = { kind: 'failing'; controls: ControlStatus[] } | { kind: 'no-evidence'; why: string };

/**
 * How the controls that give evidence for one Annex A control stand: failing if any of them failed its latest run;
 * else working if any passed; else no evidence (none configured, none run, only errors or stale runs).
 */
function verdictOf(annexControl: string, implementers: readonly ControlStatus[], at: Date, maxAgeDays: number | undefined): Verdict | undefined {
  if (implementers.length === 0) return { kind: 'no-evidence', why: `no configured control gives evidence for ${annexControl}` };
  const current = implementers.filter(
    (status) => maxAgeDays === undefined || (status.evaluatedAt !== null && (at.getTime() - epochMillis(status.evaluatedAt)) / DAY_MS <= maxAgeDays),
  );
  const failing = current.filter((status) => status.status === 'fail');
  if (failing.length > 0) return { kind: 'failing', controls: failing };
  if (current.some((status) => status.status === 'pass')) return undefined;
  const described = implementers.map(
    (status) =>
      `${status.controlId} ${status.status === null ? 'never ran' : current.includes(status) ? `ended in ${status.status}` : `last ran ${status.evaluatedAt}`}`,
  );
  return { kind: 'no-evidence', why: `of the controls giving evidence for ${annexControl}, ${described.join(', ')}` };
}

export const riskControlIneffective = defineCheck({
  id: 'risk-control-ineffective',
  title: 'The controls that treat a risk are working',
  references: ['6.1.3', '8.3', '9.1'],
  inputs: ['risk'],
  context: ['control-status'],
  params: RiskControlParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const statuses = evidence.context('control-status');
    const byReference = new Map<string, ControlStatus[]>();
    for (const status of statuses) {
      for (const reference of status.references) {
        const list = byReference.get(reference);
        if (list) list.push(status);
        else byReference.set(reference, [status]);
      }
    }
    const deviations: CheckDeviation[] = [];
    for (const risk of evidence.records('risk')) {
      // An avoided risk has no activity left to control.
      if (risk.treatment === 'avoid') continue;
      for (const annexControl of risk.controls) {
        const verdict = verdictOf(annexControl, byReference.get(annexControl) ?? [], at, params.maxStatusAgeDays);
        if (verdict === undefined) continue;
        const failing = verdict.kind === 'failing';
        deviations.push({
          subject: `risk:${risk.id}:${annexControl}`,
          title: failing
            ? `Risk ${risk.id} is treated by a failing control: ${annexControl}`
            : `Risk ${risk.id} is treated by a control without evidence: ${annexControl}`,
          // A failing control means the residual rating is not what the register says; no evidence means nobody knows.
          severity: failing ? 'high' : 'medium',
          detail: failing
            ? `Risk ${risk.id} (${risk.title}, residual score ${risk.residualScore}) relies on ${annexControl}; ${verdict.controls.map((status) => `${status.controlId} failed its latest run (${status.evaluatedAt})`).join(', ')}.`
            : `Risk ${risk.id} (${risk.title}, residual score ${risk.residualScore}) relies on ${annexControl}, but ${verdict.why}.`,
          values: {
            risk: risk.id,
            control: annexControl,
            treatment: risk.treatment,
            residualScore: risk.residualScore,
            controls: (byReference.get(annexControl) ?? []).map(({ controlId, status, evaluatedAt, runId }) => ({ controlId, status, evaluatedAt, runId })),
          },
          evidenceIds: [evidence.evidenceIdOf(risk)],
        });
      }
    }
    return deviations;
  },
});
