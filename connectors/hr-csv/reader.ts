import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { ConnectorError, MalformedResponseError, NotFoundError, PermissionError, UnavailableError } from '../errors.ts';

export const CsvEncoding = ['utf8', 'utf16le', 'latin1'] as const;

/** One data row: the cells by header name and the line of the file the row starts on. */
export interface CsvRow {
  readonly line: number;
  readonly cells: Readonly<Record<string, string>>;
}

export interface CsvFileDigest {
  readonly sha256: string;
  readonly bytes: number;
}

export interface CsvReadOptions {
  /** The file as the config names it, for messages. */
  readonly file: string;
  readonly absolutePath: string;
  readonly delimiter: string;
  readonly encoding: (typeof CsvEncoding)[number];
  readonly signal: AbortSignal;
  /** Receives the header row; returns the names the cells are keyed by, or throws to reject the file. */
  readonly onHeader: (header: string[]) => string[];
  /** Called once the whole file has been read, with the digest of its bytes. */
  readonly onDigest: (digest: CsvFileDigest) => void;
}

const LINE_BREAK = /\r\n|\n|\r/g;
const LEADING_EMPTY_LINES = /^(?:\r\n|\n|\r)*/;

function lineBreaks(text: string): number {
  return text.match(LINE_BREAK)?.length ?? 0;
}

interface ParsedRecord {
  readonly record: Record<string, string>;
  readonly raw: string;
}

/**
 * Streams the rows of a CSV file, hashing its bytes on the way, so neither the file nor its rows are ever
 * held whole. Line numbers are counted from each record's raw text: csv-parse's own count drifts on
 * CRLF inside quoted fields, and an auditor needs the line the row starts on.
 */
export async function* readCsvRows(options: CsvReadOptions): AsyncGenerator<CsvRow> {
  const handle = await openFile(options.absolutePath, options.file);
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let linesBefore = 0;
  let headerSeen = false;
  const parser = parse({
    columns: (header: string[]) => {
      headerSeen = true;
      linesBefore = 1 + header.reduce((sum, name) => sum + lineBreaks(name), 0);
      return options.onHeader(header);
    },
    bom: true,
    relax_column_count: false,
    skip_empty_lines: true,
    raw: true,
    delimiter: options.delimiter,
    encoding: options.encoding,
  });
  const reading = pipeline(handle.createReadStream(), hashing, parser, { signal: options.signal });
  // Failures surface through the parser's iterator below; this only keeps the rejection from going unhandled.
  reading.catch(() => undefined);
  try {
    for await (const { record, raw } of parser as AsyncIterable<ParsedRecord>) {
      const line = linesBefore + (LEADING_EMPTY_LINES.exec(raw)?.[0].match(LINE_BREAK)?.length ?? 0) + 1;
      linesBefore += lineBreaks(raw);
      yield { line, cells: record };
    }
    await reading;
  } catch (error) {
    throw readFailure(error, options.file);
  } finally {
    await handle.close().catch(() => undefined);
  }
  if (!headerSeen) throw new MalformedResponseError(`hr-csv: ${options.file}: the file is empty; expected a header row`);
  options.onDigest({ sha256: hash.digest('hex'), bytes });
}

async function openFile(absolutePath: string, file: string) {
  try {
    return await open(absolutePath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`hr-csv: ${file}: no such file (${absolutePath})`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new PermissionError(`hr-csv: ${file}: not readable by the worker (${code})`, { cause: error });
    throw new UnavailableError(`hr-csv: ${file}: cannot be opened (${code ?? 'unknown error'})`, { cause: error });
  }
}

function readFailure(error: unknown, file: string): unknown {
  if (error instanceof ConnectorError) return error;
  if (error instanceof CsvError) {
    const line = typeof error.lines === 'number' ? `line ${error.lines}: ` : '';
    return new MalformedResponseError(`hr-csv: ${file}: ${line}not valid CSV: ${error.message}`, { cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new NotFoundError(`hr-csv: ${file}: is a directory, not a file`, { cause: error });
  return new UnavailableError(`hr-csv: ${file}: reading failed (${code ?? String(error)})`, { cause: error });
}
