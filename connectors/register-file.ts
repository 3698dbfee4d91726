import { createHash } from 'node:crypto';
import { extname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { addDays, addMonthsClamped, formatLocalDate, formatSpan, parseLocalDate, parseSpan, type LocalDate, type Span } from '../core/calendar-occurrences.ts';
import type { ConnectorContext } from './contract.ts';
import { CsvEncoding, isEmailAddress, namedAndCounted, openFile, readCsvRows, type CsvFileDigest } from './csv.ts';
import { startOfDay, Timezone } from './dates.ts';
import { ConnectorError, MalformedResponseError, NotFoundError, UnavailableError } from './errors.ts';
import { formatPath } from '../core/zod-issues.ts';

/**
 * What the ISMS registers kept as files in the config's repository share (the risk register, the supplier
 * register): a YAML or CSV file of entries, read whole-or-not-at-all, each entry validated by the register's
 * schema with an error that names the file, the entry and the field (YAML: list index, line and column; CSV:
 * line and column header), duplicates refused, fields the register does not know reported as warnings, and the
 * file read (path, sha256, size, entries) kept in the provenance. Registers are edited by people and reviewed
 * like code, so they are small; a file over MAX_YAML_BYTES is refused rather than held.
 */

export const RegisterFormat = z.enum(['yaml', 'csv']);
export type RegisterFormat = z.infer<typeof RegisterFormat>;

const MAX_YAML_BYTES = 16 * 1024 * 1024;

/** Fields a register's connector config shares: where the file is and how its days are counted. */
export const registerFileConfig = {
  path: z.string().min(1).describe("The register file, relative to the config file's folder."),
  format: RegisterFormat.optional().describe("How the register is written; without it, told from the file's extension (.yaml, .yml or .csv)."),
  delimiter: z.string().min(1).default(',').describe('The character between cells of a CSV register.'),
  encoding: z.enum(CsvEncoding).default('utf8').describe('The character encoding of a CSV register.'),
  timezone: Timezone.default('UTC').describe("The zone whose days the register's dates are: a review due on a day is on time until that day ends there."),
};

/** A review interval: whole days, weeks, months or years (`90 days`, `6 months`, `1 year`). */
export const ReviewInterval = z.string().transform((text, ctx): Span => {
  const span = parseSpan(text);
  if (span === undefined || span.amount < 1 || span.unit === 'minute' || span.unit === 'hour') {
    ctx.addIssue({ code: 'custom', message: 'expected a review interval such as "90 days", "6 months" or "1 year"' });
    return z.NEVER;
  }
  return span;
});

export function registerFormatOf(config: { path: string; format?: RegisterFormat | undefined }): RegisterFormat | undefined {
  if (config.format) return config.format;
  const extension = extname(config.path).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.csv') return 'csv';
  return undefined;
}

/** Refines a register config: the format must be given or follow from the file's extension. */
export function requireFormat(config: { path: string; format?: RegisterFormat | undefined }, ctx: z.RefinementCtx): void {
  if (registerFormatOf(config) === undefined) {
    ctx.addIssue({ code: 'custom', path: ['format'], message: 'say format: yaml or csv; the file name does not end in .yaml, .yml or .csv' });
  }
}

// ---------------------------------------------------------------------------------------------- cells

/** A value as people write it in either format: text or a number, trimmed; empty or absent is null. */
export const entryText = z
  .union([z.string(), z.number()], { error: 'expected text' })
  .nullish()
  .transform((value) => {
    const text = value === null || value === undefined ? '' : String(value).trim();
    return text === '' ? null : text;
  });

/** A calendar day written `YYYY-MM-DD`; empty or absent is null. */
export const entryDate = entryText.transform((text, ctx): LocalDate | null => {
  if (text === null) return null;
  const date = parseLocalDate(text);
  if (date === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a date written YYYY-MM-DD that exists on the calendar' });
    return z.NEVER;
  }
  return date;
});

/** A list: a YAML sequence, or in a CSV cell the items separated by `;`. */
export const entryList = z
  .union([z.array(z.union([z.string(), z.number()], { error: 'expected text' })), z.string()], { error: 'expected a list' })
  .nullish()
  .transform((value) => {
    const items = value === null || value === undefined ? [] : typeof value === 'string' ? value.split(';') : value.map(String);
    return items.map((item) => item.trim()).filter((item) => item !== '');
  });

/** A person as a register names them; an address is lower-cased so checks can join it to HR. */
export function personReference(text: string | null): string | null {
  return text !== null && isEmailAddress(text) ? text.toLowerCase() : text;
}

// ---------------------------------------------------------------------------------------------- reviews

export interface ReviewSchedule {
  readonly reviewInterval: string;
  readonly lastReviewAt: string | null;
  readonly reviewDue: string | null;
  readonly overdueFrom: string | null;
}

/** The next review: the last one's day plus the interval (months clamp to the month's end), late once that day ends in `zone`. */
export function reviewSchedule(lastReview: LocalDate | null, interval: Span, zone: string): ReviewSchedule {
  if (lastReview === null) return { reviewInterval: formatSpan(interval), lastReviewAt: null, reviewDue: null, overdueFrom: null };
  const due = afterInterval(lastReview, interval);
  return {
    reviewInterval: formatSpan(interval),
    lastReviewAt: startOfDay(lastReview, zone),
    reviewDue: formatLocalDate(due),
    overdueFrom: startOfDay(addDays(due, 1), zone),
  };
}

function afterInterval(date: LocalDate, span: Span): LocalDate {
  if (span.unit === 'day') return addDays(date, span.amount);
  if (span.unit === 'week') return addDays(date, span.amount * 7);
  return addMonthsClamped(date, span.unit === 'year' ? span.amount * 12 : span.amount);
}

// ---------------------------------------------------------------------------------------------- entries

/** One entry of a register, before the register's schema has read it. */
export interface RegisterEntry {
  /** Where the entry is, for messages: `risks[2] (line 14)` or `line 4`. */
  readonly at: string;
  /** The entry's fields by name: YAML values as parsed; CSV cells as text, empty cells left out. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Where a field of the entry is, for messages: `likelihood (line 16, column 17)` or `column "likelihood"`. */
  fieldAt(path: readonly PropertyKey[]): string;
}

export interface RegisterShape {
  /** The key of the list in a YAML register (`risks:`); a YAML register may also be the bare list. */
  readonly listKey: string;
  /** Every field an entry may have; others are reported once in a warning and not read. */
  readonly fields: readonly string[];
  /** Fields a CSV register's header must have. */
  readonly requiredColumns: readonly string[];
}

interface RegisterRead extends RegisterShape {
  readonly connector: string;
  readonly file: string;
  readonly absolutePath: string;
  readonly format: RegisterFormat;
  readonly delimiter: string;
  readonly encoding: CsvEncoding;
  readonly signal: AbortSignal;
  onDigest(digest: CsvFileDigest): void;
  onUnknownField(field: string, at: string): void;
}

/** Reads the entry's fields with `schema`; a failure names the file, the entry and the field. */
export function parseEntry<S extends z.ZodType>(source: { connector: string; file: string }, entry: RegisterEntry, schema: S): z.output<S> {
  const parsed = schema.safeParse(entry.fields);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new MalformedResponseError(`${source.connector}: ${source.file}: ${entry.at}: ${entry.fieldAt(issue.path)}: ${issue.message}`);
}

async function* readEntries(read: RegisterRead): AsyncGenerator<RegisterEntry> {
  if (read.format === 'csv') yield* csvEntries(read);
  else yield* yamlEntries(read);
}

async function* csvEntries(read: RegisterRead): AsyncGenerator<RegisterEntry> {
  const known = new Set(read.fields);
  const rows = readCsvRows({
    connector: read.connector,
    file: read.file,
    absolutePath: read.absolutePath,
    delimiter: read.delimiter,
    encoding: read.encoding,
    signal: read.signal,
    onHeader: (header) => {
      const names = header.map((name) => name.trim());
      const missing = read.requiredColumns.filter((field) => !names.includes(field));
      if (missing.length > 0) {
        throw new MalformedResponseError(
          `${read.connector}: ${read.file}: the header has no column ${missing.map((field) => `"${field}"`).join(', ')}; every entry needs ${read.requiredColumns.join(', ')}`,
        );
      }
      const repeated = read.fields.filter((field) => names.indexOf(field) !== names.lastIndexOf(field));
      if (repeated.length > 0) throw new MalformedResponseError(`${read.connector}: ${read.file}: the header has column "${repeated[0]}" more than once`);
      for (const name of names) if (!known.has(name)) read.onUnknownField(name, 'the header');
      return names;
    },
    onDigest: read.onDigest,
  });
  for await (const row of rows) {
    const fields: Record<string, unknown> = {};
    for (const [name, cell] of Object.entries(row.cells)) {
      if (known.has(name) && cell.trim() !== '') fields[name] = cell;
    }
    yield {
      at: `line ${row.line}`,
      fields,
      fieldAt: (path) => `column "${String(path[0] ?? '')}"${path.length > 1 ? ` (${formatPath(path.slice(1))})` : ''}`,
    };
  }
}

async function* yamlEntries(read: RegisterRead): AsyncGenerator<RegisterEntry> {
  const bytes = await readWhole(read);
  read.signal.throwIfAborted();
  const lineCounter = new LineCounter();
  const doc = parseDocument(bytes.toString('utf8'), { lineCounter, uniqueKeys: true, prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    // YAML's messages can quote the file; the code and position say enough to find the fault.
    const position = lineCounter.linePos(first.pos[0]);
    const where = ` at line ${position.line}, column ${position.col}`;
    throw new MalformedResponseError(`${read.connector}: ${read.file}: not valid YAML${where} (${first.code})`);
  }
  const listPath: (string | number)[] = isSeq(doc.contents) ? [] : [read.listKey];
  const list = listPath.length === 0 ? doc.contents : doc.getIn(listPath, true);
  if (!isSeq(list)) {
    throw new MalformedResponseError(`${read.connector}: ${read.file}: expected a list of entries under "${read.listKey}:", or the file to be that list`);
  }
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      if (key !== read.listKey) read.onUnknownField(key, 'the top level');
    }
  }
  const known = new Set(read.fields);
  for (let index = 0; index < list.items.length; index++) {
    const node = list.items[index];
    const itemPath = [...listPath, index];
    const at = `${listPath.length > 0 ? read.listKey : ''}[${index}] (line ${lineOf(doc, lineCounter, itemPath) ?? '?'})`;
    if (!isMap(node)) throw new MalformedResponseError(`${read.connector}: ${read.file}: ${at}: expected an entry of fields (name: value)`);
    let fields: Record<string, unknown>;
    try {
      fields = node.toJS(doc) as Record<string, unknown>;
    } catch (error) {
      // yaml refuses aliases that would expand beyond its limit (a "billion laughs" register).
      throw new MalformedResponseError(`${read.connector}: ${read.file}: ${at}: cannot be read (${(error as Error).name}: too many or broken aliases)`, {
        cause: error,
      });
    }
    for (const key of Object.keys(fields)) if (!known.has(key)) read.onUnknownField(key, at);
    yield {
      at,
      fields,
      fieldAt: (path) => {
        const position = positionOf(doc, lineCounter, [...itemPath, ...(path as (string | number)[])]);
        return `${formatPath(path)}${position}`;
      },
    };
  }
  read.onDigest({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
}

function lineOf(doc: Document, lineCounter: LineCounter, path: (string | number)[]): number | undefined {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
}

/** " (line L, column C)" of the deepest node on the path that exists. */
function positionOf(doc: Document, lineCounter: LineCounter, path: (string | number)[]): string {
  for (let depth = path.length; depth > 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return ` (line ${line}, column ${col})`;
    }
  }
  return '';
}

async function readWhole(read: RegisterRead): Promise<Buffer> {
  const handle = await openFile(read.absolutePath, read);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotFoundError(`${read.connector}: ${read.file}: is not a file`);
    if (stat.size > MAX_YAML_BYTES)
      throw new MalformedResponseError(`${read.connector}: ${read.file}: ${stat.size} bytes; a YAML register may have at most ${MAX_YAML_BYTES}`);
    return await handle.readFile();
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new UnavailableError(`${read.connector}: ${read.file}: reading failed (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- collection

/** Field names a warning may quote: a name like this is the register's structure, not its content. */
const PLAIN_NAME = /^[\w .-]{1,40}$/;

/** Entries named one by one in a warning; the rest are counted. */
const NAMED_IN_WARNINGS = 10;

/** A warning about some of a register's entries, built up while they are read and given once at the end. */
export class EntryWarning {
  private readonly named: string[] = [];
  private count = 0;
  private readonly describe: (entries: string, count: number) => string;
  constructor(describe: (entries: string, count: number) => string) {
    this.describe = describe;
  }
  add(entry: string): void {
    this.count += 1;
    if (this.named.length < NAMED_IN_WARNINGS) this.named.push(entry);
  }
  report(ctx: ConnectorContext): void {
    if (this.count > 0) ctx.warn(this.describe(namedAndCounted(this.named, this.count), this.count));
  }
}

export interface RegisterCollection<T> extends RegisterShape {
  readonly connector: string;
  readonly config: { path: string; format?: RegisterFormat | undefined; delimiter: string; encoding: CsvEncoding };
  readonly ctx: ConnectorContext;
  toRecord(entry: RegisterEntry): T;
  /** The value that identifies a record within the register, and what it is called in messages. */
  readonly key: { readonly noun: string; of(record: T): string };
}

/**
 * Collects every entry of a register, or fails naming the first bad one: a register is judged whole, so nothing is
 * yielded before the last entry has been read and checked.
 */
export async function* collectRegister<T>(collection: RegisterCollection<T>): AsyncGenerator<T> {
  const { connector, config, ctx } = collection;
  const file = config.path;
  const format = registerFormatOf(config);
  if (format === undefined) throw new MalformedResponseError(`${connector}: ${file}: the format is neither given nor known from the file name`);
  const absolutePath = resolve(ctx.baseDir, file);
  let digest: CsvFileDigest | undefined;
  const unknownFields = new Map<string, string>();
  const entries = readEntries({
    ...collection,
    file,
    absolutePath,
    format,
    delimiter: config.delimiter,
    encoding: config.encoding,
    signal: ctx.signal,
    onDigest: (read) => {
      digest = read;
    },
    onUnknownField: (field, at) => {
      if (!unknownFields.has(field)) unknownFields.set(field, at);
    },
  });
  const records: T[] = [];
  const firstAt = new Map<string, string>();
  for await (const entry of entries) {
    const record = collection.toRecord(entry);
    const key = collection.key.of(record);
    const earlier = firstAt.get(key);
    if (earlier !== undefined)
      throw new MalformedResponseError(`${connector}: ${file}: ${entry.at}: ${collection.key.noun} ${JSON.stringify(key)} is already at ${earlier}`);
    firstAt.set(key, entry.at);
    records.push(record);
  }
  if (unknownFields.size > 0) {
    const list = [...unknownFields].map(
      ([field, at]) => `${PLAIN_NAME.test(field) ? `"${field}"` : 'a field whose name is not a plain word'} (first at ${at})`,
    );
    ctx.warn(`${connector}: ${file}: not read, as no register field has the name: ${list.join(', ')}; the known fields are ${collection.fields.join(', ')}`);
  }
  ctx.provenance({ file: { path: file, absolutePath, format, sha256: digest?.sha256, bytes: digest?.bytes, entries: records.length } });
  yield* records;
}
