import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvRecordLines, streamCsvRecords, type CsvRecord } from '../../connectors/csv.ts';
import { mulberry32 } from '../support/random.ts';

/** What csv-parse itself makes of the text, with the options streamCsvRecords gives it, numbered the same way. */
function byCsvParse(text: string, delimiter = ','): CsvRecord[] {
  const lineOf = csvRecordLines();
  const records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true, delimiter }) as unknown as {
    record: string[];
    info: { lines: number; empty_lines: number };
  }[];
  return records.map(({ record, info }) => ({ line: lineOf(record, info), cells: record }));
}

async function streamed(text: string, delimiter = ','): Promise<CsvRecord[]> {
  const records: CsvRecord[] = [];
  for await (const record of streamCsvRecords(Buffer.from(text), { delimiter })) records.push(record);
  return records;
}

describe('streamCsvRecords on text without quotes or carriage returns (the split fast path)', () => {
  it.each([
    ['a header and rows', 'user,arn\nalice,arn:1\nbob,arn:2\n'],
    ['no line break at the end', 'user,arn\nalice,arn:1'],
    ['a BOM', '\uFEFFuser,arn\nalice,arn:1\n'],
    ['empty lines before, between and after', '\n\nuser,arn\n\nalice,arn:1\n\n\nbob,arn:2\n\n'],
    ['lines of delimiters and of spaces', 'a,b\n,\n  \n ,x\n'],
    ['rows shorter and longer than the header', 'a,b,c\n1\n1,2,3,4,5\n'],
    ['empty cells', 'a,b,c\n,,\nx,,\n'],
    ['non-ASCII text', 'name,city\nJürgen,Zürich\n日本,東京\n'],
    ['only a header', 'user,arn\n'],
    ['nothing at all', ''],
    ['only a BOM and line breaks', '\uFEFF\n\n'],
  ])('%s: the same records and lines as csv-parse', async (_case, text) => {
    expect(await streamed(text)).toEqual(byCsvParse(text));
  });

  it('the same as csv-parse over random quote-free text, for , and ; delimiters', async () => {
    const random = mulberry32(11);
    const pieces = ['a', 'bc', 'Ü', '1', ' ', '\t', "'", 'x y', '', '-'];
    for (let round = 0; round < 300; round++) {
      const delimiter = random() < 0.5 ? ',' : ';';
      const lines = Array.from({ length: Math.floor(random() * 12) }, () =>
        Array.from({ length: Math.floor(random() * 5) }, () => pieces[Math.floor(random() * pieces.length)]).join(random() < 0.8 ? delimiter : ''),
      );
      const text = (random() < 0.2 ? '\uFEFF' : '') + lines.join('\n') + (random() < 0.5 ? '\n' : '');
      expect(await streamed(text, delimiter), JSON.stringify(text)).toEqual(byCsvParse(text, delimiter));
    }
  });

  it('leaves text with quotes or carriage returns to csv-parse', async () => {
    for (const text of ['a,b\n"x,y",z\n', 'a,b\r\nx,y\r\n', 'a,b\n"multi\nline",z\n']) expect(await streamed(text)).toEqual(byCsvParse(text));
  });
});
