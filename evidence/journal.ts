import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { asDiskFull } from './disk-full.ts';

/** One row of the hash chain as the journal keeps it. */
export interface JournalEntry {
  seq: number;
  id: string;
  rowHash: string;
}

/** An entry of the journal that is not one: `where` names it (a line, an object), `detail` says what is wrong. */
export interface MalformedJournalEntry {
  where: string;
  detail: string;
}

export interface JournalContents {
  entries: JournalEntry[];
  malformed: MalformedJournalEntry[];
}

/**
 * The append-only record of row hashes beside the catalog: deleting the newest catalog row leaves its entry behind.
 * Only writers append; opening and verifying read.
 */
export interface Journal {
  /** Where the journal is, for messages. */
  readonly location: string;
  /** Adds entries not yet journaled; an entry already there with the same content is left as it is. */
  append(entries: readonly JournalEntry[]): Promise<void>;
  /** The newest entries: far more than writers can commit between two appends. */
  tail(): Promise<JournalEntry[]>;
  read(): Promise<JournalContents>;
}

export const JOURNAL_LINE = /^(\d+) (\S+) ([0-9a-f]{64})$/;

export function journalLine(entry: JournalEntry): string {
  return `${entry.seq} ${entry.id} ${entry.rowHash}\n`;
}

/** Sequence numbers below the newest entry that have no entry: lines or objects removed from the journal. */
export function journalGaps(entries: readonly JournalEntry[]): number[] {
  const present = new Set(entries.map((entry) => entry.seq));
  const newest = Math.max(0, ...present);
  const gaps: number[] = [];
  for (let seq = 1; seq < newest; seq++) if (!present.has(seq)) gaps.push(seq);
  return gaps;
}

/** How much of the journal's end a writer reads: far more lines than writers can commit between two journal appends. */
const JOURNAL_TAIL_BYTES = 64 * 1024;

/**
 * The journal as one file, a line per entry, appended with fsync: the embedded default, beside blobs on the local disk.
 */
export class FileJournal implements Journal {
  readonly location: string;
  readonly file: string;

  constructor(file: string) {
    this.file = file;
    this.location = file;
  }

  async append(entries: readonly JournalEntry[]): Promise<void> {
    const written = new Set(this.tailSync().map((entry) => entry.seq));
    const lines = entries.filter((entry) => !written.has(entry.seq)).map(journalLine);
    if (lines.length > 0) this.appendLines(lines.join(''));
  }

  async tail(): Promise<JournalEntry[]> {
    return this.tailSync();
  }

  async read(): Promise<JournalContents> {
    return this.readSync();
  }

  private appendLines(lines: string): void {
    try {
      const fd = openSync(this.file, 'a+');
      try {
        const size = fstatSync(fd).size;
        const last = Buffer.alloc(1);
        // A torn last line keeps its own line: the new ones start on the next.
        const endsMidLine = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
        writeSync(fd, endsMidLine ? `\n${lines}` : lines);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw asDiskFull(error, this.file);
    }
  }

  /** The whole lines at the end of the journal, read by a writer under the catalog's write lock. */
  private tailSync(): JournalEntry[] {
    if (!existsSync(this.file)) return [];
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, JOURNAL_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const text = buffer.toString('utf8');
      // The first line of a window that starts mid-file may be cut.
      return parseJournal(length < size ? text.slice(text.indexOf('\n') + 1) : text).entries;
    } finally {
      closeSync(fd);
    }
  }

  private readSync(): JournalContents {
    if (!existsSync(this.file)) return { entries: [], malformed: [] };
    return parseJournal(readFileSync(this.file, 'utf8'));
  }
}

function parseJournal(text: string): JournalContents {
  const entries: JournalEntry[] = [];
  const malformed: MalformedJournalEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const match = JOURNAL_LINE.exec(line);
    if (match) entries.push({ seq: Number(match[1]), id: match[2]!, rowHash: match[3]! });
    else malformed.push({ where: `journal line ${index + 1}`, detail: `journal.log line ${index + 1} is not "<seq> <evidence id> <row hash>"` });
  });
  return { entries, malformed };
}
