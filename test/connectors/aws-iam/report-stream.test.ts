import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsIam } from '../../../connectors/aws-iam/index.ts';
import { credentialReportEntries, iso, parseCredentialReport, REPORT_COLUMNS, type ReportEntry } from '../../../connectors/aws-iam/mapping.ts';
import { takeContent } from '../../../connectors/aws-iam/report-content.ts';
import { streamCsvRecords, type CsvRecord } from '../../../connectors/csv.ts';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { credentialReportCsv, FakeIam, type FakeAccount, type FakeUser } from '../../support/fake-iam.ts';

const WHERE = 'aws-iam: account 111111111111: GetCredentialReport';
const fixture = readFileSync(new URL('../../fixtures/aws-iam/credential-report.csv', import.meta.url));
const HEADER = REPORT_COLUMNS.join(',');

/** A user row as IAM writes one for a user with a password and one key; `n` makes it unique. */
function userRow(n: number, cells: Partial<Record<(typeof REPORT_COLUMNS)[number], string>> = {}): string {
  const base: Record<string, string> = {
    user: `user-${n}`,
    arn: `arn:aws:iam::111111111111:user/user-${n}`,
    user_creation_time: '2023-01-01T00:00:00+00:00',
    password_enabled: 'true',
    password_last_used: '2024-05-01T10:00:00+00:00',
    password_last_changed: '2023-01-02T00:00:00+00:00',
    mfa_active: 'true',
    access_key_1_active: 'true',
    access_key_1_last_rotated: '2023-02-01T00:00:00+00:00',
    access_key_1_last_used_date: '2024-06-01T00:00:00+00:00',
    access_key_1_last_used_region: 'eu-west-1',
    access_key_1_last_used_service: 's3',
    access_key_2_active: 'false',
    cert_1_active: 'false',
    cert_2_active: 'false',
  };
  return REPORT_COLUMNS.map((column) => cells[column] ?? base[column] ?? 'N/A').join(',');
}

/** A report of `count` users: 20k rows make ~5 MB, several of the chunks the reader hands csv-parse. */
function bigReport(count: number, last = ''): Buffer {
  const rows = Array.from({ length: count }, (_, n) => userRow(n));
  return Buffer.from(`${HEADER}\n${rows.join('\n')}\n${last}`);
}

async function streamed(content: Uint8Array): Promise<ReportEntry[]> {
  return collectAll(credentialReportEntries(content, WHERE));
}

