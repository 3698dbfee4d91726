import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementReviewStore } from '../../evidence/management-review.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import type { ManagementReviewPack } from '../../worker/management-review.ts';
import { PERIOD } from '../support/audit-report-seed.ts';
import { runIsms } from '../support/cli.ts';
import { seedManagementReviewCatalog } from '../support/management-review-seed.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-management-review-cli-'));
const run = (...args: string[]) => runIsms(['--config', 'isms.yaml', 'management-review', ...args], { cwd: dir });

beforeAll(async () => {
  const seeded = await seedManagementReviewCatalog(dir);
  await seeded.store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms management-review', () => {
  it('refuses a bad or missing period, and a missing --out, with exit 2 naming the option, before writing anything', async () => {
    expect(await run('--from', '2026-13-45', '--to', PERIOD.to, '--out', 'bad.html')).toMatchObject({
      code: 2,
      stderr: '--from 2026-13-45: not a date (YYYY-MM-DD or ISO 8601)\n',
    });
    expect(await run('--from', PERIOD.from, '--to', 'soon', '--out', 'bad.html')).toMatchObject({
      code: 2,
      stderr: '--to soon: not a date (YYYY-MM-DD or ISO 8601)\n',
    });
    expect(await run('--from', PERIOD.from, '--out', 'bad.html')).toMatchObject({ code: 2, stderr: 'management-review: --to <date> is required\n' });
    expect(await run('--to', PERIOD.to, '--out', 'bad.html')).toMatchObject({ code: 2, stderr: 'management-review: --from <date> is required\n' });
    expect(await run('--from', PERIOD.to, '--to', PERIOD.from, '--out', 'bad.html')).toMatchObject({ code: 2, stderr: '--to must be after --from\n' });
    expect(await run('--from', PERIOD.from, '--to', PERIOD.to)).toMatchObject({
      code: 2,
      stderr: 'management-review: --out <file.html> is required (or --json to print the data)\n',
    });
    expect(existsSync(path.join(dir, 'bad.html'))).toBe(false);
  });

  it('refuses a decision before any pack is kept', async () => {
    expect(await run('decide', '--text', 'x', '--owner', 'o@example.com', '--due', '2026-12-31', '--by', 'ceo@example.com')).toMatchObject({
      code: 2,
      stderr: 'no management review pack is kept yet: generate one with isms management-review --from DATE --to DATE --out FILE.html\n',
    });
  });

  it('writes the pack, keeps it as evidence, records decisions on it, holds the review and follows the decisions up in the next pack', async () => {
    const generated = await run('--from', PERIOD.from, '--to', PERIOD.to, '--out', 'pack.html');
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    const [, packId, htmlId] = /kept as evidence (ev-[0-9a-f-]+) \(JSON\) and (ev-[0-9a-f-]+) \(HTML\)/.exec(generated.stdout)!;
    expect(generated.stdout).toContain('previous decisions open: 2; nonconformities opened 5, closed 2');
    const html = readFileSync(path.join(dir, 'pack.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(4);

    expect(await run('decide', '--text', 'x', '--owner', 'o@example.com', '--due', '31.12.2026', '--by', 'ceo@example.com')).toMatchObject({
      code: 2,
      stderr: '--due 31.12.2026: not a date (YYYY-MM-DD)\n',
    });
    const first = await run(
      'decide',
      '--text',
      'Renew the SOC 2 report of Acme',
      '--owner',
      'cfo@example.com',
      '--due',
      '2026-12-15',
      '--by',
      'ceo@example.com',
    );
    expect(first).toMatchObject({ code: 0, stdout: `D-0005: recorded on MR-0003 (pack ${packId}), owner cfo@example.com, due 2026-12-15\n` });
    const second = await run(
      'decide',
      '--text',
      'Review R-2 after the VPN change',
      '--owner',
      'isms@example.com',
      '--due',
      '2026-11-30',
      '--by',
      'ceo@example.com',
    );
    expect(second.stdout).toBe(`D-0006: recorded on MR-0003 (pack ${packId}), owner isms@example.com, due 2026-11-30\n`);
    expect(await run('decide', '--text', 'x', '--owner', 'o', '--due', '2026-12-31', '--by', 'b', '--pack', htmlId!)).toMatchObject({
      code: 2,
      stderr: `--pack ${htmlId}: management review MR-0003 is open on pack ${packId}; close it first\n`,
    });

    expect(await run('decision', 'D-0006', '--status', 'finished', '--by', 'isms@example.com')).toMatchObject({
      code: 2,
      stderr: '--status finished: not one of open, done, dropped\n',
    });
    expect(await run('decision', 'D-0404', '--status', 'done', '--by', 'isms@example.com')).toMatchObject({
      code: 2,
      stderr: 'no management review decision D-0404\n',
    });
    expect(await run('decision', 'D-0001', '--status', 'done', '--by', 'ops@example.com', '--note', 'policy approved')).toMatchObject({
      code: 0,
      stdout: 'D-0001: done\n',
    });

    // This calendar has no management-review activity: the review is held and its minutes kept, with no occurrence to complete.
    const closed = await run('close', '--by', 'ceo@example.com', '--at', '2026-11-10', '--note', 'quarterly review');
    expect(closed.stderr).toBe('');
    const [, minutesId] = /minutes kept as evidence (ev-[0-9a-f-]+)/.exec(closed.stdout)!;
    expect(closed.stdout).toBe(
      `MR-0003: held 2026-11-09T23:00:00.000Z by ceo@example.com; 2 decision(s); minutes kept as evidence ${minutesId}\nthe calendar has no management-review activity: no occurrence to complete\n`,
    );

    const store = await EvidenceStore.open(path.join(dir, 'data'));
    try {
      const minutes = JSON.parse((await store.fileContent(minutesId!)).toString('utf8')) as Record<string, unknown>;
      const packRow = (await store.get(packId!))!;
      expect(minutes).toMatchObject({
        schema: 'isms-worker/management-review-minutes@1',
        review: {
          id: 'MR-0003',
          heldAt: '2026-11-09T23:00:00.000Z',
          heldBy: 'ceo@example.com',
          note: 'quarterly review',
          period: { from: '2026-09-06T22:00:00.000Z', to: '2026-11-01T23:00:00.000Z' },
        },
        pack: { evidenceId: packId, sha256: packRow.sha256, html: { evidenceId: htmlId, sha256: (await store.get(htmlId!))!.sha256 } },
        decisions: [
          { id: 'D-0005', text: 'Renew the SOC 2 report of Acme', owner: 'cfo@example.com', dueDate: '2026-12-15', status: 'open' },
          { id: 'D-0006', text: 'Review R-2 after the VPN change', owner: 'isms@example.com', dueDate: '2026-11-30', status: 'open' },
        ],
      });
      expect(await store.get(minutesId!)).toMatchObject({
        controlId: 'isms:management-review',
        sourceName: 'minutes.json',
        runId: 'management-review:MR-0003',
      });
      expect(await new ManagementReviewStore(store.catalog).get('MR-0003')).toMatchObject({
        heldAt: '2026-11-09T23:00:00.000Z',
        minutesEvidenceId: minutesId,
        occurrenceId: null,
      });
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }

    expect(await run('decide', '--text', 'after the fact', '--owner', 'o', '--due', '2026-12-31', '--by', 'b', '--pack', packId!)).toMatchObject({
      code: 2,
      stderr: `--pack ${packId}: management review MR-0003 was held; generate a new pack for the next review\n`,
    });
    expect(await run('decision', 'D-0006', '--status', 'done', '--by', 'isms@example.com', '--note', 'R-2 reviewed on Nov 20')).toMatchObject({ code: 0 });
    const next = await run('--from', PERIOD.to, '--to', '2026-12-01', '--json');
    expect(next.code).toBe(0);
    const followUp = (JSON.parse(next.stdout) as ManagementReviewPack).previousActions;
    expect(followUp.review?.id).toBe('MR-0003');
    expect(followUp.decisions.map((decision) => [decision.id, decision.status, decision.lastChange?.note ?? null])).toEqual([
      ['D-0005', 'open', null],
      ['D-0006', 'done', 'R-2 reviewed on Nov 20'],
    ]);
    // MR-0002's D-0003 is still open; D-0001 of MR-0001 is done now.
    expect(followUp.earlierOpen.map((decision) => decision.id)).toEqual(['D-0003']);
  });

  it('lists the reviews with their decisions', async () => {
    const listed = await run('list', '--json');
    expect(listed.code).toBe(0);
    const reviews = JSON.parse(listed.stdout) as { id: string; heldAt: string | null; decisions: { id: string; status: string }[] }[];
    expect(reviews.map((review) => [review.id, review.decisions.map((decision) => `${decision.id} ${decision.status}`)])).toEqual([
      ['MR-0001', ['D-0001 done']],
      ['MR-0002', ['D-0002 done', 'D-0003 open', 'D-0004 dropped']],
      ['MR-0003', ['D-0005 open', 'D-0006 done']],
    ]);
  });
});
