import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { HEARTBEAT_EVERY_ROWS, identityCsv } from '../../../connectors/identity-csv/index.ts';
import type { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { EXAMPLES_DIR, exampleJiraConfig, exampleVpnConfig } from '../../support/example-access-control.ts';
import { COLUMNS, exportFolder, failure, line, pull, rows } from './helpers.ts';

const folder = exportFolder();

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('identity-csv provenance', () => {
  it('records the system, mapping and the file read with its sha256, size and rows', async () => {
    const content = rows(line({ id: '1' }), line({ id: '2', name: '"Two\nLines"' }), line({ id: '3' }));
    const { provenance, path, heartbeats } = await pull(folder, content, { timezone: 'Europe/Berlin' });
    expect(provenance).toEqual({
      source: 'csv export',
      system: 'legacy-crm',
      columns: COLUMNS,
      dateFormat: 'iso',
      timezone: 'Europe/Berlin',
      file: { path, absolutePath: join(folder.dir(), path), sha256: sha256(Buffer.from(content)), bytes: Buffer.byteLength(content), rows: 3 },
    });
    expect(heartbeats).toEqual([]);
  });

  it('hashes the bytes as exported, byte order mark and all', async () => {
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,user\n1,ana\n')]);
    const { provenance, records } = await pull(folder, content, { columns: { id: 'id', username: 'user' } });
    expect(records).toHaveLength(1);
    expect(provenance.file).toMatchObject({ sha256: sha256(content), bytes: content.length });
    expect((provenance.file as { sha256: string }).sha256).not.toBe(sha256(Buffer.from('id,user\n1,ana\n')));
  });
});

describe('identity-csv tells the auditor what the export cannot say', () => {
  it('warns once each when no MFA, last-login, or privileged/role column is mapped', async () => {
    const { warnings, path } = await pull(folder, 'id,user\n1,ana\n', { columns: { id: 'id', username: 'user' } });
    expect(warnings).toEqual([
      `identity-csv: ${path}: no MFA column is mapped, so MFA enrolment is unknown for every account in legacy-crm`,
      `identity-csv: ${path}: no last-login column is mapped, so when accounts in legacy-crm were last used is unknown and inactivity cannot be judged`,
      `identity-csv: ${path}: neither a privileged nor a role column is mapped, so every account in legacy-crm is recorded as unprivileged`,
    ]);
  });

  it('does not warn about a full mapping', async () => {
    const { warnings } = await pull(folder, rows(line()));
    expect(warnings).toEqual([]);
  });

  it('names the accounts whose MFA cell is empty, ten by name and the rest counted, skipped rows included', async () => {
    const lines = Array.from({ length: 13 }, (_, index) => line({ id: String(index + 1), user: `u${index + 1}`, mfa: index === 0 ? 'yes' : '' }));
    const { warnings, path, records } = await pull(folder, rows(...lines), {}, testContext({ baseDir: folder.dir(), resumeCursor: '5' }));
    expect(records).toHaveLength(8);
    expect(warnings).toEqual([
      `identity-csv: ${path}: 12 account(s) have an empty "mfa" cell, so their MFA enrolment is unknown: u2 (line 3), u3 (line 4), u4 (line 5), u5 (line 6), u6 (line 7), u7 (line 8), u8 (line 9), u9 (line 10), u10 (line 11), u11 (line 12) and 2 more`,
    ]);
  });
});

describe('identity-csv resume', () => {
  const total = 25_000;
  const bigExport = (change?: (text: string, row: number) => string) =>
    rows(
      ...Array.from({ length: total }, (_, index) => {
        const text = line({ id: `U${index + 1}`, user: `user${index + 1}`, email: `user${index + 1}@example.com` });
        return change === undefined ? text : change(text, index + 1);
      }),
    );

  it(`heartbeats the rows done every ${HEARTBEAT_EVERY_ROWS} rows`, async () => {
    const { records, heartbeats, provenance } = await pull(folder, bigExport());
    expect(records).toHaveLength(total);
    expect(heartbeats).toEqual(['10000', '20000']);
    expect((provenance.file as { rows: number }).rows).toBe(total);
  });

  it('still finds a duplicate of a skipped row', async () => {
    const content = bigExport((text, row) => (row === total ? text.replace(/^U\d+,/, 'U5,') : text));
    const error = await failure(pull(folder, content, {}, testContext({ baseDir: folder.dir(), resumeCursor: '20000' })));
    expect(error.message).toMatch(/: line 25001: column "id": the same account id as on line 6$/);
  });

  it('refuses a cursor past the end of the file, which means the file changed', async () => {
    const error = await failure(pull(folder, rows(line()), {}, testContext({ baseDir: folder.dir(), resumeCursor: '10000' })));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(
      /^identity-csv: users-\d+\.csv: has 1 rows but an earlier attempt already collected 10000: the file changed during the collection$/,
    );
  });

  it('refuses a cursor that is not a row count', async () => {
    const error = await failure(pull(folder, rows(line()), {}, testContext({ baseDir: folder.dir(), resumeCursor: 'page-2' })));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^identity-csv: users-\d+\.csv: resume cursor "page-2" is not a row count$/);
  });
});

