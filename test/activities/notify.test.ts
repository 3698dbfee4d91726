import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createActivities } from '../../activities/index.ts';
import type { NotifyInput } from '../../core/contracts.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { smtpReceiver } from '../support/smtp.ts';
import { testRegistries } from '../support/test-connectors.ts';

/*
 * The control run's notifications against a local HTTP receiver and a real SMTP server (smtp-server, STARTTLS with a
 * certificate made for the test, AUTH): every target on its own, each at most once per run and event, and failures
 * that name the target but never its secret URL or the SMTP password.
 */

const SECRET = 's3cr3t-t0ken-do-not-leak';
const paths = { audit: `/audit/${SECRET}`, chat: `/chat/${SECRET}`, teams: `/teams/${SECRET}` };

interface Post {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
let server: Server;
let origin = '';
const received: Post[] = [];
/** Paths that answer HTTP 500 for now. */
const failing = new Set<string>();
/** Paths that do not answer for now: their responses wait here. */
const hanging = new Set<string>();
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (failing.has(request.url ?? '')) return void response.writeHead(500).end('upstream unhappy');
      if (hanging.has(request.url ?? '')) return void held.push(response);
      if (request.url?.startsWith('/moved/')) return void response.writeHead(307, { location: paths.audit }).end();
      received.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(body) as Record<string, unknown> });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let opened: { runtime: Runtime; dir: string } | undefined;
afterEach(() => {
  opened?.runtime.close();
  if (opened) rmSync(opened.dir, { recursive: true, force: true });
  opened = undefined;
  received.length = 0;
  failing.clear();
  hanging.clear();
  for (const response of held.splice(0)) response.destroy();
});

const control = (notify: string[]) => ({
  id: 'vuln-mgmt',
  title: 'Vulnerabilities are fixed on time',
  reference: 'A.8.8',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  notify,
  sources: [{ name: 'scans', connector: 'paged-findings' }],
  checks: [{ check: 'vulnerability-sla' }],
});

const webhooks = [
  { name: 'audit-log', kind: 'webhook', url: { env: 'HOOK_AUDIT' }, format: 'json' },
  { name: 'chat', kind: 'webhook', url: { env: 'HOOK_CHAT' }, format: 'slack' },
  { name: 'teams', kind: 'webhook', url: { env: 'HOOK_TEAMS' }, format: 'teams' },
];

async function open(config: Record<string, unknown>): Promise<Runtime> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-notify-'));
  writeFileSync(path.join(dir, 'isms.yaml'), stringify({ dataDir: 'data', ...config }));
  const runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
  opened = { runtime, dir };
  return runtime;
}

/** A run of the control that opened two nonconformities, as the register has them. */
async function failedRun(runtime: Runtime, runId: string): Promise<NotifyInput> {
  const checkRun = await runtime.register.saveCheckRun(
    {
      runId,
      controlId: 'vuln-mgmt',
      evaluatedAt: '2026-11-25T06:00:00.000Z',
      status: 'fail',
      results: [{ checkId: 'vulnerability-sla', status: 'fail', deviations: 2 }],
    },
    ['a', 'b'].map((subject) => ({
      checkId: 'vulnerability-sla',
      subject,
      title: `CVE on ${subject} past SLA`,
      severity: 'high' as const,
      detail: 'past SLA',
      values: {},
      evidenceIds: [],
    })),
  );
  const reconcile = await runtime.register.reconcile({
    checkRunId: checkRun.id,
    controlId: 'vuln-mgmt',
    reference: 'A.8.8',
    owner: 'security@example.com',
    at: '2026-11-25T06:00:00.000Z',
    gaps: [],
    collectedSources: ['scans'],
  });
  return { runId, controlId: 'vuln-mgmt', status: 'fail', reconcile, gaps: [] };
}

const hookEnv = () => ({ HOOK_AUDIT: origin + paths.audit, HOOK_CHAT: origin + paths.chat, HOOK_TEAMS: origin + paths.teams });
const postedPaths = () => received.map((post) => post.path).sort();

