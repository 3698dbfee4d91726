import { describe, expect, it } from 'vitest';
import { trainingOverdue } from '../../checks/training-overdue.ts';
import type { HrPerson, TrainingRecord } from '../../core/records.ts';
import { daysBefore, person } from '../support/records.ts';
import { enrollment, HR_EVIDENCE, runRegisterCheck, TRAINING_EVIDENCE } from '../support/register-records.ts';
import { outcome } from './run-check.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import { join, withMapping } from '../support/joins.ts';

// AT is 2025-06-01T00:00:00Z; the required course is "Security Awareness *", 30 days from hire, valid 12 months.
const PARAMS = { courses: ['Security Awareness *'] };
const E1 = 'person:E1';
const OVERDUE = [{ subject: E1, severity: 'medium' }];
const hired = (days: number) => person({ hireDate: daysBefore(days) });

const rows: {
  name: string;
  people: HrPerson[];
  training: TrainingRecord[];
  params?: Record<string, unknown>;
  join?: AccountJoin;
  at?: Date;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'completed three months ago', people: [hired(400)], training: [enrollment()], expected: [] },
  { name: 'hired 29 days ago, not yet trained', people: [hired(29)], training: [], expected: [] },
  { name: 'hired exactly 30 days ago: still within', people: [hired(30)], training: [], expected: [] },
  { name: 'hired 30 days and a second ago', people: [hired(30 + 1 / 86_400)], training: [], expected: OVERDUE },
  { name: 'enrolled but not completed, hired long ago', people: [hired(400)], training: [enrollment({ completedAt: null })], expected: OVERDUE },
  {
    name: 'completed exactly 12 months ago: still counts',
    people: [hired(800)],
    training: [enrollment({ completedAt: '2024-06-01T00:00:00.000Z' })],
    expected: [],
  },
  {
    name: 'completed 12 months and a second ago',
    people: [hired(800)],
    training: [enrollment({ completedAt: '2024-05-31T23:59:59.000Z' })],
    expected: OVERDUE,
  },
  {
    name: 'a 29 February completion counts through 28 February the year after',
    people: [hired(800)],
    training: [enrollment({ completedAt: '2024-02-29T12:00:00.000Z' })],
    at: new Date('2025-02-28T12:00:00.000Z'),
    expected: [],
  },
  {
    name: 'the latest of several completions counts',
    people: [hired(800)],
    training: [enrollment({ completedAt: '2023-05-01T00:00:00.000Z' }), enrollment({ completedAt: '2025-01-10T00:00:00.000Z' })],
    expected: [],
  },
  {
    name: 'a completion after the evaluation time is not yet known',
    people: [hired(800)],
    training: [enrollment({ completedAt: '2025-06-02T00:00:00.000Z' })],
    expected: OVERDUE,
  },
  { name: 'no hire date and no completion: nothing to count from', people: [person()], training: [], expected: OVERDUE },
  { name: 'no hire date, a recent completion', people: [person()], training: [enrollment()], expected: [] },
  {
    name: 'a new hire whose completion from an earlier stint is old',
    people: [hired(10)],
    training: [enrollment({ completedAt: '2022-01-01T00:00:00.000Z' })],
    expected: [],
  },
  { name: 'another course does not count', people: [hired(400)], training: [enrollment({ course: 'Phishing Refresher' })], expected: OVERDUE },
  { name: 'course names match without regard to case', people: [hired(400)], training: [enrollment({ course: 'SECURITY AWARENESS 2025' })], expected: [] },
  {
    name: 'leavers are not required to train',
    people: [person({ status: 'leaver', terminationDate: daysBefore(5), hireDate: daysBefore(400) })],
    training: [],
    expected: [],
  },
  {
    name: 'joined by an HR alias',
    people: [person({ hireDate: daysBefore(400), aliases: ['jane@example.com'] })],
    training: [enrollment({ person: 'jane@example.com' })],
    expected: [],
  },
  { name: 'joined ignoring a +tag and letter case', people: [hired(400)], training: [enrollment({ person: 'e1+lms@example.com' })], expected: [] },
  {
    name: 'joined by employee id when the platform has another address',
    people: [hired(400)],
    training: [enrollment({ person: 'old-address@example.org', employeeId: 'E1' })],
    expected: [],
  },
  {
    name: 'joined by a mapping',
    people: [hired(400)],
    training: [enrollment({ person: 'e.one@partner.example' })],
    join: withMapping(join(), { 'e.one@partner.example': 'E1' }, 'employeeId'),
    expected: [],
  },
  {
    name: 'a learner HR does not know is reported, low',
    people: [hired(400)],
    training: [enrollment(), enrollment({ person: 'contractor@partner.example' })],
    expected: [{ subject: 'learner:contractor@partner.example', severity: 'low' }],
  },
  {
    name: 'unknown learners ignored when asked',
    people: [hired(400)],
    training: [enrollment(), enrollment({ person: 'contractor@partner.example' })],
    params: { unknownPeople: 'ignore' },
    expected: [],
  },
  {
    name: "an unknown learner of another course is not the check's business",
    people: [hired(400)],
    training: [enrollment(), enrollment({ person: 'x@partner.example', course: 'Forklift' })],
    expected: [],
  },
  {
    name: 'two learner rows of one unknown address are one deviation',
    people: [hired(400)],
    training: [enrollment(), enrollment({ person: 'x@partner.example' }), enrollment({ person: 'X@Partner.example', completedAt: null })],
    expected: [{ subject: 'learner:x@partner.example', severity: 'low' }],
  },
];

describe('training-overdue', () => {
  it.each(rows)('$name', ({ people, training, params, join, at, expected }) => {
    expect(
      outcome(runRegisterCheck(trainingOverdue, { people, training, params: { ...PARAMS, ...params }, ...(join ? { join } : {}), ...(at ? { at } : {}) })),
    ).toEqual(expected);
  });

  it('says when the last completion stopped counting', () => {
    const [deviation] = runRegisterCheck(trainingOverdue, {
      people: [hired(800)],
      training: [enrollment({ completedAt: '2024-03-01T10:00:00.000Z' })],
      params: PARAMS,
    });
    expect(deviation).toMatchObject({
      title: 'Required training not current: e1@example.com',
      detail:
        'e1@example.com (E1, active) last completed Security Awareness 2025 on 2024-03-01T10:00:00.000Z, which counted until 2025-03-01T10:00:00.000Z (12 months); required: Security Awareness *.',
      values: { employeeId: 'E1', lastCompletedAt: '2024-03-01T10:00:00.000Z', deadline: '2025-03-01T10:00:00.000Z' },
      evidenceIds: [HR_EVIDENCE, TRAINING_EVIDENCE],
    });
  });

  it('says when an onboarding deadline passed', () => {
    const [deviation] = runRegisterCheck(trainingOverdue, { people: [hired(45)], training: [], params: PARAMS });
    expect(deviation?.detail).toBe(
      `e1@example.com (E1, active) has not completed it; hired ${daysBefore(45)}, the deadline was ${daysBefore(15)} (30 days); required: Security Awareness *.`,
    );
    expect(deviation?.evidenceIds).toEqual([HR_EVIDENCE]);
  });

  it('refuses to pass for want of HR records', () => {
    expect(() => runRegisterCheck(trainingOverdue, { people: [], training: [enrollment()], params: PARAMS })).toThrow('no hr-person records');
  });

  it('needs the required course named', () => {
    expect(trainingOverdue.params.safeParse({}).success).toBe(false);
  });
});
