import { SCAN_FORMATS, type ScanFormat } from './formats/index.ts';
import { JsonSkeleton, streamJson, type JsonPass, type JsonPlan } from './json-stream.ts';

/** How many bytes of a file are read to tell JSON from XML and to find the XML root element. */
export const SNIFF_BYTES = 16 * 1024;

export type Container = { readonly kind: 'json' } | { readonly kind: 'xml'; readonly root: string } | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Tells from the first bytes of a file whether it is JSON or XML, and for XML which root element it has. The
 * extension is never consulted: scanners and CI jobs name their outputs freely (.json, .sarif, .xml, .nessus, none).
 * A DOCTYPE is stepped over here only to find the root; the XML reader refuses it. What an unknown file holds is
 * described (encoding, the class of its first character), never quoted: the reason travels into gap reasons, the
 * nonconformity history, logs and webhooks, and a path can name any file (a secret, /etc/passwd, an environment).
 */
export function sniffContainer(head: Uint8Array): Container {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  let at = skipSpace(text, 0);
  if (at >= text.length) return { kind: 'unknown', reason: head.byteLength === 0 ? 'the file is empty' : 'only white space' };
  if (text[at] === '{' || text[at] === '[') return { kind: 'json' };
  if (text[at] !== '<') return { kind: 'unknown', reason: `neither JSON nor XML: ${describeHead(head, text[at]!)}` };

  while (at < text.length) {
    at = skipSpace(text, at);
    if (text.startsWith('<?', at)) at = after(text, '?>', at);
    else if (text.startsWith('<!--', at)) at = after(text, '-->', at);
    else if (text.startsWith('<!DOCTYPE', at)) at = afterDoctype(text, at);
    else break;
  }
  const root = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(at, at + 256));
  if (root?.[1] !== undefined) return { kind: 'xml', root: root[1] };
  return { kind: 'unknown', reason: `no XML root element in the first ${SNIFF_BYTES} bytes` };
}

/** How the bytes are encoded, and what kind of character the content starts with: enough to tell a file apart, nothing of what it says. */
export function describeHead(head: Uint8Array, first: string): string {
  const bom = BYTE_ORDER_MARKS.find(([bytes]) => bytes.every((byte, index) => head[index] === byte));
  if (bom !== undefined) return `${bom[1]} text (byte order mark); exports are read as UTF-8`;
  if (head.includes(0)) return 'binary data (NUL bytes)';
  try {
    // `stream` lets the head end inside a character: only bytes UTF-8 never allows fail.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return `UTF-8 text starting with ${characterClassOf(first)}`;
  } catch {
    return `text that is not UTF-8 (binary, or a legacy encoding) starting with ${characterClassOf(first)}`;
  }
}

/** UTF-32 first: its little-endian mark begins with UTF-16's. */
const BYTE_ORDER_MARKS: readonly (readonly [readonly number[], string])[] = [
  [[0xff, 0xfe, 0x00, 0x00], 'UTF-32LE'],
  [[0x00, 0x00, 0xfe, 0xff], 'UTF-32BE'],
  [[0xff, 0xfe], 'UTF-16LE'],
  [[0xfe, 0xff], 'UTF-16BE'],
];

function characterClassOf(character: string): string {
  if (/^[A-Za-z]$/.test(character)) return 'an ASCII letter';
  if (/^[0-9]$/.test(character)) return 'a digit';
  if (/^[\x21-\x7e]$/.test(character)) return 'ASCII punctuation';
  const code = character.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return 'a control character';
  if (character === '\uFFFD') return 'a byte that is not UTF-8';
  return 'a non-ASCII character';
}

function skipSpace(text: string, from: number): number {
  let at = from;
  while (at < text.length && ' \t\r\n'.includes(text[at]!)) at++;
  return at;
}

function after(text: string, terminator: string, from: number): number {
  const end = text.indexOf(terminator, from);
  return end < 0 ? text.length : end + terminator.length;
}

function afterDoctype(text: string, from: number): number {
  const close = text.indexOf('>', from);
  const subset = text.indexOf('[', from);
  if (subset < 0 || (close >= 0 && close < subset)) return close < 0 ? text.length : close + 1;
  const end = /\]\s*>/g;
  end.lastIndex = subset;
  const match = end.exec(text);
  return match ? match.index + match[0].length : text.length;
}

const JSON_FORMATS = SCAN_FORMATS.filter((format) => format.container === 'json');
const XML_FORMATS = SCAN_FORMATS.filter((format) => format.container === 'xml');

/** The format of a JSON document by its top-level members (of the document, or of its context), or undefined when it is none we read. */
export function jsonFormatOf(document: unknown): ScanFormat | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const top = document as Record<string, unknown>;
  return JSON_FORMATS.find((format) => format.isDocument(top))?.name;
}

/** The format of an XML document by its root element. */
export function xmlFormatOf(root: string): ScanFormat | undefined {
  return XML_FORMATS.find((format) => format.roots.has(root))?.name;
}

/** The context of every JSON format, with no items: enough to tell the format, and to map whichever it is. */
const JSON_CONTEXT_PLAN: JsonPlan = (path) => {
  for (const { shape } of JSON_FORMATS) {
    const action = shape.isItem(path) ? 'skip' : shape.plan(path);
    if (action !== 'skip') return action;
  }
  return 'skip';
};

/**
 * The format of a JSON export from its top-level members: those in its first bytes when they tell it (SARIF and
 * Trivy state theirs first), else those of the whole document. That whole read keeps the context of every JSON
 * format, so it also serves as the context of the format found (Grype names its source after its matches).
 * `whole` says the head is the whole file.
 */
export async function jsonFormatOfExport(
  head: Uint8Array,
  whole: boolean,
  pass: JsonPass,
  origin: string,
): Promise<{ format: ScanFormat | undefined; context?: JsonSkeleton }> {
  const seen = new JsonSkeleton();
  for await (const event of streamJson([head], origin, JSON_CONTEXT_PLAN, { partial: !whole })) seen.add(event);
  const format = jsonFormatOf(seen.root);
  if (whole) return { format, context: seen };
  if (format !== undefined || typeof seen.root !== 'object' || seen.root === null || Array.isArray(seen.root)) return { format };
  const context = new JsonSkeleton();
  for await (const event of pass(JSON_CONTEXT_PLAN)) context.add(event);
  return { format: jsonFormatOf(context.root), context };
}
