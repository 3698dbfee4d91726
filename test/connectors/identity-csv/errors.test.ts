import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError, NotFoundError } from '../../../connectors/errors.ts';
import { identityCsv } from '../../../connectors/identity-csv/index.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { COLUMNS, exportFolder, failure, line, pull, rows } from './helpers.ts';

const folder = exportFolder();

const STATUSES = 'expected an active status (active, enabled, true, yes) or a disabled status (disabled, inactive, suspended, deactivated, false, no, locked)';
const YES_NO = 'one of true, yes, 1, enabled, false, no, 0, disabled';

describe('identity-csv refuses a bad export, naming file, line and column', () => {
  it.each<[string, string, Record<string, unknown>, (path: string) => string]>([
    [
      'a missing mapped header',
      rows(line()),
      { columns: { ...COLUMNS, mfa: 'Two-step verification' } },
      (path) => `identity-csv: ${path}: header "Two-step verification" (columns.mfa) is missing; the header row has 10 column(s)`,
    ],
    [
      'a mapped header twice',
      'id,user,id\n1,ana,2\n',
      { columns: { id: 'id', username: 'user' } },
      (path) => `identity-csv: ${path}: header "id" (columns.id) appears 2 times, in columns 1, 3`,
    ],
    [
      'an unknown status',
      rows(line({ id: '1' }), line({ id: '2', status: 'Pending' })),
      {},
      (path) => `identity-csv: ${path}: line 3: column "status": unknown status (a 7-character value shaped "aaaaaaa"): ${STATUSES}`,
    ],
    [
      'an empty status',
      rows(line({ status: '' })),
      {},
      (path) => `identity-csv: ${path}: line 2: column "status": unknown status (an empty cell): ${STATUSES}`,
    ],
    [
      'a yes/no cell that is neither',
      rows(line({ id: '1' }), line({ id: '2', mfa: 'TOTP' })),
      {},
      (path) => `identity-csv: ${path}: line 3: column "mfa": a 4-character value shaped "aaaa" is not a yes/no value (${YES_NO})`,
    ],
    [
      'a privileged cell that is neither',
      rows(line({ admin: 'maybe' })),
      {},
      (path) => `identity-csv: ${path}: line 2: column "admin": a 5-character value shaped "aaaaa" is not a yes/no value (${YES_NO})`,
    ],
    [
      'an unparseable last login after a row spanning two lines',
      rows(line({ id: '1', name: '"Dupont,\nJean"' }), line({ id: '2', 'last login': '2026-11-31' })),
      {},
      (path) => `identity-csv: ${path}: line 4: column "last login": a 10-character value shaped "9999-99-99" is not a date in the iso format`,
    ],
    [
      'an unparseable last login after a quoted CRLF and a blank line in a CRLF file',
      rows(line({ id: '1', name: '"Dupont,\nJean"' }), '', line({ id: '2', 'last login': 'yesterday' })).replaceAll('\n', '\r\n'),
      {},
      (path) => `identity-csv: ${path}: line 5: column "last login": a 9-character value shaped "aaaaaaaaa" is not a date in the iso format`,
    ],
    [
      'a never word where a creation date is expected',
      rows(line({ created: 'Never' })),
      {},
      (path) => `identity-csv: ${path}: line 2: column "created": a 5-character value shaped "aaaaa" is not a date in the iso format`,
    ],
    [
      'a day-first date where month-first is expected',
      rows(line({ 'last login': '24/11/2026' })),
      { dateFormat: 'mm/dd/yyyy' },
      (path) => `identity-csv: ${path}: line 2: column "last login": a 10-character value shaped "99/99/9999" is not a date in the mm/dd/yyyy format`,
    ],
    ['an empty account id', rows(line({ id: '1' }), line({ id: '  ' })), {}, (path) => `identity-csv: ${path}: line 3: column "id": the account id is empty`],
    ['an empty username', rows(line({ user: '' })), {}, (path) => `identity-csv: ${path}: line 2: column "user": the username is empty`],
    [
      'an email that is not one',
      rows(line({ email: 'ana silva' })),
      {},
      (path) => `identity-csv: ${path}: line 2: column "email": a 9-character value shaped "aaa aaaaa" is not an email address`,
    ],
    [
      'a duplicate account id',
      rows(line({ id: 'A' }), line({ id: 'B' }), '', line({ id: 'B', user: 'other' })),
      {},
      (path) => `identity-csv: ${path}: line 5: column "id": the same account id as on line 3`,
    ],
    [
      'a row with a missing cell',
      rows(line({ id: '1' }), '2,ben,ben@example.com,Ben,active,no,yes,,'),
      {},
      (path) => `identity-csv: ${path}: line 3: not valid CSV: Invalid Record Length: columns length is 10, got 9 on line 3`,
    ],
    [
      'a quote never closed',
      rows(line({ name: '"Ana' })),
      {},
      (path) => `identity-csv: ${path}: line 2: not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 2`,
    ],
    ['an empty file', '', {}, (path) => `identity-csv: ${path}: the file is empty; expected a header row`],
  ])('%s', async (_case, content, config, message) => {
    const path = await folder.write(content);
    const parsed = identityCsv.config.parse({ path, system: 'legacy-crm', columns: COLUMNS, ...config });
    const error = await failure(collectAll(identityCsv.collect(parsed, testContext({ baseDir: folder.dir() }).ctx)));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as MalformedResponseError).retryable).toBe(false);
    expect(error.message).toBe(message(path));
  });

  it('fails with a NotFoundError naming a missing file', async () => {
    const parsed = identityCsv.config.parse({ path: 'exports/nobody.csv', system: 'legacy-crm', columns: COLUMNS });
    const error = await failure(collectAll(identityCsv.collect(parsed, testContext({ baseDir: folder.dir() }).ctx)));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe(`identity-csv: exports/nobody.csv: no such file (${join(folder.dir(), 'exports/nobody.csv')})`);
  });

  it('fails with a NotFoundError when the path is a folder', async () => {
    const parsed = identityCsv.config.parse({ path: '.', system: 'legacy-crm', columns: COLUMNS });
    const error = await failure(collectAll(identityCsv.collect(parsed, testContext({ baseDir: folder.dir() }).ctx)));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('identity-csv: .: is a directory, not a file');
  });

  it('stops when the pull is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(pull(folder, rows(line()), {}, testContext({ baseDir: folder.dir(), signal: controller.signal })));
    expect(error.name).toBe('AbortError');
  });
});

