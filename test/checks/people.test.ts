import { describe, expect, it } from 'vitest';
import { checkEvidence, type CheckEvidence } from '../../checks/kit/contract.ts';
import { DEFAULT_JOIN, type AccountJoin } from '../../checks/kit/join.ts';
import { accountOwners, describeMatch, indexPeople, normalizeEmail } from '../../checks/kit/people.ts';
import { join, withMapping } from '../support/joins.ts';
import { identity, leaver, person } from '../support/records.ts';

describe('normalizeEmail', () => {
  it.each([
    { value: 'jane.doe@example.com', plus: true, expected: 'jane.doe@example.com' },
    { value: '  Jane.Doe@Example.COM \t', plus: true, expected: 'jane.doe@example.com' },
    { value: 'jane.doe+aws@example.com', plus: true, expected: 'jane.doe@example.com' },
    { value: 'Jane.Doe+AWS+2@Example.com', plus: true, expected: 'jane.doe@example.com' },
    { value: 'jane.doe+aws@example.com', plus: false, expected: 'jane.doe+aws@example.com' },
    { value: '+tag@example.com', plus: true, expected: '+tag@example.com' },
    { value: 'admin', plus: true, expected: null },
    { value: '@example.com', plus: true, expected: null },
    { value: 'jane@', plus: true, expected: null },
    { value: '   ', plus: true, expected: null },
    { value: '', plus: true, expected: null },
    { value: null, plus: true, expected: null },
  ])('$value (ignore plus: $plus) -> $expected', ({ value, plus, expected }) => {
    expect(normalizeEmail(value, { ignorePlusAddressing: plus })).toBe(expected);
  });

  it('ignores plus-addressing unless told otherwise', () => {
    expect(normalizeEmail('a+b@example.com')).toBe('a@example.com');
  });
});

