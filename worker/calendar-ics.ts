import type { CalendarRow, OccurrenceStatus } from './calendar-report.ts';

/*
 * The calendar as iCalendar (RFC 5545), written here rather than with ical-generator, which this project does not
 * install. One VEVENT per occurrence with UID `<occurrenceId>@isms-worker`: the occurrence id is stable, so
 * importing or subscribing again updates events instead of duplicating them. Times are UTC (no VTIMEZONE needed);
 * calendar apps show them in the reader's zone.
 */

/** Status rank: every change of an occurrence moves it forward, so SEQUENCE rises whenever the event changes. */
const SEQUENCE: Record<OccurrenceStatus, number> = { planned: 0, unrecorded: 0, open: 1, overdue: 2, missed: 3, done: 4, 'done-late': 4 };

export function renderIcs(rows: readonly CalendarRow[], options: { now: number; name: string; durationMinutes?: number }): string {
  const stamp = utc(options.now);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//isms-worker//maintenance calendar//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(options.name)}`,
  ];
  for (const row of rows) {
    const description = [
      `${row.activity} (${row.reference})`,
      `Owner: ${row.owner}`,
      `Status: ${row.status}${row.completedBy ? ` by ${row.completedBy}` : ''}`,
      ...(row.nonconformityId ? [`Nonconformity: ${row.nonconformityId}`] : []),
      `Occurrence: ${row.occurrenceId}`,
      `Complete with: isms activity complete ${row.occurrenceId} --by <you> --evidence <file>`,
    ].join('\n');
    lines.push(
      'BEGIN:VEVENT',
      `UID:${row.occurrenceId}@isms-worker`,
      `DTSTAMP:${stamp}`,
      `DTSTART:${utc(Date.parse(row.due))}`,
      `DURATION:PT${options.durationMinutes ?? 60}M`,
      `SUMMARY:${escapeText(`${row.status === 'done' || row.status === 'done-late' ? '✓ ' : ''}${row.activity}`)}`,
      `DESCRIPTION:${escapeText(description)}`,
      `CATEGORIES:${['ISMS', ...row.reference.split(/,\s*/)].map(escapeText).join(',')}`,
      `SEQUENCE:${SEQUENCE[row.status]}`,
      'STATUS:CONFIRMED',
      'TRANSP:TRANSPARENT',
      `X-ISMS-OCCURRENCE-STATUS:${row.status}`,
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}

/** RFC 5545 3.3.11: backslash, semicolon, comma and newline are escaped in TEXT. */
export function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** RFC 5545 3.1: lines longer than 75 octets are folded with CRLF and a space, never inside a UTF-8 character. */
export function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    // Continuation lines start with a space, which counts towards their 75 octets.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

function utc(instant: number): string {
  return new Date(instant)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
