import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkParamsSchema, configJsonSchema, connectorConfigSchema, type JsonSchema } from '../../config/json-schema.ts';
import { REGENERATE_COMMAND, renderConfigReference } from '../../config/reference.ts';
import { defaultRegistries } from '../../worker/runtime.ts';

const committed = () => readFileSync(fileURLToPath(new URL('../../config/REFERENCE.md', import.meta.url)), 'utf8');
const reference = renderConfigReference(defaultRegistries);

/** Every key of a JSON Schema object, nested ones as the reference names them (`a.b`, `list[].c`, `map.<key>.d`). */
function keysOf(node: JsonSchema, path = ''): { key: string; schema: JsonSchema }[] {
  const nested = (schema: JsonSchema, at: string): { key: string; schema: JsonSchema }[] => [
    ...keysOf(schema, at),
    ...(typeof schema.items === 'object' && !Array.isArray(schema.items) ? nested(schema.items, `${at}[]`) : []),
    ...(typeof schema.additionalProperties === 'object' ? keysOf(schema.additionalProperties, `${at}.<key>`) : []),
    ...[...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap((form) => nested(form, at)),
  ];
  return Object.entries(node.properties ?? {}).flatMap(([name, schema]) => {
    if (typeof schema !== 'object') return [];
    const key = path === '' ? name : `${path}.${name}`;
    return [{ key, schema }, ...(schema.$ref === undefined ? nested(schema, key) : [])];
  });
}

/** The rows of the reference's tables under a heading, up to the next heading of the same level. */
function rowsUnder(heading: string): Map<string, string[]> {
  const lines = reference.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const level = heading.split(' ')[0]!;
  const end = lines.findIndex((line, index) => index > start && line.split(' ')[0] === level);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(start, end < 0 ? undefined : end)) {
    const cells = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!.split(' | '));
  }
  return rows;
}

describe('the configuration reference', () => {
  it('is committed up to date', () => {
    expect(committed(), `config/REFERENCE.md is out of date: run ${REGENERATE_COMMAND}`).toBe(reference);
  });

  it('documents every option of every connector, with its type, default, whether it is required and a description', () => {
    for (const connector of defaultRegistries.connectors.values()) {
      const schema = connectorConfigSchema(connector);
      expect(schema.description, `${connector.name}: describe the connector's config schema`).toMatch(/\w/);
      const rows = rowsUnder(`### ${connector.name}`);
      const keys = keysOf(schema);
      expect([...rows.keys()].sort(), connector.name).toEqual([...new Set(keys.map(({ key }) => key))].sort());
      for (const { key, schema: option } of keys) {
        expect(option.description, `${connector.name}: ${key} has no .describe()`).toMatch(/\w/);
        const [, shownDefault, required, description] = rows.get(key)!;
        expect(description, `${connector.name}: ${key}`).toContain(option.description!.slice(0, 40));
        if (option.default !== undefined) expect(shownDefault, `${connector.name}: ${key}`).not.toBe('');
        if (option.default !== undefined) expect(required, `${connector.name}: ${key} has a default`).toBe('');
      }
    }
  });

  it('documents every parameter of every check', () => {
    for (const check of defaultRegistries.checks.values()) {
      const schema = checkParamsSchema(check);
      const rows = rowsUnder(`### ${check.id}`);
      const keys = keysOf(schema);
      expect([...rows.keys()].sort(), check.id).toEqual([...new Set(keys.map(({ key }) => key))].sort());
      for (const { key, schema: param } of keys) expect(param.description, `${check.id}: ${key} has no .describe()`).toMatch(/\w/);
      expect(reference).toContain(`${check.title}. References: ${check.references.join(', ')}.`);
    }
  });

  it('describes every top-level section and every key of the config', () => {
    const root = configJsonSchema(defaultRegistries);
    for (const { key, schema } of keysOf(root)) {
      const described = schema.description ?? (schema.$ref === undefined ? undefined : 'a shared definition, described where it is defined');
      expect(described, `${key} has no .describe()`).toMatch(/\w/);
    }
    const topLevel = rowsUnder('## Top level');
    for (const key of Object.keys(root.properties ?? {})) expect(topLevel.has(key), key).toBe(true);
  });

  it('renders types, defaults and required options as the schemas say', () => {
    expect(rowsUnder('### microsoft-graph').get('pageSize')).toEqual([
      'integer, 1 to 999',
      '`500`',
      '',
      'Users per page; at most 500 while includeSignInActivity is on.',
    ]);
    expect(rowsUnder('### microsoft-graph').get('clientSecret')?.slice(0, 3)).toEqual(['[secret reference](#secret-references)', '', 'yes']);
    expect(rowsUnder('### hr-csv').get('columns.employeeId')?.slice(0, 3)).toEqual(['string', '', 'yes']);
    expect(rowsUnder('### hr-csv').get('leaverStatuses')?.slice(0, 3)).toEqual([
      'non-empty list of strings',
      '`["terminated", "inactive", "leaver", "left"]`',
      '',
    ]);
    expect(rowsUnder('### aws-iam').get('accounts[].region')?.slice(0, 2)).toEqual(['string matching `^[a-z]{2}(-[a-z]+)+-\\d+$`', '`us-east-1`']);
    expect(rowsUnder('### vulnerability-sla').get('days.info')?.slice(0, 2)).toEqual(['number > 0 or null', '`null`']);
    expect(rowsUnder('### backup-rpo').get('byResourceType')?.[0]).toBe('map of numbers > 0');
    const topLevel = rowsUnder('## Top level');
    expect(topLevel.get('collection.timeout')?.slice(0, 2)).toEqual(['[duration](#durations)', '`30 minutes`']);
    expect(topLevel.get('controls[].schedule')?.[0]).toBe('an object in one of 3 forms (below)');
    expect(rowsUnder('### `notifications[]`: `kind: email`').get('notifications[].tls')?.slice(0, 2)).toEqual([
      '`starttls`, `implicit` or `none`',
      '`starttls`',
    ]);
  });
});
