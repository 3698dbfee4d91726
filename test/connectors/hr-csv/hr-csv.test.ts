import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError, NotFoundError } from '../../../connectors/errors.ts';
import { HEARTBEAT_EVERY_ROWS, hrCsv } from '../../../connectors/hr-csv/index.ts';
import { HrPerson, type HrPerson as HrPersonRecord } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/hr/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/hr/', import.meta.url));

const HEADER = 'id,email,aliases,name,status,terminated,last day,manager';
const COLUMNS = {
  employeeId: 'id',
  email: 'email',
  aliases: 'aliases',
  displayName: 'name',
  status: 'status',
  terminationDate: 'terminated',
  lastWorkingDay: 'last day',
  manager: 'manager',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hr-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let written = 0;
async function exportFile(content: string | Buffer): Promise<string> {
  written += 1;
  const name = `export-${written}.csv`;
  await writeFile(join(dir, name), content);
  return name;
}

async function pull(content: string | Buffer, config: Record<string, unknown> = {}, context = testContext({ baseDir: dir })) {
  const path = await exportFile(content);
  const parsed = hrCsv.config.parse({ path, columns: COLUMNS, ...config });
  const records = await collectAll(hrCsv.collect(parsed, context.ctx));
  return { records, path, ...context };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the pull to fail');
  return error;
}

const rows = (...lines: string[]) => [HEADER, ...lines].join('\n') + '\n';

describe('hr-csv mapping', () => {
  it.each<[string, string | Buffer, Record<string, unknown>, Partial<HrPersonRecord>[]]>([
    [
      'a UTF-8 byte order mark before a quoted header',
      `\uFEFF"id","email","aliases","name","status","terminated","last day","manager"\n1,a@example.com,,A,active,,,\n`,
      {},
      [{ employeeId: '1', email: 'a@example.com' }],
    ],
    [
      'a quoted name holding a comma and a line break',
      rows('1,a@example.com,,"Dupont,\nJean",active,,,', '2,b@example.com,,B,active,,,'),
      {},
      [
        { displayName: 'Dupont,\nJean', raw: { line: 2, cells: expect.any(Object) } },
        { employeeId: '2', raw: { line: 4, cells: expect.any(Object) } },
      ],
    ],
    ['doubled quotes inside a quoted field', rows('1,a@example.com,,"Tanaka ""Ken"" Kenji",active,,,'), {}, [{ displayName: 'Tanaka "Ken" Kenji' }]],
    [
      'aliases split on semicolons, commas and spaces, lower-cased, without repeats or the primary address',
      rows('1,a@example.com,"b@example.com; C@Example.com,d@example.com  e@example.com;;b@example.com A@EXAMPLE.com",A,active,,,'),
      {},
      [{ aliases: ['b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'] }],
    ],
    ['a login among the aliases', rows('1,a@example.com,JDUPONT,A,active,,,'), {}, [{ aliases: ['jdupont'] }]],
    [
      'upper-case, padded addresses',
      rows('1, Ana.Silva@Example.COM ,,A,active,,,BEN.Hartley@Example.com', '2,b@example.com,,B,active,,,E-1001'),
      {},
      [{ email: 'ana.silva@example.com', manager: 'ben.hartley@example.com' }, { manager: 'E-1001' }],
    ],
    [
      'empty optional cells',
      rows('1,,,,active,,,'),
      {},
      [{ email: null, aliases: [], displayName: null, terminationDate: null, lastWorkingDay: null, manager: null }],
    ],
    [
      'statuses in any case and padding',
      rows(
        '1,a@example.com,,A,TERMINATED,2026-09-30,,',
        '2,b@example.com,,B, On Leave ,,,',
        '3,c@example.com,,C,Onboarding,,,',
        '4,d@example.com,,D,Left,2026-09-01,,',
      ),
      {},
      [{ status: 'leaver' }, { status: 'active' }, { status: 'active' }, { status: 'leaver' }],
    ],
    [
      'an active person with a termination date still ahead',
      rows('1,a@example.com,,A,active,2026-11-10,2026-11-09,'),
      {},
      [{ status: 'active', terminationDate: '2026-11-10T00:00:00.000Z', lastWorkingDay: '2026-11-09T00:00:00.000Z' }],
    ],
    [
      'iso dates',
      rows('1,a@example.com,,A,terminated,2026-09-30,2026-09-29,'),
      {},
      [{ terminationDate: '2026-09-30T00:00:00.000Z', lastWorkingDay: '2026-09-29T00:00:00.000Z' }],
    ],
    [
      'iso timestamps, kept as the instant they name',
      rows('1,a@example.com,,A,terminated,2026-09-30T17:30:00+02:00,,'),
      {},
      [{ terminationDate: '2026-09-30T15:30:00.000Z' }],
    ],
    [
      'dd/mm/yyyy dates',
      rows('1,a@example.com,,A,terminated,30/09/2026,1/9/2026,'),
      { dateFormat: 'dd/mm/yyyy' },
      [{ terminationDate: '2026-09-30T00:00:00.000Z', lastWorkingDay: '2026-09-01T00:00:00.000Z' }],
    ],
    [
      'mm/dd/yyyy dates',
      rows('1,a@example.com,,A,terminated,09/30/2026,9/1/2026,'),
      { dateFormat: 'mm/dd/yyyy' },
      [{ terminationDate: '2026-09-30T00:00:00.000Z', lastWorkingDay: '2026-09-01T00:00:00.000Z' }],
    ],
    ['dd.mm.yyyy dates', rows('1,a@example.com,,A,terminated,30.09.2026,,'), { dateFormat: 'dd.mm.yyyy' }, [{ terminationDate: '2026-09-30T00:00:00.000Z' }]],
    [
      'a termination date in Europe/Berlin (summer)',
      rows('1,a@example.com,,A,terminated,2026-09-30,,'),
      { timezone: 'Europe/Berlin' },
      [{ terminationDate: '2026-09-29T22:00:00.000Z' }],
    ],
    [
      'a termination date in Europe/Berlin (winter)',
      rows('1,a@example.com,,A,terminated,2026-12-01,,'),
      { timezone: 'Europe/Berlin' },
      [{ terminationDate: '2026-11-30T23:00:00.000Z' }],
    ],
    [
      'a termination date in America/New_York',
      rows('1,a@example.com,,A,terminated,09/30/2026,,'),
      { timezone: 'America/New_York', dateFormat: 'mm/dd/yyyy' },
      [{ terminationDate: '2026-09-30T04:00:00.000Z' }],
    ],
    [
      'a termination date in Australia/Sydney',
      rows('1,a@example.com,,A,terminated,30.09.2026,,'),
      { timezone: 'Australia/Sydney', dateFormat: 'dd.mm.yyyy' },
      [{ terminationDate: '2026-09-29T14:00:00.000Z' }],
    ],
    [
      'a hire date, when its column is mapped, as the start of the day in the zone; an empty cell is null',
      'id,status,hired\n1,active,2026-03-02\n2,active,\n',
      { columns: { employeeId: 'id', status: 'status', hireDate: 'hired' }, timezone: 'Europe/Berlin' },
      [
        { employeeId: '1', hireDate: '2026-03-01T23:00:00.000Z' },
        { employeeId: '2', hireDate: null },
      ],
    ],
    [
      'custom statuses',
      rows('1,a@example.com,,A,Gone,2026-09-30,,', '2,b@example.com,,B,Here,,,'),
      { leaverStatuses: ['gone'], activeStatuses: ['here'] },
      [{ status: 'leaver' }, { status: 'active' }],
    ],
    [
      'no status column: a termination date makes a leaver',
      'id,terminated\n1,2026-09-30\n2,\n',
      { columns: { employeeId: 'id', terminationDate: 'terminated' } },
      [
        { employeeId: '1', status: 'leaver', email: null },
        { employeeId: '2', status: 'active' },
      ],
    ],
    [
      'CRLF line endings',
      rows('1,a@example.com,,A,active,,,', '2,b@example.com,,B,active,,,').replaceAll('\n', '\r\n'),
      {},
      [
        { employeeId: '1', displayName: 'A' },
        { employeeId: '2', raw: { line: 3, cells: expect.any(Object) } },
      ],
    ],
    [
      'blank lines between rows',
      rows('1,a@example.com,,A,active,,,', '', '', '2,b@example.com,,B,active,,,'),
      {},
      [{ raw: { line: 2, cells: expect.any(Object) } }, { raw: { line: 5, cells: expect.any(Object) } }],
    ],
    [
      'a semicolon delimiter and Latin-1 bytes',
      Buffer.from('id;email;name;status\n1;a@example.com;Inès Moreau;active\n', 'latin1'),
      { delimiter: ';', encoding: 'latin1', columns: { employeeId: 'id', email: 'email', displayName: 'name', status: 'status' } },
      [{ displayName: 'Inès Moreau' }],
    ],
    [
      'UTF-16LE with its byte order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name,status\r\n1,Zoë,active\r\n', 'utf16le')]),
      { encoding: 'utf16le', columns: { employeeId: 'id', displayName: 'name', status: 'status' } },
      [{ displayName: 'Zoë' }],
    ],
  ])('%s', async (_case, content, config, expected) => {
    const { records } = await pull(content, config);
    expect(records).toHaveLength(expected.length);
    expected.forEach((fields, index) => expect(records[index]).toMatchObject(fields));
    for (const record of records) expect(HrPerson.parse(record)).toEqual(record);
  });

  it('keeps the line and the original cells of every mapped column under raw', async () => {
    const { records } = await pull(rows('1,A@Example.com,,A,Terminated,2026-09-30,,'));
    expect(records[0]?.raw).toEqual({
      line: 2,
      cells: { id: '1', email: 'A@Example.com', aliases: '', name: 'A', status: 'Terminated', terminated: '2026-09-30', 'last day': '', manager: '' },
    });
  });

  it('counts a leaver without a termination date as a leaver and warns, naming employee and line', async () => {
    const { records, warnings, path } = await pull(
      rows('1,a@example.com,,A,active,,,', '2,b@example.com,,B,inactive,,,', '3,c@example.com,,C,terminated,2026-09-30,,'),
    );
    expect(records[1]).toMatchObject({ employeeId: '2', status: 'leaver', terminationDate: null });
    expect(warnings).toEqual([`hr-csv: ${path}: 1 leaver(s) have no termination date, so no revocation deadline can be checked for them: employee 2 (line 3)`]);
  });

  it('names ten undated leavers and counts the rest', async () => {
    const { warnings } = await pull(rows(...Array.from({ length: 12 }, (_, index) => `${index + 1},,,,left,,,`)));
    expect(warnings[0]).toMatch(/: 12 leaver\(s\) .*: employee 1 \(line 2\), 2 \(line 3\), .*, 10 \(line 11\) and 2 more$/);
  });
});

