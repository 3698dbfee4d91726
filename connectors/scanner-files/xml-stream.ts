import { SaxesParser } from 'saxes';
import { ConnectorError, MalformedResponseError } from '../errors.ts';
import { DEFAULT_MAX_VALUE_BYTES } from './limits.ts';

/** One element of an item the caller asked for, with its whole subtree: the only part of a file held in memory. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text and CDATA, entities decoded; text of children is on the children. */
  text: string;
}

export type XmlEvent =
  | { readonly type: 'start'; readonly path: readonly string[]; readonly attributes: Readonly<Record<string, string>> }
  | { readonly type: 'end'; readonly path: readonly string[] }
  | { readonly type: 'element'; readonly path: readonly string[]; readonly element: XmlElement };

/**
 * What a reader wants from a document, by element path from the root (the root's own start and end are always
 * reported). The path passed in is live: read it, do not keep it.
 */
export interface XmlPlan {
  /** Elements to hand over whole, once closed. Nothing inside them is offered to `watch` or `capture`. */
  capture(path: readonly string[]): boolean;
  /** Elements whose start (with attributes) and end are wanted, without their content. */
  watch(path: readonly string[]): boolean;
  /**
   * Of a captured element or one inside it, whether its own text is wanted (without this, all of it is). Text that is
   * not wanted is never built: a Nessus plugin_output of hundreds of MB costs nothing.
   */
  keepText?(path: readonly string[]): boolean;
}

export interface XmlStreamOptions {
  /**
   * The most characters one value saxes builds may have: a text kept, an attribute value, a comment, a CDATA section,
   * a processing instruction, a name (DEFAULT_MAX_VALUE_BYTES when not given; a character is at least one byte).
   */
  readonly maxValueBytes?: number;
  /** Degraded input the auditor should know about: bytes that are not UTF-8, read as U+FFFD. */
  readonly warn?: (message: string) => void;
}

/** Decoded text is handed to saxes in pieces of at most this many characters, and its buffers are checked after each. */
const PIECE = 64 * 1024;
/** Scanner exports nest a handful of levels; every open element costs memory, so a deeper document is refused. */
export const MAX_XML_DEPTH = 256;
/** An element of a scanner export has a dozen attributes at most; saxes keeps them all until the tag closes. */
export const MAX_XML_ATTRIBUTES = 1000;
/** A Nessus item has a few dozen elements, an OpenVAS result a few hundred (its NVT's refs); each costs an object. */
export const MAX_XML_ITEM_ELEMENTS = 100_000;

/**
 * What saxes 6 accumulates before it hands anything over, read after each piece: the one way to stop a huge value
 * (or a DTD) before it is whole, since saxes has no limits of its own. `state` numbers are saxes 6's: S_DOCTYPE (2)
 * to S_DTD_PI_ENDING (12) cover `<!DOCTYPE` up to the end of its internal subset. The tests of hostile files fail if
 * an upgrade changes them.
 */
interface SaxesBuffers {
  readonly state: number;
  readonly text: string;
  readonly name: string;
  readonly entity: string;
  readonly piTarget: string;
}
const SAXES_DOCTYPE_STATES = { first: 2, last: 12 };

/**
 * Streams an XML document through saxes and yields the elements the plan asks for as they close. Input is taken in
 * chunks and events are handed over after each piece, so memory holds one chunk and the items it completed, however
 * large the file: text is built only inside captured elements (and only where the plan keeps it), and every other
 * value saxes builds is refused past `maxValueBytes` characters, naming the element it is in. Scanner XML is
 * untrusted: a DOCTYPE is refused as soon as it starts, which stops external entities (XXE) and entity expansion
 * (billion laughs) before they are looked at, and a huge DTD before it is read; saxes itself never expands custom
 * entities. Bytes that are not UTF-8 are read as U+FFFD (one stray byte in a plugin's output should not cost the
 * whole scan), and `warn` says so once, with how many and where the first was.
 */
