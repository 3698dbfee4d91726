import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { loadConfig, type LoadedConfig } from '../../config/load.ts';
import { describeSecretRef, resolveSecret } from '../../core/secrets.ts';
import { checkpointOf, exportBundle, signatureAlgorithmOf, verifyBundle, type BundleReport, type CatalogAnchor } from '../../evidence/export.ts';
import { catalogUrl, defaultRegistries } from '../runtime.ts';
import { EXIT, table, type CliContext } from './context.ts';

/** `isms evidence export` and `isms evidence checkpoint`: the auditor's bundle and the chain head that anchors it. */
export function registerBundleCommands(context: CliContext, evidence: Command): void {
  const { print, withRuntime } = context;

  evidence
    .command('export')
    .description(
      "write an auditor's bundle for a period: snapshots, nonconformities, a manifest anchored in the hash chain, SHA256SUMS, and a signature when export.signingKey is set",
    )
    .requiredOption('--from <date>', 'start of the period (inclusive), e.g. 2026-01-01')
    .requiredOption('--to <date>', 'end of the period (exclusive), e.g. 2027-01-01')
    .requiredOption('--out <dir>', 'a new or empty folder to write')
    .action(async (options: { from: string; to: string; out: string }) => {
      const [from, to] = [options.from, options.to].map((value, index) => {
        const date = new Date(value);
        if (Number.isNaN(date.getTime())) throw new ConfigError(`--${index === 0 ? 'from' : 'to'} ${value}: not a date`);
        return date.toISOString();
      });
      await withRuntime(async ({ store, register, config }) => {
        const signingKey = await signingKeyOf(config);
        const result = await exportBundle(store, register, { from: from!, to: to!, out: options.out, organisation: config.config.organisation, signingKey });
        const head = result.head ? `chain head at export: row ${result.head.seq} (${result.head.rowHash})` : 'the catalog is empty';
        print(
          [
            `wrote ${result.rows} evidence snapshots to ${result.dir}; ${head}`,
            result.signature ? `manifest.json signed (${result.signature}): manifest.json.sig` : 'not signed (no export.signingKey in the config)',
            `check with: sha256sum -c SHA256SUMS, or isms evidence verify --bundle ${result.dir} --against-catalog (or --against <checkpoint>)`,
          ].join('\n'),
        );
      });
    });

  evidence
    .command('checkpoint')
    .description(
      "the catalog's newest row (seq and hash) as JSON: publish it where the catalog's keepers cannot rewrite it, and bundles and the catalog can be checked against it",
    )
    .option('--out <file>', 'also write it to this file')
    .action(async (options: { out?: string }) => {
      await withRuntime(async ({ store, config }) => {
        const checkpoint = await checkpointOf(store, config.config.organisation);
        if (!checkpoint) throw new ConfigError(`the catalog in ${config.dataDir} holds no evidence yet: nothing to checkpoint`);
        const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
        if (options.out) await writeFile(options.out, text);
        process.stdout.write(text);
      });
    });
}

/** `isms evidence verify --bundle DIR`: prints the report and sets the exit code. */
export async function verifyBundleCommand(
  context: CliContext,
  dir: string,
  options: { against?: string; againstCatalog?: boolean; publicKey?: string; json?: boolean },
): Promise<void> {
  if (options.against !== undefined && options.againstCatalog)
    throw new ConfigError('--against and --against-catalog each name what the bundle is checked against: give one of them');
  // The value is not repeated: a URL on the command line may carry a password, already in shell history and ps.
  if (options.against !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(options.against))
    throw new ConfigError(
      '--against takes a data folder or a checkpoint file, not a URL: a database URL on the command line exposes its password (shell history, ps); set catalog.url (a secret reference) or ISMS_CATALOG_URL and give --against-catalog',
    );
  const publicKey = options.publicKey ? await publicKeyFrom(options.publicKey) : undefined;
  const against = options.againstCatalog ? await configuredCatalog(context) : options.against;
  const report = await verifyBundle(dir, { against, publicKey });
  context.print(options.json ? report : describeBundleReport(report));
  if (!report.ok) process.exitCode = EXIT.findings;
}

export function describeBundleReport(report: BundleReport): string {
  const chain = report.chain
    ? `; chain rows ${report.chain.from} to ${report.chain.to}${report.chain.head ? `, head at export row ${report.chain.head.seq} (${report.chain.head.rowHash})` : ''}`
    : '';
  const anchor = report.anchor
    ? `anchored: checked against the ${report.anchor.kind} ${report.anchor.location}`
    : 'not anchored: the bundle agrees with itself only; give --against-catalog, --against <data folder> or --against <published checkpoint file>';
  const signature = {
    unsigned: 'signature: none',
    valid: 'signature: valid for the given key',
    invalid: 'signature: INVALID',
    'not-checked': 'signature: present (manifest.json.sig), not checked: give --public-key <PEM>',
  }[report.signature];
  if (report.ok) return [`ok: ${report.checked} evidence snapshots verified${chain}`, anchor, signature].join('\n');
  return `FAILED: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${report.checked} rows\n${table(report.problems, ['evidenceId', 'problem', 'detail'])}`;
}

/** The catalog the config uses, on whichever backend: its URL comes from the configured secret, never from the command line. */
async function configuredCatalog(context: CliContext): Promise<CatalogAnchor> {
  const config = await loadConfig(context.configFile(), defaultRegistries);
  return { dataDir: config.dataDir, url: await catalogUrl(config) };
}

/** The configured bundle signing key; a key that is missing, not PEM or of another type is a config error naming where it came from. */
async function signingKeyOf(loaded: LoadedConfig): Promise<KeyObject | undefined> {
  const ref = loaded.config.export?.signingKey;
  if (!ref) return undefined;
  const secret = await resolveSecret(ref);
  let key: KeyObject;
  try {
    key = createPrivateKey(secret.reveal());
  } catch {
    throw new ConfigError(`export.signingKey (${describeSecretRef(ref)}) in ${loaded.file}: not a PEM private key`);
  }
  try {
    signatureAlgorithmOf(key);
  } catch (error) {
    throw new ConfigError(`export.signingKey (${describeSecretRef(ref)}) in ${loaded.file}: ${(error as Error).message}`);
  }
  return key;
}

async function publicKeyFrom(file: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--public-key ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  try {
    return createPublicKey(text);
  } catch {
    throw new ConfigError(`--public-key ${file}: not a PEM public key`);
  }
}
