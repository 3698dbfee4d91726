import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

export const SECRET_REF_EXPECTED = 'expected { env: NAME } or { file: PATH }: a secret is never written in config';

/**
 * A secret is never written in config: it is a reference to an environment variable or a file. A value that is
 * neither shape is told which shapes it may take (zod's own word for a failed union is "Invalid input").
 */
export const SecretRef = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }, { error: extraKeys }),
    z.strictObject({ file: z.string().min(1, 'a file path') }, { error: extraKeys }),
  ],
  { error: SECRET_REF_EXPECTED },
);

function extraKeys(issue: { code?: string; keys?: readonly string[] }): string | undefined {
  return issue.code === 'unrecognized_keys'
    ? `unrecognized key${issue.keys?.length === 1 ? '' : 's'} ${(issue.keys ?? []).map((key) => `"${key}"`).join(', ')}; ${SECRET_REF_EXPECTED}`
    : undefined;
}
export type SecretRef = z.infer<typeof SecretRef>;

const REDACTED = '[redacted]';

/**
 * A resolved secret. It prints, serializes and inspects as "[redacted]" so that a secret passed by
 * mistake to a logger, an error message or an evidence record cannot leak; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

export function describeSecretRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

export async function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<Secret> {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new ConfigError(`secret: environment variable ${ref.env} is not set`);
    }
    return new Secret(value);
  }
  try {
    return new Secret((await readFile(ref.file, 'utf8')).trimEnd());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`secret: file ${ref.file} cannot be read (${code})`);
  }
}
