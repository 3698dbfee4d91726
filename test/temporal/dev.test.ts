import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCalendar } from '../../config/calendar.ts';
import { occurrencesToOpen } from '../../config/calendar-plan.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime } from '../../worker/runtime.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = path.join(root, 'worker/cli.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'isms-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isms dev (the embedded default)', () => {
  it('starts a dev server and worker, runs every example control once, and leaves verified evidence and nonconformities', async () => {
    mkdirSync(path.join(dir, 'config'));
    copyFileSync(path.join(root, 'config/isms.example.yaml'), path.join(dir, 'config/isms.example.yaml'));
    symlinkSync(path.join(root, 'examples'), path.join(dir, 'examples'));

    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'dev', '--once'], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    const runtime = await openRuntime(path.join(dir, 'config/isms.example.yaml'), createLogger({ level: 'silent' }));
    try {
      for (const controlId of runtime.config.controls.keys()) {
        expect(stdout).toMatch(new RegExp(`^${controlId}: (PASS|FAIL|ERROR)`, 'm'));
        expect((await runtime.store.list({ controlId })).length, `evidence for ${controlId}`).toBeGreaterThan(0);
      }
      expect((await runtime.register.list({ status: 'open' })).length).toBeGreaterThan(0);
      expect((await runtime.store.verify()).ok).toBe(true);
      expect(stdout).toMatch(/evidence: \d+ rows, verified/);
      // The calendar's current occurrences are opened at start, not at each activity's next daily firing.
      const lookback = 2 * 86_400_000;
      const current = [...resolveCalendar(runtime.config.config).activities.values()].flatMap((activity) =>
        occurrencesToOpen(activity, Date.now(), lookback).map((occurrence) => occurrence.occurrenceId),
      );
      const opened = /^calendar: (\d+) occurrences? opened now(?: \((.*)\))?;/m.exec(stdout);
      expect(opened, stdout).not.toBeNull();
      expect((opened![2] ?? '').split(', ').filter(Boolean).sort()).toEqual(current.sort());
    } finally {
      runtime.close();
    }
  }, 150_000);
});
