import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import {
  jsonEvents,
  JsonSkeleton,
  readJson,
  streamJson,
  type JsonEvent,
  type JsonPath,
  type JsonPlan,
  type JsonReading,
} from '../../../connectors/scanner-files/json-stream.ts';
import { mulberry32 } from '../../support/random.ts';
import { chunked } from './helpers.ts';

const TEXTS = [
  '',
  'plain',
  'quote " and \\ backslash',
  'line\nbreak\ttab',
  'nul \u0000 and \u001f',
  'café',
  '日本語のテキスト',
  'emoji 😀 pair',
  'lone \ud800 surrogate',
  'x'.repeat(70),
];
const NUMBERS = [0, -0, 1, -17, 3.25, 1e21, -1.5e-7, 123456789012, 0.1];
// Integer-like keys are left out: objects list them first, so an object's key order would no longer be the text's.
const KEYS = ['a', 'b', 'name', 'Results', '__proto__', 'k-é', 'x y', ''];

function document(next: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const roll = next();
  if (depth < 4 && roll < 0.3) return Array.from({ length: Math.floor(next() * 5) }, () => document(next, depth + 1));
  if (depth < 4 && roll < 0.6) {
    const object: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 5); i > 0; i--)
      Object.defineProperty(object, pick(KEYS), { value: document(next, depth + 1), enumerable: true, writable: true, configurable: true });
    return object;
  }
  return pick<unknown>([...TEXTS, ...NUMBERS, true, false, null]);
}

const collect = async (events: AsyncIterable<JsonEvent> | Iterable<JsonEvent>) => {
  const out: JsonEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
};

/** Watches the top two levels and captures what is below them. */
const shallow: JsonPlan = (path) => (path.length < 2 ? 'watch' : 'capture');

