import { z } from 'zod';
import { addMonthsClamped } from '../core/calendar-occurrences.ts';
import type { HrPerson, TrainingRecord } from '../core/records.ts';
import { DAY_MS, defineCheck, epochMillis, type CheckDeviation } from './kit/contract.ts';
import { patternMatcher } from './kit/patterns.ts';
import { indexPeople, normalizeEmail } from './kit/people.ts';

export const TrainingParams = z.object({
  courses: z
    .array(z.string().trim().min(1))
    .min(1)
    .describe(
      'The required course: completing any course named here counts. `*` stands for any run of characters ("Security Awareness *"); matched without regard to case.',
    ),
  withinDaysOfHire: z
    .number()
    .int()
    .nonnegative()
    .default(30)
    .describe('Days from the start of the hire day within which a new employee completes the course; exactly this many days is within. Default: 30.'),
  validForMonths: z.number().int().positive().default(12).describe('Months a completion counts for; exactly this long after it is still within. Default: 12.'),
  unknownPeople: z
    .enum(['report', 'ignore'])
    .default('report')
    .describe(
      'Learners no HR person joins to (by employee id, email, alias or mapping): report them (low severity, so the platform or HR is corrected) or ignore them. Default: report.',
    ),
});
export type TrainingParams = z.infer<typeof TrainingParams>;

/** An instant plus whole calendar months in UTC, clamped to the month's end (Jan 31 + 1 month is Feb 28), time of day kept. */
function addMonths(millis: number, months: number): number {
  const moment = new Date(millis);
  const startOfDay = Date.UTC(moment.getUTCFullYear(), moment.getUTCMonth(), moment.getUTCDate());
  const date = addMonthsClamped({ year: moment.getUTCFullYear(), month: moment.getUTCMonth() + 1, day: moment.getUTCDate() }, months);
  return Date.UTC(date.year, date.month - 1, date.day) + (millis - startOfDay);
}

function iso(millis: number): string {
  return new Date(millis).toISOString();
}

export const trainingOverdue = defineCheck({
  id: 'training-overdue',
  title: 'Employees complete the required training after hire and every year',
  references: ['A.6.3', '7.2', '7.3'],
  inputs: ['training-record', 'hr-person'],
  params: TrainingParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const people = evidence.records('hr-person');
    // Without HR nobody is required to train, and the check would pass for want of people: fail closed.
    if (people.length === 0) throw new Error('no hr-person records: training-overdue needs an HR source in the control');
    const now = at.getTime();
    const isRequired = patternMatcher(params.courses);
    const index = indexPeople(people);
    const byEmployeeId = new Map<string, HrPerson[]>();
    for (const person of people) {
      const list = byEmployeeId.get(person.employeeId);
      if (list) list.push(person);
      else byEmployeeId.set(person.employeeId, [person]);
    }

    const lastCompletion = new Map<HrPerson, TrainingRecord>();
    const unknown = new Map<string, TrainingRecord[]>();
    for (const record of evidence.records('training-record')) {
      if (!isRequired(record.course)) continue;
      const matched =
        (record.employeeId === null ? undefined : byEmployeeId.get(record.employeeId)) ??
        index.matchesOfAddress(record.person, evidence.joinOf(record)).map((match) => match.person);
      if (matched.length === 0) {
        const key = normalizeEmail(record.person, evidence.joinOf(record)) ?? record.person;
        const list = unknown.get(key);
        if (list) list.push(record);
        else unknown.set(key, [record]);
        continue;
      }
      // A completion after the evaluation time is not known at that time.
      if (record.completedAt === null || epochMillis(record.completedAt) > now) continue;
      for (const person of matched) {
        const known = lastCompletion.get(person);
        if (known === undefined || epochMillis(record.completedAt) > epochMillis(known.completedAt!)) lastCompletion.set(person, record);
      }
    }

    const deviations: CheckDeviation[] = [];
    for (const person of people) {
      if (person.status !== 'active') continue;
      const completion = lastCompletion.get(person);
      const hireDate = person.hireDate ?? null;
      const onboardingDeadline = hireDate === null ? null : epochMillis(hireDate) + params.withinDaysOfHire * DAY_MS;
      const renewalDeadline = completion === undefined ? null : addMonths(epochMillis(completion.completedAt!), params.validForMonths);
      const deadlines = [onboardingDeadline, renewalDeadline].filter((deadline) => deadline !== null);
      const deadline = deadlines.length === 0 ? null : Math.max(...deadlines);
      if (deadline !== null && now <= deadline) continue;
      const name = person.displayName ?? person.email ?? person.employeeId;
      const why =
        completion !== undefined
          ? `last completed ${completion.course} on ${completion.completedAt}, which counted until ${iso(renewalDeadline!)} (${params.validForMonths} months)`
          : hireDate !== null
            ? `has not completed it; hired ${hireDate}, the deadline was ${iso(onboardingDeadline!)} (${params.withinDaysOfHire} days)`
            : 'has not completed it, and HR gives no hire date to count an onboarding deadline from';
      deviations.push({
        subject: `person:${person.employeeId}`,
        title: `Required training not current: ${name}`,
        severity: 'medium',
        detail: `${name} (${person.employeeId}, active) ${why}; required: ${params.courses.join(' or ')}.`,
        values: {
          employeeId: person.employeeId,
          email: person.email,
          hireDate,
          lastCompletedAt: completion?.completedAt ?? null,
          lastCourse: completion?.course ?? null,
          deadline: deadline === null ? null : iso(deadline),
          courses: params.courses,
        },
        evidenceIds: [...new Set([evidence.evidenceIdOf(person), ...(completion ? [evidence.evidenceIdOf(completion)] : [])])],
      });
    }

    if (params.unknownPeople === 'report') {
      for (const [address, records] of unknown) {
        deviations.push({
          subject: `learner:${address}`,
          title: `Training records of someone HR does not know: ${address}`,
          severity: 'low',
          detail: `${records.length} record(s) of the required course for ${address}, whom no HR person joins to by employee id, email, alias or mapping: correct the platform or HR, or map the address.`,
          values: {
            learner: address,
            employeeIds: [...new Set(records.map((record) => record.employeeId).filter((id) => id !== null))],
            records: records.length,
          },
          evidenceIds: [...new Set(records.map((record) => evidence.evidenceIdOf(record)))],
        });
      }
    }
    return deviations;
  },
});