export async function* streamXml(
  chunks: AsyncIterable<string | Uint8Array>,
  origin: string,
  plan: XmlPlan,
  options: XmlStreamOptions = {},
): AsyncGenerator<XmlEvent> {
  const fail = (detail: string, cause?: unknown) =>
    new MalformedResponseError(`scanner-files: ${origin}: ${detail}`, cause === undefined ? undefined : { cause });
  const maxValue = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const parser = new SaxesParser({ xmlns: false, position: true });
  const buffers = parser as unknown as SaxesBuffers;
  const path: string[] = [];
  const building: XmlElement[] = [];
  /** Whether the text of each element being built is kept, innermost last. */
  const textKept: boolean[] = [];
  const ready: XmlEvent[] = [];
  let sawRoot = false;
  let attributes = 0;
  /**
   * A captured element is built whole, so it is a value like a text: what it holds (names, attribute values, the text
   * kept) may be at most maxValueBytes characters, in at most MAX_XML_ITEM_ELEMENTS elements. Text not kept is not
   * counted: it is never built.
   */
  let captureDepth = 0;
  let captured = 0;
  let capturedElements = 0;
  const holding = (chars: number) => {
    captured += chars;
    if (captured > maxValue)
      throw fail(
        `the element <${namesOf(path.slice(0, captureDepth))}> holds more than ${maxValue} characters (maxValueBytes); raise maxValueBytes or fix the export`,
      );
  };
  const holdingElement = (tag: { name: string; attributes: Readonly<Record<string, string>> }) => {
    if (++capturedElements > MAX_XML_ITEM_ELEMENTS)
      throw fail(`the element <${namesOf(path.slice(0, captureDepth))}> holds more than ${MAX_XML_ITEM_ELEMENTS} elements`);
    let chars = tag.name.length;
    for (const name in tag.attributes) chars += name.length + tag.attributes[name]!.length;
    holding(chars);
  };
  const where = () => (path.length === 0 ? 'the prolog' : `<${namesOf(path)}>`);
  const tooLong = (what: string) => fail(`${what} in ${where()} is longer than ${maxValue} characters (maxValueBytes); raise maxValueBytes or fix the export`);

  const refuseDtd = () => fail('DTDs are refused (possible XXE or entity expansion)');
  parser.on('doctype', () => {
    throw refuseDtd();
  });
  const onText = (text: string) => {
    const open = building.at(-1);
    if (open === undefined || textKept.at(-1) !== true) return;
    holding(text.length);
    open.text += text;
  };
  let textListened = false;
  // saxes builds text only while someone listens, so it listens only where the text is kept.
  const listenForText = (listen: boolean) => {
    if (listen === textListened) return;
    textListened = listen;
    if (listen) parser.on('text', onText);
    else parser.off('text');
  };
  parser.on('cdata', onText);
  parser.on('attribute', () => {
    if (++attributes > MAX_XML_ATTRIBUTES) throw fail(`a start tag in ${where()} has more than ${MAX_XML_ATTRIBUTES} attributes`);
  });
  parser.on('opentag', (tag) => {
    attributes = 0;
    path.push(tag.name);
    if (path.length > MAX_XML_DEPTH) throw fail(`elements nest more than ${MAX_XML_DEPTH} levels deep at <${namesOf(path.slice(0, 8))}/...>`);
    const parent = building.at(-1);
    if (parent) {
      holdingElement(tag);
      const element: XmlElement = { name: tag.name, attributes: tag.attributes, children: [], text: '' };
      parent.children.push(element);
      building.push(element);
      textKept.push(plan.keepText?.(path) ?? true);
    } else if (path.length === 1) {
      sawRoot = true;
      // The root and watched elements stay open across many chunks; their names must not pin the chunk they came in.
      path[0] = detached(tag.name);
      ready.push({ type: 'start', path: [...path], attributes: tag.attributes });
    } else if (plan.capture(path)) {
      captureDepth = path.length;
      captured = 0;
      capturedElements = 0;
      holdingElement(tag);
      building.push({ name: tag.name, attributes: tag.attributes, children: [], text: '' });
      textKept.push(plan.keepText?.(path) ?? true);
    } else if (plan.watch(path)) {
      path[path.length - 1] = detached(tag.name);
      ready.push({ type: 'start', path: [...path], attributes: tag.attributes });
    }
    listenForText(textKept.at(-1) === true);
  });
  parser.on('closetag', () => {
    if (building.length > 0) {
      const element = building.pop()!;
      textKept.pop();
      if (building.length === 0) ready.push({ type: 'element', path: [...path], element });
    } else if (path.length === 1 || plan.watch(path)) {
      ready.push({ type: 'end', path: [...path] });
    }
    path.pop();
    listenForText(textKept.at(-1) === true);
  });

  const write = (text: string | null) => {
    try {
      parser.write(text);
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      // saxes's messages quote names from the file: a hostile one is cut short.
      const message = error instanceof Error ? error.message : String(error);
      throw fail(`XML is not well-formed at ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`, error);
    }
  };
  /** What saxes holds after a piece: a DTD being read, or a value grown past the limit, stops the file here. */
  const checkBuffers = () => {
    if (!sawRoot && buffers.state >= SAXES_DOCTYPE_STATES.first && buffers.state <= SAXES_DOCTYPE_STATES.last) throw refuseDtd();
    if (buffers.text.length > maxValue) throw tooLong('a text, attribute value, comment, CDATA section or processing instruction');
    if (buffers.name.length > maxValue || buffers.entity.length > maxValue || buffers.piTarget.length > maxValue) throw tooLong('a name');
  };

  const decoder = new TextDecoder('utf-8');
  const undecodable = new UndecodableBytes();
  const feed = function* (text: string): Generator<XmlEvent> {
    for (let at = 0; at < text.length; at += PIECE) {
      write(text.length <= PIECE ? text : text.slice(at, at + PIECE));
      checkBuffers();
      yield* ready.splice(0);
    }
  };
  for await (const chunk of chunks) {
    if (typeof chunk === 'string') yield* feed(chunk);
    else {
      const text = decoder.decode(chunk, { stream: true });
      undecodable.see(chunk, text);
      yield* feed(text);
    }
  }
  const tail = decoder.decode();
  undecodable.see(new Uint8Array(0), tail);
  if (tail !== '') yield* feed(tail);
  if (undecodable.count > 0) {
    options.warn?.(
      `scanner-files: ${origin}: is not valid UTF-8: ${undecodable.count} byte sequence(s) were read as U+FFFD, the first between bytes ${undecodable.firstBetween!.join(' and ')}; names holding one are flagged`,
    );
  }
  if (!sawRoot) throw fail('no XML root element (empty or not XML)');
  if (path.length > 0) {
    throw fail(`XML ends inside <${namesOf(path)}> at line ${parser.line}: the file is truncated or still being written`);
  }
  write(null);
  for (const event of ready.splice(0)) yield event;
}

