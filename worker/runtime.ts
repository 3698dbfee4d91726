import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { defaultChecks } from '../checks/index.ts';
import { loadConfig, type LoadedConfig, type Registries } from '../config/load.ts';
import { defaultConnectors } from '../connectors/index.ts';
import { resolveSecret, type SecretRef } from '../core/secrets.ts';
import { openCatalog } from '../evidence/catalog-open.ts';
import { Register } from '../evidence/register.ts';
import { blobStoreOf } from '../evidence/blob-store-s3.ts';
import { S3Journal } from '../evidence/journal-s3.ts';
import { EvidenceStore } from '../evidence/store.ts';

export const defaultRegistries: Registries = { connectors: defaultConnectors, checks: defaultChecks };

/** The config file to use: --config, then ISMS_CONFIG, then config/isms.yaml, then the shipped example. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (explicit) return path.resolve(cwd, explicit);
  if (env.ISMS_CONFIG) return path.resolve(cwd, env.ISMS_CONFIG);
  const own = path.resolve(cwd, 'config/isms.yaml');
  return existsSync(own) ? own : path.resolve(cwd, 'config/isms.example.yaml');
}

export interface Runtime {
  config: LoadedConfig;
  store: EvidenceStore;
  register: Register;
  log: Logger;
  close(): Promise<void>;
}

/** The catalog URL: the config's secret reference, else ISMS_CATALOG_URL when set; none means the embedded SQLite file. */
export async function catalogUrl(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const ref: SecretRef | undefined = config.config.catalog?.url ?? (env.ISMS_CATALOG_URL ? { env: 'ISMS_CATALOG_URL' } : undefined);
  return ref && (await resolveSecret(ref, env)).reveal();
}

export async function openRuntime(file: string, log: Logger, registries: Registries = defaultRegistries): Promise<Runtime> {
  const config = await loadConfig(file, registries);
  const catalog = await openCatalog(config.dataDir, await catalogUrl(config));
  const blobs = blobStoreOf(config.config.evidence.blobs);
  // The journal goes where the blobs go: with blobs in S3 no worker host keeps a file another host cannot see.
  const store = await EvidenceStore.open(config.dataDir, { log, catalog, blobs, journal: blobs && new S3Journal(blobs) });
  const register = new Register(store.catalog);
  return { config, store, register, log, close: () => store.close() };
}
