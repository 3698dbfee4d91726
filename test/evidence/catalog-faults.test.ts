// @module-tag postgres
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogUnavailableError } from '../../evidence/catalog.ts';
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { Register } from '../../evidence/register.ts';
import { postgresDatabase } from '../support/postgres.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('PostgreSQL catalog faults', () => {
  it('a connection cut inside a transaction is a retryable CatalogUnavailableError, leaves no half-written rows, and a retry completes', async () => {
    const database = await postgresDatabase();
    const catalog = await new PostgresCatalog(database.url).open();
    cleanups.push(async () => {
      await catalog.close();
      await database.drop();
    });
    const register = new Register(catalog);
    const deviations = ['a', 'b', 'c'].map((subject) => ({
      checkId: 'vulnerability-sla',
      subject,
      title: `overdue ${subject}`,
      severity: 'high' as const,
      detail: 'past SLA',
      values: {},
      evidenceIds: [],
    }));
    // The run's check run row is written, then its deviations: the connection is cut between the two.
    const cut = catalog.transaction(async (tx) => {
      await tx.run(
        "INSERT INTO check_runs (id, run_id, control_id, evaluated_at, status, results) VALUES ('cr-x', 'run-1', 'vuln', '2026-11-25T06:00:00Z', 'fail', '[]')",
      );
      const { pid } = (await tx.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!;
      const admin = new pg.Client(database.url);
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      await tx.run(
        "INSERT INTO deviations (check_run_id, fingerprint, check_id, subject, title, severity, detail, observed_values, evidence_ids) VALUES ('cr-x', 'f', 'c', 's', 't', 'high', 'd', '{}', '[]')",
      );
    });
    await expect(cut).rejects.toBeInstanceOf(CatalogUnavailableError);
    await expect(cut).rejects.toThrow(/catalog PostgreSQL database "t_\w+" on 127\.0\.0\.1:\d+ is unreachable/);
    expect(await catalog.all('SELECT id FROM check_runs')).toEqual([]);
    expect(await catalog.all('SELECT fingerprint FROM deviations')).toEqual([]);

    const saved = await register.saveCheckRun(
      { runId: 'run-1', controlId: 'vuln', evaluatedAt: '2026-11-25T06:00:00Z', status: 'fail', results: [] },
      deviations,
    );
    expect(
      (await catalog.all<{ subject: string }>('SELECT subject FROM deviations WHERE check_run_id = ? ORDER BY rowid', saved.id)).map((row) => row.subject),
    ).toEqual(['a', 'b', 'c']);
  });
});
