import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collectEvidence, type CollectDeps } from '../../activities/collect.ts';
import { scrubbingLogger } from '../../activities/failures.ts';
import { parseConfig } from '../../config/load.ts';
import { SecretRef } from '../../core/secrets.ts';
import { connectorRegistry, defineConnector } from '../../connectors/contract.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { createLogger } from '../../worker/logger.ts';
import { googleError, startFakeGoogleDirectory, type FakeGoogleDirectory } from '../support/fake-google-directory.ts';
import type { CollectInput, EvidenceRef } from '../../core/contracts.ts';
import { testRegistries } from '../support/test-connectors.ts';
import { defaultChecks } from '../../checks/index.ts';

/** Not a name pino's redaction knows, so only scrubbing by value can keep it out. */
const TOKEN = 'ya29.c.echoed-by-the-server-0f9e8d7c6b5a';
const ADMIN = 'liz@example.com';

let server: FakeGoogleDirectory;
let dir: string;
let store: EvidenceStore;

beforeAll(async () => {
  server = await startFakeGoogleDirectory({
    users: [{ id: '1', primaryEmail: ADMIN, isAdmin: true, isEnrolledIn2Sv: true, lastLoginTime: '2026-01-01T00:00:00.000Z' }],
    accessTokens: [{ token: TOKEN, subject: ADMIN }],
  });
  dir = mkdtempSync(path.join(tmpdir(), 'isms-collect-logs-'));
  store = await EvidenceStore.open(path.join(dir, 'data'));
});
afterAll(async () => {
  await store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the activity in a real activity Context (the SDK's own test environment), as a worker would. */
function collectInActivity(deps: CollectDeps, input: CollectInput): Promise<EvidenceRef> {
  return new MockActivityEnvironment().run<[CollectDeps, CollectInput], EvidenceRef, typeof collectEvidence>(collectEvidence, deps, input);
}

function configFor(rootUrl: string) {
  const yaml = `
dataDir: data
controls:
  - id: access
    title: Accounts are reviewed
    reference: A.5.18
    owner: security@example.com
    schedule: { cron: "0 6 * * *" }
    sources:
      - name: directory
        connector: google-workspace
        config: { accessToken: { env: GW_TOKEN }, rootUrl: "${rootUrl}", retryBaseMs: 1 }
    checks:
      - check: mfa-missing
`;
  return parseConfig(yaml, path.join(dir, 'isms.yaml'), testRegistries);
}

describe('collectEvidence logs', () => {
  it('scrubs a credential the source echoes in an error body from every log line of the attempt, warnings included', async () => {
    // A rate limit whose message quotes the bearer token, in Google's error body and a field of our own.
    server.failUsersList(googleError(429, 'rateLimitExceeded', `Quota exceeded for token ${TOKEN}; "Authorization: Bearer ${TOKEN}"`), 1);
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const ref = await collectInActivity(
      { config: configFor(server.rootUrl), store, log, env: { GW_TOKEN: TOKEN } },
      {
        runId: 'run-1',
        controlId: 'access',
        sourceName: 'directory',
        occurrence: '2026-01-02T06:00:00Z',
      },
    );

    expect(ref.recordCount).toBe(1);
    const entries = lines.map((line) => JSON.parse(line) as { level: string; msg: string; reason?: string });
    const retry = entries.find((entry) => entry.msg.startsWith('google-workspace: users.list page 1: retried after'));
    expect(retry?.level).toBe('warn');
    expect(retry?.reason).toContain('429 rateLimitExceeded: Quota exceeded for token [redacted]');
    expect(lines.join('')).not.toContain(TOKEN);
    expect(lines.join('')).not.toContain(JSON.stringify(TOKEN).slice(1, -1));
  });
});

/** A source that repeats its credential everywhere a connector can put text: a log line, its fields, a child's bindings, an auditor's warning. */
const echoing = defineConnector({
  name: 'echoing',
  kinds: ['finding'],
  version: '1',
  config: z.strictObject({ apiKey: SecretRef }),
  async *collect(config, ctx) {
    const key = (await ctx.secret(config.apiKey)).reveal();
    ctx.log.warn({ body: { error: `bad key ${key}` } }, `server said: key ${key} is rate limited`);
    ctx.log.child({ session: key }).info('paging');
    ctx.log.error(new Error(`socket closed while sending ${key}`));
    ctx.warn(`the server echoed ${key}`);
    yield* [];
  },
});

describe('collectEvidence logs of any connector', () => {
  it('scrubs the revealed secret from messages, fields, bindings, errors and evidence warnings', async () => {
    const key = 'bamboo-"key"\nwith \\escapes-7f3a';
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const config = parseConfig(
      `dataDir: data\ncontrols:\n  - { id: echo, title: t, reference: A.8.8, owner: me@example.com, schedule: { cron: "0 6 * * *" }, sources: [{ name: src, connector: echoing, config: { apiKey: { env: ECHO_KEY } } }], checks: [{ check: vulnerability-sla }] }\n`,
      path.join(dir, 'echo.yaml'),
      { connectors: connectorRegistry([echoing]), checks: defaultChecks },
    );
    const ref = await collectInActivity(
      { config, store, log, env: { ECHO_KEY: key } },
      { runId: 'run-echo', controlId: 'echo', sourceName: 'src', occurrence: '2026-01-02T06:00:00Z' },
    );

    const written = lines.join('');
    expect(written).not.toContain(key);
    expect(written).not.toContain(JSON.stringify(key).slice(1, -1));
    expect(written).toContain('server said: key [redacted] is rate limited');
    expect(written).toContain('"session":"[redacted]"');
    expect(written).toContain('socket closed while sending [redacted]');
    expect((await store.get(ref.id))?.warnings).toEqual(['the server echoed [redacted]']);
  });
});

describe('scrubbingLogger', () => {
  it('scrubs secrets revealed after it was made, in its children too, and leaves the parent alone', () => {
    const lines: string[] = [];
    const parent = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const secrets: string[] = [];
    const child = scrubbingLogger(parent, secrets).child({ part: 'pages' });
    secrets.push('s3cr3t-value');
    child.info({ token: 's3cr3t-value' }, 'sent s3cr3t-value');
    parent.info('parent sent s3cr3t-value');
    expect(lines[0]).toContain('"token":"[redacted]"');
    expect(lines[0]).toContain('"msg":"sent [redacted]"');
    expect(lines[1]).toContain('parent sent s3cr3t-value');
  });
});