describe('hr-csv refuses a bad export, naming file, line and column', () => {
  it.each<[string, string, Record<string, unknown>, (path: string) => string]>([
    [
      'a missing mapped header',
      rows('1,a@example.com,,A,active,,,'),
      { columns: { ...COLUMNS, email: 'Work Email' } },
      (path) => `hr-csv: ${path}: header "Work Email" (columns.email) is missing; the header row has 8 column(s)`,
    ],
    [
      'a mapped header twice',
      'id,email,id\n1,a@example.com,2\n',
      { columns: { employeeId: 'id', email: 'email', terminationDate: 'email' } },
      (path) => `hr-csv: ${path}: header "id" (columns.employeeId) appears 2 times, in columns 1, 3`,
    ],
    [
      'an unknown status',
      rows('1,a@example.com,,A,active,,,', '2,b@example.com,,B,Retired,,,'),
      {},
      (path) =>
        `hr-csv: ${path}: line 3: column "status": unknown status (a 7-character value shaped "aaaaaaa"): expected a leaver status (terminated, inactive, leaver, left) or an active status (active, on leave, leave, onboarding)`,
    ],
    [
      'an empty status',
      rows('1,a@example.com,,A,,,,'),
      {},
      (path) =>
        `hr-csv: ${path}: line 2: column "status": unknown status (an empty cell): expected a leaver status (terminated, inactive, leaver, left) or an active status (active, on leave, leave, onboarding)`,
    ],
    [
      'an unparseable date after a row spanning two lines',
      rows('1,a@example.com,,"Dupont,\nJean",active,,,', '2,b@example.com,,B,terminated,2026-09-31,,'),
      {},
      (path) => `hr-csv: ${path}: line 4: column "terminated": a 10-character value shaped "9999-99-99" is not a date in the iso format`,
    ],
    [
      'an unparseable date after a quoted CRLF in a CRLF file',
      rows('1,a@example.com,,"Dupont,\nJean",active,,,', '', '2,b@example.com,,B,terminated,someday,,').replaceAll('\n', '\r\n'),
      {},
      (path) => `hr-csv: ${path}: line 5: column "terminated": a 7-character value shaped "aaaaaaa" is not a date in the iso format`,
    ],
    [
      'a day-first date where ISO is expected',
      rows('1,a@example.com,,A,terminated,30/09/2026,,'),
      {},
      (path) => `hr-csv: ${path}: line 2: column "terminated": a 10-character value shaped "99/99/9999" is not a date in the iso format`,
    ],
    [
      'a day-first date where month-first is expected',
      rows('1,a@example.com,,A,terminated,,30/09/2026,'),
      { dateFormat: 'mm/dd/yyyy' },
      (path) => `hr-csv: ${path}: line 2: column "last day": a 10-character value shaped "99/99/9999" is not a date in the mm/dd/yyyy format`,
    ],
    [
      'the 31st of February',
      rows('1,a@example.com,,A,terminated,31/02/2026,,'),
      { dateFormat: 'dd/mm/yyyy' },
      (path) => `hr-csv: ${path}: line 2: column "terminated": a 10-character value shaped "99/99/9999" is not a date in the dd/mm/yyyy format`,
    ],
    [
      'an empty employee id',
      rows('1,a@example.com,,A,active,,,', '  ,b@example.com,,B,active,,,'),
      {},
      (path) => `hr-csv: ${path}: line 3: column "id": the employee id is empty`,
    ],
    [
      'an email that is not one',
      rows('1,ana silva,,A,active,,,'),
      {},
      (path) => `hr-csv: ${path}: line 2: column "email": a 9-character value shaped "aaa aaaaa" is not an email address`,
    ],
    [
      'a duplicate employee id',
      rows('1,a@example.com,,A,active,,,', '2,b@example.com,,B,active,,,', '', '2,c@example.com,,C,active,,,'),
      {},
      (path) => `hr-csv: ${path}: line 5: column "id": the same employee id as on line 3`,
    ],
    [
      'a row with a missing cell',
      rows('1,a@example.com,,A,active,,,', '2,b@example.com,,B,active,,'),
      {},
      (path) => `hr-csv: ${path}: line 3: not valid CSV: Invalid Record Length: columns length is 8, got 7 on line 3`,
    ],
    [
      'a quote never closed',
      rows('1,a@example.com,,"A,active,,,'),
      {},
      (path) => `hr-csv: ${path}: line 2: not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 2`,
    ],
    ['an empty file', '', {}, (path) => `hr-csv: ${path}: the file is empty; expected a header row`],
  ])('%s', async (_case, content, config, message) => {
    const path = await exportFile(content);
    const parsed = hrCsv.config.parse({ path, columns: COLUMNS, ...config });
    const error = await failure(collectAll(hrCsv.collect(parsed, testContext({ baseDir: dir }).ctx)));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as MalformedResponseError).retryable).toBe(false);
    expect(error.message).toBe(message(path));
  });

  it('fails with a NotFoundError naming a missing file', async () => {
    const parsed = hrCsv.config.parse({ path: 'exports/nobody.csv', columns: COLUMNS });
    const error = await failure(collectAll(hrCsv.collect(parsed, testContext({ baseDir: dir }).ctx)));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe(`hr-csv: exports/nobody.csv: no such file (${join(dir, 'exports/nobody.csv')})`);
  });

  it('stops when the pull is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(pull(rows('1,a@example.com,,A,active,,,'), {}, testContext({ baseDir: dir, signal: controller.signal })));
    expect(error.name).toBe('AbortError');
  });
});

