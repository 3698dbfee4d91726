import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { connectorRegistry, defineConnector } from '../../connectors/contract.ts';
import { defaultConnectors } from '../../connectors/index.ts';
import { AuthError, ThrottledError } from '../../connectors/errors.ts';
import type { Finding } from '../../core/records.ts';
import { defaultChecks } from '../../checks/index.ts';
import type { Registries } from '../../config/load.ts';

/**
 * A paged source with a controllable pace and faults, for the workflow tests: it behaves like an API
 * connector (pages, cursor, heartbeat after each page) without needing one.
 */
export const pagedFindings = defineConnector({
  name: 'paged-findings',
  kinds: ['finding', 'scan'],
  version: '1',
  config: z.strictObject({
    asset: z.string().default('app'),
    pages: z.number().int().positive().default(3),
    perPage: z.number().int().positive().default(2),
    delayMs: z.number().int().nonnegative().default(0),
    scannedAt: z.string().default('2026-01-01T00:00:00Z'),
    fail: z.enum(['auth', 'throttled']).optional(),
    /** A file that gets one line per page fetched, with the page number, so a test sees what a retry fetched again. */
    fetchLog: z.string().optional(),
  }),
  async *collect(config, ctx) {
    if (config.fail === 'auth') throw new AuthError('paged-findings: the token was refused (401)');
    if (config.fail === 'throttled') throw new ThrottledError('paged-findings: rate limited (429)', { retryAfterMs: 100 });
    const start = ctx.resumeCursor === undefined ? 0 : Number(ctx.resumeCursor);
    if (start === 0)
      yield {
        kind: 'scan' as const,
        source: 'paged-findings',
        scanner: 'fixture',
        asset: config.asset,
        scannedAt: config.scannedAt,
        origin: 'test',
        findingCount: config.pages * config.perPage,
      };
    for (let page = start; page < config.pages; page++) {
      await sleep(config.delayMs, undefined, { signal: ctx.signal });
      if (config.fetchLog) appendFileSync(config.fetchLog, `${page + 1}\n`);
      for (let item = 0; item < config.perPage; item++) {
        const finding: Finding = {
          kind: 'finding',
          source: 'paged-findings',
          scanner: 'fixture',
          id: `CVE-2026-${String(page * config.perPage + item).padStart(4, '0')}`,
          title: `fixture vulnerability ${page}/${item}`,
          severity: 'high',
          cvss: 7.5,
          asset: config.asset,
          location: 'pkg@1.0.0',
          scannedAt: config.scannedAt,
          firstSeenAt: config.scannedAt,
          fixedAt: null,
          fixAvailable: true,
        };
        yield finding;
      }
      await ctx.heartbeat(String(page + 1));
    }
  },
});

export const testRegistries: Registries = {
  connectors: connectorRegistry([...defaultConnectors.values(), pagedFindings]),
  checks: defaultChecks,
};