describe('identity-csv on the example exports', () => {
  const summary = (records: readonly Identity[]) =>
    records.map(({ id, username, email, status, privileged, mfaEnabled, lastLoginAt, createdAt }) => ({
      id,
      username,
      email,
      status,
      privileged,
      mfaEnabled,
      lastLoginAt,
      createdAt,
    }));

  it('maps the Atlassian-style Jira export', async () => {
    const { ctx, provenance, warnings } = testContext({ baseDir: '/' });
    const records = await collectAll(identityCsv.collect(identityCsv.config.parse(exampleJiraConfig(EXAMPLES_DIR)), ctx));
    const account = (id: string, email: string, status: string, lastSeen: string, added: string, privileged = false) => ({
      id: `5b10ac8d82e05b22cc7d4e${id}`,
      username: email,
      email,
      status,
      privileged,
      mfaEnabled: 'unknown',
      lastLoginAt: `${lastSeen}T00:00:00.000Z`,
      createdAt: `${added}T00:00:00.000Z`,
    });
    expect(summary(records)).toEqual([
      account('01', 'amara.okafor@example.com', 'active', '2026-11-24', '2024-03-11'),
      account('02', 'ben.hartley@example.com', 'active', '2026-11-24', '2023-06-01', true),
      account('03', 'carla.mendes@example.com', 'active', '2026-09-21', '2024-01-15'),
      account('04', 'dev.patel@example.com', 'active', '2026-11-23', '2023-09-04'),
      account('05', 'elif.yilmaz@example.com', 'disabled', '2026-10-15', '2024-05-20'),
      account('06', 'finn.obrien@example.com', 'active', '2026-11-20', '2025-02-03'),
      account('07', 'grace.liu@example.com', 'active', '2026-11-24', '2025-04-22'),
      account('09', 'ines.moreau@example.com', 'active', '2026-11-22', '2025-07-01'),
      account('0a', 'j.weber@example.com', 'active', '2026-11-24', '2025-09-15'),
      account('0b', 'kemi.adeyemi@example.com', 'active', '2026-11-19', '2026-01-12'),
      account('0c', 'luca.romano@example.com', 'active', '2026-11-21', '2026-03-02'),
      account('0d', 'svc-ci@example.com', 'active', '2026-11-25', '2025-01-10'),
      account('0e', 'marta.kowalski@northwind-consulting.com', 'active', '2026-11-18', '2026-08-18'),
    ]);
    expect(records[1]).toMatchObject({
      tenant: 'jira-cloud',
      displayName: 'Ben Hartley',
      groups: ['jira-software-users', 'jira-administrators', 'site-admins', 'Org admin'],
    });
    expect(records[5]?.displayName).toBe("O'Brien, Finn");
    expect(records[7]?.displayName).toBe('Inès Moreau');
    const bytes = await readFile(join(EXAMPLES_DIR, 'identities/jira-users.csv'));
    expect(provenance.file).toMatchObject({ sha256: sha256(bytes), bytes: bytes.length, rows: 13 });
    expect(warnings).toEqual([
      `identity-csv: ${EXAMPLES_DIR}identities/jira-users.csv: no MFA column is mapped, so MFA enrolment is unknown for every account in jira-cloud`,
    ]);
  });

  it('maps the VPN appliance export, its wall-clock times in Europe/Berlin', async () => {
    const { ctx, provenance, warnings } = testContext({ baseDir: '/' });
    const records = await collectAll(identityCsv.collect(identityCsv.config.parse(exampleVpnConfig(EXAMPLES_DIR)), ctx));
    expect(
      summary(records).map(({ username, status, privileged, mfaEnabled, lastLoginAt, createdAt }) => [
        username,
        status,
        privileged,
        mfaEnabled,
        lastLoginAt,
        createdAt,
      ]),
    ).toEqual([
      ['aokafor', 'active', false, true, '2026-11-24T07:15:32.000Z', '2024-03-11T08:00:00.000Z'],
      ['bhartley', 'active', true, true, '2026-11-24T18:02:11.000Z', '2023-06-01T08:30:00.000Z'],
      ['cmendes', 'disabled', false, true, '2026-09-03T15:45:09.000Z', '2024-01-15T08:20:00.000Z'],
      ['dpatel', 'active', false, false, '2026-11-23T06:58:40.000Z', '2023-09-04T09:05:00.000Z'],
      ['fobrien', 'active', false, true, '2026-08-14T14:20:05.000Z', '2025-02-03T08:45:00.000Z'],
      ['gliu', 'active', false, true, '2026-11-20T08:31:27.000Z', '2025-04-22T12:10:00.000Z'],
      ['hlarsen', 'active', false, true, '2026-11-05T17:30:44.000Z', '2024-10-07T06:50:00.000Z'],
      ['imoreau', 'active', false, true, '2026-11-24T09:12:03.000Z', '2025-07-01T07:00:00.000Z'],
      ['jweber', 'active', false, true, '2026-11-24T06:44:18.000Z', '2025-09-15T07:30:00.000Z'],
      ['kadeyemi', 'active', false, true, '2026-11-18T12:05:51.000Z', '2026-01-12T09:00:00.000Z'],
      ['lromano', 'active', false, true, null, '2026-09-26T06:00:00.000Z'],
    ]);
    expect(records[1]).toMatchObject({ tenant: 'corporate-vpn', email: 'ben.hartley@example.com', groups: ['staff', 'vpn-admins'] });
    const bytes = await readFile(join(EXAMPLES_DIR, 'identities/vpn-users.csv'));
    expect(provenance.file).toMatchObject({ sha256: sha256(bytes), bytes: bytes.length, rows: 11 });
    expect(warnings).toEqual([]);
  });
});
