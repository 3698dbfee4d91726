import { describe, expect, it } from 'vitest';
import { checkEvidence } from '../../checks/kit/contract.ts';
import { leaverClock, leaverStillActive } from '../../checks/leaver-still-active.ts';
import { orphanAccount } from '../../checks/orphan-account.ts';
import type { HrPerson, Identity } from '../../core/records.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import { join, withMapping } from '../support/joins.ts';
import { AT, hoursBefore, identity, leaver, person } from '../support/records.ts';
import { HR_EVIDENCE, IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const jane = (overrides: Parameters<typeof identity>[0] = {}) => identity({ username: 'jane', email: 'jane.doe@example.com', ...overrides });
const janeLeft = (hoursAgo: number, overrides: Parameters<typeof leaver>[1] = {}) =>
  leaver(hoursAgo, { employeeId: 'E1', email: 'jane.doe@example.com', ...overrides });
const JANE = 'aws-iam:111122223333:jane';

interface Row {
  name: string;
  identities: Identity[];
  people: HrPerson[];
  params?: Record<string, unknown>;
  join?: AccountJoin;
  expected: { subject: string; severity: string }[];
}

const rows: Row[] = [
  { name: 'leaver terminated 48h ago, account active', identities: [jane()], people: [janeLeft(48)], expected: [{ subject: JANE, severity: 'high' }] },
  {
    name: 'privileged account escalates to critical',
    identities: [jane({ privileged: true })],
    people: [janeLeft(48)],
    expected: [{ subject: JANE, severity: 'critical' }],
  },
  { name: 'exactly at the 24h SLA is still within it', identities: [jane()], people: [janeLeft(24)], expected: [] },
  {
    name: 'one millisecond past the SLA',
    identities: [jane()],
    people: [janeLeft(0, { terminationDate: '2025-05-30T23:59:59.999Z' })],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  { name: 'inside the SLA', identities: [jane()], people: [janeLeft(23)], expected: [] },
  {
    name: '+02:00 termination exactly 24h before a UTC evaluation time',
    identities: [jane()],
    people: [janeLeft(0, { terminationDate: '2025-05-31T02:00:00+02:00' })],
    expected: [],
  },
  {
    name: '+02:00 termination 25.5h before (23.5h if the offset were ignored)',
    identities: [jane()],
    people: [janeLeft(0, { terminationDate: '2025-05-31T00:30:00+02:00' })],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  { name: 'termination date in the future: notice period, not yet a leaver', identities: [jane()], people: [janeLeft(-48)], expected: [] },
  { name: 'leaver without a termination date cannot be judged', identities: [jane()], people: [janeLeft(0, { terminationDate: null })], expected: [] },
  {
    name: 'active HR status with a past termination date is not a leaver',
    identities: [jane()],
    people: [person({ employeeId: 'E1', email: 'jane.doe@example.com', terminationDate: hoursBefore(100) })],
    expected: [],
  },
  { name: 'suspended account', identities: [jane({ status: 'suspended' })], people: [janeLeft(48)], expected: [] },
  { name: 'disabled account', identities: [jane({ status: 'disabled' })], people: [janeLeft(48)], expected: [] },
  { name: 'deleted account', identities: [jane({ status: 'deleted' })], people: [janeLeft(48)], expected: [] },
  {
    name: 'upper-case and padded email joins',
    identities: [jane({ email: '  JANE.DOE@Example.COM ' })],
    people: [janeLeft(48)],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  {
    name: 'plus-addressed account joins by default',
    identities: [jane({ email: 'jane.doe+aws@example.com' })],
    people: [janeLeft(48)],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  {
    name: 'plus-addressed HR email joins by default',
    identities: [jane()],
    people: [janeLeft(48, { email: 'Jane.Doe+hr@example.com' })],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  {
    name: 'plus-addressing kept when the join says join.ignorePlusAddressing: false',
    identities: [jane({ email: 'jane.doe+aws@example.com' })],
    people: [janeLeft(48)],
    join: join({ ignorePlusAddressing: false }),
    expected: [],
  },
  {
    name: 'alias in another case joins',
    identities: [jane({ email: 'J.Doe@Example.com' })],
    people: [janeLeft(48, { aliases: ['j.doe@example.com'] })],
    expected: [{ subject: JANE, severity: 'high' }],
  },
  {
    name: 'username that is an email joins when the email field is null',
    identities: [identity({ username: 'Jane.Doe@example.com', id: 'jane', email: null, source: 'google-workspace', tenant: 'C01' })],
    people: [janeLeft(48)],
    expected: [{ subject: 'google-workspace:C01:jane', severity: 'high' }],
  },
  {
    name: "bare username joins only through the source's join",
    identities: [identity({ username: 'jdoe-admin', email: null })],
    people: [janeLeft(48)],
    expected: [],
  },
  {
    name: 'mapping file by username (case-insensitive)',
    identities: [identity({ username: 'JDoe-Admin', email: null })],
    people: [janeLeft(48)],
    join: withMapping(join(), { 'jdoe-admin': 'jane.doe@example.com' }),
    expected: [{ subject: 'aws-iam:111122223333:JDoe-Admin', severity: 'high' }],
  },
  {
    name: 'username template',
    identities: [identity({ username: 'jane.doe', email: null })],
    people: [janeLeft(48)],
    join: join({ template: '{username}@example.com' }),
    expected: [{ subject: 'aws-iam:111122223333:jane.doe', severity: 'high' }],
  },
  {
    name: 'tag holding the employee id',
    identities: [identity({ username: 'jdoe', email: null, raw: { tags: [{ Key: 'employee-id', Value: 'E1' }] } })],
    people: [janeLeft(48)],
    join: join({ tag: { key: 'employee-id', matches: 'employeeId' } }),
    expected: [{ subject: 'aws-iam:111122223333:jdoe', severity: 'high' }],
  },
  {
    name: "a mapping file entry overrides the template that names the leaver: the account is a current employee's",
    identities: [identity({ username: 'jane.doe', email: null })],
    people: [janeLeft(48), person({ employeeId: 'E2', email: 'jane.smith@example.com' })],
    join: withMapping(join({ template: '{username}@example.com' }), { 'jane.doe': 'jane.smith@example.com' }),
    expected: [],
  },
  {
    name: 'rehired under a new employee id: the account belongs to a current employee',
    identities: [jane()],
    people: [janeLeft(2000), person({ employeeId: 'E9', email: 'jane.doe@example.com' })],
    expected: [],
  },
  { name: 'slaHours 72: 48h is within', identities: [jane()], people: [janeLeft(48)], params: { slaHours: 72 }, expected: [] },
  {
    name: 'slaHours 72: 73h is beyond',
    identities: [jane()],
    people: [janeLeft(73)],
    params: { slaHours: 72 },
    expected: [{ subject: JANE, severity: 'high' }],
  },
  { name: 'account of someone else', identities: [identity({ username: 'bob' })], people: [janeLeft(48)], expected: [] },
  {
    name: 'one leaver, accounts in two systems: one deviation each',
    identities: [
      jane(),
      jane({ source: 'entra-id', tenant: 'contoso', id: '7f3e' }),
      jane({ source: 'github', tenant: 'acme', id: '99', status: 'suspended' }),
    ],
    people: [janeLeft(48)],
    expected: [
      { subject: JANE, severity: 'high' },
      { subject: 'entra-id:contoso:7f3e', severity: 'high' },
    ],
  },
];

describe('leaver-still-active', () => {
  it.each(rows)('$name', ({ identities, people, params, join: rules, expected }) => {
    expect(outcome(runCheck(leaverStillActive, { identities, people, params, join: rules }))).toEqual(expected);
  });

  it("refuses the per-check mappings that moved to the source's join, saying where they went", () => {
    const refused = leaverStillActive.params.safeParse({ mappings: { E1: ['jdoe-admin'] }, ignorePlusAddressing: false, slaHour: 4 });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((issue) => issue.message)).toEqual([
      "mappings: moved to the source's join: list the exceptions in a CSV file (account,email) named by join.mappingFile on the source or connector instance; " +
        "ignorePlusAddressing: moved to the source's join: join.ignorePlusAddressing on the source or connector instance; unrecognized: slaHour",
    ]);
    expect(orphanAccount.params.safeParse({ mappings: {} }).error?.issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/^mappings: moved to the source's join/),
    ]);
  });

  it('names the system, account and person, with the values and the evidence that triggered it', () => {
    const [deviation, ...rest] = runCheck(leaverStillActive, {
      identities: [jane({ email: 'Jane.Doe+aws@example.com', privileged: true })],
      people: [janeLeft(50.5)],
    });
    expect(rest).toEqual([]);
    expect(deviation).toEqual({
      checkId: 'leaver-still-active',
      subject: JANE,
      title: "Leaver's account still active: jane in aws-iam (111122223333)",
      severity: 'critical',
      detail:
        'jane in aws-iam (111122223333) belongs to leaver E1 (jane.doe@example.com), terminated 2025-05-29T21:30:00.000Z, and is still active 50 hours later, beyond the 24-hour revocation SLA.',
      values: {
        system: 'aws-iam',
        tenant: '111122223333',
        accountId: 'jane',
        account: 'jane',
        email: 'Jane.Doe+aws@example.com',
        status: 'active',
        privileged: true,
        lastLoginAt: '2025-05-31T00:00:00.000Z',
        employeeId: 'E1',
        personEmail: 'jane.doe@example.com',
        terminationDate: '2025-05-29T21:30:00.000Z',
        hoursSinceTermination: 50.5,
        slaHours: 24,
        matchedBy: 'email',
        joinedBy: 'email',
      },
      evidenceIds: [IDENTITY_EVIDENCE, HR_EVIDENCE],
    });
  });

  it('reports how the account was joined', () => {
    const byAlias = runCheck(leaverStillActive, { identities: [jane({ email: 'jd@example.com' })], people: [janeLeft(48, { aliases: ['JD@example.com'] })] });
    const byMapping = runCheck(leaverStillActive, {
      identities: [identity({ username: 'jdoe-admin', email: null })],
      people: [janeLeft(48)],
      join: withMapping(join(), { 'jdoe-admin': 'jane.doe@example.com' }, 'email', 'joins/aws.csv'),
    });
    expect(byAlias.map((d) => [d.values['matchedBy'], d.values['joinedBy']])).toEqual([['email', 'email (an HR alias)']]);
    expect(byMapping.map((d) => [d.values['matchedBy'], d.values['joinedBy']])).toEqual([['mapping', 'mapping file joins/aws.csv']]);
  });

  it('gives one deviation for a person listed by two HR sources, on the earlier termination, citing both', () => {
    const account = jane();
    const fromBamboo = janeLeft(30);
    const fromWorkday = janeLeft(80, { source: 'workday' });
    const evidence = checkEvidence([
      { evidenceId: 'ev-iam', records: [account] },
      { evidenceId: 'ev-bamboo', records: [fromBamboo] },
      { evidenceId: 'ev-workday', records: [fromWorkday] },
    ]);
    const deviations = leaverStillActive.evaluate(evidence, leaverStillActive.params.parse({}), AT);
    expect(deviations).toHaveLength(1);
    expect(deviations[0]?.values['hoursSinceTermination']).toBe(80);
    expect(deviations[0]?.evidenceIds).toEqual(['ev-iam', 'ev-bamboo', 'ev-workday']);
  });

  it('gives the same subject on every run', () => {
    const first = runCheck(leaverStillActive, { identities: [jane()], people: [janeLeft(48)] });
    const later = runCheck(leaverStillActive, { identities: [jane({ lastLoginAt: null })], people: [janeLeft(500)], at: new Date('2025-06-20T00:00:00Z') });
    expect(later.map((d) => d.subject)).toEqual(first.map((d) => d.subject));
  });
});

describe('leaverClock', () => {
  const clockOf = (identities: Identity[], people: HrPerson[], at = AT, rules?: AccountJoin) =>
    leaverClock(checkEvidence([{ evidenceId: 'ev', records: [...identities, ...people], join: rules }]), at);

  it('lists each matched account of each leaver, revoked or not, with the hours since termination', () => {
    const entries = clockOf(
      [
        jane(),
        jane({ source: 'entra-id', tenant: 'contoso', id: '7f3e', status: 'disabled' }),
        jane({ source: 'github', tenant: 'acme', id: '9', status: 'deleted' }),
      ],
      [janeLeft(36)],
    );
    expect(entries).toEqual([
      {
        employeeId: 'E1',
        system: 'aws-iam',
        tenant: '111122223333',
        account: 'jane',
        terminationDate: hoursBefore(36),
        active: true,
        hoursSinceTermination: 36,
      },
      { employeeId: 'E1', system: 'entra-id', tenant: 'contoso', account: 'jane', terminationDate: hoursBefore(36), active: false, hoursSinceTermination: 36 },
      { employeeId: 'E1', system: 'github', tenant: 'acme', account: 'jane', terminationDate: hoursBefore(36), active: false, hoursSinceTermination: 36 },
    ]);
  });

  it('reports accounts inside the SLA too (the clock is running)', () => {
    expect(clockOf([jane()], [janeLeft(2)]).map((entry) => [entry.active, entry.hoursSinceTermination])).toEqual([[true, 2]]);
  });

  it('reads a +02:00 termination date on the UTC clock', () => {
    const [entry] = clockOf([jane()], [janeLeft(0, { terminationDate: '2025-05-31T00:30:00+02:00' })]);
    expect(entry?.hoursSinceTermination).toBe(25.5);
  });

  it('leaves out current employees, future leavers, leavers without a date and leavers with no account', () => {
    const entries = clockOf(
      [jane(), identity({ username: 'bob' }), identity({ username: 'carol' })],
      [
        person({ employeeId: 'E2', email: 'bob@example.com' }),
        leaver(-24, { employeeId: 'E3', email: 'carol@example.com' }),
        leaver(0, { employeeId: 'E4', email: 'dave@example.com', terminationDate: null }),
        leaver(48, { employeeId: 'E5', email: 'erin@example.com' }),
      ],
    );
    expect(entries).toEqual([]);
  });

  it("joins by the source's join", () => {
    const admin = identity({ username: 'jdoe-admin', email: null });
    expect(clockOf([admin], [janeLeft(48)])).toEqual([]);
    expect(clockOf([admin], [janeLeft(48)], AT, withMapping(join(), { 'jdoe-admin': 'jane.doe@example.com' })).map((entry) => entry.account)).toEqual([
      'jdoe-admin',
    ]);
  });

  it('needs nothing but the evidence and the moment: the same input gives the same clock', () => {
    const records = [jane(), janeLeft(48)];
    const evidence = checkEvidence([{ evidenceId: 'ev', records }]);
    expect(leaverClock(evidence, AT)).toEqual(leaverClock(evidence, new Date(AT.getTime())));
    expect(leaverClock(evidence, new Date(AT.getTime() + 3_600_000))[0]?.hoursSinceTermination).toBe(49);
  });
});
