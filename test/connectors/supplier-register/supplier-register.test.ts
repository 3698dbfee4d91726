import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { supplierRegister } from '../../../connectors/supplier-register/index.ts';
import { Supplier } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/registers/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supplier-register-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let written = 0;
async function pull(content: string, config: Record<string, unknown> = {}, extension = 'yaml') {
  written += 1;
  const path = `suppliers-${written}.${extension}`;
  await writeFile(join(dir, path), content);
  const context = testContext({ baseDir: dir });
  const records = await collectAll(supplierRegister.collect(supplierRegister.config.parse({ path, ...config }), context.ctx));
  return { records, path, ...context };
}

async function failure(content: string, extension = 'yaml'): Promise<Error> {
  const error = await pull(content, {}, extension).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected the pull to fail');
  return error;
}

const YAML = `suppliers:
  - name: CloudHost AG
    service: hosting
    data: [customer PII, source code]
    criticality: Critical
    owner: Dev.Patel@example.com
    reviewEvery: 1 year
    lastReview: 2026-03-02
    certificates:
      - { name: ISO/IEC 27001, validUntil: 2027-05-31 }
      - SOC 2 Type II report until 2026-10-31
`;

const CSV = `name,service,data,criticality,owner,reviewEvery,lastReview,certificates
CloudHost AG,hosting,customer PII; source code,Critical,Dev.Patel@example.com,1 year,2026-03-02,ISO/IEC 27001 until 2027-05-31; SOC 2 Type II report until 2026-10-31
`;

describe('supplier-register', () => {
  it("maps an entry: data handled, criticality, certificates valid through their day in the register's zone, the next review", async () => {
    const { records, warnings } = await pull(YAML, { timezone: 'Europe/Berlin' });
    expect(records).toEqual([
      {
        kind: 'supplier',
        source: 'supplier-register',
        name: 'CloudHost AG',
        service: 'hosting',
        data: ['customer PII', 'source code'],
        criticality: 'critical',
        owner: 'dev.patel@example.com',
        certificates: [
          { name: 'ISO/IEC 27001', validUntil: '2027-05-31', expiresAt: '2027-05-31T22:00:00.000Z' },
          { name: 'SOC 2 Type II report', validUntil: '2026-10-31', expiresAt: '2026-10-31T23:00:00.000Z' },
        ],
        reviewInterval: '1 year',
        lastReviewAt: '2026-03-01T23:00:00.000Z',
        reviewDue: '2027-03-02',
        overdueFrom: '2027-03-02T23:00:00.000Z',
        raw: { at: 'suppliers[0] (line 2)' },
      },
    ]);
    expect(warnings).toEqual([]);
    for (const record of records) expect(Supplier.parse(record)).toEqual(record);
  });

  it('reads the same entry from a CSV row, certificates separated by semicolons', async () => {
    const fromYaml = await pull(YAML);
    const fromCsv = await pull(CSV, {}, 'csv');
    expect(fromCsv.records.map((supplier) => ({ ...supplier, raw: undefined }))).toEqual(fromYaml.records.map((supplier) => ({ ...supplier, raw: undefined })));
  });

  it('reads the shipped example register', async () => {
    const context = testContext({ baseDir: EXAMPLES });
    const records = await collectAll(
      supplierRegister.collect(supplierRegister.config.parse({ path: 'suppliers.csv', timezone: 'Europe/Berlin' }), context.ctx),
    );
    expect(
      records.map((supplier) => [supplier.name, supplier.criticality, supplier.reviewDue, supplier.certificates.map((certificate) => certificate.validUntil)]),
    ).toEqual([
      ['PayFast Payments GmbH', 'critical', '2027-01-20', ['2027-01-31', '2026-12-10']],
      ['CloudHost AG', 'critical', '2027-03-02', ['2027-05-31', '2026-10-31']],
      ['MailRelay Ltd', 'high', '2026-08-15', ['2027-08-31']],
      ['Snackbox KG', 'low', '2027-06-01', []],
    ]);
    expect(records[3]?.data).toEqual([]);
    expect(context.warnings).toEqual([]);
    expect(context.provenance['file']).toMatchObject({ format: 'csv', entries: 4 });
  });

  it.each([
    [
      'a certificate without a date',
      'suppliers:\n  - { name: A, criticality: low, certificates: [ISO 27001] }\n',
      'suppliers[0] (line 2): certificates[0] (line 2, column 49): expected a certificate written "<name> until <YYYY-MM-DD>"',
    ],
    [
      'a certificate whose date does not exist',
      'suppliers:\n  - { name: A, criticality: low, certificates: [ISO 27001 until 2027-02-29] }\n',
      'suppliers[0] (line 2): certificates[0] (line 2, column 49): expected a date written YYYY-MM-DD',
    ],
    [
      'a certificate map without validUntil',
      'suppliers:\n  - name: A\n    criticality: low\n    certificates:\n      - { name: ISO 27001 }\n',
      'suppliers[0] (line 2): certificates[0].validUntil (line 5, column 9): the certificate has no validUntil date',
    ],
    [
      'an unknown criticality',
      'suppliers:\n  - { name: A, criticality: vital }\n',
      'suppliers[0] (line 2): criticality (line 2, column 29): Invalid option: expected one of "critical"|"high"|"medium"|"low"',
    ],
    [
      'the same supplier twice',
      'suppliers:\n  - { name: A, criticality: low }\n  - { name: A, criticality: high }\n',
      'suppliers[1] (line 3): supplier "A" is already at suppliers[0] (line 2)',
    ],
  ])('%s is an evidence gap naming the entry and field', async (_name, content, message) => {
    const error = await failure(content);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`supplier-register: suppliers-${written}.yaml: ${message}`);
  });

  it.each([
    [
      'a certificate in a CSV cell without its date',
      'name,criticality,certificates\nA,low,ISO 27001 until 2027-01-01; SOC 2\n',
      'line 2: column "certificates" ([1]): expected a certificate written',
    ],
    ['no criticality column', 'name,service\nA,hosting\n', 'the header has no column "criticality"; every entry needs name, criticality'],
    ['an empty criticality', 'name,criticality\nA,\n', 'line 2: column "criticality": the criticality is empty'],
  ])('CSV: %s is an evidence gap naming the line and column', async (_name, content, message) => {
    const error = await failure(content, 'csv');
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`supplier-register: suppliers-${written}.csv: ${message}`);
  });

  it('warns about suppliers without an owner, or whose owner cannot be joined to a person', async () => {
    const { records, warnings } = await pull('suppliers:\n  - { name: A, criticality: low }\n  - { name: B, criticality: low, owner: Procurement }\n');
    expect(records).toHaveLength(2);
    expect(warnings).toEqual([
      `supplier-register: suppliers-${written}.yaml: 1 supplier(s) have no owner: A`,
      `supplier-register: suppliers-${written}.yaml: owners named by something other than an email address, which no check can join to HR: B`,
    ]);
  });
});
