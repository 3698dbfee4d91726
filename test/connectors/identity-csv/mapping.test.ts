import { describe, expect, it } from 'vitest';
import { IdentityColumns } from '../../../connectors/identity-csv/mapping.ts';
import { Identity, type Identity as IdentityRecord } from '../../../core/records.ts';
import { COLUMNS, exportFolder, line, pull, rows } from './helpers.ts';

const folder = exportFolder();

type Case = [string, string | Buffer, Record<string, unknown>, Partial<IdentityRecord>[]];

async function expectMapped(content: string | Buffer, config: Record<string, unknown>, expected: Partial<IdentityRecord>[]) {
  const { records } = await pull(folder, content, config);
  expect(records).toHaveLength(expected.length);
  expected.forEach((fields, index) => expect(records[index]).toMatchObject(fields));
  for (const record of records) expect(Identity.parse(record)).toEqual(record);
}

describe('identity-csv maps every field', () => {
  it('maps a full row onto an Identity of the configured system, keeping line and original cells under raw', async () => {
    const { records } = await pull(
      folder,
      rows(line({ id: 'U-7', user: 'ASilva', email: ' Ana.Silva@Example.COM ', name: '"Silva, Ana"', admin: 'Yes', mfa: 'No', groups: '"sales; crm-admins"' })),
    );
    expect(records).toEqual([
      {
        kind: 'identity',
        source: 'identity-csv',
        tenant: 'legacy-crm',
        id: 'U-7',
        username: 'ASilva',
        email: 'ana.silva@example.com',
        displayName: 'Silva, Ana',
        status: 'active',
        privileged: true,
        mfaEnabled: false,
        lastLoginAt: '2026-11-20T00:00:00.000Z',
        createdAt: '2026-01-05T00:00:00.000Z',
        credentials: [],
        groups: ['sales', 'crm-admins'],
        raw: {
          line: 2,
          cells: {
            id: 'U-7',
            user: 'ASilva',
            email: ' Ana.Silva@Example.COM ',
            name: 'Silva, Ana',
            status: 'active',
            admin: 'Yes',
            mfa: 'No',
            'last login': '2026-11-20',
            created: '2026-01-05',
            groups: 'sales; crm-admins',
          },
        },
      },
    ]);
  });

  it.each<Case>([
    [
      'the default active statuses in any case and padding',
      rows(line({ id: '1', status: 'Active' }), line({ id: '2', status: ' ENABLED ' }), line({ id: '3', status: 'true' }), line({ id: '4', status: 'Yes' })),
      {},
      [{ status: 'active' }, { status: 'active' }, { status: 'active' }, { status: 'active' }],
    ],
    [
      'the default disabled statuses: suspended and locked keep their suspension, the rest are disabled',
      rows(
        line({ id: '1', status: 'Disabled' }),
        line({ id: '2', status: 'inactive' }),
        line({ id: '3', status: 'SUSPENDED' }),
        line({ id: '4', status: 'Deactivated' }),
        line({ id: '5', status: 'false' }),
        line({ id: '6', status: 'No' }),
        line({ id: '7', status: 'Locked' }),
      ),
      {},
      [
        { status: 'disabled' },
        { status: 'disabled' },
        { status: 'suspended' },
        { status: 'disabled' },
        { status: 'disabled' },
        { status: 'disabled' },
        { status: 'suspended' },
      ],
    ],
    [
      'custom statuses, with deleted kept as deleted',
      rows(line({ id: '1', status: 'Live' }), line({ id: '2', status: 'Deleted' }), line({ id: '3', status: 'Frozen' })),
      { activeStatuses: ['live'], disabledStatuses: ['Deleted', 'frozen'] },
      [{ status: 'active' }, { status: 'deleted' }, { status: 'disabled' }],
    ],
    [
      'no status column: every listed account is active',
      'id,user\n1,ana\n2,ben\n',
      { columns: { id: 'id', username: 'user' } },
      [{ status: 'active' }, { status: 'active' }],
    ],
    [
      'yes/no values in every spelling, any case, padded',
      rows(
        line({ id: '1', admin: 'TRUE', mfa: 'false' }),
        line({ id: '2', admin: 'yes', mfa: 'No' }),
        line({ id: '3', admin: '1', mfa: '0' }),
        line({ id: '4', admin: ' Enabled ', mfa: 'DISABLED' }),
        line({ id: '5', admin: 'False', mfa: 'True' }),
        line({ id: '6', admin: 'no', mfa: 'YES' }),
        line({ id: '7', admin: '0', mfa: '1' }),
        line({ id: '8', admin: 'disabled', mfa: 'enabled' }),
      ),
      {},
      [
        { privileged: true, mfaEnabled: false },
        { privileged: true, mfaEnabled: false },
        { privileged: true, mfaEnabled: false },
        { privileged: true, mfaEnabled: false },
        { privileged: false, mfaEnabled: true },
        { privileged: false, mfaEnabled: true },
        { privileged: false, mfaEnabled: true },
        { privileged: false, mfaEnabled: true },
      ],
    ],
    [
      'an empty privileged cell is not privileged; an empty MFA cell is unknown',
      rows(line({ admin: '', mfa: '' })),
      {},
      [{ privileged: false, mfaEnabled: 'unknown' }],
    ],
    [
      'roles: privileged when any role is a privileged one, matched without regard to case',
      'id,user,roles\n1,ana,Org Admin\n2,ben,"Basic; SITE-ADMIN"\n3,cem,"Basic, Viewer"\n4,dan,\n',
      { columns: { id: 'id', username: 'user', role: 'roles' }, privilegedRoles: ['org admin', 'Site-Admin'] },
      [
        { privileged: true, groups: ['Org Admin'] },
        { privileged: true, groups: ['Basic', 'SITE-ADMIN'] },
        { privileged: false, groups: ['Basic', 'Viewer'] },
        { privileged: false, groups: [] },
      ],
    ],
    [
      'a privileged column and roles together: either makes the account privileged',
      'id,user,admin,roles\n1,ana,yes,Basic\n2,ben,no,Owner\n3,cem,no,Basic\n',
      { columns: { id: 'id', username: 'user', privileged: 'admin', role: 'roles' }, privilegedRoles: ['owner'] },
      [{ privileged: true }, { privileged: true }, { privileged: false }],
    ],
    [
      'roles and groups from one column count once',
      'id,user,groups\n1,ana,"staff;vpn-admins"\n',
      { columns: { id: 'id', username: 'user', groups: 'groups', role: 'groups' }, privilegedRoles: ['vpn-admins'] },
      [{ privileged: true, groups: ['staff', 'vpn-admins'] }],
    ],
    [
      'groups split on semicolons and commas, trimmed, each once, case kept',
      rows(line({ groups: '"Sales; Admins,,sales , Admins;"' })),
      {},
      [{ groups: ['Sales', 'Admins', 'sales'] }],
    ],
    [
      'never logged in: an empty cell or a never word in any case',
      rows(
        line({ id: '1', 'last login': '' }),
        line({ id: '2', 'last login': 'Never' }),
        line({ id: '3', 'last login': ' NEVER ACCESSED ' }),
        line({ id: '4', 'last login': 'never logged in' }),
      ),
      {},
      [{ lastLoginAt: null }, { lastLoginAt: null }, { lastLoginAt: null }, { lastLoginAt: null }],
    ],
    ['custom never words', rows(line({ 'last login': '(none)' })), { neverLoggedIn: ['(None)'] }, [{ lastLoginAt: null }]],
    [
      'no MFA column: MFA is unknown; no last-login column: the last login is unknown',
      'id,user,email\n1,ana,ana@example.com\n',
      { columns: { id: 'id', username: 'user', email: 'email' } },
      [{ mfaEnabled: 'unknown', lastLoginAt: 'unknown', createdAt: null, privileged: false, email: 'ana@example.com', displayName: null, groups: [] }],
    ],
    [
      'empty optional cells',
      rows(line({ email: '', name: '', created: '', groups: '' })),
      {},
      [{ email: null, displayName: null, createdAt: null, groups: [] }],
    ],
    ['an email with upper case and padding, lower-cased', rows(line({ email: '  Ben.Hartley@Example.COM' })), {}, [{ email: 'ben.hartley@example.com' }]],
    ['a username kept as written, padding aside', rows(line({ user: ' DOMAIN\\JSmith ' })), {}, [{ username: 'DOMAIN\\JSmith' }]],
  ])('%s', async (_case, content, config, expected) => {
    await expectMapped(content, config, expected);
  });
});

