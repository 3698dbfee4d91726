import { Tokenizer, TokenizerError, TokenType } from '@streamparser/json';
import { MalformedResponseError } from '../errors.ts';
import { formatPath } from '../../core/zod-issues.ts';
import { DEFAULT_MAX_VALUE_BYTES } from './limits.ts';

export type JsonKey = string | number;
export type JsonPath = readonly JsonKey[];

/**
 * What a reader wants of the value at a path, asked once for each value that is not inside a captured one:
 * - `capture`: build it whole and hand it over once it closes (an item, or a small piece of context);
 * - `watch`: report a container's start and end and look inside it (each child is asked in turn); a scalar is handed over;
 * - `skip`: neither build nor report it (it is still read, so a syntax error in it is still found).
 * The path passed in is live: read it, do not keep it.
 */
export type JsonAction = 'capture' | 'watch' | 'skip';
export type JsonPlan = (path: JsonPath) => JsonAction;

export type JsonEvent =
  | { readonly type: 'start'; readonly path: JsonPath; readonly container: 'object' | 'array' }
  | { readonly type: 'end'; readonly path: JsonPath }
  | { readonly type: 'value'; readonly path: JsonPath; readonly value: unknown };

/** One read of a whole document under a plan; called again when a second read is needed. */
export type JsonPass = (plan: JsonPlan) => AsyncIterable<JsonEvent> | Iterable<JsonEvent>;

const OBJECT = 0;
const ARRAY = 1;

const WATCH = 0;
const CAPTURE = 1;
const SKIP = 2;
const ACTIONS: Record<JsonAction, number> = { watch: WATCH, capture: CAPTURE, skip: SKIP };

const EXPECT_VALUE = 0;
const EXPECT_KEY = 1;
const EXPECT_COLON = 2;
const EXPECT_COMMA = 3;
const DONE = 4;

/**
 * No scanner writes a number of more than a few dozen digits, and the tokenizer builds a number one character at a
 * time (about 8 bytes of memory per digit), so a longer one is refused wherever it is, skipped members included.
 */
export const MAX_NUMBER_BYTES = 1024;
/** Scanner exports nest a dozen levels or so; each open level costs memory, so a deeper document is refused. */
export const MAX_JSON_DEPTH = 256;

class JsonSyntaxError extends Error {}
/** A bound of ours, not a syntax error: its message is the whole story. */
class JsonLimitError extends Error {}

/**
 * Turns the tokenizer's tokens into the events a plan asks for, checking the grammar the tokenizer leaves to its
 * caller (what may follow what, and that brackets match). Only captured values are built; everything else is
 * passed over with nothing kept but the open containers' kinds and keys.
 */
class JsonAssembler {
  readonly path: JsonKey[] = [];
  readonly #kinds: number[] = [];
  readonly #actions: number[] = [];
  readonly #built: (Record<string, unknown> | unknown[] | undefined)[] = [];
  readonly #counts: number[] = [];
  readonly #plan: JsonPlan;
  readonly #events: JsonEvent[];
  #state = EXPECT_VALUE;
  /** The plan's answer for the value about to be read, when `upcoming` asked before the value came. */
  #peeked: number | undefined;
  readonly #maxValueBytes: number;
  /** Where the captured container being built began (-1: none), and how deep it is. */
  #captureFrom = -1;
  #captureDepth = 0;

  constructor(plan: JsonPlan, events: JsonEvent[], maxValueBytes: number) {
    this.#plan = plan;
    this.#events = events;
    this.#maxValueBytes = maxValueBytes;
  }

