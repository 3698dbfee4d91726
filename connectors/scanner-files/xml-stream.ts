import { SaxesParser } from 'saxes';
import { ConnectorError, MalformedResponseError } from '../errors.ts';

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
}

/**
 * Streams an XML document through saxes and yields the elements the plan asks for as they close. Input is taken in
 * chunks and events are handed over after each chunk, so memory holds one chunk and the items it completed, however
 * large the file. Scanner XML is untrusted: a DOCTYPE is refused outright, which stops external entities (XXE) and
 * entity expansion (billion laughs) before they are looked at; saxes itself never expands custom entities.
 */
export async function* streamXml(chunks: AsyncIterable<string | Uint8Array>, origin: string, plan: XmlPlan): AsyncGenerator<XmlEvent> {
  const fail = (detail: string, cause?: unknown) => new MalformedResponseError(`scanner-files: ${origin}: ${detail}`, cause === undefined ? undefined : { cause });
  const parser = new SaxesParser({ xmlns: false, position: true });
  const path: string[] = [];
  const building: XmlElement[] = [];
  const ready: XmlEvent[] = [];
  let sawRoot = false;

  parser.on('doctype', () => {
    throw fail('DTDs are refused (possible XXE or entity expansion)');
  });
  parser.on('opentag', (tag) => {
    path.push(tag.name);
    const parent = building.at(-1);
    if (parent) {
      const element: XmlElement = { name: tag.name, attributes: tag.attributes, children: [], text: '' };
      parent.children.push(element);
      building.push(element);
    } else if (path.length === 1) {
      sawRoot = true;
      // The root and watched elements stay open across many chunks; their names must not pin the chunk they came in.
      path[0] = detached(tag.name);
      ready.push({ type: 'start', path: [...path], attributes: tag.attributes });
    } else if (plan.capture(path)) {
      building.push({ name: tag.name, attributes: tag.attributes, children: [], text: '' });
    } else if (plan.watch(path)) {
      path[path.length - 1] = detached(tag.name);
      ready.push({ type: 'start', path: [...path], attributes: tag.attributes });
    }
  });
  const onText = (text: string) => {
    const open = building.at(-1);
    if (open) open.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (building.length > 0) {
      const element = building.pop()!;
      if (building.length === 0) ready.push({ type: 'element', path: [...path], element });
    } else if (path.length === 1 || plan.watch(path)) {
      ready.push({ type: 'end', path: [...path] });
    }
    path.pop();
  });

  const write = (text: string | null) => {
    try {
      parser.write(text);
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      throw fail(`XML is not well-formed at ${error instanceof Error ? error.message : String(error)}`, error);
    }
  };

  // Non-fatal decoding: one stray byte in a plugin's output should not cost the whole scan; the sha256 of the bytes is kept.
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    for (const event of ready.splice(0)) yield event;
  }
  const tail = decoder.decode();
  if (tail !== '') write(tail);
  if (!sawRoot) throw fail('no XML root element (empty or not XML)');
  if (path.length > 0) {
    throw fail(`XML ends inside <${path.join('/')}> at line ${parser.line}: the file is truncated or still being written`);
  }
  write(null);
  for (const event of ready.splice(0)) yield event;
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