describe('hr-csv error text describes the file, never quotes it', () => {
  const SECRET = 'sk-live-7d2e9a4c1b8f3e6d0a5c';
  const refused = async (content: string, config: Record<string, unknown> = {}) => {
    const path = await exportFile(content);
    const parsed = hrCsv.config.parse({ path, columns: COLUMNS, ...config });
    const context = testContext({ baseDir: dir });
    const error = await failure(collectAll(hrCsv.collect(parsed, context.ctx)));
    expect(error).toBeInstanceOf(MalformedResponseError);
    for (const text of [error.message, ...context.warnings, ...context.logLines]) expect(text).not.toContain(SECRET.slice(0, 10));
    return { path, message: error.message };
  };

  it.each<[string, string, (path: string) => string]>([
    [
      'a path that names a secret file instead of the export: its first line is the header',
      `API_KEY=${SECRET}\nSHELL=/bin/bash\n`,
      (path) => `hr-csv: ${path}: header "id" (columns.employeeId) is missing; the header row has 1 column(s)`,
    ],
    [
      'a quote opening inside a field',
      rows(`1,a@example.com,,${SECRET}"x,active,,,`),
      (path) => `hr-csv: ${path}: line 2: not valid CSV: a quote opens in the middle of a field (quote the whole field, doubling quotes inside it)`,
    ],
    [
      'a closing quote followed by more text',
      rows(`1,a@example.com,,"${SECRET}"x,active,,,`),
      (path) => `hr-csv: ${path}: line 2: not valid CSV: a closing quote is followed by something other than the delimiter or a line break`,
    ],
    [
      'a secret in the email column',
      rows(`1,${SECRET},,A,active,,,`),
      (path) => `hr-csv: ${path}: line 2: column "email": a 28-character value shaped "aa-aaaa-9a9a9a9a9a9a9a9a…" is not an email address`,
    ],
    [
      'a secret in a date column',
      rows(`1,a@example.com,,A,terminated,${SECRET},,`),
      (path) => `hr-csv: ${path}: line 2: column "terminated": a 28-character value shaped "aa-aaaa-9a9a9a9a9a9a9a9a…" is not a date in the iso format`,
    ],
    [
      'a secret as a duplicated employee id',
      rows(`${SECRET},a@example.com,,A,active,,,`, `${SECRET},b@example.com,,B,active,,,`),
      (path) => `hr-csv: ${path}: line 3: column "id": the same employee id as on line 2`,
    ],
  ])('%s', async (_case, content, message) => {
    const { path, message: actual } = await refused(content);
    expect(actual).toBe(message(path));
  });

  it('says when a missing header is there in other letter case, quoting only the configured name', async () => {
    const { path, message } = await refused(rows('1,a@example.com,,A,active,,,'), { columns: { ...COLUMNS, email: 'EMAIL' } });
    expect(message).toBe(
      `hr-csv: ${path}: header "EMAIL" (columns.email) is missing; the header row has 8 column(s), one of them "EMAIL" in other letter case (headers are compared as written)`,
    );
  });
});

