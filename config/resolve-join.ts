import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { parseAddressTemplate, type AccountJoin, type AccountMapping, type AddressTemplate, type JoinTarget, type MappedOwner } from '../checks/kit/join.ts';
import { foldKey } from '../checks/kit/people.ts';
import { csvRecordLines, csvRowParser, describeCsvError, emailCell, textCell, type CsvSource } from '../connectors/csv.ts';
import { ConnectorError } from '../connectors/errors.ts';
import type { SourceJoin } from './join.ts';

/**
 * A source's `join:` resolved for the checks: templates parsed, the mapping file read and every problem named with
 * its path under `join`. Apart from config/join.ts (the schema) because it reads CSV, and the CSV reader reads config.
 */

export interface JoinIssue {
  /** Relative to the `join:` node. */
  path: (string | number)[];
  message: string;
}

/** The join the config describes, with its templates parsed and its mapping file read; or every problem with it. */
export function resolveJoin(join: SourceJoin, baseDir: string): { join: AccountJoin; issues: [] } | { join: undefined; issues: JoinIssue[] } {
  const issues: JoinIssue[] = [];
  const templates: AddressTemplate[] = [];
  const written = join.template === undefined ? [] : typeof join.template === 'string' ? [join.template] : join.template;
  written.forEach((text, index) => {
    const parsed = parseAddressTemplate(text);
    if ('problem' in parsed)
      issues.push({ path: typeof join.template === 'string' ? ['template'] : ['template', index], message: `template "${text}": ${parsed.problem}` });
    else templates.push(parsed);
  });
  const attribute =
    join.attribute === undefined ? null : typeof join.attribute === 'string' ? { name: join.attribute, matches: 'email' as const } : join.attribute;
  const attributePath = attribute?.name.split('.') ?? [];
  if (attributePath.some((key) => key === '')) issues.push({ path: ['attribute'], message: `attribute "${attribute?.name}": an empty name between dots` });
  const tag = join.tag === undefined ? null : typeof join.tag === 'string' ? { key: join.tag, matches: 'email' as const } : join.tag;

  let mapping: AccountMapping | null = null;
  if (join.mappingFile !== undefined) {
    try {
      mapping = readMappingFile(join.mappingFile, baseDir);
    } catch (error) {
      if (!(error instanceof MappingFileProblem || error instanceof ConnectorError)) throw error;
      issues.push({ path: ['mappingFile'], message: error.message });
    }
  }
  if (!join.email && !join.aliases && written.length === 0 && !attribute && !tag && join.mappingFile === undefined) {
    issues.push({
      path: [],
      message:
        'joins no account to anyone (email and aliases are off, and no template, attribute, tag or mapping file is given): every account would be an orphan',
    });
  }
  if (issues.length > 0) return { join: undefined, issues };
  return {
    join: {
      email: join.email,
      aliases: join.aliases,
      templates,
      attribute: attribute && { name: attribute.name, path: attributePath, matches: attribute.matches },
      tag,
      mapping,
      ignorePlusAddressing: join.ignorePlusAddressing,
    },
    issues: [],
  };
}

class MappingFileProblem extends Error {}

/** A mapping file lists exceptions: a few hundred rows. The limit keeps a wrong path (a log, a device) from being read whole. */
const MAX_MAPPING_FILE_BYTES = 16 * 1024 * 1024;

const ACCOUNT_COLUMN = 'account';
const TARGET_COLUMNS: readonly JoinTarget[] = ['email', 'employeeId'];

const requiredCell = (what: string) =>
  textCell.transform((value, ctx) => {
    if (value === null) {
      ctx.addIssue({ code: 'custom', message: `an empty cell: every row names ${what}` });
      return z.NEVER;
    }
    return value;
  });

const MappingRow = {
  email: z.object({
    account: requiredCell('an account'),
    target: emailCell.pipe(z.string({ error: "an empty cell: every row names the email of the account's owner" })),
  }),
  employeeId: z.object({ account: requiredCell('an account'), target: requiredCell("the employee id of the account's owner") }),
};

/**
 * Reads a mapping file (account,email or account,employeeId) at config load, so that `isms config check` names a bad
 * row before any run. Every problem names the file, the line and the column, never a cell's text (the file holds
 * personal data).
 */
function readMappingFile(file: string, baseDir: string): AccountMapping {
  const absolutePath = path.resolve(baseDir, file);
  const where = `mapping file: ${file}`;
  let size: number;
  try {
    const stat = statSync(absolutePath);
    if (!stat.isFile()) throw new MappingFileProblem(`${where}: is not a file (${absolutePath})`);
    size = stat.size;
  } catch (error) {
    if (error instanceof MappingFileProblem) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new MappingFileProblem(
      `${where}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot be read (${code ?? 'unknown error'})`} (${absolutePath})`,
    );
  }
  if (size > MAX_MAPPING_FILE_BYTES)
    throw new MappingFileProblem(`${where}: is ${size} bytes; a mapping file lists the exceptions and may hold at most ${MAX_MAPPING_FILE_BYTES} bytes`);
  let content: Buffer;
  try {
    content = readFileSync(absolutePath);
  } catch (error) {
    throw new MappingFileProblem(`${where}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }

  let parsed: { record: string[]; info: { lines: number; empty_lines: number } }[];
  try {
    // With `info`, csv-parse returns {record, info} per record; its types only know the plain form.
    parsed = parseCsv(content, { info: true, bom: true, skip_empty_lines: true }) as unknown as typeof parsed;
  } catch (error) {
    if (error instanceof CsvError)
      throw new MappingFileProblem(`${where}: ${typeof error.lines === 'number' ? `line ${error.lines}: ` : ''}not valid CSV: ${describeCsvError(error)}`);
    throw error;
  }
  const [headerRecord, ...rows] = parsed;
  if (!headerRecord) throw new MappingFileProblem(`${where}: the file is empty; expected a header row: account,email (or account,employeeId)`);
  const header = headerRecord.record.map((name) => name.trim());
  const target = TARGET_COLUMNS.filter((column) => header.includes(column));
  if (!header.includes(ACCOUNT_COLUMN) || target.length !== 1) {
    // The header row is not quoted back: a path that names the wrong file would put its first line in the message.
    throw new MappingFileProblem(
      `${where}: line 1: the header must name the columns account and email, or account and employeeId; it has ${header.length} column(s)`,
    );
  }
  const matches = target[0]!;
  for (const column of [ACCOUNT_COLUMN, matches]) {
    const positions = header.flatMap((name, index) => (name === column ? [index + 1] : []));
    if (positions.length > 1)
      throw new MappingFileProblem(`${where}: line 1: column ${column} appears ${positions.length} times, in columns ${positions.join(', ')}`);
  }

  const source: CsvSource = { connector: 'mapping file', file };
  const parseRow = csvRowParser(source, { account: ACCOUNT_COLUMN, target: matches }, MappingRow[matches]);
  const lineOf = csvRecordLines();
  lineOf(headerRecord.record, headerRecord.info);
  const owners = new Map<string, MappedOwner>();
  for (const { record, info } of rows) {
    const line = lineOf(record, info);
    const cells: Record<string, string> = {};
    header.forEach((name, index) => (cells[name] = record[index] ?? ''));
    const { fields } = parseRow({ line, cells });
    const account = foldKey(fields.account);
    const earlier = owners.get(account);
    if (earlier) throw new MappingFileProblem(`${where}: line ${line}: column "${ACCOUNT_COLUMN}": the same account as on line ${earlier.line}`);
    owners.set(account, { matches, value: fields.target, line });
  }
  return { file, owners };
}
