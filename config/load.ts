import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isCollection, isNode, isPair, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { AnyCheck } from '../checks/kit/contract.ts';
import { DEFAULT_JOIN, type AccountJoin } from '../checks/kit/join.ts';
import type { AnyConnector } from '../connectors/contract.ts';
import { formatPath } from '../core/zod-issues.ts';
import { ConfigError } from '../core/errors.ts';
import type { SourceJoin } from './join.ts';
import { resolveJoin } from './resolve-join.ts';
import { IsmsConfig, type CollectionPolicy, type ControlConfig } from './schema.ts';

export interface ResolvedSource {
  name: string;
  connector: AnyConnector;
  /** The connector's config after defaults and validation. Holds secret references, never secrets. */
  config: unknown;
  /** How the source's accounts are joined to people (its instance's or its own `join:`; the default join otherwise). */
  join: AccountJoin;
}

export interface ResolvedCheck {
  check: AnyCheck;
  params: unknown;
  sources: string[];
}

export interface ResolvedControl {
  control: ControlConfig;
  references: string[];
  sources: ResolvedSource[];
  checks: ResolvedCheck[];
  collection: CollectionPolicy;
}

export interface LoadedConfig {
  file: string;
  baseDir: string;
  dataDir: string;
  config: IsmsConfig;
  controls: ReadonlyMap<string, ResolvedControl>;
}

export interface Registries {
  connectors: ReadonlyMap<string, AnyConnector>;
  checks: ReadonlyMap<string, AnyCheck>;
}

type Issue = { path: (string | number)[]; message: string };

export async function loadConfig(file: string, registries: Registries): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read config (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseConfig(text, file, registries);
}

export function parseConfig(text: string, file: string, registries: Registries): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${file}: not valid YAML`,
      doc.errors.map((error) => {
        const pos = error.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${error.message.split('\n')[0]}`;
      }),
    );
  }
  const aliasProblem = checkAliases(doc, lineCounter);
  if (aliasProblem !== undefined) throw new ConfigError(`${file}: YAML aliases refused`, [aliasProblem]);
  const where = (issuePath: (string | number)[]) => locate(doc, lineCounter, issuePath);
  const format = (issue: Issue) => `${formatPath(issue.path)}: ${issue.message}${where(issue.path)}`;

  // checkAliases bounds the expansion; the library's own limit (100 uses of an anchor by default) would refuse
  // a config that shares one owner among 150 controls, and fails without saying where.
  const parsed = IsmsConfig.safeParse(doc.toJS({ maxAliasCount: -1 }) ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      `${file}: invalid config`,
      parsed.error.issues.map((issue) => format({ path: issue.path as (string | number)[], message: issue.message })),
    );
  }
  const config = parsed.data;
  const baseDir = path.dirname(path.resolve(file));
  const issues: Issue[] = [];
  const controls = new Map<string, ResolvedControl>();

  // An instance's join (and its mapping file) is resolved once, however many controls read the instance.
  const instanceJoins = new Map<string, AccountJoin | undefined>();
  const joinOf = (join: SourceJoin, at: (string | number)[]): AccountJoin | undefined => {
    const resolved = resolveJoin(join, baseDir);
    for (const issue of resolved.issues) issues.push({ path: [...at, ...issue.path], message: issue.message });
    return resolved.join;
  };
  /** Whether a join can apply to the connector's records; says why not otherwise. */
  function joinUsable(connector: AnyConnector, join: SourceJoin, at: (string | number)[]): boolean {
    if (!connector.kinds.includes('identity')) {
      issues.push({
        path: at,
        message: `${connector.name} yields ${connector.kinds.join(' and ')} records, not accounts: a join says how a system's accounts map to people`,
      });
      return false;
    }
    if (join.tag !== undefined && !connector.withAccountTags) {
      issues.push({ path: [...at, 'tag'], message: `${connector.name} does not read account tags; join by attribute, template or mapping file instead` });
      return false;
    }
    return true;
  }
  for (const [name, instance] of Object.entries(config.connectors)) {
    const connector = registries.connectors.get(instance.type);
    if (!connector) {
      issues.push({ path: ['connectors', name, 'type'], message: unknownName('connector type', instance.type, registries.connectors.keys()) });
    }
    if (instance.join && connector)
      instanceJoins.set(
        name,
        joinUsable(connector, instance.join, ['connectors', name, 'join']) ? joinOf(instance.join, ['connectors', name, 'join']) : undefined,
      );
  }

  const notificationNames = new Set<string>();
  config.notifications.forEach((target, index) => {
    if (notificationNames.has(target.name)) issues.push({ path: ['notifications', index, 'name'], message: `duplicate notification target "${target.name}"` });
    notificationNames.add(target.name);
  });

  config.controls.forEach((control, c) => {
    const at = (...rest: (string | number)[]) => ['controls', c, ...rest];
    if (controls.has(control.id)) issues.push({ path: at('id'), message: `duplicate control id "${control.id}"` });
    const sources: ResolvedSource[] = [];
    control.sources.forEach((source, s) => {
      if (sources.some((other) => other.name === source.name)) {
        issues.push({ path: at('sources', s, 'name'), message: `duplicate source name "${source.name}" in control ${control.id}` });
      }
      const instance = config.connectors[source.connector];
      const connector = registries.connectors.get(instance?.type ?? source.connector);
      if (!connector) {
        const known = [...Object.keys(config.connectors), ...registries.connectors.keys()];
        issues.push({ path: at('sources', s, 'connector'), message: unknownName('connector', source.connector, known) });
        return;
      }
      if (source.join && instance?.join) {
        issues.push({
          path: at('sources', s, 'join'),
          message: `connector instance ${source.connector} says its join already: say a system's join once, on the instance or on the source`,
        });
        return;
      }
      const merged = { ...(instance?.config ?? {}), ...source.config };
      const result = (connector.config as z.ZodType).safeParse(merged);
      if (!result.success) {
        for (const issue of result.error.issues) {
          const key = issue.path[0];
          const fromInstance = instance && typeof key === 'string' && !(key in source.config) && key in instance.config;
          const base = fromInstance ? ['connectors', source.connector, 'config'] : at('sources', s, 'config');
          issues.push({ path: [...base, ...(issue.path as (string | number)[])], message: `${connector.name}: ${issue.message}` });
        }
        return;
      }
      const joinAt = at('sources', s, 'join');
      const join = instance?.join
        ? instanceJoins.get(source.connector)
        : source.join
          ? joinUsable(connector, source.join, joinAt) && joinOf(source.join, joinAt)
          : DEFAULT_JOIN;
      if (!join) return;
      // Tags cost calls and a permission of their own: they are read only for a join that asks for one.
      const resolvedConfig: unknown = join.tag && connector.withAccountTags ? connector.withAccountTags(result.data) : result.data;
      sources.push({ name: source.name, connector, config: resolvedConfig, join });
    });

    const checks: ResolvedCheck[] = [];
    control.checks.forEach((entry, k) => {
      const check = registries.checks.get(entry.check);
      if (!check) {
        issues.push({ path: at('checks', k, 'check'), message: unknownName('check', entry.check, registries.checks.keys()) });
        return;
      }
      const result = (check.params as z.ZodType).safeParse(entry.params);
      if (!result.success) {
        for (const issue of result.error.issues) {
          issues.push({ path: [...at('checks', k, 'params'), ...(issue.path as (string | number)[])], message: `${check.id}: ${issue.message}` });
        }
      }
      const selected = entry.sources ?? control.sources.map((source) => source.name);
      entry.sources?.forEach((name, n) => {
        if (!control.sources.some((source) => source.name === name)) {
          issues.push({ path: at('checks', k, 'sources', n), message: `no source named "${name}" in control ${control.id}` });
        }
      });
      const feeding = sources.filter((source) => selected.includes(source.name) && check.inputs.some((kind) => source.connector.kinds.includes(kind)));
      if (feeding.length === 0 && sources.length === control.sources.length) {
        issues.push({
          path: at('checks', k, 'check'),
          message: `${check.id} reads ${check.inputs.join(' or ')} records, and no selected source of control ${control.id} provides them`,
        });
      }
      if (result.success) checks.push({ check, params: result.data, sources: feeding.map((source) => source.name) });
    });

    control.notify.forEach((name, n) => {
      if (!notificationNames.has(name)) issues.push({ path: at('notify', n), message: `no notification target named "${name}"` });
    });

    controls.set(control.id, {
      control,
      references: Array.isArray(control.reference) ? control.reference : [control.reference],
      sources,
      checks,
      collection: { ...config.collection, ...control.collection },
    });
  });

  if (issues.length > 0) throw new ConfigError(`${file}: invalid config`, issues.map(format));

  return { file: path.resolve(file), baseDir, dataDir: path.resolve(baseDir, config.dataDir), config, controls };
}