  token(token: TokenType, value: unknown, offset: number): void {
    // A captured item (or piece of context) is built whole, so it is a value like a string: bounded by the bytes it spans.
    if (this.#captureFrom >= 0 && offset - this.#captureFrom > this.#maxValueBytes) {
      throw new JsonLimitError(
        `${messagePath(this.path.slice(0, this.#captureDepth))}: a value longer than ${this.#maxValueBytes} bytes (maxValueBytes); raise maxValueBytes or fix the export`,
      );
    }
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        if (this.#state !== EXPECT_VALUE) this.#unexpected(token, value, offset);
        this.#open(token === TokenType.LEFT_BRACE ? OBJECT : ARRAY, offset);
        return;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET: {
        const depth = this.#kinds.length - 1;
        const kind = token === TokenType.RIGHT_BRACE ? OBJECT : ARRAY;
        const empty = this.#counts[depth] === 0 && this.#state === (kind === OBJECT ? EXPECT_KEY : EXPECT_VALUE);
        if (this.#kinds[depth] !== kind || !(this.#state === EXPECT_COMMA || empty)) this.#unexpected(token, value, offset);
        this.#close();
        return;
      }
      case TokenType.COLON:
        if (this.#state !== EXPECT_COLON) this.#unexpected(token, value, offset);
        this.#state = EXPECT_VALUE;
        return;
      case TokenType.COMMA:
        if (this.#state !== EXPECT_COMMA) this.#unexpected(token, value, offset);
        this.#state = this.#kinds[this.#kinds.length - 1] === OBJECT ? EXPECT_KEY : EXPECT_VALUE;
        return;
      case TokenType.STRING:
        if (this.#state === EXPECT_KEY) {
          const depth = this.#kinds.length - 1;
          this.path[depth] = value as string;
          this.#counts[depth]! += 1;
          this.#state = EXPECT_COLON;
          return;
        }
        if (this.#state !== EXPECT_VALUE) this.#unexpected(token, value, offset);
        this.#scalar(value);
        return;
      case TokenType.NUMBER:
      case TokenType.TRUE:
      case TokenType.FALSE:
      case TokenType.NULL:
        if (this.#state !== EXPECT_VALUE) this.#unexpected(token, value, offset);
        this.#scalar(value);
        return;
      default:
        this.#unexpected(token, value, offset);
    }
  }

  /** Throws unless exactly one complete value was read; `cutShort` when the input stopped inside a token. */
  finish(cutShort = false): void {
    if (this.#state === DONE && !cutShort) return;
    if (this.#kinds.length === 0 && !cutShort) throw new JsonSyntaxError('the file holds no JSON value');
    throw new JsonSyntaxError(`it ends inside ${this.where()}: the file is truncated or still being written`);
  }

  /** Where the reader is, for messages. */
  where(): string {
    return this.#kinds.length === 0 ? 'the top level' : messagePath(this.path);
  }

  /**
   * What the value or member name about to be read is, before the tokenizer hands it over: whether the plan skips it
   * (a string that may then be passed over unread) and, for messages, where it is.
   */
  upcoming(): { skipped: boolean; where: string } {
    const depth = this.#kinds.length - 1;
    if (this.#state === EXPECT_KEY)
      return { skipped: false, where: `a member name in ${depth === 0 ? 'the top-level object' : messagePath(this.path.slice(0, depth))}` };
    if (this.#state !== EXPECT_VALUE) return { skipped: false, where: this.where() };
    const path = this.path.slice(0, depth + 1);
    if (depth >= 0 && this.#kinds[depth] === ARRAY) path[depth] = this.#counts[depth]!;
    const parent = depth < 0 ? WATCH : this.#actions[depth]!;
    // The plan is asked once per value: #begin takes this answer when the value comes.
    if (parent === WATCH) this.#peeked ??= ACTIONS[this.#plan(path)];
    const action = parent === WATCH ? this.#peeked! : parent;
    return { skipped: action === SKIP, where: depth < 0 ? 'the top level' : messagePath(path) };
  }

  /** The action for the value starting at the current position, after moving an array's index on. */
  #begin(): number {
    const depth = this.#kinds.length - 1;
    if (depth >= 0 && this.#kinds[depth] === ARRAY) this.path[depth] = this.#counts[depth]!++;
    if (depth >= 0 && this.#actions[depth] !== WATCH) return this.#actions[depth]!;
    const peeked = this.#peeked;
    this.#peeked = undefined;
    return peeked ?? ACTIONS[this.#plan(this.path)];
  }

  /** Whether the value at the current position belongs to a captured container being built. */
  #inCapture(): boolean {
    const depth = this.#kinds.length - 1;
    return depth >= 0 && this.#actions[depth] === CAPTURE;
  }

  #attach(value: unknown): void {
    const depth = this.#kinds.length - 1;
    const parent = this.#built[depth]!;
    if (Array.isArray(parent)) parent.push(value);
    else setMember(parent, this.path[depth] as string, value);
  }

  #scalar(value: unknown): void {
    const inner = this.#inCapture();
    const action = this.#begin();
    if (inner) this.#attach(value);
    else if (action !== SKIP) this.#events.push({ type: 'value', path: this.path.slice(), value });
    this.#state = this.#kinds.length === 0 ? DONE : EXPECT_COMMA;
  }

  #open(kind: number, offset: number): void {
    if (this.#kinds.length >= MAX_JSON_DEPTH) throw new JsonLimitError(`${this.where()}: nested more than ${MAX_JSON_DEPTH} levels deep`);
    const inner = this.#inCapture();
    const action = this.#begin();
    let built: Record<string, unknown> | unknown[] | undefined;
    if (action === CAPTURE) {
      built = kind === OBJECT ? {} : [];
      if (inner) this.#attach(built);
      else {
        this.#captureFrom = offset;
        this.#captureDepth = this.#kinds.length;
      }
    } else if (action === WATCH) {
      this.#events.push({ type: 'start', path: this.path.slice(), container: kind === OBJECT ? 'object' : 'array' });
    }
    this.#kinds.push(kind);
    this.#actions.push(action);
    this.#built.push(built);
    this.#counts.push(0);
    this.path.push(kind === OBJECT ? '' : 0);
    this.#state = kind === OBJECT ? EXPECT_KEY : EXPECT_VALUE;
  }

  #close(): void {
    this.#kinds.pop();
    const action = this.#actions.pop();
    const built = this.#built.pop();
    this.#counts.pop();
    this.path.pop();
    if (action === CAPTURE && !this.#inCapture()) {
      this.#captureFrom = -1;
      this.#events.push({ type: 'value', path: this.path.slice(), value: built });
    } else if (action === WATCH) this.#events.push({ type: 'end', path: this.path.slice() });
    this.#state = this.#kinds.length === 0 ? DONE : EXPECT_COMMA;
  }

  #unexpected(token: TokenType, value: unknown, offset: number): never {
    if (this.#state === DONE) throw new JsonSyntaxError(`more data at byte ${offset} after the end of the JSON value`);
    // Errors say what was found, never what it says: a string's text may be anything, a secret included.
    const what = token === TokenType.STRING ? `string of ${String(value).length} characters` : JSON.stringify(value).slice(0, 40);
    throw new JsonSyntaxError(`unexpected ${what} at byte ${offset} in ${this.where()}`);
  }
}

/** A path for a message: member names are the file's text, so a long one is cut short. */
function messagePath(path: JsonPath): string {
  return formatPath(path.map((key) => (typeof key === 'string' && key.length > 60 ? `${key.slice(0, 60)}…` : key)));
}

/** A JSON member set as JSON.parse sets it: a "__proto__" key is an own property, never the prototype. */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

const TOKENIZER_UNEXPECTED = /^Unexpected "([\s\S])" at chunk position "\d+" \(absolute position "(\d+)"\)/;

/** `passedOver`: bytes of skipped strings the tokenizer never saw, so its positions are that much short. */
function failure(error: unknown, origin: string, assembler: JsonAssembler, passedOver: number): Error {
  if (error instanceof MalformedResponseError) return error;
  const fail = (detail: string) => new MalformedResponseError(`scanner-files: ${origin}: ${detail}`, { cause: error });
  if ((error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return fail('is not valid UTF-8');
  if (error instanceof JsonLimitError) return fail(error.message);
  if (error instanceof JsonSyntaxError) return fail(`not valid JSON: ${error.message}`);
  if (error instanceof TokenizerError) {
    const unexpected = TOKENIZER_UNEXPECTED.exec(error.message);
    if (unexpected === null) return fail(`not valid JSON: ${error.message}`);
    const code = unexpected[1]!.charCodeAt(0);
    const shown = code < 0x20 || code > 0x7e ? `byte 0x${code.toString(16).padStart(2, '0').toUpperCase()}` : JSON.stringify(unexpected[1]);
    return fail(`not valid JSON: unexpected ${shown} at byte ${Number(unexpected[2]) + passedOver} in ${assembler.where()}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSING_QUOTE = new Uint8Array([QUOTE]);
/** The bytes a JSON number is written with (digits, sign, point, exponent). */
const NUMBER_BYTE = new Uint8Array(256);
for (const character of '0123456789+-.eE') NUMBER_BYTE[character.charCodeAt(0)] = 1;

const BETWEEN = 0;
/** In a string the plan keeps (or a member name), which straddles chunks: its bytes go to the tokenizer, counted. */
const KEPT_STRING = 1;
/** In a string the plan skips, which straddles chunks or is over the limit: its bytes are passed over unread. */
const SKIPPED_STRING = 2;

/**
 * Hands a document's bytes to the tokenizer while bounding what it builds. @streamparser/json accumulates a string
 * (and a number) whole before it hands it over, with no way to stop it, so the bytes are watched before it sees them:
 * a string that closes within its chunk and within the limit goes through as it is; any other is looked at once the
 * tokenizer has read up to its opening quote. A string the plan skips is then passed over (nothing of it is built,
 * only its end is looked for, so a skipped string is not checked for UTF-8); one that is kept may be at most
 * `maxValueBytes` long, and past that the document is refused naming where. Numbers are bounded the same way.
 */
class BoundedFeed {
  /** Bytes of skipped strings not handed to the tokenizer. */
  passedOver = 0;
  readonly #tokenizer: Tokenizer;
  readonly #assembler: JsonAssembler;
  readonly #maxValueBytes: number;
  #mode = BETWEEN;
  /** The previous byte of the open string was an escaping backslash. */
  #escaped = false;
  /** Bytes of the open string so far (KEPT_STRING, SKIPPED_STRING). */
  #stringBytes = 0;
  #where = '';
  #numberBytes = 0;
  readonly #encoder = new TextEncoder();
  #heldSurrogate = '';

  constructor(tokenizer: Tokenizer, assembler: JsonAssembler, maxValueBytes: number) {
    this.#tokenizer = tokenizer;
    this.#assembler = assembler;
    this.#maxValueBytes = maxValueBytes;
  }

  write(input: string | Uint8Array): void {
    this.#bytes(typeof input === 'string' ? this.#encode(input) : input);
  }

  /** Hands over what was held back at the end of a text chunk. */
  end(): void {
    if (this.#heldSurrogate !== '') this.#bytes(this.#encoder.encode(this.#heldSurrogate));
    this.#heldSurrogate = '';
  }

  /** Text chunks as UTF-8; a high surrogate at the end waits for its other half, as the tokenizer itself does. */
  #encode(text: string): Uint8Array {
    let whole = this.#heldSurrogate + text;
    this.#heldSurrogate = '';
    const last = whole.charCodeAt(whole.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.#heldSurrogate = whole.slice(-1);
      whole = whole.slice(0, -1);
    }
    return this.#encoder.encode(whole);
  }

  #bytes(chunk: Uint8Array): void {
    const length = chunk.length;
    const limit = this.#maxValueBytes;
    /** The first byte neither handed to the tokenizer nor passed over. */
    let from = 0;
    let i = 0;
    while (i < length) {
      if (this.#mode !== BETWEEN) {
        const end = this.#closingQuote(chunk, i);
        const stop = end < 0 ? length : end;
        this.#stringBytes += stop - from;
        if (this.#mode === SKIPPED_STRING) {
          this.passedOver += stop - from;
          from = i = stop;
          if (end < 0) continue;
          // The tokenizer read the opening quote; the closing one ends an empty string it hands over, and the plan skips it.
          this.#tokenizer.write(CLOSING_QUOTE);
          from = i = end + 1;
        } else {
          if (this.#stringBytes > limit) throw this.#tooLong();
          if (end < 0) {
            i = length;
            continue;
          }
          i = end + 1;
        }
        this.#mode = BETWEEN;
        continue;
      }
      for (; i < length; i++) {
        const byte = chunk[i]!;
        if (byte === QUOTE) break;
        if (NUMBER_BYTE[byte] === 0) this.#numberBytes = 0;
        else if (++this.#numberBytes > MAX_NUMBER_BYTES) {
          this.#tokenizer.write(chunk.subarray(from, i));
          throw new JsonLimitError(`${this.#assembler.upcoming().where}: a number longer than ${MAX_NUMBER_BYTES} characters`);
        }
      }
      if (i === length) break;
      this.#numberBytes = 0;
      const opening = i;
      const within = Math.min(length, opening + 2 + limit);
      let escaped = false;
      for (i = opening + 1; i < within; i++) {
        const byte = chunk[i]!;
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) break;
      }
      if (i < within && i - opening - 1 <= limit) {
        i += 1;
        continue;
      }
      // The string goes on past this chunk or past the limit: what it is decides what happens to its bytes.
      this.#tokenizer.write(chunk.subarray(from, opening + 1));
      from = i = opening + 1;
      const upcoming = this.#assembler.upcoming();
      this.#mode = upcoming.skipped ? SKIPPED_STRING : KEPT_STRING;
      this.#where = upcoming.where;
      this.#escaped = false;
      this.#stringBytes = 0;
    }
    if (from < length) this.#tokenizer.write(from === 0 ? chunk : chunk.subarray(from));
  }

  /**
   * The index of the quote that closes the open string, searched from `from` (natively: a skipped string may be
   * hundreds of MB), or -1 when the chunk ends first; then whether its last byte escapes the next chunk's first.
   */
  #closingQuote(chunk: Uint8Array, from: number): number {
    // An escape carried over from the previous chunk counts as one more backslash before `from`.
    const backslashesBefore = (at: number) => {
      let k = at - 1;
      while (k >= from && chunk[k] === BACKSLASH) k--;
      return at - 1 - k + (k < from && this.#escaped ? 1 : 0);
    };
    for (let at = from; ;) {
      const quote = chunk.indexOf(QUOTE, at);
      if (quote < 0) {
        this.#escaped = backslashesBefore(chunk.length) % 2 === 1;
        return -1;
      }
      if (backslashesBefore(quote) % 2 === 0) {
        this.#escaped = false;
        return quote;
      }
      at = quote + 1;
    }
  }

  #tooLong(): JsonLimitError {
    return new JsonLimitError(`${this.#where}: a string longer than ${this.#maxValueBytes} bytes (maxValueBytes); raise maxValueBytes or fix the export`);
  }
}

export interface JsonStreamOptions {
  /** The input may stop anywhere (the head of a file): what was read is reported and nothing is said of the rest. */
  readonly partial?: boolean;
  /** The most bytes a string the plan keeps may span in the file (DEFAULT_MAX_VALUE_BYTES when not given). */
  readonly maxValueBytes?: number;
}

/**
 * Streams a JSON document through @streamparser/json's tokenizer and yields the events the plan asks for, after
 * each chunk: memory holds one chunk, the values being captured (each string at most `maxValueBytes`) and the keys of
 * the open containers, however large the file; skipped strings are passed over unbuilt, whatever their length (see
 * BoundedFeed). Strings come out of the tokenizer as copies, so nothing kept refers to a chunk.
 */
export async function* streamJson(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  origin: string,
  plan: JsonPlan,
  options: JsonStreamOptions = {},
): AsyncGenerator<JsonEvent> {
  const events: JsonEvent[] = [];
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const assembler = new JsonAssembler(plan, events, maxValueBytes);
  const tokenizer = new Tokenizer();
  const feed = new BoundedFeed(tokenizer, assembler, maxValueBytes);
  tokenizer.onToken = ({ token, value, offset }) => assembler.token(token, value, offset + feed.passedOver);
  const run = (step: () => void) => {
    try {
      step();
    } catch (error) {
      throw failure(error, origin, assembler, feed.passedOver);
    }
  };
  for await (const chunk of chunks) {
    run(() => feed.write(chunk));
    for (const event of events) yield event;
    events.length = 0;
  }
  if (options.partial) return;
  run(() => {
    feed.end();
    try {
      tokenizer.end();
    } catch (error) {
      // The tokenizer stopped inside a token (a string or literal cut short): the document is cut short.
      if (error instanceof TokenizerError) assembler.finish(true);
      throw error;
    }
    assembler.finish();
  });
  for (const event of events) yield event;
}

/** The events a plan asks for, from a document already parsed: what `streamJson` yields for its text. */
export function* jsonEvents(document: unknown, plan: JsonPlan): Generator<JsonEvent> {
  const path: JsonKey[] = [];
  function* visit(value: unknown): Generator<JsonEvent> {
    const action = plan(path);
    if (action === 'skip') return;
    const container = Array.isArray(value) ? 'array' : typeof value === 'object' && value !== null ? 'object' : undefined;
    if (action === 'capture' || container === undefined) {
      yield { type: 'value', path: path.slice(), value };
      return;
    }
    yield { type: 'start', path: path.slice(), container };
    const members: Iterable<[JsonKey, unknown]> = container === 'array' ? (value as unknown[]).entries() : Object.entries(value as object);
    for (const [key, member] of members) {
      path.push(key);
      yield* visit(member);
      path.pop();
    }
    yield { type: 'end', path: path.slice() };
  }
  yield* visit(document);
}

/**
 * The context of a document: its watched containers and the values captured in them, without the items. It also
 * knows what is settled: a member is settled once it has been read, or once its container has closed without it.
 */
export class JsonSkeleton {
  root: unknown = undefined;
  readonly #closed = new WeakSet<object>();

  add(event: JsonEvent): void {
    if (event.type === 'end') {
      const container = this.at(event.path);
      if (typeof container === 'object' && container !== null) this.#closed.add(container);
      return;
    }
    const value = event.type === 'start' ? (event.container === 'array' ? [] : {}) : event.value;
    if (event.path.length === 0) {
      this.root = value;
      return;
    }
    const parent = this.at(event.path.slice(0, -1));
    if (typeof parent === 'object' && parent !== null) setMember(parent as Record<string, unknown>, String(event.path.at(-1)), value);
  }

  /** The value at `path`, or undefined. */
  at(path: JsonPath): unknown {
    let value = this.root;
    for (const key of path) {
      if (typeof value !== 'object' || value === null) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  }

  /** Whether the value at `path` is known: read, or known to be absent (or unreachable) because a container closed without it. */
  settled(path: JsonPath): boolean {
    let value = this.root;
    if (value === undefined) return false;
    for (const key of path) {
      if (typeof value !== 'object' || value === null) return true;
      if (!Object.hasOwn(value, key)) return this.#closed.has(value);
      value = (value as Record<string, unknown>)[key];
    }
    return true;
  }
}

/**
 * How one format reads a document: which values are its items (findings, results, matches) and which its context,
 * when an item can be mapped, and the mapper itself.
 */
export interface JsonReading<R> {
  readonly plan: JsonPlan;
  isItem(path: JsonPath): boolean;
  /**
   * Whether the context the item at `path` is mapped with is settled: true; false when what is missing may come
   * anywhere later in the document (the context is then read first, in a pass of its own); or the path of the
   * container whose end settles it (the items are held until then).
   */
  ready(context: JsonSkeleton, path: JsonPath): boolean | JsonPath;
  /** A mapper for one pass over the document, reading `context` as it fills. */
  start(context: JsonSkeleton): JsonMapper<R>;
}

export interface JsonMapper<R> {
  /** Maps one item; undefined when it is not a record (a passed check). */
  item(path: JsonPath, value: unknown): R | undefined;
  /** Every event that is not an item, after the context has taken it in. */
  context(event: JsonEvent): void;
  /** What remains once the document has been read (the scans). */
  finish(): Iterable<R>;
}

const samePath = (a: JsonPath, b: JsonPath) => a.length === b.length && a.every((key, index) => key === b[index]);

/**
 * Reads a document in one pass when its context comes before its items, as most exports write it. When an item
 * comes before context it needs that may still come anywhere later (Grype's `source` after its `matches`, a SARIF
 * run's `tool` after its `results`), the pass stops there and the document is read twice: once keeping only the
 * context (items are tokenized, not built), then again for the items. Records already yielded are not yielded again.
 * `known`, when given, is the whole document's context, read beforehand.
 */
export async function* readJson<R>(reading: JsonReading<R>, pass: JsonPass, known?: JsonSkeleton): AsyncGenerator<R> {
  let context = known;
  let yielded = 0;
  for (;;) {
    const skeleton = context ?? new JsonSkeleton();
    const mapper = reading.start(skeleton);
    const held: { path: JsonPath; value: unknown }[] = [];
    let heldUntil: JsonPath | undefined;
    let mapped = 0;
    let settledLater = false;
    const map = (path: JsonPath, value: unknown): R | undefined => {
      const record = mapper.item(path, value);
      mapped += 1;
      if (mapped <= yielded) return undefined;
      yielded = mapped;
      return record;
    };
    for await (const event of pass(reading.plan)) {
      if (event.type === 'value' && reading.isItem(event.path)) {
        if (heldUntil !== undefined) {
          held.push(event);
          continue;
        }
        const ready = context !== undefined || reading.ready(skeleton, event.path);
        if (ready === false) {
          settledLater = true;
          break;
        }
        if (ready !== true) {
          heldUntil = ready;
          held.push(event);
          continue;
        }
        const record = map(event.path, event.value);
        if (record !== undefined) yield record;
        continue;
      }
      if (context === undefined) skeleton.add(event);
      if (event.type === 'end' && heldUntil !== undefined && samePath(event.path, heldUntil)) {
        heldUntil = undefined;
        for (const item of held.splice(0)) {
          const record = map(item.path, item.value);
          if (record !== undefined) yield record;
        }
      }
      mapper.context(event);
    }
    if (!settledLater) {
      yield* mapper.finish();
      return;
    }
    context = new JsonSkeleton();
    const contextPlan: JsonPlan = (path) => (reading.isItem(path) ? 'skip' : reading.plan(path));
    for await (const event of pass(contextPlan)) context.add(event);
  }
}
