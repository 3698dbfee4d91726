import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { ConfigError } from '../../core/errors.ts';
import { SqliteCatalog } from '../../evidence/catalog.ts';
import { migrateCatalog } from '../../evidence/catalog-migrate.ts';
import { SQLITE_CATALOG_FILE } from '../../evidence/catalog-open.ts';
import { describePostgresUrl, parsePostgresUrl, PostgresCatalog } from '../../evidence/catalog-postgres.ts';
import { catalogUrl, defaultRegistries } from '../runtime.ts';
import { table, type CliContext } from './context.ts';

/** `isms catalog migrate`: a data folder's embedded SQLite catalog into PostgreSQL, for workers on several hosts. */
export function registerCatalogCommands(context: CliContext): void {
  const catalog = context.program.command('catalog').description('the catalog that holds the evidence chain, the register and every module’s rows');
  catalog
    .command('migrate')
    .description(
      "copy the data folder's embedded SQLite catalog into an empty PostgreSQL database (one transaction: a failure leaves it empty), then point workers at it with catalog.url or ISMS_CATALOG_URL; stop the workers first",
    )
    .option('--to-env <name>', 'the environment variable holding the target postgres:// URL (keeps the password out of ps)')
    .option(
      '--to <url>',
      'the target postgres://user@host:port/database URL, without a password (argv is visible in ps and kept in shell history): the password from PGPASSWORD or ~/.pgpass, or the whole URL through --to-env',
    )
    .action(async (options: { to?: string; toEnv?: string }) => {
      const url = targetUrl(options);
      const location = describePostgresUrl(url);
      const config = await loadConfig(context.configFile(), defaultRegistries);
      if ((await catalogUrl(config)) !== undefined) {
        throw new ConfigError(
          'the configured catalog is already PostgreSQL (catalog.url or ISMS_CATALOG_URL): catalog migrate copies an embedded SQLite catalog',
        );
      }
      const file = path.join(config.dataDir, SQLITE_CATALOG_FILE);
      if (!existsSync(file)) throw new ConfigError(`no embedded catalog at ${file}: nothing to migrate`);
      const source = new SqliteCatalog(file);
      const target = new PostgresCatalog(url);
      try {
        const copied = await migrateCatalog(config.dataDir, source, target);
        const total = copied.reduce((sum, { rows }) => sum + rows, 0);
        context.print(`${table(copied, ['table', 'rows'])}\n${total} rows in ${copied.length} tables copied from ${file} to ${location}`);
      } finally {
        await target.close();
        await source.close();
      }
    });
}

function targetUrl(options: { to?: string; toEnv?: string }): string {
  if ((options.to === undefined) === (options.toEnv === undefined))
    throw new ConfigError('catalog migrate needs exactly one of --to <url> and --to-env <name>');
  if (options.to !== undefined) {
    if (parsePostgresUrl(options.to).password !== '') {
      throw new ConfigError(
        '--to: the URL holds a password, which ps and the shell history would keep: give the URL through an environment variable (--to-env <name>), or leave the password out and set PGPASSWORD',
      );
    }
    return options.to;
  }
  const url = process.env[options.toEnv!];
  if (!url) throw new ConfigError(`--to-env ${options.toEnv}: the environment variable is not set`);
  return url;
}
