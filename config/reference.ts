import { fileURLToPath } from 'node:url';
import type { AnyCheck } from '../checks/kit/contract.ts';
import type { AnyConnector } from '../connectors/contract.ts';
import {
  CHECK_DEFINITION,
  checkParamsSchema,
  CONNECTOR_DEFINITION,
  configJsonSchema,
  connectorConfigSchema,
  renderConfigJsonSchema,
  shapeJsonSchema,
  type JsonSchema,
} from './json-schema.ts';
import type { Registries } from './load.ts';
import { CheckConfig, ConnectorInstance, SourceConfig } from './schema.ts';

/*
 * config/REFERENCE.md: every key of isms.yaml with its type, default, whether it is required and what it means,
 * rendered from the JSON Schema that configJsonSchema converts from the zod schemas, so the reference cannot say
 * other than the loader does.
 */

interface Row {
  name: string;
  type: string;
  default: string;
  required: boolean;
  description: string;
}

interface Table {
  /** Absent for the first table of a section, which its section's heading introduces. */
  heading?: string;
  column: string;
  intro: string[];
  rows: Row[];
}

/** How the reference names a shared definition, and where it explains it. */
const DEFINITION_TYPES: Record<string, { text: string; anchor: string }> = {
  SecretRef: { text: 'secret reference', anchor: 'secret-references' },
  Duration: { text: 'duration', anchor: 'durations' },
  Timezone: { text: 'time zone', anchor: 'time-zones' },
  Source: { text: 'source', anchor: 'sources' },
  Check: { text: 'check', anchor: 'checks-of-a-control' },
  ConnectorInstance: { text: 'connector instance', anchor: 'connector-instances' },
};

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

