import { z } from 'zod';
import type { AnyCheck } from '../checks/kit/contract.ts';
import type { AnyConnector } from '../connectors/contract.ts';
import type { Registries } from './load.ts';
import { CheckConfig, ConnectorInstance, IsmsConfig, SourceConfig } from './schema.ts';
import { Timezone } from '../core/calendar-occurrences.ts';
import { Duration } from './schedule.ts';
import { SecretRef } from '../core/secrets.ts';

/**
 * The JSON Schema of isms.yaml, converted from the same zod schemas the loader parses with, so that editors (the YAML
 * language server) complete keys and show errors while typing. Draft-07: the draft every JSON Schema editor speaks.
 *
 * Where the loader goes beyond one zod schema the JSON Schema follows it: a source's `config` is checked against
 * the schema of the connector it names, a check's `params` against that check's, an instance under `connectors:`
 * against its `type`'s. The loader merges an instance's config into the config of the sources that name it, so each
 * may leave out options the other gives: an instance's options are all optional, and a source's required options are
 * required only where no instance of that name exists. What only code can judge (cross-field rules, catalog lookups,
 * names defined elsewhere in the file) stays with `isms config check`; the JSON Schema refuses less, never more.
 */

export type JsonSchema = z.core.JSONSchema.JSONSchema;

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** Shapes that appear in many places: each one definition, named in the reference by what it is. */
const SHARED_DEFINITIONS = {
  SecretRef: SecretRef,
  Duration: Duration,
  Timezone: Timezone,
} as const;

const SECRET_REF_DESCRIPTION =
  'A secret is never written in the config: `{ env: NAME }` reads it from an environment variable, `{ file: PATH }` from a file (a trailing newline is dropped).';

/** Definitions of a connector's options and a check's parameters are named by these prefixes and its name. */
export const CONNECTOR_DEFINITION = 'connector.';
export const CHECK_DEFINITION = 'check.';

/** zod to JSON Schema as the config is read (defaults make a key optional), with the named shapes as references. */
function convert(schema: z.ZodType, references: ReadonlyMap<z.ZodType, string>, self?: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const shared = sharedShapeOf(zodSchema, references, self);
      if (shared !== undefined) {
        const { description } = jsonSchema;
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        const $ref = `#/definitions/${shared.name}`;
        // Draft-07 ignores the siblings of a $ref: a use described in its own words keeps them beside an allOf.
        if (description === undefined || description === shared.schema.description) jsonSchema.$ref = $ref;
        else Object.assign(jsonSchema, { description, allOf: [{ $ref }] });
        return;
      }
      matchCaseAsZodDoes(zodSchema, jsonSchema);
    },
  }) as JsonSchema;
  delete json.$schema;
  unwrapLoneAllOf(json);
  if (json.definitions !== undefined)
    throw new Error('config JSON Schema: a zod schema converted with definitions of its own (a recursive shape?); name it in SHARED_DEFINITIONS');
  return json;
}

/** `{ allOf: [X] }` and nothing else says X: zod writes it where an optional or default wraps a reference. */
function unwrapLoneAllOf(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      const lone = loneAllOf(item);
      if (lone !== undefined) node[index] = lone;
      unwrapLoneAllOf(node[index]);
    });
  } else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const lone = loneAllOf(record[key]);
      if (lone !== undefined) record[key] = lone;
      unwrapLoneAllOf(record[key]);
    }
  }
}

function loneAllOf(node: unknown): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  const allOf = (node as { allOf?: unknown }).allOf;
  return keys.length === 1 && Array.isArray(allOf) && allOf.length === 1 ? allOf[0] : undefined;
}

/** The definition a schema is, or is a described copy of (`.describe()` and `.meta()` copy a schema and name the original its parent). */
function sharedShapeOf(
  schema: z.core.$ZodType,
  references: ReadonlyMap<z.ZodType, string>,
  self: z.ZodType | undefined,
): { name: string; schema: z.ZodType } | undefined {
  for (let at: z.core.$ZodType | undefined = schema; at !== undefined && at !== self; at = at._zod.parent) {
    const name = references.get(at as z.ZodType);
    if (name !== undefined) return { name, schema: at as z.ZodType };
  }
  return undefined;
}

/**
 * JSON Schema patterns have no flags. A zod regex with `i` is written with both cases of each letter, so that the
 * editor accepts what the loader accepts ("10 Minutes"); a flag this cannot translate fails the build of the schema.
 */
function matchCaseAsZodDoes(zodSchema: z.core.$ZodType, json: JsonSchema): void {
  const checks = (zodSchema._zod.def as { checks?: z.core.$ZodCheck[] }).checks ?? [];
  const flagged = checks
    .map((check) => (check._zod.def as { pattern?: unknown }).pattern)
    .filter((pattern): pattern is RegExp => pattern instanceof RegExp && pattern.flags.replace(/[guy]/g, '') !== '');
  if (flagged.length === 0) return;
  const [regex] = flagged;
  if (flagged.length > 1 || regex === undefined || regex.flags.replace(/[guy]/g, '') !== 'i' || json.pattern !== regex.source) {
    throw new Error(`config JSON Schema: cannot write /${regex?.source}/${regex?.flags} as a JSON Schema pattern`);
  }
  json.pattern = caseInsensitive(regex.source);
}

