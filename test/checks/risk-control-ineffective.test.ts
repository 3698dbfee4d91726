import { describe, expect, it } from 'vitest';
import type { ControlStatus } from '../../checks/kit/context.ts';
import { riskControlIneffective } from '../../checks/risk-control-ineffective.ts';
import type { RiskTreatment } from '../../core/records.ts';
import { controlStatus, risk, runRegisterCheck } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

const passing = controlStatus();
const failing = controlStatus({ controlId: 'scans', status: 'fail' });

const rows: {
  name: string;
  statuses: ControlStatus[];
  controls?: string[];
  treatment?: RiskTreatment;
  params?: Record<string, unknown>;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'its control passed its latest run', statuses: [passing], expected: [] },
  { name: 'its control failed', statuses: [controlStatus({ status: 'fail' })], expected: [{ subject: 'risk:R-1:A.8.8', severity: 'high' }] },
  { name: 'one control for it fails, another passes: failing', statuses: [passing, failing], expected: [{ subject: 'risk:R-1:A.8.8', severity: 'high' }] },
  {
    name: 'no configured control gives evidence for it',
    statuses: [controlStatus({ references: ['A.5.18'] })],
    expected: [{ subject: 'risk:R-1:A.8.8', severity: 'medium' }],
  },
  {
    name: 'its control never ran',
    statuses: [controlStatus({ status: null, evaluatedAt: null, runId: null })],
    expected: [{ subject: 'risk:R-1:A.8.8', severity: 'medium' }],
  },
  {
    name: 'its control ended in an evidence gap',
    statuses: [controlStatus({ status: 'error' })],
    expected: [{ subject: 'risk:R-1:A.8.8', severity: 'medium' }],
  },
  { name: 'a gap in one control, a pass in another', statuses: [controlStatus({ status: 'error' }), controlStatus({ controlId: 'scans' })], expected: [] },
  { name: 'each of its controls judged', statuses: [passing], controls: ['A.8.8', 'A.8.13'], expected: [{ subject: 'risk:R-1:A.8.13', severity: 'medium' }] },
  { name: 'a risk with no controls', statuses: [], controls: [], expected: [] },
  { name: 'an avoided risk has nothing left to control', statuses: [controlStatus({ status: 'fail' })], treatment: 'avoid', expected: [] },
  {
    name: 'a pass older than maxStatusAgeDays is no evidence',
    statuses: [controlStatus({ evaluatedAt: '2025-04-29T23:59:59.000Z' })],
    params: { maxStatusAgeDays: 32 },
    expected: [{ subject: 'risk:R-1:A.8.8', severity: 'medium' }],
  },
  {
    name: 'a pass exactly maxStatusAgeDays old still counts',
    statuses: [controlStatus({ evaluatedAt: '2025-04-30T00:00:00.000Z' })],
    params: { maxStatusAgeDays: 32 },
    expected: [],
  },
  {
    name: 'a stale failure is no evidence either way',
    statuses: [controlStatus({ status: 'fail', evaluatedAt: '2025-01-01T00:00:00.000Z' })],
    params: { maxStatusAgeDays: 32 },
    expected: [{ subject: 'risk:R-1:A.8.8', severity: 'medium' }],
  },
];

describe('risk-control-ineffective', () => {
  it.each(rows)('$name', ({ statuses, controls, treatment, params, expected }) => {
    const risks = [risk({ ...(controls ? { controls } : {}), ...(treatment ? { treatment } : {}) })];
    expect(outcome(runRegisterCheck(riskControlIneffective, { risks, context: { 'control-status': statuses }, params }))).toEqual(expected);
  });

  it('names the failing control and its run', () => {
    const [deviation] = runRegisterCheck(riskControlIneffective, { risks: [risk()], context: { 'control-status': [passing, failing] } });
    expect(deviation).toMatchObject({
      title: 'Risk R-1 is treated by a failing control: A.8.8',
      detail: 'Risk R-1 (Unpatched shop front, residual score 8) relies on A.8.8; scans failed its latest run (2025-05-31T06:00:00.000Z).',
      values: {
        risk: 'R-1',
        control: 'A.8.8',
        controls: [
          { controlId: 'vulnerability-management', status: 'pass', evaluatedAt: '2025-05-31T06:00:00.000Z', runId: 'control:vulnerability-management:1' },
          { controlId: 'scans', status: 'fail', evaluatedAt: '2025-05-31T06:00:00.000Z', runId: 'control:vulnerability-management:1' },
        ],
      },
    });
  });

  it('says why there is no evidence', () => {
    const [never] = runRegisterCheck(riskControlIneffective, {
      risks: [risk()],
      context: { 'control-status': [controlStatus({ status: null, evaluatedAt: null, runId: null })] },
    });
    expect(never?.detail).toBe(
      'Risk R-1 (Unpatched shop front, residual score 8) relies on A.8.8, but of the controls giving evidence for A.8.8, vulnerability-management never ran.',
    );
    const [none] = runRegisterCheck(riskControlIneffective, { risks: [risk()], context: { 'control-status': [] } });
    expect(none?.detail).toBe('Risk R-1 (Unpatched shop front, residual score 8) relies on A.8.8, but no configured control gives evidence for A.8.8.');
  });

  it('refuses to judge without the control statuses rather than pass', () => {
    expect(() => runRegisterCheck(riskControlIneffective, { risks: [risk()] })).toThrow('no control-status context was supplied to this evaluation');
  });

  it('declares the context it reads', () => {
    expect(riskControlIneffective.context).toEqual(['control-status']);
  });
});
