import { Tokenizer, TokenizerError, TokenType } from '@streamparser/json';
import { formatPath, MalformedResponseError } from '../errors.ts';

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

class JsonSyntaxError extends Error {}

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

  constructor(plan: JsonPlan, events: JsonEvent[]) {
    this.#plan = plan;
    this.#events = events;
  }

  token(token: TokenType, value: unknown, offset: number): void {
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        if (this.#state !== EXPECT_VALUE) this.#unexpected(token, value, offset);
        this.#open(token === TokenType.LEFT_BRACE ? OBJECT : ARRAY);
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
    return this.#kinds.length === 0 ? 'the top level' : formatPath(this.path);
  }

  /** The action for the value starting at the current position, after moving an array's index on. */
  #begin(): number {
    const depth = this.#kinds.length - 1;
    if (depth < 0) return ACTIONS[this.#plan(this.path)];
    if (this.#kinds[depth] === ARRAY) this.path[depth] = this.#counts[depth]!++;
    const parent = this.#actions[depth]!;
    return parent === WATCH ? ACTIONS[this.#plan(this.path)] : parent;
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

  #open(kind: number): void {
    const inner = this.#inCapture();
    const action = this.#begin();
    let built: Record<string, unknown> | unknown[] | undefined;
    if (action === CAPTURE) {
      built = kind === OBJECT ? {} : [];
      if (inner) this.#attach(built);
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
    if (action === CAPTURE && !this.#inCapture()) this.#events.push({ type: 'value', path: this.path.slice(), value: built });
    else if (action === WATCH) this.#events.push({ type: 'end', path: this.path.slice() });
    this.#state = this.#kinds.length === 0 ? DONE : EXPECT_COMMA;
  }

  #unexpected(token: TokenType, value: unknown, offset: number): never {
    if (this.#state === DONE) throw new JsonSyntaxError(`more data at byte ${offset} after the end of the JSON value`);
    const what = token === TokenType.STRING ? `string ${JSON.stringify(String(value).slice(0, 40))}` : JSON.stringify(value);
    throw new JsonSyntaxError(`unexpected ${what} at byte ${offset} in ${this.where()}`);
  }
}

/** A JSON member set as JSON.parse sets it: a "__proto__" key is an own property, never the prototype. */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

const TOKENIZER_UNEXPECTED = /^Unexpected "([\s\S])" at chunk position "\d+" \(absolute position "(\d+)"\)/;

function failure(error: unknown, origin: string, assembler: JsonAssembler): Error {
  if (error instanceof MalformedResponseError) return error;
  const fail = (detail: string) => new MalformedResponseError(`scanner-files: ${origin}: ${detail}`, { cause: error });
  if ((error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return fail('is not valid UTF-8');
  if (error instanceof JsonSyntaxError) return fail(`not valid JSON: ${error.message}`);
  if (error instanceof TokenizerError) {
    const unexpected = TOKENIZER_UNEXPECTED.exec(error.message);
    if (unexpected === null) return fail(`not valid JSON: ${error.message}`);
    const code = unexpected[1]!.charCodeAt(0);
    const shown = code < 0x20 || code > 0x7e ? `byte 0x${code.toString(16).padStart(2, '0').toUpperCase()}` : JSON.stringify(unexpected[1]);
    return fail(`not valid JSON: unexpected ${shown} at byte ${unexpected[2]} in ${assembler.where()}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Streams a JSON document through @streamparser/json's tokenizer and yields the events the plan asks for, after
 * each chunk: memory holds one chunk, the values being captured and the keys of the open containers, however large
 * the file. Strings come out of the tokenizer as copies, so nothing kept refers to a chunk. With `partial`, the input
 * may stop anywhere (the head of a file): what was read is reported and nothing is said about the missing rest.
 */
export async function* streamJson(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  origin: string,
  plan: JsonPlan,
  options: { partial?: boolean } = {},
): AsyncGenerator<JsonEvent> {
  const events: JsonEvent[] = [];
  const assembler = new JsonAssembler(plan, events);
  const tokenizer = new Tokenizer();
  tokenizer.onToken = ({ token, value, offset }) => assembler.token(token, value, offset);
  const run = (step: () => void) => {
    try {
      step();
    } catch (error) {
      throw failure(error, origin, assembler);
    }
  };
  for await (const chunk of chunks) {
    run(() => tokenizer.write(chunk));
    for (const event of events) yield event;
    events.length = 0;
  }
  if (options.partial) return;
  run(() => {
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