function unknownName(what: string, name: string, known: Iterable<string>): string {
  const list = [...new Set(known)].sort();
  return `unknown ${what} "${name}"${list.length > 0 ? ` (known: ${list.join(', ')})` : ''}`;
}

/**
 * Nodes that aliases may add to a config when it is expanded. A real config adds a few hundred; a "billion
 * laughs" of a few hundred bytes adds billions, and every later pass over the expanded value (validation, a
 * log line) would walk them all.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/**
 * Measures what aliases add to the document, in document order, without expanding it (each anchored node is
 * measured once), and names the alias at which the total passes MAX_ALIAS_EXPANSION, or an alias inside the
 * node it names, which would expand forever.
 */
function checkAliases(doc: Document, lineCounter: LineCounter): string | undefined {
  // An alias names the last node before it with that anchor, so targets are fixed in one pass in document order.
  const targets = new Map<Alias, Node>();
  const anchored = new Map<string, Node>();
  const aliases: Alias[] = [];
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchored.get(node.source);
        if (target !== undefined) targets.set(node, target);
        aliases.push(node);
      } else if (node.anchor) anchored.set(node.anchor, node);
    },
  });
  if (aliases.length === 0) return undefined;

  const at = (node: Node) => {
    const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
    return `line ${line}, column ${col}`;
  };
  const sizes = new Map<Node, number>();
  const measuring = new Set<Node>();
  class Refused extends Error {}
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target === undefined) return 1;
      if (measuring.has(target)) throw new Refused(`${at(node)}: alias *${node.source} refers to the node that contains it`);
      return sizeOf(target);
    }
    if (isPair(node)) return sizeOf(node.key) + sizeOf(node.value);
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    measuring.add(node);
    let size = 1;
    for (const item of node.items) size += sizeOf(item);
    measuring.delete(node);
    sizes.set(node, size);
    return size;
  };

  let added = 0;
  try {
    for (const alias of aliases) {
      added += sizeOf(alias);
      if (added > MAX_ALIAS_EXPANSION) {
        return `${at(alias)}: alias *${alias.source} expands the document past ${MAX_ALIAS_EXPANSION} nodes; a config needs far fewer (is this a YAML alias bomb?)`;
      }
    }
  } catch (error) {
    if (error instanceof Refused) return error.message;
    throw error;
  }
  return undefined;
}

/** " (line L, column C)" of the deepest YAML node on the issue's path that exists. */
function locate(doc: Document, lineCounter: LineCounter, issuePath: (string | number)[]): string {
  for (let depth = issuePath.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(issuePath.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return ` (line ${line}, column ${col})`;
    }
  }
  return '';
}
