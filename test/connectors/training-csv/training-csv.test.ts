import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { trainingCsv } from '../../../connectors/training-csv/index.ts';
import { TrainingRecord } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/training/', import.meta.url));

const KNOWBE4_COLUMNS = { email: 'Email', course: 'Content', assigned: 'Enrollment Date', completed: 'Completion Date', status: 'Status' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'training-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let written = 0;
async function pull(content: string, config: Record<string, unknown> = {}) {
  written += 1;
  const path = `export-${written}.csv`;
  await writeFile(join(dir, path), content);
  const context = testContext({ baseDir: dir });
  const records = await collectAll(trainingCsv.collect(trainingCsv.config.parse({ path, columns: KNOWBE4_COLUMNS, ...config }), context.ctx));
  return { records, path, ...context };
}

describe('training-csv', () => {
  it('maps the shipped KnowBe4-style export: wall-clock times in the export zone, an empty completion is not completed', async () => {
    const context = testContext({ baseDir: EXAMPLES });
    const config = trainingCsv.config.parse({ path: 'knowbe4-enrollments.csv', timezone: 'Europe/Berlin', columns: KNOWBE4_COLUMNS });
    const records = await collectAll(trainingCsv.collect(config, context.ctx));
    expect(records).toHaveLength(13);
    expect(records[1]).toEqual({
      kind: 'training-record',
      source: 'training-csv',
      person: 'ben.hartley@example.com',
      employeeId: null,
      displayName: null,
      course: 'Security Awareness Training 2025',
      assignedAt: '2025-11-03T08:00:00.000Z',
      completedAt: '2025-11-20T15:05:00.000Z',
      status: 'Passed',
      raw: { line: 3 },
    });
    expect(records[2]).toMatchObject({ course: 'Security Awareness Training 2026', completedAt: null, status: 'Not Started' });
    for (const record of records) expect(TrainingRecord.parse(record)).toEqual(record);
    const bytes = await readFile(join(EXAMPLES, 'knowbe4-enrollments.csv'));
    expect(context.provenance['file']).toMatchObject({ sha256: createHash('sha256').update(bytes).digest('hex'), rows: 13 });
    expect(context.warnings).toEqual([]);
  });

  it('lower-cases the address, reads employee ids and names when mapped, and other date formats', async () => {
    const { records } = await pull('Learner,Id,Name,Course,Done\n Ana.Silva@Example.COM ,E-7,Ana Silva,Awareness,30/09/2026\n', {
      columns: { email: 'Learner', employeeId: 'Id', displayName: 'Name', course: 'Course', completed: 'Done' },
      dateFormat: 'dd/mm/yyyy',
    });
    expect(records).toEqual([
      {
        kind: 'training-record',
        source: 'training-csv',
        person: 'ana.silva@example.com',
        employeeId: 'E-7',
        displayName: 'Ana Silva',
        course: 'Awareness',
        assignedAt: null,
        completedAt: '2026-09-30T00:00:00.000Z',
        status: null,
        raw: { line: 2 },
      },
    ]);
  });

  it('keeps a person taking the same course twice, and the same row twice', async () => {
    const row = 'a@example.com,Awareness,2025-01-01,2025-01-02,Passed';
    const { records } = await pull(
      `Email,Content,Enrollment Date,Completion Date,Status\n${row}\n${row}\na@example.com,Awareness,2026-01-01,2026-01-03,Passed\n`,
    );
    expect(records.map((record) => record.completedAt)).toEqual(['2025-01-02T00:00:00.000Z', '2025-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
  });

  it.each([
    ['an empty address', 'Email,Content,Enrollment Date,Completion Date,Status\n,Awareness,,,\n', 'line 2: column "Email": the email address is empty'],
    ['an empty course', 'Email,Content,Enrollment Date,Completion Date,Status\na@example.com,,,,\n', 'line 2: column "Content": the course is empty'],
    [
      'a completion date in another format',
      'Email,Content,Enrollment Date,Completion Date,Status\na@example.com,Awareness,,14.03.2026,Passed\n',
      'line 2: column "Completion Date":',
    ],
    ['no completion column', 'Email,Content,Enrollment Date,Status\na@example.com,Awareness,,\n', 'header "Completion Date" (columns.completed) is missing'],
  ])('%s is an evidence gap naming the line and column', async (_name, content, message) => {
    const error = await pull(content).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toContain(`training-csv: export-${written}.csv: ${message}`);
  });
});