async function streamFailure(content: Uint8Array): Promise<Error> {
  try {
    await streamed(content);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the report was read but was expected to fail');
}

describe('credentialReportEntries (the streaming read the collection uses)', () => {
  it('reads the same entries as the whole-report parse', async () => {
    expect(await streamed(fixture)).toEqual(parseCredentialReport(fixture, WHERE).entries);
    const big = bigReport(20_000);
    expect(big.byteLength).toBeGreaterThan(3 * 1024 * 1024);
    const entries = await streamed(big);
    expect(entries).toHaveLength(20_000);
    expect(entries).toEqual(parseCredentialReport(big, WHERE).entries);
    expect(entries[19_999]).toMatchObject({ name: 'user-19999', createdAt: '2023-01-01T00:00:00.000Z', passwordLastUsedAt: '2024-05-01T10:00:00.000Z' });
  });

  it('yields rows before it has read the rest of the report', async () => {
    // The bad row is the last of ~5 MB: its error comes only after the rows before it were handed on.
    const report = bigReport(20_000, `${userRow(20_000, { mfa_active: 'maybe' })}\n`);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const entry of credentialReportEntries(report, WHERE)) seen.push(entry.name);
    })();
    await expect(reading).rejects.toThrow(`${WHERE}: credential report line 20002, column 8 (mfa_active): expected true or false, found "maybe"`);
    expect(seen).toHaveLength(20_000);
  });

  it.each([
    ['a header that is not IAM’s', HEADER.replace('mfa_active', 'mfa'), 'credential report line 1, column 8: expected header mfa_active, found "mfa"'],
    ['a row with a column missing', `${HEADER}\n${userRow(1).split(',').slice(0, 21).join(',')}`, 'credential report line 2: expected 22 columns, found 21'],
    ['a user name that is empty', `${HEADER}\n${userRow(1, { user: '' })}`, 'credential report line 2, column 1 (user): expected a user name'],
    [
      'an ARN of a role',
      `${HEADER}\n${userRow(1, { arn: 'arn:aws:iam::111111111111:role/x' })}`,
      'credential report line 2, column 2 (arn): expected an IAM user or root ARN',
    ],
    [
      'a time that is not one',
      `${HEADER}\n${userRow(1)}\n${userRow(2, { password_next_rotation: '01/02/2022' })}`,
      'credential report line 3, column 7 (password_next_rotation): expected an ISO 8601 time, N/A, no_information or not_supported, found "01/02/2022"',
    ],
    [
      'password_enabled that is neither',
      `${HEADER}\n${userRow(1, { password_enabled: 'yes' })}`,
      'credential report line 2, column 4 (password_enabled): expected true, false or not_supported, found "yes"',
    ],
    ['an unterminated quote', `${HEADER}\n"zed,${userRow(1).slice(4)}`, 'credential report is not valid CSV: '],
    ['an empty report', '', 'credential report is empty'],
  ])('rejects %s with the message the whole-report parse gives', async (_case, csv, message) => {
    const content = Buffer.from(csv);
    const error = await streamFailure(content);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain(`${WHERE}: ${message}`);
    expect(() => parseCredentialReport(content, WHERE)).toThrow(error.message);
  });

  it('names the line a row starts on after a quoted cell that spans lines, CRLF and blank lines', async () => {
    const quoted = userRow(1).replace('s3', '"s3\r\nand more"');
    const csv = `\uFEFF${HEADER}\r\n${quoted}\r\n\r\n${userRow(2, { cert_1_active: 'perhaps' })}\r\n`;
    const error = await streamFailure(Buffer.from(csv));
    expect(error.message).toBe(`${WHERE}: credential report line 5, column 19 (cert_1_active): expected true or false, found "perhaps"`);
  });

  it('keeps extra columns in raw and reads a repeated name from its last column, as the whole-report parse does', async () => {
    const csv = `${HEADER},note,mfa_active\n${userRow(1)},hello,false\n`;
    const [entry] = await streamed(Buffer.from(csv));
    expect(entry).toMatchObject({ mfaActive: false, raw: { note: 'hello', mfa_active: 'false' } });
    expect([entry]).toEqual(parseCredentialReport(Buffer.from(csv), WHERE).entries);
  });

  it.each([
    ['UTC as IAM writes it', '2024-02-29T23:59:59+00:00', '2024-02-29T23:59:59.000Z'],
    ['another offset', '2024-03-01T01:59:59+02:00', '2024-02-29T23:59:59.000Z'],
    ['Z with fractions', '2024-03-01T00:00:00.123456Z', '2024-03-01T00:00:00.123Z'],
    ['a day JavaScript rolls over', '2023-02-29T00:00:00+00:00', '2023-03-01T00:00:00.000Z'],
    ['hour 24', '2023-01-01T24:00:00+00:00', '2023-01-02T00:00:00.000Z'],
  ])('reads a time in %s as Date does', async (_case, cell, iso) => {
    const [entry] = await streamed(Buffer.from(`${HEADER}\n${userRow(1, { password_last_used: cell })}\n`));
    expect(entry?.passwordLastUsedAt).toBe(iso);
  });
});

describe('iso (SDK dates as text)', () => {
  it('gives what toISOString gives, across the years and the edges', () => {
    const dates = [
      new Date('1970-01-01T00:00:00.000Z'),
      new Date('0001-02-03T04:05:06.007Z'),
      new Date('0999-12-31T23:59:59.999Z'),
      new Date('2024-02-29T12:00:00.050Z'),
      new Date('9999-12-31T23:59:59.999Z'),
      new Date('-000001-06-01T00:00:00.000Z'),
      new Date('+010000-01-01T00:00:00.000Z'),
      ...Array.from({ length: 5_000 }, (_, n) => new Date(-62_000_000_000_000 + n * 27_000_000_123)),
    ];
    for (const date of dates) expect(iso(date)).toBe(date.toISOString());
    expect(() => iso(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('streamCsvRecords', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF, where csv-parse’s own line count drifts', '\r\n'],
  ])('gives each record its cells and the line it starts on (%s)', async (_case, eol) => {
    const csv = `\uFEFFa,b${eol}${eol}"x${eol}y",2${eol}last,"quoted ""cell"""`;
    const records: CsvRecord[] = await collectAll(streamCsvRecords(Buffer.from(csv)));
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 3, cells: [`x${eol}y`, '2'] },
      { line: 5, cells: ['last', 'quoted "cell"'] },
    ]);
  });
});