describe('identity-csv dates in formats and zones', () => {
  it.each<[string, string, Record<string, unknown>, string]>([
    ['an ISO date is the start of that day in UTC', '2026-11-24', {}, '2026-11-24T00:00:00.000Z'],
    ['an ISO date in Europe/Berlin (winter)', '2026-11-24', { timezone: 'Europe/Berlin' }, '2026-11-23T23:00:00.000Z'],
    ['an appliance wall-clock time in Europe/Berlin (winter)', '2026-11-24 08:15:32', { timezone: 'Europe/Berlin' }, '2026-11-24T07:15:32.000Z'],
    ['an appliance wall-clock time in Europe/Berlin (summer)', '2026-07-01 08:00', { timezone: 'Europe/Berlin' }, '2026-07-01T06:00:00.000Z'],
    ['a UTC timestamp, whatever the zone', '2026-11-24T08:15:32Z', { timezone: 'Asia/Tokyo' }, '2026-11-24T08:15:32.000Z'],
    ['a timestamp with its own offset', '2026-11-24T08:15:32.5-05:00', {}, '2026-11-24T13:15:32.500Z'],
    ['dd/mm/yyyy', '24/11/2026', { dateFormat: 'dd/mm/yyyy' }, '2026-11-24T00:00:00.000Z'],
    ['mm/dd/yyyy in America/New_York', '11/24/2026', { dateFormat: 'mm/dd/yyyy', timezone: 'America/New_York' }, '2026-11-24T05:00:00.000Z'],
    ['dd.mm.yyyy in Australia/Sydney', '24.11.2026', { dateFormat: 'dd.mm.yyyy', timezone: 'Australia/Sydney' }, '2026-11-23T13:00:00.000Z'],
  ])('%s', async (_case, text, config, expected) => {
    const { records } = await pull(folder, rows(line({ 'last login': text, created: text })), config);
    expect(records[0]).toMatchObject({ lastLoginAt: expected, createdAt: expected });
  });
});

