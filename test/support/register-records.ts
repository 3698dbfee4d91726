import type { z } from 'zod';
import { checkEvidence, type AnyCheck, type EvidenceSnapshot } from '../../checks/kit/contract.ts';
import { Deviation } from '../../core/check-results.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import { ControlStatus, IsmsChange, type CheckContext } from '../../checks/kit/context.ts';
import { addDays, parseLocalDate, parseSpan } from '../../core/calendar-occurrences.ts';
import { startOfDay } from '../../connectors/dates.ts';
import { reviewSchedule } from '../../connectors/register-file.ts';
import { Risk, Supplier, TrainingRecord, type HrPerson } from '../../core/records.ts';
import { AT } from './records.ts';

/**
 * Factories for the register records and the catalog context, for the register checks' table tests. Records go
 * through their zod schemas; review dates go through the connectors' own review arithmetic (UTC days).
 */

function day(text: string) {
  const date = parseLocalDate(text);
  if (!date) throw new Error(`not a date: ${text}`);
  return date;
}

/** The review fields of an entry last reviewed on `lastReview` (null: never), every `every`. */
export function reviewed(lastReview: string | null, every = '1 year') {
  return reviewSchedule(lastReview === null ? null : day(lastReview), parseSpan(every)!, 'UTC');
}

type RiskOverrides = Partial<z.input<typeof Risk>> & { lastReview?: string | null; reviewEvery?: string };

/** A mitigated risk, reviewed a month before AT, treated by A.8.8. */
export function risk({ lastReview = '2025-05-01', reviewEvery = '1 year', ...overrides }: RiskOverrides = {}): Risk {
  return Risk.parse({
    kind: 'risk',
    source: 'risk-register',
    id: 'R-1',
    title: 'Unpatched shop front',
    owner: 'owner@example.com',
    asset: 'shop',
    likelihood: 4,
    impact: 4,
    inherentScore: 16,
    residualLikelihood: 2,
    residualImpact: 4,
    residualScore: 8,
    treatment: 'mitigate',
    controls: ['A.8.8'],
    acceptance: null,
    ...reviewed(lastReview, reviewEvery),
    ...overrides,
  });
}

type SupplierOverrides = Partial<z.input<typeof Supplier>> & { lastReview?: string | null; reviewEvery?: string };

/** A critical hosting supplier, reviewed a month before AT, without certificates. */
export function supplier({ lastReview = '2025-05-01', reviewEvery = '1 year', ...overrides }: SupplierOverrides = {}): Supplier {
  return Supplier.parse({
    kind: 'supplier',
    source: 'supplier-register',
    name: 'CloudHost',
    service: 'hosting',
    data: ['customer PII'],
    criticality: 'critical',
    owner: 'owner@example.com',
    certificates: [],
    ...reviewed(lastReview, reviewEvery),
    ...overrides,
  });
}

/** A certificate valid through `validUntil` (UTC days). */
export function certificate(name: string, validUntil: string) {
  return { name, validUntil, expiresAt: startOfDay(addDays(day(validUntil), 1), 'UTC') };
}

/** A completed enrollment in the required course. */
export function enrollment(overrides: Partial<z.input<typeof TrainingRecord>> = {}): TrainingRecord {
  return TrainingRecord.parse({
    kind: 'training-record',
    source: 'training-csv',
    person: 'e1@example.com',
    employeeId: null,
    displayName: null,
    course: 'Security Awareness 2025',
    assignedAt: null,
    completedAt: '2025-03-01T10:00:00.000Z',
    status: 'Passed',
    ...overrides,
  });
}

export function controlStatus(overrides: Partial<ControlStatus> = {}): ControlStatus {
  return ControlStatus.parse({
    controlId: 'vulnerability-management',
    references: ['A.8.8'],
    status: 'pass',
    evaluatedAt: '2025-05-31T06:00:00.000Z',
    runId: 'control:vulnerability-management:1',
    ...overrides,
  });
}

export function ismsChange(overrides: Partial<IsmsChange> = {}): IsmsChange {
  return IsmsChange.parse({
    id: 'CHG-0001',
    title: 'New VPN',
    affects: ['risk'],
    risks: ['R-1'],
    recordedAt: '2025-05-01T10:00:00.000Z',
    reviewDue: null,
    ...overrides,
  });
}

export const RISK_EVIDENCE = 'ev-risks';
export const SUPPLIER_EVIDENCE = 'ev-suppliers';
export const TRAINING_EVIDENCE = 'ev-training';
export const HR_EVIDENCE = 'ev-hr';

export interface RegisterCheckInput {
  risks?: readonly Risk[];
  suppliers?: readonly Supplier[];
  training?: readonly TrainingRecord[];
  people?: readonly HrPerson[];
  context?: CheckContext;
  params?: Record<string, unknown>;
  at?: Date;
  /** The training source's join; the default join by email when absent. */
  join?: AccountJoin;
}

/** Evaluates a check as the worker does: params through its schema, each kind from its own snapshot, the context as given. */
export function runRegisterCheck(
  check: AnyCheck,
  { risks = [], suppliers = [], training = [], people = [], context = {}, params = {}, at = AT, join }: RegisterCheckInput,
): Deviation[] {
  const snapshots: EvidenceSnapshot[] = [
    { evidenceId: RISK_EVIDENCE, records: risks },
    { evidenceId: SUPPLIER_EVIDENCE, records: suppliers },
    { evidenceId: TRAINING_EVIDENCE, records: training, join },
    { evidenceId: HR_EVIDENCE, records: people },
  ];
  return check.evaluate(checkEvidence(snapshots, context), check.params.parse(params), at).map((deviation) => Deviation.parse(deviation));
}
