import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { parseConfig, type LoadedConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-join-'));
  mkdirSync(path.join(dir, 'joins'));
  mkdirSync(path.join(dir, 'joins', 'folder.csv'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A mapping file beside the config, under joins/. */
function mappingFile(name: string, text: string): string {
  writeFileSync(path.join(dir, 'joins', name), text);
  return `joins/${name}`;
}

const parse = (text: string): LoadedConfig => parseConfig(text, path.join(dir, 'isms.yaml'), testRegistries);
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

/** An access control over the `aws-prod` instance; `instanceJoin` and `sourceJoin` are YAML flow mappings or empty. */
function config({ instanceJoin = '', sourceJoin = '', hrJoin = '', checks = '[{ check: orphan-account }]' } = {}): string {
  return `
connectors:
  aws-prod:
    type: aws-iam
    config: { perUserDetails: false }
${instanceJoin ? `    join: ${instanceJoin}\n` : ''}controls:
  - id: access-control
    title: Access rights follow the HR record
    reference: A.5.18
    owner: security@example.com
    schedule: { cron: "0 6 * * *" }
    sources:
      - name: aws
        connector: aws-prod
${sourceJoin ? `        join: ${sourceJoin}\n` : ''}      - name: hr
        connector: hr-csv
        config: { path: hr.csv, columns: { employeeId: id, email: email, status: status } }
${hrJoin ? `        join: ${hrJoin}\n` : ''}    checks: ${checks}
`;
}

const sourceOf = (loaded: LoadedConfig, name: string) => loaded.controls.get('access-control')!.sources.find((source) => source.name === name)!;

describe('join: where a system says how its accounts map to people', () => {
  it('takes a one-line username template on the connector instance', () => {
    const aws = sourceOf(parse(config({ instanceJoin: '{ template: "{username}@example.com" }' })), 'aws');
    expect(aws.join.templates.map((template) => template.text)).toEqual(['{username}@example.com']);
    expect(aws.join).toMatchObject({ email: true, aliases: true, attribute: null, tag: null, mapping: null, ignorePlusAddressing: true });
    // No tag is asked for, so no ListUserTags call and no permission for it.
    expect(aws.config).toMatchObject({ userTags: false });
  });

  it('joins by email and aliases when nothing is said', () => {
    expect(sourceOf(parse(config()), 'aws').join).toMatchObject({ email: true, aliases: true, templates: [], mapping: null });
  });

  it('takes the join on an inline source too', () => {
    const aws = sourceOf(parse(config({ sourceJoin: '{ attribute: { name: profile.employeeNumber, matches: employeeId }, email: false }' })), 'aws');
    expect(aws.join).toMatchObject({ email: false, attribute: { name: 'profile.employeeNumber', path: ['profile', 'employeeNumber'], matches: 'employeeId' } });
  });

  it('reads IAM user tags only for a join by tag', () => {
    const aws = sourceOf(parse(config({ instanceJoin: '{ tag: email }' })), 'aws');
    expect(aws.join.tag).toEqual({ key: 'email', matches: 'email' });
    expect(aws.config).toMatchObject({ userTags: true });
    expect(sourceOf(parse(config({ sourceJoin: '{ tag: { key: employee-id, matches: employeeId } }' })), 'aws').join.tag).toEqual({
      key: 'employee-id',
      matches: 'employeeId',
    });
  });

  it('reads the mapping file relative to the config file, by account, case aside', () => {
    const file = mappingFile('aws.csv', 'account,email\nJDoe-Admin,Jane.Doe@Example.com\n"break, glass",ops-lead@example.com\n');
    const { mapping } = sourceOf(parse(config({ instanceJoin: `{ template: "{username}@example.com", mappingFile: ${file} }` })), 'aws').join;
    expect(mapping?.file).toBe(file);
    expect([...(mapping?.owners ?? [])]).toEqual([
      ['jdoe-admin', { matches: 'email', value: 'jane.doe@example.com', line: 2 }],
      ['break, glass', { matches: 'email', value: 'ops-lead@example.com', line: 3 }],
    ]);
  });

  it('takes a mapping file of employee ids', () => {
    const file = mappingFile('ids.csv', '\uFEFFemployeeId,account\r\nE1001,ops\r\n');
    expect([...(sourceOf(parse(config({ sourceJoin: `{ mappingFile: ${file} }` })), 'aws').join.mapping?.owners ?? [])]).toEqual([
      ['ops', { matches: 'employeeId', value: 'E1001', line: 2 }],
    ]);
  });

  it.each([
    [
      'an unknown template placeholder',
      { instanceJoin: '{ template: "{user}@example.com" }' },
      /^connectors\.aws-prod\.join\.template: template "\{user\}@example\.com": unknown placeholder \{user\} \(known: \{username\}, \{localPart\}\) \(line 6, column \d+\)$/,
    ],
    [
      'an unknown placeholder in the second of two templates',
      { sourceJoin: '{ template: ["{username}@example.com", "{first}.{last}@example.com"] }' },
      /^controls\[0\]\.sources\[0\]\.join\.template\[1\]: .*unknown placeholder \{first\}/,
    ],
    [
      'a template without a placeholder',
      { instanceJoin: '{ template: "ops@example.com" }' },
      /join\.template: .*no placeholder such as \{username\}: it would join every account to one address/,
    ],
    ['a template that makes no address', { instanceJoin: '{ template: "{username}" }' }, /join\.template: .*needs an "@" and a domain/],
    ['an unclosed placeholder', { instanceJoin: '{ template: "{username@example.com" }' }, /join\.template: .*a "\{" without its "\}"/],
    ['a join that joins nothing', { instanceJoin: '{ email: false, aliases: false }' }, /^connectors\.aws-prod\.join: joins no account to anyone/],
    ['an unknown join key', { instanceJoin: '{ templates: "{username}@example.com" }' }, /^connectors\.aws-prod\.join: Unrecognized key: "templates"/],
    [
      'a join on a source of HR records',
      { hrJoin: '{ template: "{username}@example.com" }' },
      /^controls\[0\]\.sources\[1\]\.join: hr-csv yields hr-person records, not accounts/,
    ],
    [
      'a join said on the instance and again on the source',
      { instanceJoin: '{ template: "{username}@example.com" }', sourceJoin: '{ tag: email }' },
      /^controls\[0\]\.sources\[0\]\.join: connector instance aws-prod says its join already: say a system's join once/,
    ],
    [
      'a missing mapping file',
      { instanceJoin: '{ mappingFile: joins/nope.csv }' },
      /^connectors\.aws-prod\.join\.mappingFile: mapping file: joins\/nope\.csv: no such file \(.*joins\/nope\.csv\) \(line 6/,
    ],
    [
      'a mapping file that is a folder',
      { instanceJoin: '{ mappingFile: joins/folder.csv }' },
      /join\.mappingFile: mapping file: joins\/folder\.csv: is not a file/,
    ],
    [
      'the per-check mappings that moved to the join',
      { checks: '[{ check: orphan-account, params: { mappings: { E1: [jdoe] } } }]' },
      /^controls\[0\]\.checks\[0\]\.params: orphan-account: mappings: moved to the source's join: list the exceptions in a CSV file \(account,email\) named by join\.mappingFile/,
    ],
  ])('refuses %s, naming where', (_case, parts, expected) => {
    expect(errorsOf(config(parts))).toEqual([expect.stringMatching(expected)]);
  });

  it('refuses a join by tag on a connector that cannot read tags', () => {
    const text = config().replace(
      '      - name: hr\n',
      '      - name: jira\n        connector: identity-csv\n        config: { path: jira.csv, system: jira, columns: { id: id, username: email } }\n        join: { tag: owner }\n      - name: hr\n',
    );
    expect(errorsOf(text)).toEqual([
      expect.stringMatching(
        /^controls\[0\]\.sources\[1\]\.join\.tag: identity-csv does not read account tags; join by attribute, template or mapping file instead/,
      ),
    ]);
  });

  it.each([
    [
      'a row whose email is not an address',
      'account,email\nok,ok@example.com\njdoe,jane.doe-at-example.com\n',
      /line 3: column "email": a 23-character value shaped "aaaa\.aaa-aa-aaaaaaa\.aaa" is not an email address \(line 6/,
    ],
    ['a row without an account', 'account,email\n  ,jane@example.com\n', /line 2: column "account": an empty cell: every row names an account \(line 6/],
    ['a row without an email', 'account,email\njdoe,\n', /line 2: column "email": an empty cell: every row names the email of the account's owner \(line 6/],
    [
      'the same account twice, case aside',
      'account,email\njdoe,a@example.com\nother,b@example.com\nJDOE,c@example.com\n',
      /line 4: column "account": the same account as on line 2 \(line 6/,
    ],
    ['a row with a cell too many', 'account,email\njdoe,a@example.com,extra\n', /line 2: not valid CSV: .*expect 2, got 3/],
    [
      'a header without the email column',
      'user,mail\njdoe,a@example.com\n',
      /line 1: the header must name the columns account and email, or account and employeeId; it has 2 column\(s\) \(line 6/,
    ],
    [
      'a header naming both email and employeeId',
      'account,email,employeeId\njdoe,a@example.com,E1\n',
      /line 1: the header must name the columns account and email, or account and employeeId/,
    ],
    ['an empty file', '', /the file is empty; expected a header row: account,email \(or account,employeeId\) \(line 6/],
  ])('refuses a mapping file with %s, naming the row and column and never quoting a cell', (name, text, expected) => {
    const file = mappingFile(`${name.replace(/\W+/g, '-')}.csv`, text);
    const errors = errorsOf(config({ instanceJoin: `{ mappingFile: ${file} }` }));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^connectors\\.aws-prod\\.join\\.mappingFile: mapping file: ${file.replace(/[.]/g, '\\.')}: `))]);
    expect(errors[0]).toMatch(expected);
    expect(errors[0]).not.toMatch(/jane|example\.com,|extra/);
  });
});