describe('notify', () => {
  it('delivers to every target on its own: target 2 of 3 failing still delivers 1 and 3 once, and the retry delivers only 2', async () => {
    const runtime = await open({ notifications: webhooks, controls: [control(['audit-log', 'chat', 'teams'])] });
    const activities = createActivities({ ...runtime, env: hookEnv() });
    const input = await failedRun(runtime, 'control:vuln-mgmt:2026-11-25T06:00:00.000Z');

    failing.add(paths.chat);
    const failure = await activities.notify(input).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('notification target chat answered HTTP 500');
    expect(JSON.stringify(failure)).not.toContain(SECRET);
    expect(postedPaths()).toEqual([paths.audit, paths.teams]);

    failing.clear();
    await activities.notify(input);
    expect(postedPaths()).toEqual([paths.audit, paths.chat, paths.teams]);
    await activities.notify(input);
    expect(received).toHaveLength(3);

    // Slack and Teams get the text, a JSON target the structured payload; all of them the same two nonconformities.
    const byPath = new Map(received.map((post) => [post.path, post]));
    expect(byPath.get(paths.chat)!.body).toEqual({
      text: expect.stringMatching(
        /^Control vuln-mgmt \(Vulnerabilities are fixed on time, A\.8\.8\): fail\n• NC-0001 \[high\] CVE on a past SLA\n• NC-0002 \[high\] CVE on b past SLA$/,
      ),
    });
    expect(byPath.get(paths.teams)!.body).toEqual(byPath.get(paths.chat)!.body);
    expect(byPath.get(paths.audit)!.body).toMatchObject({
      controlId: 'vuln-mgmt',
      status: 'fail',
      runId: input.runId,
      nonconformities: [{ id: 'NC-0001' }, { id: 'NC-0002' }],
    });
    // A receiver can drop a duplicate by its key: one per run, target and events.
    const keys = received.map((post) => post.headers['idempotency-key']);
    expect(keys.every((key) => /^[0-9a-f]{32}$/.test(String(key)))).toBe(true);
    expect(new Set(keys).size).toBe(3);
  });

  it('does not post "opened" again when an occurrence is executed again under the same run id', async () => {
    const runtime = await open({ notifications: webhooks, controls: [control(['audit-log', 'chat'])] });
    const input = await failedRun(runtime, 'control:vuln-mgmt:2026-11-26T06:00:00.000Z');
    await createActivities({ ...runtime, env: hookEnv() }).notify(input);
    expect(postedPaths()).toEqual([paths.audit, paths.chat]);

    // A re-executed workflow (reset, or a worker that died after posting) sends the same run's notification again.
    await createActivities({ ...runtime, env: hookEnv() }).notify(input);
    expect(postedPaths()).toEqual([paths.audit, paths.chat]);

    // Another run of the control is news again.
    await createActivities({ ...runtime, env: hookEnv() }).notify({ ...input, runId: 'control:vuln-mgmt:2026-11-27T06:00:00.000Z' });
    expect(received).toHaveLength(4);
  });

  it('names the target, never its URL, when the network fails', async () => {
    const runtime = await open({ notifications: webhooks, controls: [control(['chat', 'audit-log'])] });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const env = { ...hookEnv(), HOOK_CHAT: `http://127.0.0.1:${deadPort}${paths.chat}` };

    const failure = (await createActivities({ ...runtime, log, env })
      .notify(await failedRun(runtime, 'control:vuln-mgmt:2026-11-28T06:00:00.000Z'))
      .catch((error: Error) => error)) as Error;
    expect(failure.message).toMatch(/^notification target chat: network failure \(ECONNREFUSED\)$/);
    const shown = JSON.stringify(failure) + failure.message + lines.join('');
    for (const leak of [SECRET, String(deadPort), '127.0.0.1']) expect(shown).not.toContain(leak);
    expect(lines.join('')).toContain('"target":"chat"');
    // The other target was not held up by it.
    expect(postedPaths()).toEqual([paths.audit]);
  });

  it('does not follow a redirect: it would carry the notice to an address nobody configured', async () => {
    const runtime = await open({ notifications: webhooks, controls: [control(['chat'])] });
    const failure = await createActivities({ ...runtime, env: { ...hookEnv(), HOOK_CHAT: `${origin}/moved/${SECRET}` } })
      .notify(await failedRun(runtime, 'control:vuln-mgmt:2026-11-29T06:00:00.000Z'))
      .catch((error: Error) => error);
    expect(failure).toMatchObject({ message: 'notification target chat answered HTTP 307', nonRetryable: true });
    expect(received).toEqual([]);
  });
});

