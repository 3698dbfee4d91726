/** How many bytes of a file are read to tell JSON from XML and to find the XML root element. */
export const SNIFF_BYTES = 16 * 1024;

export type Container = { readonly kind: 'json' } | { readonly kind: 'xml'; readonly root: string } | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Tells from the first bytes of a file whether it is JSON or XML, and for XML which root element it has. The
 * extension is never consulted: scanners and CI jobs name their outputs freely (.json, .sarif, .xml, .nessus, none).
 * A DOCTYPE is stepped over here only to find the root; the XML reader refuses it.
 */
export function sniffContainer(head: string): Container {
  const text = head.replace(/^\uFEFF/, '');
  let at = skipSpace(text, 0);
  if (at >= text.length) return { kind: 'unknown', reason: 'the file is empty' };
  if (text[at] === '{' || text[at] === '[') return { kind: 'json' };
  if (text[at] !== '<') return { kind: 'unknown', reason: `it starts with neither JSON nor XML (${JSON.stringify(text.slice(at, at + 16))})` };

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
