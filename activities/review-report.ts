import type { Campaign, ReviewEntry } from '../evidence/access-reviews.ts';
import { reviewListsOf } from './review-lists.ts';

/**
 * Review lists as files a reviewer opens and an auditor keeps: CSV for spreadsheets and a self-contained HTML
 * page (no script, no external resource, a CSP that forbids both). Every value comes from a directory an
 * attacker may write to (display names, usernames), so every value is escaped for where it lands.
 */

type CampaignHeader = Pick<Campaign, 'id' | 'controlId' | 'period' | 'openedAt' | 'dueAt' | 'status' | 'closedAt'>;

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const mfaText = (mfa: ReviewEntry['mfa']) => (mfa === 'unknown' ? 'unknown' : yesNo(mfa));
const lastLoginText = (at: ReviewEntry['lastLoginAt']) => (at === null ? 'never' : at);
const orphanText = (orphan: boolean | null) => (orphan === null ? 'unknown (no HR source)' : yesNo(orphan));

interface Column {
  header: string;
  value(entry: ReviewEntry): string;
}

const COLUMNS: readonly Column[] = [
  { header: 'entry', value: (entry) => String(entry.entryNo) },
  { header: 'system', value: (entry) => entry.system },
  { header: 'reviewer', value: (entry) => entry.reviewer },
  { header: 'tenant', value: (entry) => entry.tenant },
  { header: 'account', value: (entry) => entry.username },
  { header: 'account id', value: (entry) => entry.accountId },
  { header: 'email', value: (entry) => entry.email ?? '' },
  { header: 'display name', value: (entry) => entry.displayName ?? '' },
  {
    header: 'owner (HR)',
    value: (entry) => (entry.flags.owner ? `${entry.flags.owner.employeeId}${entry.flags.owner.email ? ` ${entry.flags.owner.email}` : ''}` : ''),
  },
  { header: 'joined by', value: (entry) => entry.flags.owner?.joinedBy ?? '' },
  { header: 'status', value: (entry) => entry.status },
  { header: 'privileged', value: (entry) => yesNo(entry.privileged) },
  { header: 'mfa', value: (entry) => mfaText(entry.mfa) },
  { header: 'last login', value: (entry) => lastLoginText(entry.lastLoginAt) },
  { header: 'inactive', value: (entry) => yesNo(entry.flags.inactive) },
  { header: 'never used', value: (entry) => yesNo(entry.flags.neverUsed) },
  { header: 'leaver', value: (entry) => (entry.flags.leaver ? `${entry.flags.leaver.employeeId} terminated ${entry.flags.leaver.terminationDate}` : 'no') },
  { header: 'orphan', value: (entry) => orphanText(entry.flags.orphan) },
  { header: 'service account', value: (entry) => yesNo(entry.flags.serviceAccount) },
  { header: 'decision', value: (entry) => entry.decision ?? '' },
  { header: 'reason', value: (entry) => entry.reason ?? '' },
  { header: 'decided by', value: (entry) => entry.decidedBy ?? '' },
  { header: 'decided at', value: (entry) => entry.decidedAt ?? '' },
  { header: 'revocation verified', value: (entry) => entry.verification ?? '' },
  { header: 'evidence', value: (entry) => entry.evidenceId },
];

/**
 * A spreadsheet opening a CSV runs cells that start with = + - @ (or a tab or carriage return) as formulas;
 * such a cell gets a leading apostrophe so it stays text (OWASP "CSV injection").
 */
