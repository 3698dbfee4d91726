import { describe, expect, it } from 'vitest';
import { escapeText, fold, renderIcs } from '../../worker/calendar-ics.ts';
import type { CalendarRow } from '../../worker/calendar-report.ts';

/**
 * An independent reading of RFC 5545: unfold (CRLF followed by a space or tab), split each content line into name,
 * parameters and value, unescape TEXT, and group components. It shares no code with the writer.
 */
interface Component {
  name: string;
  props: Map<string, string[]>;
  children: Component[];
}

function parseIcs(text: string): Component[] {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const physical = text.split('\r\n').slice(0, -1);
  for (const line of physical) expect(Buffer.byteLength(line), line).toBeLessThanOrEqual(75);
  const lines: string[] = [];
  for (const line of physical) {
    if (line.startsWith(' ') || line.startsWith('\t')) lines[lines.length - 1] += line.slice(1);
    else lines.push(line);
  }
  const root: Component = { name: 'ROOT', props: new Map(), children: [] };
  const stack = [root];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const [name] = line.slice(0, colon).split(';') as [string];
    const value = line.slice(colon + 1);
    if (name === 'BEGIN') {
      const component: Component = { name: value, props: new Map(), children: [] };
      stack.at(-1)!.children.push(component);
      stack.push(component);
    } else if (name === 'END') {
      expect(stack.pop()!.name).toBe(value);
    } else {
      const unescaped = value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
      stack.at(-1)!.props.set(name, [...(stack.at(-1)!.props.get(name) ?? []), unescaped]);
    }
  }
  expect(stack).toHaveLength(1);
  return root.children;
}

const row = (overrides: Partial<CalendarRow>): CalendarRow => ({
  occurrenceId: 'activity:access-review:2026-12-31',
  activityId: 'access-review',
  activity: 'User access review',
  reference: 'A.5.18, A.8.2',
  owner: 'it-lead@example.com',
  due: '2026-12-31T08:00:00.000Z',
  dueDate: '2026-12-31',
  status: 'planned',
  ...overrides,
});

describe('ICS export', () => {
  const rows = [
    row({}),
    row({
      occurrenceId: 'activity:management-review:2027-07-31',
      activityId: 'management-review',
      activity: 'Management review; minutes, decisions \\ actions — Geschäftsführung über alle Maßnahmen und Ergebnisse der internen Audits',
      reference: '9.3',
      owner: 'ceo@example.com',
      due: '2027-07-31T07:00:00.000Z',
      status: 'done-late',
      completedBy: 'ceo@example.com',
      nonconformityId: 'NC-0042',
    }),
  ];

  it('writes one VEVENT per occurrence that an independent parser reads back', () => {
    const [calendar] = parseIcs(renderIcs(rows, { now: Date.parse('2026-11-25T10:00:00Z'), name: 'ISMS, Example' }));
    expect(calendar!.name).toBe('VCALENDAR');
    expect(calendar!.props.get('VERSION')).toEqual(['2.0']);
    expect(calendar!.props.get('X-WR-CALNAME')).toEqual(['ISMS, Example']);
    const events = calendar!.children;
    expect(events.map((event) => event.name)).toEqual(['VEVENT', 'VEVENT']);
    const [first, second] = events as [Component, Component];
    expect(first.props.get('UID')).toEqual(['activity:access-review:2026-12-31@isms-worker']);
    expect(first.props.get('DTSTART')).toEqual(['20261231T080000Z']);
    expect(first.props.get('DTSTAMP')).toEqual(['20261125T100000Z']);
    expect(first.props.get('SUMMARY')).toEqual(['User access review']);
    expect(first.props.get('CATEGORIES')).toEqual(['ISMS,A.5.18,A.8.2']);
    expect(first.props.get('SEQUENCE')).toEqual(['0']);
    expect(second.props.get('SUMMARY')).toEqual([`✓ ${rows[1]!.activity}`]);
    expect(second.props.get('DESCRIPTION')![0]!.split('\n')).toEqual([
      `${rows[1]!.activity} (9.3)`,
      'Owner: ceo@example.com',
      'Status: done-late by ceo@example.com',
      'Nonconformity: NC-0042',
      'Occurrence: activity:management-review:2027-07-31',
      'Complete with: isms activity complete activity:management-review:2027-07-31 --by <you> --evidence <file>',
    ]);
    expect(second.props.get('SEQUENCE')).toEqual(['4']);
  });

  it('keeps UIDs stable across exports so a re-import updates, and raises SEQUENCE as an occurrence moves on', () => {
    const before = parseIcs(renderIcs([row({})], { now: 0, name: 'x' }))[0]!.children[0]!;
    const after = parseIcs(renderIcs([row({ status: 'overdue', owner: 'someone@example.com' })], { now: 1000, name: 'x' }))[0]!.children[0]!;
    expect(after.props.get('UID')).toEqual(before.props.get('UID'));
    expect(Number(after.props.get('SEQUENCE')![0])).toBeGreaterThan(Number(before.props.get('SEQUENCE')![0]));
  });

  it('escapes TEXT and folds at 75 octets without splitting a UTF-8 character', () => {
    expect(escapeText('a;b,c\\d\ne')).toBe('a\\;b\\,c\\\\d\\ne');
    const line = `SUMMARY:${'ä'.repeat(60)}`;
    const folded = fold(line).split('\r\n');
    expect(folded.every((part) => Buffer.byteLength(part) <= 75)).toBe(true);
    expect(folded.map((part, index) => (index === 0 ? part : part.slice(1))).join('')).toBe(line);
    expect(fold('short')).toBe('short');
  });
});