/** Element names for a message: they are the file's text, so a long one is cut short. */
function namesOf(path: readonly string[]): string {
  return path.map((name) => (name.length > 60 ? `${name.slice(0, 60)}…` : name)).join('/');
}

const REPLACEMENT = '\uFFFD';
const SPELLED_REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

/**
 * Counts the U+FFFD a non-fatal decoder put in for bytes that are not UTF-8: those in the text it decoded, less those
 * the bytes spell out themselves (EF BF BD, a character like any other). A sequence cut by a chunk's end is decoded
 * with the next chunk, so the counts are kept over the whole file, and the last two bytes of each chunk are looked at
 * again with the next.
 */
class UndecodableBytes {
  count = 0;
  /** The byte range of the chunk in which the first undecodable sequence was found. */
  firstBetween: [number, number] | undefined;
  #decoded = 0;
  #spelled = 0;
  #tail = new Uint8Array(0);
  #bytes = 0;

  see(bytes: Uint8Array, text: string): void {
    if (text.includes(REPLACEMENT)) {
      for (let at = text.indexOf(REPLACEMENT); at >= 0; at = text.indexOf(REPLACEMENT, at + 1)) this.#decoded += 1;
      const around = Buffer.concat([this.#tail, bytes]);
      for (let at = around.indexOf(SPELLED_REPLACEMENT); at >= 0; at = around.indexOf(SPELLED_REPLACEMENT, at + 1)) this.#spelled += 1;
      this.count = this.#decoded - this.#spelled;
      this.firstBetween ??= this.count > 0 ? [Math.max(0, this.#bytes - 3), this.#bytes + bytes.length] : undefined;
    }
    // A copy: a view would keep the whole chunk alive.
    if (bytes.length > 0) this.#tail = Uint8Array.from(bytes.subarray(-2));
    this.#bytes += bytes.length;
  }
}

/**
 * A copy of `text` that shares no memory with the chunk it was cut from. Each chunk is decoded into one string, and
 * V8 keeps a substring of 13 or more characters as a slice that refers to its whole parent: a host name kept until
 * the end of the file would keep its whole chunk alive with it (a 1 GB Nessus export read in 1 MiB chunks peaked at 1.2 GB of RSS),
 * so every string kept beyond the current item goes through this. A JSON round trip is exact and cannot share memory
 * with its input: 0.2 µs for 13-60 characters, against 0.5 µs for a Buffer round trip (which also turns lone
 * surrogates into U+FFFD); `(' ' + text).slice(1)` took 0.1 µs, but copies only because V8 happens to flatten first.
 */
export function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** The first child element named `name`. */
export function childOf(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((child) => child.name === name);
}

/** The text of the first child named `name`, or undefined when there is no such child. */
export function childText(element: XmlElement | undefined, name: string): string | undefined {
  return childOf(element, name)?.text;
}
