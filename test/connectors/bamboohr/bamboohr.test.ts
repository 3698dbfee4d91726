import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { bambooHr, HEARTBEAT_EVERY_EMPLOYEES } from '../../../connectors/bamboohr/index.ts';
import { REPORT_FIELDS } from '../../../connectors/bamboohr/mapping.ts';
import { MalformedResponseError, NotFoundError, PermissionError, ThrottledError, UnavailableError } from '../../../connectors/errors.ts';
import { HrPerson, type HrPerson as HrPersonRecord } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { startFakeBambooHr, type FakeBambooHr, type FakeEmployee } from '../../support/fake-bamboohr.ts';

const API_KEY = 'b7c1e0f4a9d24c55e3f1a0b2c4d6e8f0a1b3c5d7';
const SUBDOMAIN = 'acme';
const employees = JSON.parse(readFileSync(new URL('../../fixtures/hr/bamboohr-employees.json', import.meta.url), 'utf8')) as FakeEmployee[];

let fake: FakeBambooHr;

beforeAll(async () => {
  fake = await startFakeBambooHr({ subdomain: SUBDOMAIN, apiKey: API_KEY, employees });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.faults.clear();
  fake.quirks = {};
  fake.employees = employees;
  fake.requests.length = 0;
});

function configFor(overrides: Record<string, unknown> = {}) {
  return bambooHr.config.parse({
    subdomain: SUBDOMAIN,
    apiKey: { env: 'BAMBOOHR_API_KEY' },
    baseUrl: fake.baseUrl,
    retryBaseDelayMs: 1,
    ...overrides,
  });
}

function contextFor(overrides: Parameters<typeof testContext>[0] = {}) {
  return testContext({ env: { BAMBOOHR_API_KEY: API_KEY }, ...overrides });
}

async function pull(overrides: Record<string, unknown> = {}, context = contextFor()) {
  const records = await collectAll(bambooHr.collect(configFor(overrides), context.ctx));
  return { records, ...context };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the pull to fail');
  return error;
}