describe('hr-csv config', () => {
  it.each([
    ['a status that is both leaver and active', { leaverStatuses: ['terminated', 'On Leave'] }, 'leaverStatuses'],
    ['neither status nor termination date mapped', { columns: { employeeId: 'id', email: 'email' } }, 'columns'],
    ['an unknown time zone', { timezone: 'Europe/Atlantis' }, 'timezone'],
    ['an unknown date format', { dateFormat: 'yyyy/mm/dd' }, 'dateFormat'],
    ['a misspelt column field', { columns: { ...COLUMNS, emial: 'email' } }, 'columns'],
  ])('refuses %s', (_case, config, field) => {
    const result = hrCsv.config.safeParse({ path: 'people.csv', columns: COLUMNS, ...config });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });

  it('defaults as documented', () => {
    expect(hrCsv.config.parse({ path: 'people.csv', columns: { employeeId: 'id', status: 'status' } })).toMatchObject({
      delimiter: ',',
      encoding: 'utf8',
      leaverStatuses: ['terminated', 'inactive', 'leaver', 'left'],
      activeStatuses: ['active', 'on leave', 'leave', 'onboarding'],
      dateFormat: 'iso',
      timezone: 'UTC',
    });
  });
});

describe('hr-csv on a realistic HRIS export', () => {
  const config = {
    path: 'hris-export.csv',
    timezone: 'Europe/Berlin',
    columns: {
      employeeId: 'Employee ID',
      displayName: 'Full Name',
      email: 'Work Email',
      aliases: 'Other Emails',
      status: 'Employment Status',
      terminationDate: 'Termination Date',
      lastWorkingDay: 'Last Day Worked',
      manager: 'Manager Email',
    },
  };

  it('maps every person and records the file it read', async () => {
    const { ctx, provenance, warnings, heartbeats } = testContext({ baseDir: FIXTURES });
    const records = await collectAll(hrCsv.collect(hrCsv.config.parse(config), ctx));
    const people = records.map(({ raw, ...person }) => ({ ...person, line: raw?.line }));
    expect(people).toEqual([
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1001',
        email: 'chinedu.okafor@example.com',
        aliases: ['c.okafor@example.com', 'chinedu@example.io'],
        displayName: 'Okafor, Chinedu',
        status: 'active',
        terminationDate: null,
        lastWorkingDay: null,
        manager: 'ana.silva@example.com',
        line: 2,
      },
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1002',
        email: 'ana.silva@example.com',
        aliases: [],
        displayName: 'Ana Silva',
        status: 'active',
        terminationDate: null,
        lastWorkingDay: null,
        manager: null,
        line: 3,
      },
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1003',
        email: 'maja.lindqvist@example.com',
        aliases: ['maja@example.com', 'ml@example.com'],
        displayName: 'Lindqvist, Maja',
        status: 'leaver',
        terminationDate: '2026-09-29T22:00:00.000Z',
        lastWorkingDay: '2026-09-28T22:00:00.000Z',
        manager: 'ana.silva@example.com',
        line: 4,
      },
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1004',
        email: 'ken.tanaka@example.com',
        aliases: [],
        displayName: 'Tanaka "Ken" Kenji',
        status: 'active',
        terminationDate: null,
        lastWorkingDay: null,
        manager: 'E-1002',
        line: 5,
      },
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1005',
        email: 'jean.dupont@example.com',
        aliases: ['jdupont'],
        displayName: 'Dupont,\nJean (contractor)',
        status: 'leaver',
        terminationDate: null,
        lastWorkingDay: null,
        manager: 'ana.silva@example.com',
        line: 6,
      },
      {
        kind: 'hr-person',
        source: 'hr-csv',
        employeeId: 'E-1006',
        email: 'priya.raman@example.com',
        aliases: [],
        displayName: 'Priya Raman',
        status: 'leaver',
        terminationDate: '2026-10-15T15:30:00.000Z',
        lastWorkingDay: '2026-10-14T22:00:00.000Z',
        manager: null,
        line: 9,
      },
    ]);
    const bytes = await readFile(join(FIXTURES, 'hris-export.csv'));
    expect(provenance.file).toEqual({
      path: 'hris-export.csv',
      absolutePath: join(FIXTURES, 'hris-export.csv'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      rows: 6,
    });
    expect(provenance).toMatchObject({ columns: config.columns, dateFormat: 'iso', timezone: 'Europe/Berlin' });
    expect(warnings).toEqual([
      'hr-csv: hris-export.csv: 1 leaver(s) have no termination date, so no revocation deadline can be checked for them: employee E-1005 (line 6)',
    ]);
    expect(heartbeats).toEqual([]);
  });

  it('reads the example export the example config points at', async () => {
    const { ctx, warnings } = testContext({ baseDir: EXAMPLES });
    const example = hrCsv.config.parse({
      path: 'people.csv',
      columns: {
        employeeId: 'Employee #',
        email: 'Work Email',
        displayName: 'Display Name',
        status: 'Status',
        terminationDate: 'Termination Date',
        manager: 'Supervisor Email',
        aliases: 'Aliases',
      },
    });
    const records = await collectAll(hrCsv.collect(example, ctx));
    expect(records).toHaveLength(12);
    expect(
      records.filter((record) => record.status === 'leaver').map(({ employeeId, terminationDate, aliases }) => ({ employeeId, terminationDate, aliases })),
    ).toEqual([
      { employeeId: '1003', terminationDate: '2026-09-04T00:00:00.000Z', aliases: [] },
      { employeeId: '1005', terminationDate: '2026-10-16T00:00:00.000Z', aliases: ['elif@example.com', 'e.yilmaz@example.com'] },
      { employeeId: '1008', terminationDate: '2026-11-06T00:00:00.000Z', aliases: [] },
    ]);
    expect(warnings).toEqual([]);
  });
});

