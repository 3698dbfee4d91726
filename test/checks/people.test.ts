import { describe, expect, it } from 'vitest';
import { checkEvidence, type CheckEvidence } from '../../checks/contract.ts';
import { PersonMatchingParams, accountOwners, indexPeople, normalizeEmail } from '../../checks/people.ts';
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
  const params = (overrides: Partial<PersonMatchingParams> = {}) => PersonMatchingParams.parse(overrides);
  const matched = (account: Parameters<typeof identity>[0], overrides: Partial<PersonMatchingParams> = {}) =>
    indexPeople([jane, bob], params(overrides))
      .matchesOf(identity(account))
      .map(({ person: p, matchedBy }) => [p.employeeId, matchedBy]);

  it.each([
    { name: 'primary email, other case', account: { email: 'JANE.DOE@EXAMPLE.COM' }, expected: [['E1', 'email']] },
    { name: 'alias', account: { email: 'jd@example.com' }, expected: [['E1', 'alias']] },
    { name: 'plus-addressed alias', account: { email: 'jd+gh@example.com' }, expected: [['E1', 'alias']] },
    { name: 'username holding the email', account: { username: 'jane.doe@example.com', email: null }, expected: [['E1', 'email']] },
    { name: 'a leaver matches too (any status)', account: { email: 'bob@example.com' }, expected: [['E2', 'email']] },
    { name: 'a non-address alias never joins a bare username', account: { username: 'not-an-address', email: null }, expected: [] },
    { name: 'no email at all', account: { username: 'root', email: null }, expected: [] },
    { name: "an alias the directory lists for the account", account: { username: 'jane', email: 'j@other.example', raw: { aliases: [7, 'Jane.Doe@example.com'] } }, expected: [['E1', 'email']] },
    { name: 'raw aliases that are not a list are ignored', account: { username: 'jane', email: null, raw: { aliases: 'jane.doe@example.com' } }, expected: [] },
    { name: 'other person', account: { email: 'carol@example.com' }, expected: [] },
  ])('$name', ({ account, expected }) => {
    expect(matched(account)).toEqual(expected);
  });

  it.each([
    { name: 'username', mapping: ['jdoe-admin'], account: { username: 'jdoe-admin', email: null }, expected: [['E1', 'mapping']] },
    { name: 'username in another case, padded', mapping: [' JDOE-Admin '], account: { username: 'jdoe-admin', email: null }, expected: [['E1', 'mapping']] },
    { name: 'email, exactly as written', mapping: ['shared+ops@example.com'], account: { username: 'ops', email: 'Shared+Ops@example.com' }, expected: [['E1', 'mapping']] },
    { name: 'system-qualified username', mapping: ['aws-iam:jdoe-admin'], account: { username: 'jdoe-admin', email: null }, expected: [['E1', 'mapping']] },
    { name: 'qualified for another system', mapping: ['github:jdoe-admin'], account: { username: 'jdoe-admin', email: null }, expected: [] },
  ])('mapping by $name', ({ mapping, account, expected }) => {
    expect(matched(account, { mappings: { E1: mapping } })).toEqual(expected);
  });

  it('ignores a mapping to an employee HR does not list', () => {
    expect(matched({ username: 'ghost', email: null }, { mappings: { E404: ['ghost'] } })).toEqual([]);
  });

  it('lists a person once, by the strongest route, when several routes match', () => {
    expect(matched({ username: 'jd@example.com', email: 'jane.doe@example.com' })).toEqual([['E1', 'email']]);
    expect(matched({ username: 'jdoe', email: 'jane.doe@example.com' }, { mappings: { E1: ['jdoe'] } })).toEqual([['E1', 'mapping']]);
  });

  it('returns every person an address belongs to', () => {
    const rehire = person({ employeeId: 'E9', email: 'bob@example.com' });
    const index = indexPeople([bob, rehire], params());
    expect(index.matchesOf(identity({ email: 'bob@example.com' })).map((match) => match.person.employeeId)).toEqual(['E2', 'E9']);
  });

  it('keeps plus-addressed people apart when plus-addressing is significant', () => {
    expect(matched({ email: 'jane.doe+x@example.com' }, { ignorePlusAddressing: false })).toEqual([]);
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
    const index = indexPeople([ben, ann], PersonMatchingParams.parse({ mappings: { B: ['ops'] } }));
    const account = identity({ username: 'ops', email: 'ann@example.com', raw: { aliases: ['ops@example.com'] } });
    expect(index.matchesOf(account).map(({ person: p, matchedBy }) => [p.employeeId, matchedBy])).toEqual([
      ['A', 'email'],
      ['B', 'mapping'],
    ]);
  });

  it('gives accounts that join the same way the same frozen list, and no list of their own', () => {
    const jane = person({ employeeId: 'E1', email: 'jane@example.com' });
    const index = indexPeople([jane], PersonMatchingParams.parse({}));
    const first = index.matchesOf(identity({ username: 'jane@example.com', email: 'jane@example.com' }));
    const second = index.matchesOf(identity({ username: 'JANE', email: 'Jane+ci@Example.com', source: 'google-workspace' }));
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(index.matchesOf(identity({ username: 'nobody', email: null }))).toBe(index.matchesOf(identity({ username: 'root', email: null })));
  });
});

describe('accountOwners', () => {
  const jane = person({ employeeId: 'E1', email: 'jane@example.com' });
  const accounts = [identity({ username: 'jane', email: 'jane@example.com' }), identity({ username: 'ops', email: null }), identity({ username: 'jd', email: 'JANE@example.com' })];
  const evidenceOf = () =>
    checkEvidence([
      { evidenceId: 'ev-iam', records: accounts },
      { evidenceId: 'ev-hr', records: [jane] },
    ]);
  const owners = (evidence: CheckEvidence, params: Partial<PersonMatchingParams> = {}) =>
    accountOwners(evidence, PersonMatchingParams.parse(params)).map((matches) => matches.map(({ person: p, matchedBy }) => `${p.employeeId}:${matchedBy}`));

  it('lists the owners of every account at its position in the evidence', () => {
    expect(owners(evidenceOf())).toEqual([['E1:email'], [], ['E1:email']]);
    expect(owners(evidenceOf(), { mappings: { E1: ['ops'] } })).toEqual([['E1:email'], ['E1:mapping'], ['E1:email']]);
  });

  it('joins once per evidence and matching params', () => {
    const evidence = evidenceOf();
    const params = PersonMatchingParams.parse({});
    const first = accountOwners(evidence, params);
    expect(accountOwners(evidence, PersonMatchingParams.parse({}))).toBe(first);
    expect(accountOwners(evidence, PersonMatchingParams.parse({ mappings: { E1: ['ops'] } }))).not.toBe(first);
    expect(accountOwners(evidenceOf(), params)).not.toBe(first);
  });
});