describe('identity-csv reads the file as exported', () => {
  it.each<Case>([
    [
      'a UTF-8 byte order mark before a quoted header',
      `\uFEFF"id","user","email"\r\n"1","ana","ana@example.com"\r\n`,
      { columns: { id: 'id', username: 'user', email: 'email' } },
      [{ id: '1', username: 'ana', email: 'ana@example.com' }],
    ],
    [
      'quoted fields holding the delimiter, a line break and doubled quotes',
      rows(line({ id: '1', name: '"Dupont,\nJean ""JD"""' }), line({ id: '2' })),
      {},
      [
        { displayName: 'Dupont,\nJean "JD"', raw: { line: 2, cells: expect.any(Object) } },
        { id: '2', raw: { line: 4, cells: expect.any(Object) } },
      ],
    ],
    [
      'CRLF line endings and blank lines between rows',
      rows(line({ id: '1' }), '', '', line({ id: '2' })).replaceAll('\n', '\r\n'),
      {},
      [{ raw: { line: 2, cells: expect.any(Object) } }, { raw: { line: 5, cells: expect.any(Object) } }],
    ],
    [
      'a semicolon delimiter and Latin-1 bytes',
      Buffer.from('id;user;name;enabled\n7;imoreau;Inès Moreau;Oui\n', 'latin1'),
      {
        delimiter: ';',
        encoding: 'latin1',
        columns: { id: 'id', username: 'user', displayName: 'name', status: 'enabled' },
        activeStatuses: ['oui'],
        disabledStatuses: ['non'],
      },
      [{ displayName: 'Inès Moreau', status: 'active' }],
    ],
    [
      'UTF-16LE with its byte order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,user,name\r\n1,zoe,Zoë\r\n', 'utf16le')]),
      { encoding: 'utf16le', columns: { id: 'id', username: 'user', displayName: 'name' } },
      [{ displayName: 'Zoë' }],
    ],
    ['padded header names', ' id , user \n1,ana\n', { columns: { id: 'id', username: 'user' } }, [{ id: '1', username: 'ana' }]],
  ])('%s', async (_case, content, config, expected) => {
    await expectMapped(content, config, expected);
  });

  it('maps the same header to two fields when one column holds both', async () => {
    const { records } = await pull(folder, 'login,state\nsvc-ci@example.com,Enabled\n', {
      columns: { id: 'login', username: 'login', email: 'login', status: 'state' },
    });
    expect(records[0]).toMatchObject({ id: 'svc-ci@example.com', username: 'svc-ci@example.com', email: 'svc-ci@example.com', status: 'active' });
  });

  it('exercises every mappable column: the generic export maps all but role, which the role cases map', () => {
    expect(Object.keys(COLUMNS).sort()).toEqual(
      Object.keys(IdentityColumns.shape)
        .filter((field) => field !== 'role')
        .sort(),
    );
  });
});