describe('identity-csv config', () => {
  it.each([
    ['no system', { system: undefined }, 'system'],
    ['a blank system', { system: '  ' }, 'system'],
    ['a status both active and disabled', { disabledStatuses: ['disabled', 'Enabled'] }, 'disabledStatuses'],
    ['a role column without privileged roles', { columns: { ...COLUMNS, role: 'roles' } }, 'privilegedRoles'],
    ['privileged roles without a role column', { privilegedRoles: ['admin'] }, 'columns'],
    ['no id column', { columns: { username: 'user' } }, 'columns'],
    ['no username column', { columns: { id: 'id' } }, 'columns'],
    ['a misspelt column field', { columns: { ...COLUMNS, lastLogon: 'last login' } }, 'columns'],
    ['an unknown time zone', { timezone: 'Europe/Atlantis' }, 'timezone'],
    ['an unknown date format', { dateFormat: 'yyyy/mm/dd' }, 'dateFormat'],
    ['an unknown encoding', { encoding: 'ebcdic' }, 'encoding'],
    ['an unknown option', { statusColumn: 'status' }, undefined],
  ])('refuses %s', (_case, config, field) => {
    const result = identityCsv.config.safeParse({ path: 'users.csv', system: 'legacy-crm', columns: COLUMNS, ...config });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });

  it('defaults as documented', () => {
    expect(identityCsv.config.parse({ path: 'users.csv', system: 'jira-cloud', columns: { id: 'id', username: 'user' } })).toEqual({
      path: 'users.csv',
      system: 'jira-cloud',
      delimiter: ',',
      encoding: 'utf8',
      columns: { id: 'id', username: 'user' },
      activeStatuses: ['active', 'enabled', 'true', 'yes'],
      disabledStatuses: ['disabled', 'inactive', 'suspended', 'deactivated', 'false', 'no', 'locked'],
      privilegedRoles: [],
      neverLoggedIn: ['never', 'never logged in', 'never accessed', 'never signed in', 'never used'],
      dateFormat: 'iso',
      timezone: 'UTC',
    });
  });
});