describe('hr-csv resume', () => {
  const total = 25_000;
  const bigExport = (change?: (line: string, row: number) => string) =>
    rows(
      ...Array.from({ length: total }, (_, index) => {
        const line = `${index + 1},person${index + 1}@example.com,,Person ${index + 1},active,,,`;
        return change === undefined ? line : change(line, index + 1);
      }),
    );

  it(`heartbeats the rows done every ${HEARTBEAT_EVERY_ROWS} rows`, async () => {
    const { records, heartbeats, provenance } = await pull(bigExport());
    expect(records).toHaveLength(total);
    expect(heartbeats).toEqual(['10000', '20000']);
    expect((provenance.file as { rows: number }).rows).toBe(total);
  });

  it('still finds a duplicate of a skipped row', async () => {
    const content = bigExport((line, row) => (row === total ? line.replace(/^\d+,/, '5,') : line));
    const error = await failure(pull(content, {}, testContext({ baseDir: dir, resumeCursor: '20000' })));
    expect(error.message).toMatch(/: line 25001: column "id": the same employee id as on line 6$/);
  });

  it('refuses a cursor past the end of the file, which means the file changed', async () => {
    const error = await failure(pull(rows('1,a@example.com,,A,active,,,'), {}, testContext({ baseDir: dir, resumeCursor: '10000' })));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/: has 1 rows but an earlier attempt already collected 10000: the file changed during the collection$/);
  });

  it('refuses a cursor that is not a row count', async () => {
    const error = await failure(pull(rows('1,a@example.com,,A,active,,,'), {}, testContext({ baseDir: dir, resumeCursor: 'page-2' })));
    expect(error.message).toMatch(/: resume cursor "page-2" is not a row count$/);
  });
});
