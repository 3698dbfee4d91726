import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError, NotFoundError } from '../../../connectors/errors.ts';
import { riskRegister } from '../../../connectors/risk-register/index.ts';
import { Risk } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/registers/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'risk-register-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let written = 0;
async function registerFile(content: string, extension = 'yaml'): Promise<string> {
  written += 1;
  const name = `risks-${written}.${extension}`;
  await writeFile(join(dir, name), content);
  return name;
}

async function pull(content: string, config: Record<string, unknown> = {}, extension = 'yaml') {
  const path = await registerFile(content, extension);
  const context = testContext({ baseDir: dir });
  const records = await collectAll(riskRegister.collect(riskRegister.config.parse({ path, ...config }), context.ctx));
  return { records, path, ...context };
}

async function failure(content: string, config: Record<string, unknown> = {}, extension = 'yaml'): Promise<Error> {
  const error = await pull(content, config, extension).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the pull to fail');
  return error;
}

const ONE = `risks:
  - id: R-1
    title: Ransomware
    owner: Dev.Patel@Example.com
    asset: order database
    likelihood: possible
    impact: 5
    residualLikelihood: Unlikely
    residualImpact: major
    treatment: Mitigate
    controls: [a.8.13, A.8.7, A.8.13]
    reviewEvery: 6 months
    lastReview: 2026-05-10
`;

