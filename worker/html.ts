import { escapeHtml } from '../activities/review-report.ts';
import { formatLocalDate, toZoned } from '../core/calendar-occurrences.ts';

/*
 * Building blocks of the self-contained HTML documents the worker writes (the audit-readiness report, the Statement
 * of Applicability): values are escaped where they land unless they are markup built here, and every page carries
 * a CSP that allows neither script nor any external resource.
 */

export interface Markup {
  readonly html: string;
}
export type Content = string | number | null | undefined | Markup;

export const markup = (html: string): Markup => ({ html });
export const text = (value: Content): string =>
  value !== null && typeof value === 'object' ? value.html : escapeHtml(value === null || value === undefined ? '' : String(value));
/** Joins contents, escaping the plain ones. */
export const all = (...parts: Content[]): Markup => markup(parts.map(text).join(''));
export const el = (tag: string, attributes: Record<string, string | undefined>, ...children: Content[]): Markup =>
  markup(
    `<${tag}${Object.entries(attributes)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
      .join('')}>${children.map(text).join('')}</${tag}>`,
  );

/** A table of the rows, or a muted line saying there are none. */
export function table(
  headers: readonly Content[],
  rows: readonly (readonly Content[])[],
  attributes: Record<string, string | undefined>,
  empty: string,
): Markup {
  if (rows.length === 0) return el('p', { class: 'muted' }, empty);
  return el(
    'table',
    attributes,
    el('thead', {}, el('tr', {}, ...headers.map((header) => el('th', {}, header)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((cell) => el('td', {}, cell))))),
  );
}

export function dateIn(iso: string, zone: string): string {
  return formatLocalDate(toZoned(Date.parse(iso), zone));
}

export function timeIn(iso: string, zone: string): string {
  const local = toZoned(Date.parse(iso), zone);
  return `${formatLocalDate(local)} ${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
}

/** The Content-Security-Policy of every page: inline style only; no script, no fetch, no image, no form, no base. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** One page that needs nothing but itself. */
export function htmlPage(title: string, style: string, body: readonly Markup[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(PAGE_CSP)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style></head><body>`,
    ...body.map((part) => part.html),
    '</body></html>',
    '',
  ].join('\n');
}
