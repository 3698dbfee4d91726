import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReportData } from '../../worker/audit-report.ts';
import { HOSTILE, PERIOD, seedAuditCatalog } from '../support/audit-report-seed.ts';
import { runIsms } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-report-cli-'));
const run = (args: string[]) => runIsms(['--config', 'isms.yaml', ...args], { cwd: dir });

beforeAll(async () => {
  const seeded = await seedAuditCatalog(dir);
  await seeded.store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms report', () => {
  it('writes the self-contained HTML report of a period and says what it holds', async () => {
    const result = await run(['report', '--from', PERIOD.from, '--to', PERIOD.to, '--out', 'audit.html']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'audit.html: 4 controls and activities x 8 weeks; cells missing: 3, partial: 1; nonconformities in the period: 3; open findings past SLA: 1\n',
    );
    const html = readFileSync(path.join(dir, 'audit.html'), 'utf8');
    expect(html).toContain(
      '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;">',
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(HOSTILE);
    expect(html.match(/<td class="c-/g)).toHaveLength(32);
  });

  it('prints the gathered data with --json instead of writing a file', async () => {
    const result = await run(['report', '--from', PERIOD.from, '--to', PERIOD.to, '--json']);
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as AuditReportData;
    expect(data.organisation).toBe('Example GmbH');
    expect(data.period).toEqual({ from: '2026-09-06T22:00:00.000Z', to: '2026-11-01T23:00:00.000Z', timeZone: 'Europe/Berlin' });
    expect(data.heatmap.rows.find((row) => row.id === 'daily-scans')!.cells.map((cell) => cell.state)).toEqual([
      'all',
      'none',
      'all',
      'some',
      'all',
      'all',
      'all',
      'all',
    ]);
    expect(data.nonconformities.map((nc) => nc.id)).toEqual(['NC-0002', 'NC-0003', 'NC-0005']);
  });

  it('takes a year as months, and ISO 8601 instants as well as dates', async () => {
    const result = await run(['report', '--from', '2026-01-01', '--to', '2027-01-01T00:00:00+01:00', '--json']);
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as AuditReportData;
    expect(data.heatmap.unit).toBe('month');
    expect(data.heatmap.columns.map((column) => column.short)).toEqual(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);
    expect(data.heatmap.rows.find((row) => row.id === 'daily-scans')!.cells[8]).toMatchObject({ state: 'some', missing: 13, partial: 1 });
  });

  it('labels the controls with SOC 2 or NIST CSF 2.0 ids with --framework, and refuses an unknown framework with exit 2', async () => {
    const result = await run(['report', '--from', PERIOD.from, '--to', PERIOD.to, '--framework', 'nist-csf-2.0', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(result.stdout) as AuditReportData;
    expect(data.framework.id).toBe('nist-csf-2.0');
    expect(data.controls.map((control) => control.reference)).toEqual(['ID.RA-01, PR.PS-02', 'ID.RA-01, PR.PS-02']);
    expect(await run(['report', '--from', PERIOD.from, '--to', PERIOD.to, '--framework', 'cobit', '--out', 'bad.html'])).toMatchObject({
      code: 2,
      stderr: '--framework cobit: not one of iso27001:2022, soc2, nist-csf-2.0\n',
    });
  });

  it('refuses a missing --out, a bad date and an empty period with exit 2 before writing anything', async () => {
    expect(await run(['report', '--from', PERIOD.from, '--to', PERIOD.to])).toMatchObject({
      code: 2,
      stderr: 'report: --out <file.html> is required (or --json to print the data)\n',
    });
    expect(await run(['report', '--from', 'last tuesday', '--to', PERIOD.to, '--out', 'bad.html'])).toMatchObject({
      code: 2,
      stderr: '--from last tuesday: not a date (YYYY-MM-DD or ISO 8601)\n',
    });
    expect(await run(['report', '--from', PERIOD.to, '--to', PERIOD.from, '--out', 'bad.html'])).toMatchObject({
      code: 2,
      stderr: '--to must be after --from\n',
    });
    expect(existsSync(path.join(dir, 'bad.html'))).toBe(false);
  });
});
