import type { TestProject } from 'vitest/node';
import { DEBIAN_BINARIES, postgresBinaries, startPostgresCluster } from './postgres-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the throwaway cluster, or null when none could start (then `postgresUnavailable` says why). */
    postgresUrl: string | null;
    postgresUnavailable: string;
  }
}

/** One throwaway PostgreSQL cluster for the whole run (test/support/postgres-cluster.ts). */
export default async function setup(project: TestProject) {
  if (process.env.ISMS_TEST_BACKENDS === 'sqlite') {
    project.provide('postgresUrl', null);
    project.provide('postgresUnavailable', 'ISMS_TEST_BACKENDS=sqlite (npm run test:unit) starts no PostgreSQL: tests tagged postgres are left out');
    return;
  }
  const bin = postgresBinaries();
  if (!bin) {
    project.provide('postgresUrl', null);
    project.provide('postgresUnavailable', `no PostgreSQL found under ${DEBIAN_BINARIES} (apt-get install postgresql) and PG_BIN is not set`);
    return;
  }
  const cluster = await startPostgresCluster(bin);
  project.provide('postgresUrl', cluster.url);
  project.provide('postgresUnavailable', '');
  return cluster.stop;
}