export function renderConfigReference(registries: Registries): string {
  const document = configJsonSchema(registries);
  const definitions = (document.definitions ?? {}) as Record<string, JsonSchema>;
  const definition = (name: string): JsonSchema => {
    const found = definitions[name];
    if (found === undefined) throw new Error(`config reference: no definition ${name} in the JSON Schema`);
    return found;
  };
  const lines: string[] = [
    "<!-- Generated from the zod schemas by `npm run config:reference`; edit the schemas' descriptions, not this file. -->",
    '',
    '# Configuration reference',
    '',
    'Every key of `isms.yaml`, with its type, default and meaning, generated from the zod schemas the worker validates',
    'the config with. `isms config check` validates a config as the worker will load it, naming the line of every',
    'error. [`isms.schema.json`](isms.schema.json) is the same schema as JSON Schema (also printed by',
    "`isms config schema`): with the YAML language server (VS Code's YAML extension, and most editors' YAML support)",
    'a config whose first line is `# yaml-language-server: $schema=<path or URL of isms.schema.json>` completes keys,',
    'shows these descriptions and marks errors while you type, as `isms.example.yaml` does. Unknown keys are errors',
    'everywhere.',
    '',
    '- [Top level](#top-level), [sources](#sources), [checks of a control](#checks-of-a-control), [connector instances](#connector-instances)',
    `- [Connectors](#connectors): ${[...registries.connectors.values()].map((connector) => `[${connector.name}](#${connector.name})`).join(', ')}`,
    `- [Checks](#checks): ${[...registries.checks.values()].map((check) => `[${check.id}](#${check.id})`).join(', ')}`,
    '- [Value types](#value-types): secret references, durations, time zones',
    '',
  ];

  const root: JsonSchema = { ...document };
  delete root.definitions;
  delete root.allOf;
  lines.push('## Top level', '', ...renderTables(tablesOf(root, '', 'Key'), '###'));

  lines.push(
    '## Sources',
    '',
    "An entry of a control's `sources:`. Its `config` holds the options of the connector it names (see [Connectors](#connectors)).",
    '',
  );
  lines.push(...renderTables(tablesOf(shapeJsonSchema(SourceConfig), 'controls[].sources[]', 'Key'), '###'));
  lines.push('## Checks of a control', '', "An entry of a control's `checks:`. Its `params` are those of the check it names (see [Checks](#checks)).", '');
  lines.push(...renderTables(tablesOf(shapeJsonSchema(CheckConfig), 'controls[].checks[]', 'Key'), '###'));
  lines.push(
    '## Connector instances',
    '',
    'An entry of `connectors:`: a connector with options that several sources share. A source names the instance as its',
    "`connector`, and its own `config` is laid over the instance's, key by key; the result must hold the connector's",
    'required options.',
    '',
  );
  lines.push(...renderTables(tablesOf(shapeJsonSchema(ConnectorInstance), 'connectors.<name>', 'Key'), '###'));

  lines.push('## Connectors', '', 'The options of each built-in connector: the `config` of a source or of a connector instance.', '');
  for (const connector of registries.connectors.values()) lines.push(...connectorSection(connector));
  const checks = [...registries.checks.values()];
  const allDefaulted = checks.every((check) => (checkParamsSchema(check).required ?? []).length === 0);
  lines.push(
    '## Checks',
    '',
    `The parameters of each built-in check: the \`params\` of an entry of a control's \`checks:\`.${allDefaulted ? ' Every parameter has a default.' : ''}`,
    '',
  );
  for (const check of checks) lines.push(...checkSection(check));

  lines.push(
    '## Value types',
    '',
    '### Secret references',
    '',
    `${definition('SecretRef').description ?? ''} Options that hold a credential take only a secret reference, never the`,
    'credential written out, and a resolved secret prints as `[redacted]` in logs, errors and evidence.',
    '',
    '```yaml',
    'clientSecret: { env: GRAPH_CLIENT_SECRET }',
    'apiKey: { file: /run/secrets/bamboohr-api-key }',
    '```',
    '',
    '### Durations',
    '',
    `${definition('Duration').description ?? ''}`,
    '',
    '### Time zones',
    '',
    `${definition('Timezone').description ?? ''} Dates without a time (a termination date, an activity's due date) are`,
    'days in the zone the option names.',
    '',
  );
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function connectorSection(connector: AnyConnector): string[] {
  const schema = connectorConfigSchema(connector);
  return [
    `### ${connector.name}`,
    '',
    ...(schema.description === undefined ? [] : [schema.description, '']),
    `Records: ${connector.kinds.join(', ')}.`,
    '',
    ...renderTables(tablesOf(schema, '', 'Option'), '####'),
  ];
}

function checkSection(check: AnyCheck): string[] {
  const schema = checkParamsSchema(check);
  const tables = tablesOf(schema, '', 'Parameter');
  return [
    `### ${check.id}`,
    '',
    `${check.title}. References: ${check.references.join(', ')}. Reads: ${check.inputs.join(', ')} records.`,
    '',
    ...(tables[0]?.rows.length === 0 ? ['No parameters.', ''] : renderTables(tables, '####')),
  ];
}

/**
 * The rows of an object's keys, nested keys included (`a.b`, `list[].c`, `map.<key>.d`), and one more table for each
 * form of a key that takes one of several object shapes (a notification target's kinds, a schedule's).
 */
function tablesOf(schema: JsonSchema, prefix: string, column: string): Table[] {
  const tables: Table[] = [];
  const formsSeen: FormsSeen = new Map();
  const main: Table = { column, intro: [], rows: [] };
  tables.push(main);
  const addProperties = (node: JsonSchema, path: string, table: Table) => {
    const required = new Set(node.required ?? []);
    for (const [key, value] of Object.entries(node.properties ?? {})) {
      if (typeof value !== 'object') continue;
      const name = path === '' ? key : `${path}.${key}`;
      table.rows.push({
        name,
        type: typeOf(value, false, formsSeen),
        default: value.default === undefined ? '' : defaultOf(value.default),
        required: required.has(key),
        description: value.description ?? '',
      });
      addNested(value, name, table);
    }
  };
  const addNested = (node: JsonSchema, path: string, table: Table) => {
    if (node.$ref !== undefined) return;
    if (node.properties !== undefined) addProperties(node, path, table);
    if (isSchema(node.items)) addNested(node.items, `${path}[]`, table);
    if (isSchema(node.additionalProperties) && Object.keys(node.additionalProperties).length > 0) addNested(node.additionalProperties, `${path}.<key>`, table);
    const forms = membersOf(node).filter((member) => member.properties !== undefined);
    if (forms.length === 0 || formsSeen.has(formsKey(forms))) return;
    formsSeen.set(formsKey(forms), path);
    for (const form of forms) {
      const table: Table = { heading: `\`${path}\`: ${formLabel(form)}`, column, intro: form.description === undefined ? [] : [form.description], rows: [] };
      tables.push(table);
      addProperties(form, path, table);
    }
  };
  addProperties(schema, prefix, main);
  return tables;
}

function renderTables(tables: Table[], level: string): string[] {
  return tables.flatMap((table) => [
    ...(table.heading === undefined ? [] : [`${level} ${table.heading}`, '']),
    ...(table.intro.length === 0 ? [] : [...table.intro, '']),
    ...(table.rows.length === 0
      ? []
      : [
          `| ${table.column} | Type | Default | Required | Description |`,
          '| --- | --- | --- | --- | --- |',
          ...table.rows.map(
            (row) =>
              `| \`${row.name}\` | ${cell(row.type)} | ${row.default === '' ? '' : `\`${cell(row.default)}\``} | ${row.required ? 'yes' : ''} | ${cell(row.description)} |`,
          ),
          '',
        ]),
  ]);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The alternatives of a union, nested unions flattened. */
function membersOf(node: JsonSchema): JsonSchema[] {
  const members = [...(node.anyOf ?? []), ...(node.oneOf ?? [])];
  return members.flatMap((member) => (member.anyOf !== undefined || member.oneOf !== undefined ? membersOf(member) : [member]));
}

/** What tells a form apart: its constant key (`kind: webhook`), else its first required key. */
function formLabel(form: JsonSchema): string {
  for (const [key, value] of Object.entries(form.properties ?? {})) {
    if (isSchema(value) && value.const !== undefined) return `\`${key}: ${String(value.const)}\``;
  }
  const first = form.required?.[0];
  return first === undefined ? 'other form' : `with \`${first}\``;
}

/** A key's type in words; `many` for the items of a list or map ("list of strings"). */
function typeOf(node: JsonSchema, many = false, formsSeen: FormsSeen = new Map()): string {
  const noun = (one: string, several: string) => (many ? several : one);
  if (node.$ref !== undefined) return definitionType(node.$ref, many);
  if (node.allOf?.length === 1 && node.allOf[0] !== undefined) return typeOf(node.allOf[0], many, formsSeen);
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.enum !== undefined)
    return wordList(
      node.enum.map((value) => `\`${String(value)}\``),
      'or',
    );
  const members = membersOf(node);
  if (members.length > 0) {
    const forms = members.filter((member) => member.properties !== undefined);
    const others = members.filter((member) => member.properties === undefined).map((member) => typeOf(member, many, formsSeen));
    const alike = formsSeen.get(formsKey(forms));
    const which = alike === undefined ? `one of ${forms.length} forms (below)` : `one of the forms of \`${alike}\``;
    return wordList([...new Set(others)].concat(forms.length === 0 ? [] : [`${noun('an object', 'objects')} in ${which}`]), 'or');
  }
  if (Array.isArray(node.type))
    return wordList(
      node.type.map((type) => typeOf({ ...node, type }, many, formsSeen)),
      'or',
    );
  switch (node.type) {
    case 'string':
      return stringType(node, many);
    case 'integer':
    case 'number':
      return `${noun(node.type, `${node.type}s`)}${numberRange(node)}`;
    case 'boolean':
      return noun('boolean', 'booleans');
    case 'null':
      return 'null';
    case 'array': {
      const items = isSchema(node.items) ? typeOf(node.items, true, formsSeen) : 'values';
      return `${node.minItems !== undefined && node.minItems > 0 ? 'non-empty ' : ''}${noun('list', 'lists')} of ${items}`;
    }
    case 'object':
      if (node.properties === undefined && isSchema(node.additionalProperties) && Object.keys(node.additionalProperties).length > 0) {
        return `${noun('map', 'maps')} of ${typeOf(node.additionalProperties, true, formsSeen)}`;
      }
      return noun('object', 'objects');
    default:
      return 'any';
  }
}

/** Union forms already tabled, by their JSON, with the key they were tabled under: a schedule's forms are shown once. */
type FormsSeen = Map<string, string>;

function formsKey(forms: JsonSchema[]): string {
  return JSON.stringify(forms);
}

function definitionType(ref: string, many: boolean): string {
  const name = ref.replace('#/definitions/', '');
  const link = (text: string, anchor: string) => `[${text}${many ? 's' : ''}](#${anchor})`;
  const known = DEFINITION_TYPES[name];
  if (known !== undefined) return link(known.text, known.anchor);
  for (const [prefix, what] of [
    [CONNECTOR_DEFINITION, 'options'],
    [CHECK_DEFINITION, 'parameters'],
  ] as const) {
    if (name.startsWith(prefix)) return `[${name.slice(prefix.length)} ${what}](#${name.slice(prefix.length)})`;
  }
  return name;
}

function stringType(node: JsonSchema, many: boolean): string {
  if (node.format === 'email') return many ? 'email addresses' : 'email address';
  if (node.format === 'uri') return many ? 'URLs' : 'URL';
  if (node.format === 'date-time') return many ? 'timestamps' : 'timestamp';
  const noun = many ? 'strings' : 'string';
  return node.pattern !== undefined && node.pattern.length <= 60 ? `${noun} matching \`${node.pattern}\`` : noun;
}

function numberRange(node: JsonSchema): string {
  const min = typeof node.minimum === 'number' && node.minimum > -SAFE_INTEGER ? node.minimum : undefined;
  const max = typeof node.maximum === 'number' && node.maximum < SAFE_INTEGER ? node.maximum : undefined;
  const above = typeof node.exclusiveMinimum === 'number' ? node.exclusiveMinimum : undefined;
  if (min !== undefined && max !== undefined) return `, ${min} to ${max}`;
  if (above !== undefined) return ` > ${above}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

function wordList(words: string[], conjunction: string): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words.at(-1)}`;
}

/** A default as it would be written in YAML's flow style. */
function defaultOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return flow(value);
}

function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (isSchema(value)) {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([key, item]) => `${key}: ${flow(item)}`).join(', ')} }`;
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The generated files as committed: `npm run config:reference` writes them, and a test fails when one is out of date. */
export function referenceFiles(registries: Registries): { file: string; text: string }[] {
  return [
    { file: fileURLToPath(new URL('./isms.schema.json', import.meta.url)), text: renderConfigJsonSchema(registries) },
    { file: fileURLToPath(new URL('./REFERENCE.md', import.meta.url)), text: renderConfigReference(registries) },
  ];
}

export const REGENERATE_COMMAND = 'npm run config:reference';
