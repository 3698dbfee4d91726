import { Client, type Connection } from '@temporalio/client';
import { ConfigError } from '../../core/errors.ts';
import { connectClient, temporalSettings } from '../connection.ts';
import { runsInFlight } from '../runs-in-flight.ts';
import { EXIT, table, type CliContext } from './context.ts';
import { registerBundleCommands, verifyBundleCommand } from './evidence-bundle.ts';
import { registerEvidenceBlobsCommands } from './evidence-blobs.ts';

/** `isms evidence list|show|verify`, and the auditor bundle's commands under `isms evidence`. */
export function registerEvidenceCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

  const evidence = program.command('evidence').description('read and verify the evidence store');
  evidence
    .command('list')
    .option('--control <id>', 'only this control')
    .option('--limit <n>', 'newest n rows', '50')
    .option('--json', 'JSON output')
    .action(async (options: { control?: string; limit: string; json?: boolean }) => {
      await withRuntime(async ({ store }) => {
        const rows = await store.list({ controlId: options.control, limit: Number(options.limit) });
        if (options.json) return print(rows);
        print(
          table(
            rows.map((row) => ({ ...row, sha256: row.sha256.slice(0, 12) })),
            ['id', 'controlId', 'sourceName', 'collectedAt', 'recordCount', 'sha256'],
          ),
        );
      });
    });
  evidence
    .command('show <id>')
    .option('--records', 'also print the records (NDJSON)')
    .action(async (id: string, options: { records?: boolean }) => {
      await withRuntime(async ({ store }) => {
        const row = await store.get(id);
        if (!row) throw new ConfigError(`no evidence ${id}`);
        print(row);
        if (options.records) for await (const record of store.records(id)) process.stdout.write(`${JSON.stringify(record)}\n`);
      });
    });
  evidence
    .command('verify')
    .description(
      'check every blob against its hash, the catalog against its hash chain and journal, and the staging folder for files no run in flight will finish (exit 1 on any problem)',
    )
    .option('--bundle <dir>', 'verify an exported auditor bundle instead of the store')
    .option('--against <path>', 'with --bundle: a data folder (its embedded catalog) or a checkpoint file the bundle must agree with')
    .option('--against-catalog', 'with --bundle: the live catalog this config uses (SQLite or PostgreSQL), read only, the bundle must agree with')
    .option('--public-key <pem>', 'with --bundle: check manifest.json.sig with this public key')
    .option('--json', 'JSON output')
    .action(async (options: { bundle?: string; against?: string; againstCatalog?: boolean; publicKey?: string; json?: boolean }) => {
      if (options.bundle) return verifyBundleCommand(context, options.bundle, options);
      const report = await withRuntime(async ({ store, register }) => {
        let connection: Promise<Connection> | undefined;
        const connect = async () => {
          const settings = temporalSettings();
          connection ??= connectClient(settings).catch((error: Error) => {
            throw new Error(`cannot connect to ${settings.address}: ${error.message}`);
          });
          return new Client({ connection: await connection, namespace: settings.namespace });
        };
        try {
          return await store.verify({ runInFlight: runsInFlight(register, connect) });
        } finally {
          await (await connection?.catch(() => undefined))?.close();
        }
      });
      if (options.json) print(report);
      else if (report.ok) print(`ok: ${report.checked} evidence rows verified`);
      else print(`FAILED: ${report.problems.length} problems in ${report.checked} rows\n${table(report.problems, ['evidenceId', 'problem', 'detail'])}`);
      if (!report.ok) process.exitCode = EXIT.findings;
    });
  registerBundleCommands(context, evidence);
  registerEvidenceBlobsCommands(context, evidence);
}
