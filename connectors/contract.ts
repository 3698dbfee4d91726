import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Secret, SecretRef } from '../core/secrets.ts';
import type { RecordKind, RecordOf } from '../core/records.ts';

/** What a connector may use while it collects. It never sees Temporal. */
export interface ConnectorContext {
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The cursor the previous attempt last reported, to resume a long pull where it stopped. */
  readonly resumeCursor: string | undefined;
  /** Folder that relative paths in the config are resolved against. */
  readonly baseDir: string;
  now(): Date;
  /**
   * Reports that every record yielded so far is complete up to `cursor`. The collector makes those records
   * durable before it heartbeats, so a retry resumes from the cursor without losing or doubling records.
   */
  heartbeat(cursor?: string): Promise<void>;
  secret(ref: SecretRef): Promise<Secret>;
  /** A fact about the collection worth keeping beside the evidence (files read, API used, page size). */
  provenance(facts: Record<string, unknown>): void;
  /** Something the auditor should know, kept in the evidence row (e.g. a field the licence hides). */
  warn(message: string): void;
}

export interface Connector<K extends RecordKind = RecordKind, S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** The record kinds this connector yields. */
  readonly kinds: readonly K[];
  /** Bumped when the mapping changes, and stored with every snapshot. */
  readonly version: string;
  readonly config: S;
  collect(config: z.output<S>, ctx: ConnectorContext): AsyncIterable<RecordOf<K>>;
  /**
   * For a source whose join reads a tag, the config that also collects each account's tags into `raw.tags`, when
   * that costs calls of its own (AWS IAM: ListUserTags per user, and a permission). A join by tag on a connector
   * without it is refused when the config is loaded.
   */
  withAccountTags?(config: z.output<S>): z.output<S>;
}

export function defineConnector<K extends RecordKind, S extends z.ZodType>(connector: Connector<K, S>): Connector<K, S> {
  return connector;
}

// The registry holds connectors of every kind and config shape; each is used only with its own config.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConnector = Connector<RecordKind, any>;
export type ConnectorRegistry = ReadonlyMap<string, AnyConnector>;

export function connectorRegistry(connectors: readonly AnyConnector[]): ConnectorRegistry {
  const registry = new Map<string, AnyConnector>();
  for (const connector of connectors) {
    if (registry.has(connector.name)) throw new Error(`connector ${connector.name} is registered twice`);
    registry.set(connector.name, connector);
  }
  return registry;
}
