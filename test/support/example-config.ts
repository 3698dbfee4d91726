import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * Controls of the shipped config/isms.example.yaml exactly as written, with the file paths in their sources and
 * connector instances made absolute, so a test's config can live in a temporary folder and still run the example.
 */

const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));
export const EXAMPLE_CONFIG = path.join(CONFIG_DIR, 'isms.example.yaml');

interface ExampleConfig {
  connectors: Record<string, { type: string; config: Record<string, unknown> }>;
  controls: { id: string; sources: { name: string; connector: string; config?: Record<string, unknown> }[] }[];
}

function absolutePaths(config: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...config };
  if (typeof out['path'] === 'string') out['path'] = path.resolve(CONFIG_DIR, out['path']);
  if (Array.isArray(out['paths'])) out['paths'] = out['paths'].map((entry: unknown) => (typeof entry === 'string' ? path.resolve(CONFIG_DIR, entry) : entry));
  return out;
}

/** The example's controls with these ids, in this order, and the connector instances they use. */
export function exampleControls(...ids: string[]): { connectors: ExampleConfig['connectors']; controls: ExampleConfig['controls'] } {
  const example = parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as ExampleConfig;
  const controls = ids.map((id) => {
    const control = example.controls.find((candidate) => candidate.id === id);
    if (!control) throw new Error(`config/isms.example.yaml has no control ${id}`);
    return { ...control, sources: control.sources.map((source) => ({ ...source, config: absolutePaths(source.config) })) };
  });
  const used = new Set(controls.flatMap((control) => control.sources.map((source) => source.connector)));
  const connectors = Object.fromEntries(
    Object.entries(example.connectors ?? {})
      .filter(([name]) => used.has(name))
      .map(([name, instance]) => [name, { ...instance, config: absolutePaths(instance.config) }]),
  );
  return { connectors, controls };
}