describe('risk-register', () => {
  it("maps an entry: levels by name or number, scores, normalized controls, the review due in the register's zone", async () => {
    const { records, warnings } = await pull(ONE, { timezone: 'Europe/Berlin' });
    expect(records).toEqual([
      {
        kind: 'risk',
        source: 'risk-register',
        id: 'R-1',
        title: 'Ransomware',
        owner: 'dev.patel@example.com',
        asset: 'order database',
        likelihood: 3,
        impact: 5,
        inherentScore: 15,
        residualLikelihood: 2,
        residualImpact: 4,
        residualScore: 8,
        treatment: 'mitigate',
        controls: ['A.8.13', 'A.8.7'],
        acceptance: null,
        reviewInterval: '6 months',
        lastReviewAt: '2026-05-09T22:00:00.000Z',
        reviewDue: '2026-11-10',
        // The end of 10 November in Berlin (winter time).
        overdueFrom: '2026-11-10T23:00:00.000Z',
        raw: { at: 'risks[0] (line 2)', scales: { likelihood: 5, impact: 5 }, residualRated: true },
      },
    ]);
    expect(warnings).toEqual([]);
    for (const record of records) expect(Risk.parse(record)).toEqual(record);
  });

  it('reads the shipped example register and records the file it read', async () => {
    const context = testContext({ baseDir: EXAMPLES });
    const records = await collectAll(riskRegister.collect(riskRegister.config.parse({ path: 'risks.yaml', timezone: 'Europe/Berlin' }), context.ctx));
    expect(records.map((risk) => [risk.id, risk.treatment, risk.inherentScore, risk.residualScore, risk.controls])).toEqual([
      ['R-001', 'mitigate', 15, 8, ['A.8.13']],
      ['R-002', 'mitigate', 16, 4, ['A.5.18', 'A.8.5']],
      ['R-003', 'mitigate', 16, 8, ['A.8.8']],
      ['R-004', 'transfer', 10, 10, ['A.5.19']],
      ['R-005', 'accept', 6, 6, []],
      ['R-006', 'accept', 3, 3, []],
      ['R-007', 'avoid', 9, 9, []],
    ]);
    expect(records[4]?.acceptance).toEqual({ by: null, on: '2026-05-04' });
    expect(records[5]?.acceptance).toEqual({ by: 'amara.okafor@example.com', on: '2025-10-01' });
    const bytes = await readFile(join(EXAMPLES, 'risks.yaml'));
    expect(context.provenance['file']).toEqual({
      path: 'risks.yaml',
      absolutePath: join(EXAMPLES, 'risks.yaml'),
      format: 'yaml',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      entries: 7,
    });
    expect(context.warnings).toEqual([]);
  });

  it('reads the same register from CSV, lists separated by semicolons', async () => {
    const csv = [
      'id,title,owner,asset,likelihood,impact,residualLikelihood,residualImpact,treatment,controls,reviewEvery,lastReview',
      'R-1,Ransomware,Dev.Patel@Example.com,order database,possible,5,Unlikely,major,Mitigate,a.8.13; A.8.7; A.8.13,6 months,2026-05-10',
    ].join('\n');
    const fromYaml = await pull(ONE, { timezone: 'Europe/Berlin' });
    const fromCsv = await pull(csv, { timezone: 'Europe/Berlin' }, 'csv');
    const withoutRaw = (records: readonly Risk[]) => records.map((risk) => ({ ...risk, raw: undefined }));
    expect(withoutRaw(fromCsv.records)).toEqual(withoutRaw(fromYaml.records));
    expect(fromCsv.records[0]?.raw).toMatchObject({ at: 'line 2' });
    expect(fromCsv.provenance['file']).toMatchObject({ format: 'csv', entries: 1 });
  });

  it.each<[string, string, Record<string, unknown>, Record<string, unknown> | undefined]>([
    [
      'a bare list instead of risks:',
      '- id: R-1\n  title: T\n  likelihood: 1\n  impact: 1\n  treatment: avoid\n',
      {},
      { id: 'R-1', raw: { at: '[0] (line 1)', scales: { likelihood: 5, impact: 5 }, residualRated: false } },
    ],
    [
      'no residual rating: the inherent one',
      'risks:\n  - { id: R-1, title: T, likelihood: 4, impact: 2, treatment: accept }\n',
      {},
      { residualLikelihood: 4, residualImpact: 2, residualScore: 8 },
    ],
    [
      'an acceptance with its day',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: accept, acceptedBy: CEO@example.com, acceptedOn: 2026-01-05 }\n',
      {},
      { acceptance: { by: 'ceo@example.com', on: '2026-01-05' } },
    ],
    [
      'no review recorded',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid }\n',
      {},
      { lastReviewAt: null, reviewDue: null, overdueFrom: null, reviewInterval: '1 year' },
    ],
    [
      "the source's interval by default, months clamped to the month's end",
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid, lastReview: 2026-01-31 }\n',
      { reviewEvery: '1 month' },
      { reviewInterval: '1 month', reviewDue: '2026-02-28', overdueFrom: '2026-03-01T00:00:00.000Z' },
    ],
    [
      'weeks',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid, lastReview: 2026-01-01, reviewEvery: 2 weeks }\n',
      {},
      { reviewDue: '2026-01-15' },
    ],
    [
      'a three-level scale of its own, a numeric id, one control as text',
      'risks:\n  - { id: 7, title: T, likelihood: High, impact: 2, treatment: mitigate, controls: A.8.8 }\n',
      { scales: { likelihood: ['low', 'medium', 'high'], impact: ['low', 'medium', 'high'] } },
      { id: '7', likelihood: 3, inherentScore: 6, controls: ['A.8.8'] },
    ],
    ['an empty register', 'risks: []\n', {}, undefined],
  ])('%s', async (_name, content, config, expected) => {
    const { records } = await pull(content, config);
    if (expected === undefined) expect(records).toEqual([]);
    else expect(records[0]).toMatchObject(expected);
  });

  it.each([
    [
      'a level not on the scale',
      'risks:\n  - id: R-1\n    title: T\n    likelihood: confidential-word\n    impact: 1\n    treatment: avoid\n',
      'risks[0] (line 2): likelihood (line 4, column 17): expected a level of the likelihood scale: 1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain',
    ],
    [
      'a level beyond the scale',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 6, treatment: avoid }\n',
      'risks[0] (line 2): impact (line 2, column 49): expected a level of the impact scale',
    ],
    [
      'an unknown treatment',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: ignore }\n',
      'risks[0] (line 2): treatment (line 2, column 63): Invalid option: expected one of "mitigate"|"accept"|"transfer"|"avoid"',
    ],
    ['no id', 'risks:\n  - { title: T, likelihood: 1, impact: 1, treatment: avoid }\n', 'risks[0] (line 2): id (line 2, column 5): the id is empty'],
    [
      'half a residual rating',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, residualImpact: 1, treatment: avoid }\n',
      'risks[0] (line 2): residualLikelihood (line 2, column 5): give both residualLikelihood and residualImpact, or neither',
    ],
    [
      'a date that does not exist',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid, lastReview: 2026-02-30 }\n',
      'risks[0] (line 2): lastReview (line 2, column 82): expected a date written YYYY-MM-DD that exists on the calendar',
    ],
    [
      'an interval of hours',
      'risks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid, reviewEvery: 2 hours }\n',
      'risks[0] (line 2): reviewEvery (line 2, column 83): expected a review interval',
    ],
    [
      'the same id twice',
      'risks:\n  - { id: R-1, title: A, likelihood: 1, impact: 1, treatment: avoid }\n  - { id: R-1, title: B, likelihood: 1, impact: 1, treatment: avoid }\n',
      'risks[1] (line 3): risk id "R-1" is already at risks[0] (line 2)',
    ],
    ['an entry that is not a map', 'risks:\n  - R-1 secret title\n', 'risks[0] (line 2): expected an entry of fields (name: value)'],
    ['risks that are not a list', 'risks: { id: R-1 }\n', 'expected a list of entries under "risks:", or the file to be that list'],
    ['an empty file', '', 'expected a list of entries under "risks:", or the file to be that list'],
    [
      'aliases that expand without end',
      'defs:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nrisks:\n  - { id: R-1, title: T, likelihood: 1, impact: 1, treatment: avoid, notes: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c] }\n',
      'risks[0] (line 6): cannot be read (ReferenceError: too many or broken aliases)',
    ],
    ['a duplicate key', 'risks:\n  - id: R-1\n    id: R-2\n', 'not valid YAML at line 3, column 5 (DUPLICATE_KEY)'],
    ['broken YAML', 'risks:\n  - { id: R-1, title: "unterminated secret\n', 'not valid YAML at line'],
  ])('%s is an evidence gap naming the entry and field', async (_name, content, message) => {
    const error = await failure(content);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`risk-register: risks-${written}.yaml: ${message}`);
    // The file's content stays in the file.
    expect(error.message).not.toMatch(/secret|confidential/);
  });

  it.each([
    [
      'a level not on the scale',
      'id,title,likelihood,impact,treatment\nR-1,T,1,1,avoid\nR-2,T,often,1,avoid\n',
      'line 3: column "likelihood": expected a level of the likelihood scale',
    ],
    [
      'a date in another format',
      'id,title,likelihood,impact,treatment,lastReview\nR-1,T,1,1,avoid,31.12.2026\n',
      'line 2: column "lastReview": expected a date written YYYY-MM-DD',
    ],
    ['the same id twice', 'id,title,likelihood,impact,treatment\nR-1,T,1,1,avoid\nR-1,U,1,1,avoid\n', 'line 3: risk id "R-1" is already at line 2'],
    [
      'a required column missing',
      'id,title,likelihood,impact\nR-1,T,1,1\n',
      'the header has no column "treatment"; every entry needs id, title, likelihood, impact, treatment',
    ],
    [
      'a column twice',
      'id,title,likelihood,impact,treatment,owner,owner\nR-1,T,1,1,avoid,a@example.com,b@example.com\n',
      'the header has column "owner" more than once',
    ],
    ['a row with too many cells', 'id,title,likelihood,impact,treatment\nR-1,T,1,1,avoid,extra\n', 'line 2: not valid CSV'],
  ])('CSV: %s is an evidence gap naming the line and column', async (_name, content, message) => {
    const error = await failure(content, {}, 'csv');
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`risk-register: risks-${written}.csv: ${message}`);
  });

  it('warns, without dropping anything, about unknown controls, people it cannot join, missing owners and fields it does not know', async () => {
    const { records, warnings } = await pull(`risks:
  - { id: R-1, title: T, owner: CFO, likelihood: 1, impact: 1, treatment: mitigate, controls: [A.12.6.1, A.5.38, A.8.8] }
  - { id: R-2, title: T, likelihood: 1, impact: 1, treatment: accept, acceptedBy: the board, acceptedOn: 2026-01-01 }
  - { id: R-3, title: T, owner: a@example.com, likelihood: 1, impact: 1, treatment: mitigate, severity: high }
`);
    expect(records.map((risk) => risk.controls)).toEqual([['A.12.6.1', 'A.5.38', 'A.8.8'], [], []]);
    expect(warnings).toEqual([
      `risk-register: risks-${written}.yaml: not read, as no register field has the name: "severity" (first at risks[2] (line 4)); the known fields are id, title, owner, asset, likelihood, impact, residualLikelihood, residualImpact, treatment, controls, acceptedBy, acceptedOn, reviewEvery, lastReview, description, notes`,
      `risk-register: risks-${written}.yaml: controls that are not ISO/IEC 27001:2022 Annex A controls, so no control run can show them working: R-1 (A.12.6.1, A.5.38)`,
      `risk-register: risks-${written}.yaml: 1 risk(s) have no owner (6.1.2 c): R-2`,
      `risk-register: risks-${written}.yaml: people named by something other than an email address, which no check can join to HR: R-1 owner, R-2 acceptedBy`,
      `risk-register: risks-${written}.yaml: 1 risk(s) treated by "mitigate" name no control that treats them: R-3`,
    ]);
  });

  it('a missing file is a NotFoundError', async () => {
    const context = testContext({ baseDir: dir });
    await expect(collectAll(riskRegister.collect(riskRegister.config.parse({ path: 'absent.yaml' }), context.ctx))).rejects.toBeInstanceOf(NotFoundError);
    await expect(collectAll(riskRegister.collect(riskRegister.config.parse({ path: 'absent.csv' }), context.ctx))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a config whose format it cannot tell, scales with a repeated level, or an interval it cannot read', () => {
    expect(riskRegister.config.safeParse({ path: 'risks.txt' }).error?.issues[0]).toMatchObject({ path: ['format'] });
    expect(riskRegister.config.safeParse({ path: 'risks.txt', format: 'yaml' }).success).toBe(true);
    expect(riskRegister.config.safeParse({ path: 'r.yaml', scales: { likelihood: ['low', 'Low'] } }).success).toBe(false);
    expect(riskRegister.config.safeParse({ path: 'r.yaml', reviewEvery: 'often' }).success).toBe(false);
  });
});
