import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERIOD, seedAuditCatalog } from '../support/audit-report-seed.ts';
import { runIsms } from '../support/cli.ts';
import { validateOscal } from '../support/oscal-validator.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-oscal-cli-'));
const run = (args: string[]) => runIsms(['--config', 'isms.yaml', ...args], { cwd: dir });

beforeAll(async () => {
  const seeded = await seedAuditCatalog(dir);
  await seeded.store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms oscal assessment-results', () => {
  it('writes valid OSCAL assessment results of a period, the same bytes on every run, and says what they hold', async () => {
    const first = await run(['oscal', 'assessment-results', '--from', PERIOD.from, '--to', PERIOD.to, '--out', 'ar.json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      'ar.json: OSCAL 1.1.2 assessment results, 2026-09-06T22:00:00.000Z to 2026-11-01T23:00:00.000Z: 102 observations, 2 findings (1 not satisfied), 2 open nonconformities as risks\n',
    );
    const bytes = readFileSync(path.join(dir, 'ar.json'));
    const document = JSON.parse(bytes.toString('utf8'));
    expect(document['assessment-results'].results[0].start).toBe('2026-09-06T22:00:00.000Z');
    const scope = JSON.parse(Buffer.from(document['assessment-results']['back-matter'].resources[0].base64.value, 'base64').toString('utf8'))[
      'assessment-plan'
    ]['back-matter'].resources[0];
    expect(scope.rlinks).toEqual([{ href: 'isms.yaml', 'media-type': 'application/yaml' }]);

    const second = await run(['oscal', 'assessment-results', '--from', PERIOD.from, '--to', PERIOD.to, '--out', 'ar.json']);
    expect(second.code).toBe(0);
    expect(readFileSync(path.join(dir, 'ar.json')).equals(bytes)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp'))).toEqual([]);
    expect(await validateOscal([path.join(dir, 'ar.json')])).toMatchObject({ code: 0 });
  });

  it('writes a valid document that says so for a period without evidence', async () => {
    const result = await run(['oscal', 'assessment-results', '--from', '2030-01-01', '--to', '2030-02-01', '--out', 'empty.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(': 0 observations, 2 findings (2 not satisfied)');
    const document = JSON.parse(readFileSync(path.join(dir, 'empty.json'), 'utf8'));
    expect(document['assessment-results'].results[0].description).toContain('No evidence was collected in this period');
    expect(await validateOscal([path.join(dir, 'empty.json')])).toMatchObject({ code: 0 });
  });

  it('refuses a bad --from or --to with exit 2, naming the option, and leaves the file it would replace alone', async () => {
    writeFileSync(path.join(dir, 'kept.json'), 'the previous export\n');
    const args = (from: string, to: string) => ['oscal', 'assessment-results', '--from', from, '--to', to, '--out', 'kept.json'];
    expect(await run(args('last tuesday', PERIOD.to))).toMatchObject({ code: 2, stderr: '--from last tuesday: not a date (YYYY-MM-DD or ISO 8601)\n' });
    expect(await run(args(PERIOD.from, '2026-13-45'))).toMatchObject({ code: 2, stderr: '--to 2026-13-45: not a date (YYYY-MM-DD or ISO 8601)\n' });
    expect(await run(args(PERIOD.to, PERIOD.from))).toMatchObject({ code: 2, stderr: '--to must be after --from\n' });
    expect(readFileSync(path.join(dir, 'kept.json'), 'utf8')).toBe('the previous export\n');
  });

  it('fails with exit 3 when the written file cannot take the place of --out, and leaves no partial file behind', async () => {
    mkdirSync(path.join(dir, 'a-folder'));
    writeFileSync(path.join(dir, 'a-folder', 'inside.txt'), 'kept\n');
    const result = await run(['oscal', 'assessment-results', '--from', PERIOD.from, '--to', PERIOD.to, '--out', 'a-folder']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: (EISDIR|ENOTEMPTY)/);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'a-folder'))).toEqual(['inside.txt']);
  });
});