describe('indexPeople', () => {
  const jane = person({ employeeId: 'E1', email: 'Jane.Doe@example.com', aliases: ['jd@example.com', 'not-an-address'] });
  const bob = leaver(48, { employeeId: 'E2', email: 'bob@example.com' });
  const matched = (account: Parameters<typeof identity>[0], rules: AccountJoin = DEFAULT_JOIN) =>
    indexPeople([jane, bob])
      .matchesOf(identity(account), rules)
      .map(({ person: p, matchedBy, personField }) => [p.employeeId, matchedBy, personField]);

  it.each([
    { name: 'primary email, other case', account: { email: 'JANE.DOE@EXAMPLE.COM' }, expected: [['E1', 'email', 'email']] },
    { name: 'an HR alias', account: { email: 'jd@example.com' }, expected: [['E1', 'email', 'alias']] },
    { name: 'plus-addressed HR alias', account: { email: 'jd+gh@example.com' }, expected: [['E1', 'email', 'alias']] },
    { name: 'username holding the email', account: { username: 'jane.doe@example.com', email: null }, expected: [['E1', 'email', 'email']] },
    { name: 'a leaver matches too (any status)', account: { email: 'bob@example.com' }, expected: [['E2', 'email', 'email']] },
    { name: 'a non-address alias never joins a bare username', account: { username: 'not-an-address', email: null }, expected: [] },
    { name: 'no email at all', account: { username: 'root', email: null }, expected: [] },
    {
      name: 'an alias the directory lists for the account',
      account: { username: 'jane', email: 'j@other.example', raw: { aliases: [7, 'Jane.Doe@example.com'] } },
      expected: [['E1', 'alias', 'email']],
    },
    { name: 'raw aliases that are not a list are ignored', account: { username: 'jane', email: null, raw: { aliases: 'jane.doe@example.com' } }, expected: [] },
    { name: 'other person', account: { email: 'carol@example.com' }, expected: [] },
  ])('by default: $name', ({ account, expected }) => {
    expect(matched(account)).toEqual(expected);
  });

  it.each([
    {
      name: 'template {username}@example.com',
      rules: join({ template: '{username}@example.com' }),
      account: { username: 'Jane.Doe', email: null },
      expected: [['E1', 'template', 'email']],
    },
    {
      name: 'template to an HR alias',
      rules: join({ template: '{username}@example.com' }),
      account: { username: 'jd', email: null },
      expected: [['E1', 'template', 'alias']],
    },
    {
      name: 'template of the local part of a UPN',
      rules: join({ template: '{localPart}@example.com' }),
      account: { username: 'jane.doe@corp.onmicrosoft.com', email: null },
      expected: [['E1', 'template', 'email']],
    },
    {
      name: 'the second of two templates',
      rules: join({ template: ['{username}@contractors.example.com', '{username}@example.com'] }),
      account: { username: 'bob', email: null },
      expected: [['E2', 'template', 'email']],
    },
    { name: 'a template that makes nobody', rules: join({ template: '{username}@example.com' }), account: { username: 'carol', email: null }, expected: [] },
    {
      name: 'tag holding the address (AWS Key/Value)',
      rules: join({ tag: 'email' }),
      account: { username: 'jdoe', email: null, raw: { tags: [{ Key: 'Email', Value: 'jane.doe@example.com' }] } },
      expected: [['E1', 'tag', 'email']],
    },
    {
      name: 'tag holding the employee id',
      rules: join({ tag: { key: 'employee-id', matches: 'employeeId' } }),
      account: { username: 'jdoe', email: null, raw: { tags: { 'employee-id': ' e1 ' } } },
      expected: [['E1', 'tag', 'employeeId']],
    },
    { name: 'a tag without a value', rules: join({ tag: 'email' }), account: { username: 'jdoe', email: null, raw: { tags: ['email'] } }, expected: [] },
    {
      name: 'attribute at a dotted path',
      rules: join({ attribute: 'profile.workEmail' }),
      account: { username: 'jdoe', email: null, raw: { profile: { workEmail: 'bob@example.com' } } },
      expected: [['E2', 'attribute', 'email']],
    },
    {
      name: 'attribute holding a list',
      rules: join({ attribute: 'owners' }),
      account: { username: 'jdoe', email: null, raw: { owners: [3, 'jd@example.com'] } },
      expected: [['E1', 'attribute', 'alias']],
    },
    {
      name: 'attribute holding an employee id',
      rules: join({ attribute: { name: 'employeeNumber', matches: 'employeeId' } }),
      account: { username: 'jdoe', email: null, raw: { employeeNumber: 'E2' } },
      expected: [['E2', 'attribute', 'employeeId']],
    },
    {
      name: "email off: the account's own address does not join",
      rules: join({ email: false, template: '{username}@example.com' }),
      account: { username: 'bob', email: 'jane.doe@example.com' },
      expected: [['E2', 'template', 'email']],
    },
    {
      name: 'aliases off',
      rules: join({ aliases: false }),
      account: { username: 'jane', email: null, raw: { aliases: ['jane.doe@example.com'] } },
      expected: [],
    },
    { name: 'plus-addressing kept apart', rules: join({ ignorePlusAddressing: false }), account: { email: 'jane.doe+x@example.com' }, expected: [] },
  ])('by join: $name', ({ rules, account, expected }) => {
    expect(matched(account, rules)).toEqual(expected);
  });

  it.each<{ name: string; rows: Record<string, string>; account: Parameters<typeof identity>[0]; expected: string[][] }>([
    {
      name: 'username',
      rows: { 'jdoe-admin': 'jane.doe@example.com' },
      account: { username: 'jdoe-admin', email: null },
      expected: [['E1', 'mapping', 'email']],
    },
    {
      name: 'username in another case, padded',
      rows: { ' JDOE-Admin ': 'jane.doe@example.com' },
      account: { username: 'jdoe-admin', email: null },
      expected: [['E1', 'mapping', 'email']],
    },
    {
      name: 'the account id',
      rows: { 'arn:aws:iam::111122223333:user/ops': 'bob@example.com' },
      account: { username: 'ops', id: 'arn:aws:iam::111122223333:user/ops', email: null },
      expected: [['E2', 'mapping', 'email']],
    },
    { name: 'to an HR alias', rows: { ops: 'JD@example.com' }, account: { username: 'ops', email: null }, expected: [['E1', 'mapping', 'alias']] },
    // The exception replaces the rules: the template would join jane.doe to E1, the file says the account is Bob's.
    {
      name: 'overriding the rules',
      rows: { 'jane.doe': 'bob@example.com' },
      account: { username: 'jane.doe', email: 'jane.doe@example.com' },
      expected: [['E2', 'mapping', 'email']],
    },
    { name: 'to an address HR does not list', rows: { ghost: 'ghost@example.com' }, account: { username: 'ghost', email: null }, expected: [] },
  ])('by mapping file: $name', ({ rows, account, expected }) => {
    expect(matched(account, withMapping(join({ template: '{username}@example.com' }), rows))).toEqual(expected);
  });

  it('by mapping file to employee ids', () => {
    expect(matched({ username: 'ops', email: null }, withMapping(DEFAULT_JOIN, { ops: 'e2' }, 'employeeId'))).toEqual([['E2', 'mapping', 'employeeId']]);
  });

  it('lists a person once, by the strongest route, when several routes match', () => {
    expect(matched({ username: 'jd@example.com', email: 'jane.doe@example.com' })).toEqual([['E1', 'email', 'email']]);
    expect(
      matched(
        { username: 'jane.doe', email: 'jd@example.com', raw: { tags: { email: 'jane.doe@example.com' } } },
        join({ tag: 'email', template: '{username}@example.com' }),
      ),
    ).toEqual([['E1', 'tag', 'email']]);
  });

  it('returns every person an address belongs to', () => {
    const rehire = person({ employeeId: 'E9', email: 'bob@example.com' });
    const index = indexPeople([bob, rehire]);
    expect(index.matchesOf(identity({ email: 'bob@example.com' }), DEFAULT_JOIN).map((match) => match.person.employeeId)).toEqual(['E2', 'E9']);
  });

  it('describes how an account was joined in the words of its join', () => {
    const rules = withMapping(join({ template: '{username}@example.com', tag: 'owner' }), { ops: 'e1' }, 'employeeId', 'joins/aws.csv');
    const index = indexPeople([jane, bob]);
    const describe = (account: Parameters<typeof identity>[0]) => index.matchesOf(identity(account), rules).map((match) => describeMatch(match, rules));
    expect(describe({ username: 'jd', email: null })).toEqual(['template {username}@example.com (an HR alias)']);
    expect(describe({ username: 'ops', email: null })).toEqual(['mapping file joins/aws.csv (HR employee id)']);
    expect(describe({ username: 'x', email: null, raw: { tags: { owner: 'bob@example.com' } } })).toEqual(['tag owner']);
    expect(describe({ username: 'x', email: 'bob@example.com' })).toEqual(['email']);
  });
});

