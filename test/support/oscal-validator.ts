import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('./oscal-validator.sh', import.meta.url));

/**
 * The independent OSCAL validator (NIST liboscal-java: the official JSON schema, then the metaschema constraints):
 * $OSCAL_VALIDATOR_PATH (set by .ci/run), else whatever oscal-validator.sh prepares in the cache (Maven fetches the jars once).
 */
let prepared: string | undefined;
export function oscalValidatorPath(): string {
  prepared ??= prepare();
  return prepared;
}

function prepare(): string {
  const explicit = process.env.OSCAL_VALIDATOR_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`OSCAL_VALIDATOR_PATH=${explicit} does not exist; run test/support/oscal-validator.sh`);
    return explicit;
  }
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim();
}

/** Runs the validator over OSCAL JSON files in its own process: exit 0 when every file is valid, 1 otherwise. */
export async function validateOscal(files: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(oscalValidatorPath(), files, { timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}
