import { describe, expect, it } from 'vitest';
import { riskAcceptanceMissing } from '../../checks/risk-acceptance-missing.ts';
import type { RiskTreatment } from '../../core/records.ts';
import { risk, runRegisterCheck } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

const rows: {
  name: string;
  treatment: RiskTreatment;
  acceptance: { by: string | null; on: string | null } | null;
  params?: Record<string, unknown>;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'accepted, by whom and when', treatment: 'accept', acceptance: { by: 'ceo@example.com', on: '2025-01-10' }, expected: [] },
  { name: 'accepted without any acceptance', treatment: 'accept', acceptance: null, expected: [{ subject: 'risk:R-1', severity: 'high' }] },
  {
    name: 'accepted on a day, by nobody',
    treatment: 'accept',
    acceptance: { by: null, on: '2025-01-10' },
    expected: [{ subject: 'risk:R-1', severity: 'high' }],
  },
  {
    name: 'acceptance without a date',
    treatment: 'accept',
    acceptance: { by: 'ceo@example.com', on: null },
    expected: [{ subject: 'risk:R-1', severity: 'medium' }],
  },
  { name: 'mitigated risks need no acceptance by default', treatment: 'mitigate', acceptance: null, expected: [] },
  {
    name: 'every residual risk accepted, when asked',
    treatment: 'mitigate',
    acceptance: null,
    params: { treatments: ['accept', 'mitigate'] },
    expected: [{ subject: 'risk:R-1', severity: 'high' }],
  },
];

describe('risk-acceptance-missing', () => {
  it.each(rows)('$name', ({ treatment, acceptance, params, expected }) => {
    expect(outcome(runRegisterCheck(riskAcceptanceMissing, { risks: [risk({ treatment, acceptance })], params }))).toEqual(expected);
  });

  it('tells a missing acceptor from a missing date', () => {
    const [anonymous] = runRegisterCheck(riskAcceptanceMissing, { risks: [risk({ treatment: 'accept', acceptance: null })] });
    const [undated] = runRegisterCheck(riskAcceptanceMissing, { risks: [risk({ treatment: 'accept', acceptance: { by: 'ceo@example.com', on: null } })] });
    expect(anonymous?.title).toBe('Risk accepted without an acceptor: R-1 Unpatched shop front');
    expect(undated?.title).toBe('Risk acceptance without a date: R-1 Unpatched shop front');
    expect(undated?.values).toMatchObject({ acceptedBy: 'ceo@example.com', acceptedOn: null, treatment: 'accept' });
  });
});