describe('normalizeEmail beyond ASCII and with a plus outside the local part', () => {
  it.each([
    { value: 'ÉLODIE.Durand@Example.com', expected: 'élodie.durand@example.com' },
    { value: 'İpek@example.com', expected: 'i̇pek@example.com' },
    { value: 'jane@plus+domain.example', expected: 'jane@plus+domain.example' },
    { value: 'jane+tag@plus+domain.example', expected: 'jane@plus+domain.example' },
    { value: '\u00a0jane@example.com\u2003', expected: 'jane@example.com' },
  ])('$value -> $expected', ({ value, expected }) => {
    expect(normalizeEmail(value)).toBe(expected);
  });
});

describe('indexPeople: several routes to several people', () => {
  it('lists people in the order the routes find them, each by its strongest route', () => {
    const ann = person({ employeeId: 'A', email: 'ann@example.com', aliases: ['ops@example.com'] });
    const ben = person({ employeeId: 'B', email: 'ben@example.com', aliases: ['ops@example.com'] });
    const index = indexPeople([ben, ann]);
    const account = identity({ username: 'ben', email: 'ann@example.com', raw: { aliases: ['ops@example.com'] } });
    expect(index.matchesOf(account, join({ template: '{username}@example.com' })).map(({ person: p, matchedBy }) => [p.employeeId, matchedBy])).toEqual([
      ['A', 'email'],
      ['B', 'template'],
    ]);
  });

  it('gives accounts that join the same way the same frozen list, and no list of their own', () => {
    const jane = person({ employeeId: 'E1', email: 'jane@example.com' });
    const index = indexPeople([jane]);
    const first = index.matchesOf(identity({ username: 'jane@example.com', email: 'jane@example.com' }), DEFAULT_JOIN);
    const second = index.matchesOf(identity({ username: 'JANE', email: 'Jane+ci@Example.com', source: 'google-workspace' }), DEFAULT_JOIN);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(index.matchesOf(identity({ username: 'nobody', email: null }), DEFAULT_JOIN)).toBe(
      index.matchesOf(identity({ username: 'root', email: null }), DEFAULT_JOIN),
    );
  });
});

describe('accountOwners', () => {
  const jane = person({ employeeId: 'E1', email: 'jane@example.com' });
  const accounts = [
    identity({ username: 'jane', email: 'jane@example.com' }),
    identity({ username: 'ops', email: null }),
    identity({ username: 'jd', email: 'JANE@example.com' }),
  ];
  const github = [identity({ source: 'github', username: 'jane', email: null })];
  const evidenceOf = (iamJoin?: AccountJoin) =>
    checkEvidence([
      { evidenceId: 'ev-iam', records: accounts, join: iamJoin },
      { evidenceId: 'ev-github', records: github, join: join({ template: '{username}@example.com' }) },
      { evidenceId: 'ev-hr', records: [jane] },
    ]);
  const owners = (evidence: CheckEvidence) =>
    accountOwners(evidence).map((matches) => matches.map(({ person: p, matchedBy }) => `${p.employeeId}:${matchedBy}`));

  it('joins every account by the join of its own source, at its position in the evidence', () => {
    expect(owners(evidenceOf())).toEqual([['E1:email'], [], ['E1:email'], ['E1:template']]);
    expect(owners(evidenceOf(withMapping(DEFAULT_JOIN, { ops: 'jane@example.com' })))).toEqual([['E1:email'], ['E1:mapping'], ['E1:email'], ['E1:template']]);
  });

  it('joins once per evidence', () => {
    const evidence = evidenceOf();
    const first = accountOwners(evidence);
    expect(accountOwners(evidence)).toBe(first);
    expect(accountOwners(evidenceOf())).not.toBe(first);
  });
});
