import { describe, expect, it } from 'vitest';
import { orphanAccount } from '../../checks/orphan-account.ts';
import type { HrPerson, Identity } from '../../core/records.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import { join, withMapping } from '../support/joins.ts';
import { identity, leaver, person } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const subjectOf = (id: string) => `aws-iam:111122223333:${id}`;
const jane = person({ employeeId: 'E1', email: 'jane.doe@example.com', aliases: ['jd@example.com'] });

const rows: {
  name: string;
  account: Identity;
  people?: HrPerson[];
  params?: Record<string, unknown>;
  join?: AccountJoin;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'nobody HR knows', account: identity({ username: 'mallory' }), expected: [{ subject: subjectOf('mallory'), severity: 'medium' }] },
  {
    name: 'privileged escalates to high',
    account: identity({ username: 'mallory', privileged: true }),
    expected: [{ subject: subjectOf('mallory'), severity: 'high' }],
  },
  { name: 'bare username, no email', account: identity({ username: 'ops', email: null }), expected: [{ subject: subjectOf('ops'), severity: 'medium' }] },
  { name: 'owned by email in upper case', account: identity({ username: 'jane', email: 'JANE.DOE@EXAMPLE.COM' }), expected: [] },
  { name: 'owned by plus-addressed email', account: identity({ username: 'jane', email: 'jane.doe+aws@example.com' }), expected: [] },
  {
    name: 'plus-addressed email is someone else when plus-addressing counts',
    account: identity({ username: 'jane', email: 'jane.doe+aws@example.com' }),
    join: join({ ignorePlusAddressing: false }),
    expected: [{ subject: subjectOf('jane'), severity: 'medium' }],
  },
  {
    name: 'owned through an alias of the directory account (Google raw.aliases)',
    account: identity({ source: 'google-workspace', username: 'jane@corp.example', raw: { aliases: ['jane.doe@example.com'] } }),
    expected: [],
  },
  { name: 'owned by alias', account: identity({ username: 'jd', email: 'Jd@example.com' }), expected: [] },
  {
    name: 'owned through the mapping file',
    account: identity({ username: 'jdoe-admin', email: null }),
    join: withMapping(join(), { 'jdoe-admin': 'jd@example.com' }),
    expected: [],
  },
  {
    name: 'a mapping to an address HR does not list leaves it orphaned',
    account: identity({ username: 'jdoe-admin', email: null }),
    join: withMapping(join(), { 'jdoe-admin': 'ghost@example.com' }),
    expected: [{ subject: subjectOf('jdoe-admin'), severity: 'medium' }],
  },
  {
    name: 'owned through the username template',
    account: identity({ username: 'Jane.Doe', email: null }),
    join: join({ template: '{username}@example.com' }),
    expected: [],
  },
  {
    name: "with email off, an account's own address does not make it owned",
    account: identity({ username: 'octocat', email: 'jane.doe@example.com' }),
    join: join({ email: false, template: '{username}@example.com' }),
    expected: [{ subject: subjectOf('octocat'), severity: 'medium' }],
  },
  {
    name: "a leaver's account is owned (leaver-still-active reports it)",
    account: identity({ username: 'bob' }),
    people: [leaver(500, { employeeId: 'E2', email: 'bob@example.com' })],
    expected: [],
  },
  { name: 'svc-* service account', account: identity({ username: 'svc-backup', email: null }), expected: [] },
  { name: '*-bot service account', account: identity({ username: 'renovate-bot' }), expected: [] },
  { name: 'Google service account', account: identity({ username: 'ci@build-prod.iam.gserviceaccount.com' }), expected: [] },
  {
    name: 'custom service-account patterns replace the defaults',
    account: identity({ username: 'svc-backup', email: null }),
    params: { serviceAccountPatterns: ['robot-*'] },
    expected: [{ subject: subjectOf('svc-backup'), severity: 'medium' }],
  },
  { name: 'service account by tag', account: identity({ username: 'deployer', raw: { tags: ['service-account'] } }), expected: [] },
  { name: 'service account by tag record', account: identity({ username: 'deployer', raw: { tags: { 'Service-Account': 'yes' } } }), expected: [] },
  {
    name: 'custom tag',
    account: identity({ username: 'deployer', raw: { tags: { owner: 'machine' } } }),
    params: { serviceAccountTag: 'machine' },
    expected: [],
  },
  {
    name: 'tags that are not a list or record',
    account: identity({ username: 'deployer', raw: { tags: 'service-account' } }),
    expected: [{ subject: subjectOf('deployer'), severity: 'medium' }],
  },
  {
    name: 'root exempt',
    account: identity({ username: '<root_account>', id: 'root', email: null, privileged: true }),
    params: { exemptAccounts: ['<root_account>', 'breakglass-*'] },
    expected: [],
  },
  {
    name: 'break-glass exempt',
    account: identity({ username: 'breakglass-01', privileged: true }),
    params: { exemptAccounts: ['<root_account>', 'breakglass-*'] },
    expected: [],
  },
  { name: 'suspended', account: identity({ username: 'mallory', status: 'suspended' }), expected: [] },
  { name: 'disabled', account: identity({ username: 'mallory', status: 'disabled' }), expected: [] },
  { name: 'deleted', account: identity({ username: 'mallory', status: 'deleted' }), expected: [] },
];

describe('orphan-account', () => {
  it.each(rows)('$name', ({ account, people = [jane], params, join: rules, expected }) => {
    expect(outcome(runCheck(orphanAccount, { identities: [account], people, params, join: rules }))).toEqual(expected);
  });

  it('names the system, account and email', () => {
    const [deviation] = runCheck(orphanAccount, {
      identities: [identity({ username: 'mallory', source: 'github', tenant: 'acme', id: '42' })],
      people: [jane],
    });
    expect(deviation).toMatchObject({
      checkId: 'orphan-account',
      subject: 'github:acme:42',
      title: 'Account owned by no known person: mallory in github (acme)',
      detail:
        'mallory in github (acme), email mallory@example.com, is active but matches no HR person by email, directory aliases, and is neither a recognised service account nor exempt.',
      values: { system: 'github', tenant: 'acme', account: 'mallory', email: 'mallory@example.com', privileged: false, joinTried: 'email, directory aliases' },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('says which join it tried', () => {
    const [deviation] = runCheck(orphanAccount, {
      identities: [identity({ username: 'ops', email: null })],
      people: [jane],
      join: withMapping(join({ email: false, aliases: false, template: '{username}@example.com' }), {}, 'email', 'joins/aws.csv'),
    });
    expect(deviation?.detail).toContain('matches no HR person by template {username}@example.com, mapping file joins/aws.csv,');
  });

  it('reports every account that nobody owns, and only those', () => {
    const deviations = runCheck(orphanAccount, {
      identities: [identity({ username: 'jane', email: 'jane.doe@example.com' }), identity({ username: 'mallory' }), identity({ username: 'trent' })],
      people: [jane],
    });
    expect(deviations.map((deviation) => deviation.values['account'])).toEqual(['mallory', 'trent']);
  });
});