describe('takeContent (the report bytes taken before the SDK parses the response)', () => {
  const xml = (content: string) =>
    Buffer.from(
      `<GetCredentialReportResponse><GetCredentialReportResult><Content>${content}</Content><ReportFormat>text/csv</ReportFormat></GetCredentialReportResult></GetCredentialReportResponse>`,
    );

  it('decodes the base64 content and leaves the rest of the response, with Content emptied, to the SDK', () => {
    const taken = takeContent(xml(Buffer.from('user,arn\n').toString('base64')));
    expect(Buffer.from(taken!.content).toString()).toBe('user,arn\n');
    expect(Buffer.from(taken!.rest).toString()).toBe(
      '<GetCredentialReportResponse><GetCredentialReportResult><Content></Content><ReportFormat>text/csv</ReportFormat></GetCredentialReportResult></GetCredentialReportResponse>',
    );
  });

  it.each([
    ['base64 with a line break', 'dXNlcixh\ncm4K'],
    ['base64 with bad padding', 'dXNlcixhcm4K='],
    ['text that is not base64', 'user,arn'],
  ])('leaves %s to the SDK', (_case, content) => {
    expect(takeContent(xml(content))).toBeUndefined();
  });

  it('leaves a response without Content, or with two, to the SDK', () => {
    expect(takeContent(Buffer.from('<GetCredentialReportResponse><GetCredentialReportResult/></GetCredentialReportResponse>'))).toBeUndefined();
    expect(takeContent(Buffer.from('<a><Content>AA==</Content><Content>AA==</Content></a>'))).toBeUndefined();
  });
});

describe('aws-iam credential report through the SDK against the fake', () => {
  const KEY = 'AKIAISMSSTREAM000001';
  const SECRET = 'stream-test-secret-key';
  const users: FakeUser[] = Array.from({ length: 3_000 }, (_, n) => ({
    name: `user-${n}`,
    createdAt: '2022-01-01T00:00:00Z',
    ...(n % 3 === 0 ? { password: { changedAt: '2022-01-02T00:00:00Z', lastUsedAt: '2024-01-01T00:00:00Z' } } : {}),
  }));
  const account = (): FakeAccount => ({ id: '111111111111', createdAt: '2019-01-01T00:00:00Z', users: [...users] });
  const fake = new FakeIam({ accounts: [], credentials: { accessKeyId: KEY, secretAccessKey: SECRET, account: '111111111111' } });
  let endpoint = '';
  beforeAll(async () => {
    endpoint = await fake.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset([account()]));

  const collect = async () => {
    const { ctx, provenance } = testContext({ env: { K: KEY, S: SECRET } });
    const config = awsIam.config.parse({
      endpoint,
      credentials: { accessKeyId: { env: 'K' }, secretAccessKey: { env: 'S' } },
      accounts: [{ id: '111111111111' }],
      perUserDetails: false,
      reportPollIntervalMs: 1,
      maxAttempts: 1,
    });
    return { records: await collectAll(awsIam.collect(config, ctx)), provenance };
  };

  it('maps every row of a report several chunks long, and records its digest', async () => {
    const { records, provenance } = await collect();
    expect(records).toHaveLength(3_001);
    expect(records[1]).toMatchObject({
      username: 'user-0',
      status: 'active',
      lastLoginAt: '2024-01-01T00:00:00.000Z',
      raw: { credentialReport: { user: 'user-0' } },
    });
    const csv = credentialReportCsv(account());
    const { createHash } = await import('node:crypto');
    expect(provenance.accounts).toMatchObject({
      '111111111111': { credentialReport: { rows: 3_001, bytes: Buffer.byteLength(csv), sha256: createHash('sha256').update(csv).digest('hex') } },
    });
  });

  it('leaves base64 the SDK would refuse to the SDK, which refuses it as before', async () => {
    fake.inject({ action: 'GetCredentialReport', rewrite: (xml) => xml.replace(/<Content>(.{76})/, '<Content>$1\n') });
    const error = await collect().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error?.message).toContain('aws-iam: account 111111111111: GetCredentialReport: unreadable response (HTTP 200): Incorrect padding on base64 string.');
  });
});
