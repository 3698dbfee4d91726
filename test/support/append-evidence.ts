/**
 * One appender process for the chain concurrency test: commits `count` snapshots at once (in parallel, over the
 * catalog's connection pool) into the shared data folder and PostgreSQL catalog.
 * Usage: node test/support/append-evidence.ts <dataDir> <catalogUrl> <name> <count>
 */
import { PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { EvidenceStore } from '../../evidence/store.ts';

const [dataDir, url, name, count] = process.argv.slice(2);
const store = await EvidenceStore.open(dataDir!, { catalog: await new PostgresCatalog(url!).open() });
try {
  await Promise.all(
    Array.from({ length: Number(count) }, async (_, index) => {
      const runId = `${name}-${index}`;
      const staged = await store.stage(runId, 'scans');
      await staged.append({ kind: 'scan', source: 'scans', scanner: 'trivy', asset: runId, scannedAt: '2026-11-25T00:00:00Z', origin: 'f', findingCount: 0 });
      await store.commit(staged, {
        runId,
        controlId: 'vuln',
        sourceName: 'scans',
        connector: 'scanner-files',
        connectorVersion: '1',
        kinds: ['scan'],
        collectedAt: '2026-11-25T00:00:00.000Z',
        provenance: {},
        warnings: [],
      });
    }),
  );
} finally {
  await store.close();
}