const SMTP_USER = 'isms-bot';
const SMTP_PASSWORD = 'pw-Zq8#smtp-never-shown';
const credentials = { user: SMTP_USER, password: SMTP_PASSWORD };
const mailTarget = (smtp: { port: number; caFile: string }) => ({
  name: 'security-mail',
  kind: 'email',
  host: '127.0.0.1',
  port: smtp.port,
  tls: 'starttls',
  caFile: smtp.caFile,
  auth: { user: SMTP_USER, password: { env: 'SMTP_PASSWORD' } },
  from: 'isms@example.com',
  to: ['security@example.com', 'ciso@example.com'],
});

/** Every trace a secret could leave: the failure as Temporal would carry it, and every log line. */
function captureLog() {
  const lines: string[] = [];
  return { log: createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } }), text: () => lines.join('') };
}
const passwordForms = [SMTP_PASSWORD, Buffer.from(SMTP_PASSWORD).toString('base64'), Buffer.from(`\0${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64')];

describe('notify as an activity (MockActivityEnvironment)', () => {
  it('stops waiting for a target that does not answer when the activity is cancelled, ends cancelled, and the retry tells only that target', async () => {
    const runtime = await open({ notifications: webhooks, controls: [control(['audit-log', 'chat', 'teams'])] });
    const activities = createActivities({ ...runtime, env: hookEnv() });
    const input = await failedRun(runtime, 'control:vuln-mgmt:2026-11-25T06:00:00.000Z');
    hanging.add(paths.chat);

    const environment = new MockActivityEnvironment({ attempt: 1 });
    const started = Date.now();
    const run = environment.run(activities.notify, input);
    for (let waited = 0; (held.length < 1 || received.length < 2) && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held).toHaveLength(1);
    environment.cancel();
    await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    // Well before the 15 s a target is given to answer.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(postedPaths()).toEqual([paths.audit, paths.teams].sort());

    hanging.clear();
    received.length = 0;
    await new MockActivityEnvironment({ attempt: 2 }).run(activities.notify, input);
    expect(postedPaths()).toEqual([paths.chat]);
  });
});

describe('notify by email', () => {
  it('sends over STARTTLS with AUTH from a secret reference: the envelope, subject and body, once per run', async () => {
    const smtp = await smtpReceiver(credentials);
    try {
      const runtime = await open({ notifications: [mailTarget(smtp)], controls: [control(['security-mail'])] });
      const { log, text } = captureLog();
      const activities = createActivities({ ...runtime, log, env: { SMTP_PASSWORD } });
      const input = await failedRun(runtime, 'control:vuln-mgmt:2026-11-29T06:00:00.000Z');
      expect(await activities.notify(input)).toEqual({ sent: ['security-mail'] });
      await activities.notify(input);

      expect(smtp.mails).toHaveLength(1);
      const [mail] = smtp.mails;
      expect(mail).toMatchObject({ secure: true, user: SMTP_USER, mailFrom: 'isms@example.com', rcptTo: ['security@example.com', 'ciso@example.com'] });
      expect(mail!.headers.get('subject')).toBe('Control vuln-mgmt (Vulnerabilities are fixed on time, A.8.8): fail');
      expect(mail!.headers.get('from')).toBe('isms@example.com');
      expect(mail!.headers.get('to')).toBe('security@example.com, ciso@example.com');
      expect(mail!.headers.get('message-id')).toMatch(/^<[0-9a-f]{32}@isms-worker>$/);
      expect(mail!.body.trimEnd()).toBe(
        'Control vuln-mgmt (Vulnerabilities are fixed on time, A.8.8): fail\r\n• NC-0001 [high] CVE on a past SLA\r\n• NC-0002 [high] CVE on b past SLA',
      );
      for (const form of passwordForms) expect(text()).not.toContain(form);
    } finally {
      await smtp.close();
    }
  });

  it('names the target when the login is refused, never the password, and still tells the other targets', async () => {
    const smtp = await smtpReceiver(credentials);
    try {
      const runtime = await open({ notifications: [mailTarget(smtp), ...webhooks], controls: [control(['security-mail', 'audit-log'])] });
      const { log, text } = captureLog();
      const wrong = `${SMTP_PASSWORD}-typo`;
      const failure = (await createActivities({ ...runtime, log, env: { ...hookEnv(), SMTP_PASSWORD: wrong } })
        .notify(await failedRun(runtime, 'control:vuln-mgmt:2026-11-30T06:00:00.000Z'))
        .catch((error: Error) => error)) as Error;
      expect(failure).toMatchObject({ message: 'notification target security-mail: the SMTP server refused the login (535)', nonRetryable: true });
      expect(smtp.logins).toEqual([{ username: SMTP_USER, password: wrong }]);
      const shown = JSON.stringify(failure) + String(failure.stack) + text();
      for (const form of [wrong, Buffer.from(wrong).toString('base64'), Buffer.from(`\0${SMTP_USER}\0${wrong}`).toString('base64')])
        expect(shown).not.toContain(form);
      expect(text()).toContain('"target":"security-mail"');
      expect(postedPaths()).toEqual([paths.audit]);
    } finally {
      await smtp.close();
    }
  });

  it('keeps a mail that reached some recipients delivered, and names the ones the server refused', async () => {
    const smtp = await smtpReceiver(credentials, {
      onRcptTo: (address, _session, callback) =>
        callback(address.address === 'ciso@example.com' ? Object.assign(new Error('No such mailbox'), { responseCode: 550 }) : undefined),
    });
    try {
      const runtime = await open({ notifications: [mailTarget(smtp)], controls: [control(['security-mail'])] });
      const activities = createActivities({ ...runtime, env: { SMTP_PASSWORD } });
      const input = await failedRun(runtime, 'control:vuln-mgmt:2026-12-02T06:00:00.000Z');
      const failure = await activities.notify(input).catch((error: Error) => error);
      expect(failure).toMatchObject({
        message: 'notification target security-mail: the SMTP server refused 1 of 2 recipients: ciso@example.com',
        nonRetryable: true,
      });
      expect(smtp.mails.map((mail) => mail.rcptTo)).toEqual([['security@example.com']]);
      // A retry would tell security@ twice: the mail counts as delivered.
      await activities.notify(input);
      expect(smtp.mails).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });

  it('sends nothing, and no password, to a server that does not offer STARTTLS', async () => {
    const smtp = await smtpReceiver(credentials, { disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    try {
      const runtime = await open({ notifications: [mailTarget(smtp)], controls: [control(['security-mail'])] });
      const failure = (await createActivities({ ...runtime, env: { SMTP_PASSWORD } })
        .notify(await failedRun(runtime, 'control:vuln-mgmt:2026-12-01T06:00:00.000Z'))
        .catch((error: Error) => error)) as Error;
      expect(failure.message).toMatch(/^notification target security-mail: the SMTP server answered STARTTLS with 5\d\d \(ETLS\)$/);
      expect(smtp.logins).toEqual([]);
      expect(smtp.mails).toEqual([]);
    } finally {
      await smtp.close();
    }
  });
});