describe('bamboohr connector', () => {
  it('asks for the custom report over every employee exactly as BambooHR expects', async () => {
    await pull();
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/api/gateway.php/${SUBDOMAIN}/v1/reports/custom`);
    expect(request?.query).toEqual({ format: 'JSON', onlyCurrent: 'false' });
    expect(request?.accept).toBe('application/json');
    expect(request?.contentType).toBe('application/json');
    expect(request?.authorization).toBe(`Basic ${Buffer.from(`${API_KEY}:x`).toString('base64')}`);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      title: 'isms-worker leavers',
      fields: [
        'id',
        'employeeNumber',
        'firstName',
        'lastName',
        'displayName',
        'workEmail',
        'homeEmail',
        'status',
        'employmentHistoryStatus',
        'terminationDate',
        'hireDate',
        'supervisorEmail',
        'lastChanged',
      ],
    });
  });

  it('maps every field, in employee id order, and warns about inactive employees without a termination date', async () => {
    const { records, warnings, provenance } = await pull();
    const expected: HrPersonRecord[] = [
      {
        kind: 'hr-person',
        source: 'bamboohr',
        employeeId: '7',
        email: 'ana.silva@example.com',
        aliases: [],
        displayName: 'Ana Silva',
        status: 'active',
        terminationDate: null,
        lastWorkingDay: null,
        manager: null,
        hireDate: '2019-06-17T00:00:00.000Z',
        raw: { employeeNumber: '1007', employmentHistoryStatus: 'Full-Time', hireDate: '2019-06-17', lastChanged: '2025-01-08T09:00:00+00:00' },
      },
      {
        kind: 'hr-person',
        source: 'bamboohr',
        employeeId: '40',
        email: 'maja.lindqvist@example.com',
        aliases: ['maja.l@mailbox.example'],
        displayName: 'Maja Lindqvist',
        status: 'leaver',
        terminationDate: '2026-09-30T00:00:00.000Z',
        lastWorkingDay: null,
        manager: 'ana.silva@example.com',
        hireDate: '2021-03-01T00:00:00.000Z',
        raw: { employeeNumber: '1040', employmentHistoryStatus: 'Terminated', hireDate: '2021-03-01', lastChanged: '2026-09-30T16:12:44+00:00' },
      },
      {
        kind: 'hr-person',
        source: 'bamboohr',
        employeeId: '88',
        email: 'priya.raman@example.com',
        aliases: [],
        displayName: 'Priya Raman',
        status: 'active',
        terminationDate: '2026-11-10T00:00:00.000Z',
        lastWorkingDay: null,
        manager: 'maja.lindqvist@example.com',
        hireDate: '2022-09-12T00:00:00.000Z',
        raw: { employeeNumber: '1088', employmentHistoryStatus: 'Full-Time', hireDate: '2022-09-12', lastChanged: '2026-10-20T11:00:00+00:00' },
      },
      {
        kind: 'hr-person',
        source: 'bamboohr',
        employeeId: '91',
        email: null,
        aliases: [],
        displayName: 'Kenji Tanaka',
        status: 'leaver',
        terminationDate: null,
        lastWorkingDay: null,
        manager: null,
        hireDate: null,
        raw: { employeeNumber: '1091', employmentHistoryStatus: 'Terminated', hireDate: null, lastChanged: null },
      },
      {
        kind: 'hr-person',
        source: 'bamboohr',
        employeeId: '123',
        email: 'jean.dupont@example.com',
        aliases: [],
        displayName: 'Jean Dupont',
        status: 'leaver',
        terminationDate: null,
        lastWorkingDay: null,
        manager: 'ana.silva@example.com',
        hireDate: '2024-02-05T00:00:00.000Z',
        raw: { employeeNumber: null, employmentHistoryStatus: 'Contractor', hireDate: '2024-02-05', lastChanged: '2026-10-02T08:30:00+00:00' },
      },
    ];
    expect(records).toEqual(expected);
    for (const record of records) expect(HrPerson.parse(record)).toEqual(record);
    expect(warnings).toEqual([
      'bamboohr: 2 inactive employee(s) have no termination date, so no revocation deadline can be checked for them: employee id 91, 123',
    ]);
    expect(provenance).toEqual({
      api: 'BambooHR custom report',
      endpoint: `${fake.baseUrl}/${SUBDOMAIN}/v1/reports/custom?format=JSON&onlyCurrent=false`,
      fields: [...REPORT_FIELDS],
      employees: 5,
      retries: 0,
      throttledWaitMs: 0,
      timezone: 'UTC',
    });
  });

  it('turns a termination date into the start of that day in the configured zone', async () => {
    const { records } = await pull({ timezone: 'Australia/Sydney' });
    expect(records.find((record) => record.employeeId === '40')?.terminationDate).toBe('2026-09-29T14:00:00.000Z');
    expect(records.find((record) => record.employeeId === '88')?.terminationDate).toBe('2026-11-09T13:00:00.000Z');
  });

  it('keeps extra fields under raw and warns when BambooHR leaves a requested one out', async () => {
    fake.quirks = { hiddenFields: ['jobTitle'] };
    const { records, warnings } = await pull({ fields: ['department', 'jobTitle'] });
    expect(JSON.parse(fake.requests[0]?.body ?? '').fields.slice(-2)).toEqual(['department', 'jobTitle']);
    expect(records.find((record) => record.employeeId === '40')?.raw).toMatchObject({ department: 'Engineering', jobTitle: null });
    expect(warnings).toContain('bamboohr: reports/custom: the report left out the requested field(s) jobTitle');
  });

  it('refuses an extra field BambooHR does not know as a configuration fault', async () => {
    const error = await failure(pull({ fields: ['favouriteColour'] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'bamboohr: reports/custom: HTTP 400: BambooHR refused the report request; check the extra `fields` (Invalid field: "favouriteColour")',
    );
  });

  it('warns, and dates no leaver, when the API user may not see termination dates', async () => {
    fake.quirks = { hiddenFields: ['terminationDate'] };
    const { records, warnings } = await pull();
    expect(records.every((record) => record.terminationDate === null)).toBe(true);
    expect(warnings).toContain(
      'bamboohr: reports/custom: the report has no terminationDate field (the API user may not see it): no leaver carries a termination date',
    );
  });

  it('fails with a PermissionError when the API user may not see employment status', async () => {
    fake.quirks = { hiddenFields: ['status'] };
    const error = await failure(pull());
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('the report has no status field');
  });

  it('leaves a wait longer than maxRetryDelayMs to the retry of the whole pull', async () => {
    fake.faults.inject({ kind: 'throttle', retryAfter: '300' });
    const error = await failure(pull({ maxRetryDelayMs: 60_000 }));
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterMs).toBe(300_000);
    expect(fake.requests).toHaveLength(1);
  });

  describe('faults', () => {
    it('fails with a NotFoundError for an unknown company', async () => {
      const error = await failure(pull({ subdomain: 'no-such-company' }));
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.message).toContain('no BambooHR company "no-such-company"');
    });

    it('fails with an UnavailableError when BambooHR cannot be reached', async () => {
      const gone = await startFakeBambooHr({ subdomain: SUBDOMAIN, apiKey: API_KEY, employees });
      await gone.close();
      const error = await failure(pull({ baseUrl: gone.baseUrl, maxRetries: 0 }));
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error.message).toMatch(/^bamboohr: reports\/custom: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
    });

    it.each([
      ['an unknown status', { status: 'Terminated' }, 'field employees[3].status: Invalid option: expected one of "Active"|"Inactive"'],
      ['a missing status', { status: null }, 'field employees[3].status: Invalid option: expected one of "Active"|"Inactive"'],
      [
        'an impossible termination date',
        { terminationDate: '2026-02-30' },
        'field employees[3].terminationDate: expected a date as YYYY-MM-DD or "0000-00-00", got "2026-02-30"',
      ],
      [
        'a termination date in another format',
        { terminationDate: '09/30/2026' },
        'field employees[3].terminationDate: expected a date as YYYY-MM-DD or "0000-00-00", got "09/30/2026"',
      ],
      ['a non-numeric id', { id: 'abc' }, 'field employees[3].id: expected the employee id as a string of digits'],
    ])('names the field of %s', async (_case, change, message) => {
      fake.employees = employees.map((employee, index) => (index === 3 ? ({ ...employee, ...change } as FakeEmployee) : employee));
      const error = await failure(pull());
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(error.message).toBe(`bamboohr: reports/custom: ${message}`);
    });

    it('refuses a report naming one employee twice', async () => {
      fake.employees = [...employees, { ...employees[0], id: '40' } as FakeEmployee];
      const error = await failure(pull());
      expect(error.message).toBe('bamboohr: reports/custom: field employees[5].id: employee id "40" is also employees[0]');
    });
  });

  describe('resume', () => {
    const many: FakeEmployee[] = Array.from(
      { length: 2_500 },
      (_, index) =>
        ({
          ...employees[1],
          id: String(2_500 - index),
          workEmail: `person${2_500 - index}@example.com`,
        }) as FakeEmployee,
    );

    it('heartbeats the last employee id every 1,000 employees', async () => {
      fake.employees = many;
      const { records, heartbeats } = await pull();
      expect(HEARTBEAT_EVERY_EMPLOYEES).toBe(1_000);
      expect(records).toHaveLength(2_500);
      expect(heartbeats).toEqual(['1000', '2000']);
    });

    it('resumes after the employee id of the cursor', async () => {
      fake.employees = many;
      const { records, heartbeats, provenance } = await pull({}, contextFor({ resumeCursor: '1000' }));
      expect(records).toHaveLength(1_500);
      expect(records[0]?.employeeId).toBe('1001');
      expect(records.at(-1)?.employeeId).toBe('2500');
      expect(heartbeats).toEqual(['2000']);
      expect(provenance.resumedAfterEmployeeId).toBe('1000');
    });

    it('refuses a cursor that is not an employee id', async () => {
      const error = await failure(pull({}, contextFor({ resumeCursor: 'page-2' })));
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('the API key', () => {
    const encoded = Buffer.from(`${API_KEY}:x`).toString('base64');

    function leaks(text: string): boolean {
      return text.includes(API_KEY) || text.includes(encoded);
    }

    it.each([
      ['a throttled answer that echoes it', 'throttle'],
      ['a forbidden answer that echoes it', 'permission'],
    ] as const)('never reaches an error, even from %s', async (_case, kind) => {
      fake.quirks = { echoCredentials: true };
      fake.faults.inject({ kind, retryAfter: '0', times: 5 });
      const context = contextFor();
      const error = await failure(pull({ maxRetries: 1 }, context));
      expect(fake.requests[0]?.authorization).toContain(encoded);
      expect(error.message).toContain('[redacted]');
      expect(leaks(`${error.message} ${String(error.stack)} ${JSON.stringify(error)}`)).toBe(false);
      expect(leaks(JSON.stringify({ provenance: context.provenance, warnings: context.warnings, logLines: context.logLines }))).toBe(false);
    });
  });
});