function caseInsensitive(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      out += char + (source[i + 1] ?? '');
      i++;
    } else if (char === '[') {
      inClass = true;
      out += char;
    } else if (char === ']') {
      inClass = false;
      out += char;
    } else if (/[a-z]/i.test(char)) {
      if (inClass) throw new Error(`config JSON Schema: cannot make the class in /${source}/ case-insensitive`);
      out += `[${char.toLowerCase()}${char.toUpperCase()}]`;
    } else {
      out += char;
    }
  }
  return out;
}

/** One shape of the config on its own, the shared shapes as references: what the reference documents. */
export function shapeJsonSchema(schema: z.ZodType): JsonSchema {
  return convert(schema, sharedReferences());
}

/** A connector's options as one source gives them on its own, with the options it requires. */
export function connectorConfigSchema(connector: AnyConnector): JsonSchema {
  return shapeJsonSchema(connector.config);
}

export function checkParamsSchema(check: AnyCheck): JsonSchema {
  return shapeJsonSchema(check.params);
}

function sharedReferences(): Map<z.ZodType, string> {
  return new Map(Object.entries(SHARED_DEFINITIONS).map(([name, schema]) => [schema as z.ZodType, name]));
}

/** The keys a connector's config requires, and its options with none of them required (what an instance may give). */
function splitRequired(json: JsonSchema): { shape: JsonSchema; required: string[] } {
  const { required, ...shape } = json;
  return json.type === 'object' && json.properties !== undefined ? { shape, required: required ?? [] } : { shape: json, required: [] };
}

export function configJsonSchema(registries: Registries): JsonSchema {
  const connectors = [...new Set(registries.connectors.values())];
  const checks = [...new Set(registries.checks.values())];
  const references = sharedReferences();
  for (const connector of connectors) if (!references.has(connector.config)) references.set(connector.config, `${CONNECTOR_DEFINITION}${connector.name}`);
  for (const check of checks) if (!references.has(check.params)) references.set(check.params, `${CHECK_DEFINITION}${check.id}`);
  references.set(SourceConfig, 'Source');
  references.set(CheckConfig, 'Check');
  references.set(ConnectorInstance, 'ConnectorInstance');

  const definitions: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(SHARED_DEFINITIONS)) definitions[name] = convert(schema, references, schema);
  definitions['SecretRef'] = { description: SECRET_REF_DESCRIPTION, ...definitions['SecretRef'] };

  const requiredOptions = new Map<string, string[]>();
  for (const connector of connectors) {
    const { shape, required } = splitRequired(convert(connector.config, references, connector.config));
    definitions[`${CONNECTOR_DEFINITION}${connector.name}`] = shape;
    if (required.length > 0) requiredOptions.set(connector.name, required);
  }
  for (const check of checks) definitions[`${CHECK_DEFINITION}${check.id}`] = convert(check.params, references, check.params);

  const names = connectors.map((connector) => connector.name);
  definitions['Source'] = {
    ...describedBy(SourceConfig),
    anyOf: [
      ...connectors.map((connector) =>
        convert(
          SourceConfig.extend({
            connector: z.literal(connector.name).describe(`The built-in connector ${connector.name}.`),
            config: connector.config.optional(),
          }),
          references,
        ),
      ),
      convert(
        SourceConfig.extend({
          connector: z
            .string()
            .min(1)
            .describe('A connector instance named under `connectors:`.')
            .meta({ not: { enum: names } }),
        }),
        references,
      ),
    ],
  };
  definitions['Check'] = {
    ...describedBy(CheckConfig),
    anyOf: checks.map((check) =>
      convert(
        CheckConfig.extend({ check: z.literal(check.id).describe(`${check.title} (${check.references.join(', ')}).`), params: check.params.optional() }),
        references,
      ),
    ),
  };
  definitions['ConnectorInstance'] = {
    ...describedBy(ConnectorInstance),
    anyOf: connectors.map((connector) =>
      convert(
        ConnectorInstance.extend({
          type: z.literal(connector.name).describe(`The built-in connector ${connector.name}.`),
          config: connector.config.optional(),
        }),
        references,
      ),
    ),
  };

  const root = convert(IsmsConfig, references);
  const completeness = [...requiredOptions].map(([name, required]) => sourceNeeds(name, required));
  return {
    $schema: DRAFT_07,
    title: 'isms.yaml',
    ...root,
    ...(completeness.length > 0 ? { allOf: completeness } : {}),
    definitions,
  };
}

function describedBy(schema: z.ZodType): JsonSchema {
  return schema.description === undefined ? {} : { description: schema.description };
}

/**
 * A source that names connector `name` gives its required options itself, unless an instance of that name under
 * `connectors:` may give them (the loader merges the instance's config into the source's).
 */
function sourceNeeds(name: string, required: string[]): JsonSchema {
  const object = (schema: JsonSchema): JsonSchema => ({ type: 'object', ...schema });
  const list = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
  return {
    if: object({ required: ['connectors'], properties: { connectors: object({ required: [name] }) } }),
    else: object({
      properties: {
        controls: list(
          object({
            properties: {
              sources: list(
                object({
                  if: object({ required: ['connector'], properties: { connector: { const: name } } }),
                  then: object({ required: ['config'], properties: { config: object({ required }) } }),
                }),
              ),
            },
          }),
        ),
      },
    }),
  };
}

/** The JSON Schema as committed in config/isms.schema.json and printed by `isms config schema`. */
export function renderConfigJsonSchema(registries: Registries): string {
  return `${JSON.stringify(configJsonSchema(registries), null, 2)}\n`;
}