describe('streamJson', () => {
  it('yields what jsonEvents yields for the parsed document, however the text is cut into chunks', async () => {
    const next = mulberry32(0x5eed);
    for (let n = 0; n < 60; n++) {
      const value = document(next);
      const text = JSON.stringify(value, null, n % 2 === 0 ? 2 : undefined);
      const expected = [...jsonEvents(JSON.parse(text), shallow)];
      for (const size of [1, 3, 64, text.length + 1]) {
        expect(await collect(streamJson(chunked(text, size), 'doc.json', shallow)), `document ${n} in chunks of ${size}`).toEqual(expected);
      }
    }
  });

  it('passes over skipped strings without building them and yields what jsonEvents yields, however the text is cut', async () => {
    // Members named "b" or "name" are skipped wherever they are, so skipped strings (with escapes, multi-byte
    // characters and lone surrogates) straddle chunk boundaries of every size, and those at the top level are longer
    // than the limit, which kept strings stay within.
    const skipping: JsonPlan = (path) => (path.at(-1) === 'b' || path.at(-1) === 'name' ? 'skip' : path.length < 2 ? 'watch' : 'capture');
    const next = mulberry32(0x5171);
    for (let n = 0; n < 60; n++) {
      const long = (text: string) => `${text}${'\\"'.repeat(n)}${'y'.repeat(1100)}${text}`;
      const value = { b: long(TEXTS[n % TEXTS.length]!), rest: document(next), name: `${long(TEXTS[(n + 3) % TEXTS.length]!)}\\` };
      const text = JSON.stringify(value, null, n % 2 === 0 ? 2 : undefined);
      const expected = [...jsonEvents(JSON.parse(text), skipping)];
      for (const size of [1, 2, 3, 5, 64, text.length + 1]) {
        expect(await collect(streamJson(chunked(text, size), 'doc.json', skipping, { maxValueBytes: 1000 })), `document ${n} in chunks of ${size}`).toEqual(
          expected,
        );
      }
    }
  });

  it('captures values exactly as JSON.parse reads them, a "__proto__" key included', async () => {
    const text = '{"items": [{"__proto__": {"polluted": true}, "n": -0.5e2, "s": "\\u00e9\\ud83d\\ude00\\u0000", "deep": [[], {}, [null]]}]}';
    const events = await collect(streamJson(chunked(text, 5), 'doc.json', (path) => (path.length < 2 ? 'watch' : 'capture')));
    const item = events.find((event) => event.type === 'value')!;
    expect(item).toEqual({ type: 'value', path: ['items', 0], value: JSON.parse(text).items[0] });
    const value = (item as { value: Record<string, unknown> }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('asks the plan about each value outside captured and skipped ones, and builds only what is captured', async () => {
    const asked: string[] = [];
    const plan: JsonPlan = (path) => {
      asked.push(path.join('/'));
      if (path[0] === 'skipped') return 'skip';
      return path.length === 2 && path[0] === 'items' ? 'capture' : 'watch';
    };
    const text = JSON.stringify({ head: 1, skipped: { huge: [1, 2, 3] }, items: [{ a: [1] }, 2], tail: { t: 't' } });
    const events = await collect(streamJson(chunked(text, 4), 'doc.json', plan));
    expect(asked).toEqual(['', 'head', 'skipped', 'items', 'items/0', 'items/1', 'tail', 'tail/t']);
    expect(events).toEqual([
      { type: 'start', path: [], container: 'object' },
      { type: 'value', path: ['head'], value: 1 },
      { type: 'start', path: ['items'], container: 'array' },
      { type: 'value', path: ['items', 0], value: { a: [1] } },
      { type: 'value', path: ['items', 1], value: 2 },
      { type: 'end', path: ['items'] },
      { type: 'start', path: ['tail'], container: 'object' },
      { type: 'value', path: ['tail', 't'], value: 't' },
      { type: 'end', path: ['tail'] },
      { type: 'end', path: [] },
    ]);
  });

  it('hands over events chunk by chunk, before the rest is read', async () => {
    let produced = 0;
    async function* slowly() {
      yield '{"items": [';
      for (let i = 0; i < 1000; i++) {
        produced += 1;
        yield `${i === 0 ? '' : ','}{"i": ${i}}`;
      }
      yield ']}';
    }
    for await (const event of streamJson(slowly(), 'doc.json', (path) => (path.length < 2 ? 'watch' : 'capture'))) {
      if (event.type === 'value') {
        expect(event.value).toEqual({ i: 0 });
        break;
      }
    }
    expect(produced).toBeLessThan(3);
  });

  it.each([
    ['{"a": 1,}', 'not valid JSON: unexpected "}" at byte 8 in a'],
    ['{"a" 1}', 'not valid JSON: unexpected 1 at byte 5 in a'],
    ['[1 2]', 'not valid JSON: unexpected 2 at byte 3 in [0]'],
    ['[1,]', 'not valid JSON: unexpected "]" at byte 3 in [0]'],
    ['{"a": [}', 'not valid JSON: unexpected "}" at byte 7 in a[0]'],
    ['{"a": tru}', 'not valid JSON: unexpected "}" at byte 9 in a'],
    ['{"a": "x\u0001"}', 'not valid JSON: unexpected byte 0x01 at byte 8 in a'],
    ['{"a": 01}', 'not valid JSON: unexpected 1 at byte 7 in a'],
    ['{"a": 1} {}', 'not valid JSON: more data at byte 9 after the end of the JSON value'],
    ['{"runs": [{"results": [{"ruleId": "x"', 'not valid JSON: it ends inside runs[0].results[0].ruleId: the file is truncated or still being written'],
    ['{"a": "unterminated', 'not valid JSON: it ends inside a: the file is truncated or still being written'],
    ['"cut', 'not valid JSON: it ends inside the top level: the file is truncated or still being written'],
    ['   ', 'not valid JSON: the file holds no JSON value'],
    // What a misplaced string says is never quoted (it may be a secret); a long member name is cut short.
    ['{"a": 1 "SECRET-VALUE"}', 'not valid JSON: unexpected string of 12 characters at byte 8 in a'],
    [`{"${'k'.repeat(100)}": [}`, `not valid JSON: unexpected "}" at byte 106 in ${'k'.repeat(60)}…[0]`],
  ])('refuses %j naming the file, the place and the reason', async (text, detail) => {
    const error = await collect(streamJson(chunked(text, 2), '/scans/bad.json', shallow)).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toBe(`scanner-files: /scans/bad.json: ${detail}`);
  });

  it('accepts what JSON.parse accepts around the value: a byte order mark and whitespace', async () => {
    const events = await collect(streamJson([new Uint8Array([0xef, 0xbb, 0xbf]), new TextEncoder().encode(' \r\n\t{"a": [1.5e3]}\n ')], 'doc.json', shallow));
    expect(events).toEqual([...jsonEvents({ a: [1500] }, shallow)]);
  });

  it('says a file is not UTF-8 when a string holds a byte sequence UTF-8 does not allow', async () => {
    const error = await collect(streamJson([new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d])], '/scans/latin1.json', shallow)).catch(
      (failure: unknown) => failure,
    );
    expect((error as Error).message).toBe('scanner-files: /scans/latin1.json: is not valid UTF-8');
  });

  it('reads a head of a file without complaining that it stops in the middle', async () => {
    const text = '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semg';
    const events = await collect(streamJson([text], 'head.json', (path) => (path.length < 2 ? 'watch' : 'skip'), { partial: true }));
    expect(events).toEqual([
      { type: 'start', path: [], container: 'object' },
      { type: 'value', path: ['version'], value: '2.1.0' },
      { type: 'start', path: ['runs'], container: 'array' },
    ]);
  });
});

describe('JsonSkeleton', () => {
  it('holds the watched containers and captured values, and knows what is settled', () => {
    const skeleton = new JsonSkeleton();
    expect(skeleton.settled(['a'])).toBe(false);
    const events: JsonEvent[] = [
      { type: 'start', path: [], container: 'object' },
      { type: 'value', path: ['version'], value: '2.1.0' },
      { type: 'start', path: ['runs'], container: 'array' },
      { type: 'start', path: ['runs', 0], container: 'object' },
      { type: 'value', path: ['runs', 0, 'tool'], value: { name: 'x' } },
    ];
    for (const event of events) skeleton.add(event);
    expect(skeleton.root).toEqual({ version: '2.1.0', runs: [{ tool: { name: 'x' } }] });
    expect(skeleton.at(['runs', 0, 'tool'])).toEqual({ name: 'x' });
    expect(skeleton.settled(['runs', 0, 'tool'])).toBe(true);
    // Not read yet, and the run is still open: it may come.
    expect(skeleton.settled(['runs', 0, 'invocations'])).toBe(false);
    expect(skeleton.settled(['runs', 1, 'tool'])).toBe(false);
    skeleton.add({ type: 'end', path: ['runs', 0] });
    expect(skeleton.settled(['runs', 0, 'invocations'])).toBe(true);
    expect(skeleton.settled(['runs', 1, 'tool'])).toBe(false);
    skeleton.add({ type: 'end', path: ['runs'] });
    expect(skeleton.settled(['runs', 1, 'tool'])).toBe(true);
    // Inside a scalar nothing can come.
    expect(skeleton.settled(['version', 'x'])).toBe(true);
  });
});

interface Toy {
  group: string;
  item: unknown;
}

/**
 * A format of groups of items, each group named by `name`; a group's `name` that comes after its items either holds
 * them until the group ends (`hold`), or makes the document be read again (`restart`).
 */
function toyReading(whenUnnamed: 'hold' | 'restart', finished: string[]): JsonReading<Toy> {
  return {
    plan: (path) =>
      path.length < 3 || (path.length === 3 && path[2] === 'items')
        ? 'watch'
        : path.length === 3 && path[2] === 'name'
          ? 'capture'
          : path.length === 4
            ? 'capture'
            : 'skip',
    isItem: (path) => path.length === 4,
    ready: (context, path) => context.settled([...path.slice(0, 2), 'name']) || (whenUnnamed === 'hold' ? path.slice(0, 2) : false),
    start: (context) => ({
      item: (path: JsonPath, value: unknown) => ({ group: String(context.at([...path.slice(0, 2), 'name'])), item: value }),
      context: () => {},
      finish() {
        finished.push('done');
        return [];
      },
    }),
  };
}

describe('readJson', () => {
  const named = {
    groups: [
      { name: 'g0', items: [1, 2] },
      { name: 'g1', items: [3] },
    ],
  };
  const late = {
    groups: [
      { name: 'g0', items: [1, 2] },
      { items: [3, 4], name: 'g1' },
      { name: 'g2', items: [5] },
    ],
  };

  async function read(document: unknown, whenUnnamed: 'hold' | 'restart') {
    const passes: string[] = [];
    const finished: string[] = [];
    const records: Toy[] = [];
    const text = JSON.stringify(document);
    const pass = (plan: JsonPlan) => {
      passes.push(plan(['groups', 0, 'items', 0]));
      return streamJson(chunked(text, 3), 'toy.json', plan);
    };
    for await (const record of readJson(toyReading(whenUnnamed, finished), pass)) records.push(record);
    return { passes, records, finished };
  }

  it('reads the document once when every item comes after its context', async () => {
    const { passes, records, finished } = await read(named, 'restart');
    expect(passes).toEqual(['capture']);
    expect(records).toEqual([
      { group: 'g0', item: 1 },
      { group: 'g0', item: 2 },
      { group: 'g1', item: 3 },
    ]);
    expect(finished).toEqual(['done']);
  });

  it('holds the items of a container whose context comes at its end, still in one pass', async () => {
    const { passes, records } = await read(late, 'hold');
    expect(passes).toEqual(['capture']);
    expect(records.map((record) => `${record.group}:${String(record.item)}`)).toEqual(['g0:1', 'g0:2', 'g1:3', 'g1:4', 'g2:5']);
  });

  it('reads the context first, then the items, when context may come anywhere later; nothing is yielded twice', async () => {
    const { passes, records, finished } = await read(late, 'restart');
    // The first pass stops at the first item of g1, after yielding g0's; then the context alone (items skipped), then the items.
    expect(passes).toEqual(['capture', 'skip', 'capture']);
    expect(records.map((record) => `${record.group}:${String(record.item)}`)).toEqual(['g0:1', 'g0:2', 'g1:3', 'g1:4', 'g2:5']);
    expect(finished).toEqual(['done']);
  });

  it('reads a document already in memory the same way', async () => {
    const finished: string[] = [];
    const records: Toy[] = [];
    for await (const record of readJson(toyReading('restart', finished), (plan) => jsonEvents(late, plan))) records.push(record);
    expect(records.map((record) => `${record.group}:${String(record.item)}`)).toEqual(['g0:1', 'g0:2', 'g1:3', 'g1:4', 'g2:5']);
  });
});