export function csvCell(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 (CRLF, quoted where needed), with a byte-order mark so that spreadsheets read it as UTF-8. */
export function reviewCsv(entries: readonly ReviewEntry[]): string {
  const lines = [COLUMNS.map((column) => csvCell(column.header)), ...entries.map((entry) => COLUMNS.map((column) => csvCell(column.value(entry))))];
  return `\uFEFF${lines.map((cells) => cells.join(',')).join('\r\n')}\r\n`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** Flags that call for the reviewer's attention, as short labels. */
function warningsOf(entry: ReviewEntry): string[] {
  return [
    entry.privileged ? 'privileged' : null,
    entry.mfa === false ? 'no MFA' : null,
    entry.flags.inactive ? 'inactive' : null,
    entry.flags.neverUsed ? 'never used' : null,
    entry.flags.leaver ? 'leaver' : null,
    entry.flags.orphan === true ? 'orphan' : null,
    entry.flags.serviceAccount ? 'service account' : null,
  ].filter((label) => label !== null);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d1d1f}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}tr.attention td{background:#fff6e5}
.flag{display:inline-block;border-radius:3px;padding:0 4px;margin:0 2px 2px 0;background:#ffe0b2;font-size:.85em}
.muted{color:#666}code{font-size:.9em}`;

/** The review lists of a campaign (or of one reviewer) as one page that needs nothing but itself. */
export function reviewHtml(campaign: CampaignHeader, entries: readonly ReviewEntry[]): string {
  const h = escapeHtml;
  const lists = reviewListsOf(entries);
  const sections = lists.map((list) => {
    const privileged = list.entries.filter((entry) => entry.privileged).length;
    const decided = list.entries.filter((entry) => entry.decision !== null).length;
    const rows = list.entries.map((entry) => {
      const warnings = warningsOf(entry);
      const cells = [
        String(entry.entryNo),
        `${h(entry.username)}${entry.displayName ? `<br><span class="muted">${h(entry.displayName)}</span>` : ''}`,
        h(entry.tenant),
        entry.flags.owner
          ? `${h(entry.flags.owner.employeeId)}${entry.flags.owner.email ? `<br><span class="muted">${h(entry.flags.owner.email)}</span>` : ''}` +
            `${entry.flags.owner.joinedBy ? `<br><span class="muted">by ${h(entry.flags.owner.joinedBy)}</span>` : ''}`
          : '<span class="muted">none</span>',
        h(mfaText(entry.mfa)),
        h(lastLoginText(entry.lastLoginAt)),
        warnings.map((label) => `<span class="flag">${h(label)}</span>`).join(''),
        h(entry.decision ?? ''),
        h([entry.reason, entry.decidedBy && `by ${entry.decidedBy}`, entry.decidedAt].filter(Boolean).join(' · ')),
        h(entry.verification ?? ''),
      ];
      return `<tr${warnings.some((label) => label !== 'service account') ? ' class="attention"' : ''} data-entry="${h(String(entry.entryNo))}">${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
    });
    return [
      `<section data-system="${h(list.system)}" data-reviewer="${h(list.reviewer)}">`,
      `<h2>${h(list.system)}: reviewer ${h(list.reviewer)}</h2>`,
      `<p>${list.entries.length} accounts, ${privileged} privileged, ${decided} decided.</p>`,
      '<table><thead><tr><th>#</th><th>Account</th><th>Tenant</th><th>Owner (HR)</th><th>MFA</th><th>Last login</th><th>Flags</th><th>Decision</th><th>Reason, by, at</th><th>Revocation verified</th></tr></thead>',
      `<tbody>${rows.join('\n')}</tbody></table>`,
      '</section>',
    ].join('\n');
  });
  const status = campaign.closedAt ? `${campaign.status}, closed ${campaign.closedAt}` : campaign.status;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>Access review ${h(campaign.id)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Access review ${h(campaign.id)}</h1>`,
    `<p>Control <b>${h(campaign.controlId)}</b>, period ${h(campaign.period)}: opened ${h(campaign.openedAt)}, due ${h(campaign.dueAt)}; ${h(status)}.</p>`,
    `<p class="muted">Decide with <code>isms review decide ${h(campaign.id)} &lt;entry...&gt; --decision approve|revoke|defer --by &lt;you&gt; [--reason &lt;why&gt;]</code>; entries are numbers, ranges such as 3-7, or &lt;system&gt;:&lt;account&gt;.</p>`,
    ...(sections.length > 0 ? sections : ['<p>No active accounts to review.</p>']),
    '</body></html>',
    '',
  ].join('\n');
}
