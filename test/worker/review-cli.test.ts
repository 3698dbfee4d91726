import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { entryDraft } from '../support/review-entries.ts';
import { runIsms } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-review-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runIsms(['--config', 'isms.yaml', ...args], { cwd: dir, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });

const campaignId = 'review:access:2026-Q4';

beforeAll(async () => {
  const control = (id: string, review?: unknown) => ({
    id,
    title: 'Access',
    reference: 'A.5.18',
    owner: 'security@example.com',
    schedule: { cron: '0 6 * * *' },
    sources: [{ name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'T' } } }],
    checks: [{ check: 'mfa-missing' }],
    ...(review ? { review } : {}),
  });
  writeFileSync(path.join(dir, 'isms.yaml'), stringify({ dataDir: 'data', controls: [control('access', { every: 'quarterly' }), control('plain')] }));
  const store = await EvidenceStore.open(path.join(dir, 'data'));
  const reviews = new AccessReviewStore(store.catalog);
  await reviews.create(
    {
      id: campaignId,
      controlId: 'access',
      period: '2026-Q4',
      openedAt: '2026-10-01T07:00:00.000Z',
      dueAt: '2026-10-15T07:00:00.000Z',
      systems: ['google'],
      missingSources: [],
      evidenceIds: [],
    },
    [
      entryDraft({
        username: 'ada@example.com',
        privileged: true,
        displayName: '<b>Ada</b>',
        flags: { owner: { employeeId: 'E1', email: 'ada@example.com', displayName: 'Ada', status: 'active', joinedBy: 'template {username}@example.com' } },
      }),
      entryDraft({ username: 'bob@example.com', flags: { inactive: true } }),
    ],
  );
  await reviews.decide(campaignId, { entries: ['2'], decision: 'revoke', reason: 'left', by: 'it-lead@example.com', at: '2026-10-02T09:00:00.000Z' });
  await store.close();
});

describe('isms review (catalog commands)', () => {
  it('lists campaigns with their decision progress', async () => {
    const result = await run('review', 'list');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^id\s+status\s+openedAt\s+dueAt\s+entryCount\s+undecided$/m);
    expect(result.stdout).toMatch(/^review:access:2026-Q4\s+open\s+2026-10-01T07:00:00.000Z\s+2026-10-15T07:00:00.000Z\s+2\s+1$/m);
    const json = JSON.parse((await run('review', 'list', '--json')).stdout) as { id: string }[];
    expect(json.map((campaign) => campaign.id)).toEqual([campaignId]);
  });

  it('shows a campaign, its lists and entries, and writes its CSV and HTML as they stand', async () => {
    const result = await run('review', 'show', campaignId, '--csv', 'out.csv', '--html', 'out.html');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('review:access:2026-Q4: open, opened 2026-10-01T07:00:00.000Z, due 2026-10-15T07:00:00.000Z; 2 entries, 1 undecided');
    expect(result.stdout).toContain('  google (reviewer it-lead@example.com): 2 accounts, 1 undecided');
    expect(result.stdout).toMatch(/^1\s+google\s+ada@example.com\s+E1 by template \{username\}@example.com\s+privileged$/m);
    expect(result.stdout).toMatch(/^2\s+google\s+bob@example.com\s+inactive\s+revoke\s+it-lead@example.com$/m);
    const rows = parseCsv(readFileSync(path.join(dir, 'out.csv')), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row['account'], row['decision']])).toEqual([
      ['ada@example.com', ''],
      ['bob@example.com', 'revoke'],
    ]);
    const html = readFileSync(path.join(dir, 'out.html'), 'utf8');
    expect(html).toContain('&lt;b&gt;Ada&lt;/b&gt;');
    expect(html).not.toContain('<b>Ada</b>');
  });

  it('exits 2 for an unknown campaign and for opening a review of a control that has none, before reaching Temporal', async () => {
    const unknown = await run('review', 'show', 'review:access:1999');
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('no access review campaign review:access:1999');
    const plain = await run('review', 'open', 'plain');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/control plain in .*isms\.yaml has no review/);
    const refused = await run('review', 'decide', campaignId, '1', '--decision', 'maybe', '--by', 'x');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/argument 'maybe' is invalid\. Allowed choices are approve, revoke, defer/);
  });
});
