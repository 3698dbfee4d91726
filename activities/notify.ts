import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.ts';
import type { EmailTarget, NotificationTarget, WebhookTarget } from '../config/schema.ts';
import { describeSecretRef, resolveSecret, type SecretRef } from '../core/secrets.ts';
import type { NotificationLedger } from '../evidence/notification-ledger.ts';
import type { Register } from '../evidence/register.ts';
import type { NotifyInput } from '../core/contracts.ts';
import { toFailure } from './failures.ts';

const TIMEOUT_MS = 15_000;
const SMTP_PORT = { implicit: 465, starttls: 587, none: 25 } as const;
/** The failure type of a notify activity that could not reach every target. */
const NOTIFICATION_FAILED = 'NotificationError';

export interface DeliveryDeps {
  config: LoadedConfig;
  ledger: NotificationLedger;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/** One piece of news, rendered for every kind of target. */
export interface Notice {
  /** The sender's run (a control run's workflow id, a calendar occurrence id): with target and event, the idempotency key. */
  runId: string;
  subject: string;
  /** The text of a Slack or Teams message and the body of an email. */
  text: string;
  /** The body of a JSON webhook. */
  json: Record<string, unknown>;
}

/** A target and the events of the run it is to be told about. */
export interface Addressee {
  target: string;
  events: readonly string[];
}

/** A target that did not take a notice. Permanent when a retry cannot change that and a person must. */
class TargetFailure extends Error {
  override readonly name = 'TargetFailure';
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.permanent = permanent;
  }
}

/**
 * Delivers the notice to every addressee on its own, at most once per run, target and event: a target that has the
 * events already is skipped, and one that accepts them is recorded at once. A failing target does not hold up the
 * others; after all were tried the activity fails naming each failed target, so Temporal's retry reaches only those.
 * Returns the targets that have the notice.
 */
export async function deliver(deps: DeliveryDeps, notice: Notice, addressees: readonly Addressee[]): Promise<string[]> {
  // Outside an activity (a command delivering itself) nothing cancels a delivery but its own timeout.
  const cancellation = asyncLocalStorage.getStore()?.cancellationSignal;
  const failures = await Promise.all(
    addressees.map(async (addressee) => {
      const revealed: string[] = [];
      try {
        await deliverTo(deps, notice, addressee, revealed, cancellation);
        return undefined;
      } catch (error) {
        const failure = asTargetFailure(addressee.target, error, revealed);
        deps.log.warn({ runId: notice.runId, target: addressee.target, error: failure.message }, 'notification target failed');
        return failure;
      }
    }),
  );
  // A cancelled activity ends as cancelled, not as a failure of the targets it stopped waiting for.
  if (cancellation?.aborted) throw cancellation.reason;
  const failed = failures.filter((failure) => failure !== undefined);
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: NOTIFICATION_FAILED,
      message: failed.map((failure) => failure.message).join('; '),
      nonRetryable: failed.every((failure) => failure.permanent),
    });
  }
  return addressees.map((addressee) => addressee.target);
}

/** Every failure leaves scrubbed of the secrets revealed for its target, whatever built its message. */
function asTargetFailure(target: string, error: unknown, revealed: readonly string[]): TargetFailure {
  const scrubbed = toFailure(error, revealed);
  if (error instanceof TargetFailure) return new TargetFailure(scrubbed.message, error.permanent);
  return new TargetFailure(`notification target ${target}: ${scrubbed.message}`, scrubbed.nonRetryable === true);
}

async function deliverTo(deps: DeliveryDeps, notice: Notice, addressee: Addressee, revealed: string[], cancellation: AbortSignal | undefined): Promise<void> {
  const target = deps.config.config.notifications.find((candidate) => candidate.name === addressee.target);
  if (!target) throw new TargetFailure(`notification target ${addressee.target} is not defined under notifications`, true);
  const delivered = await deps.ledger.deliveredEvents(notice.runId, target.name);
  const events = addressee.events.filter((event) => !delivered.has(event));
  if (events.length === 0) return;
  const deliveryId = createHash('sha256')
    .update(JSON.stringify([notice.runId, target.name, events]))
    .digest('hex')
    .slice(0, 32);
  const secret = async (ref: SecretRef) => {
    const value = (
      await resolveSecret(ref, deps.env).catch((error: Error) =>
        Promise.reject(new TargetFailure(`notification target ${target.name}: ${error.message}`, true)),
      )
    ).reveal();
    revealed.push(value);
    return value;
  };
  let refused: string | undefined;
  if (target.kind === 'webhook') await postWebhook(target, notice, deliveryId, secret, cancellation);
  else refused = await sendEmail(target, notice, deliveryId, deps.config.baseDir, secret);
  // Recorded even when some recipients were refused: the others have it, and a retry would tell them twice.
  await deps.ledger.record({ runId: notice.runId, target: target.name, events, deliveryId, deliveredAt: new Date().toISOString() });
  if (refused) throw new TargetFailure(`notification target ${target.name}: ${refused}`, true);
}

/** Posts the notice; the URL is a secret (Slack's and Teams' URLs are credentials) and never appears in a failure. */
async function postWebhook(
  target: WebhookTarget,
  notice: Notice,
  deliveryId: string,
  secret: (ref: SecretRef) => Promise<string>,
  cancellation: AbortSignal | undefined,
): Promise<void> {
  const value = await secret(target.url);
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TargetFailure(`notification target ${target.name}: the ${describeSecretRef(target.url)} does not hold an http(s) URL`, true);
  }
  const body = target.format === 'json' ? notice.json : { text: notice.text };
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': deliveryId },
      body: JSON.stringify(body),
      // A redirect would carry the notice to an address nobody configured.
      redirect: 'manual',
      signal: cancellation ? AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), cancellation]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new TargetFailure(`notification target ${target.name}: ${networkProblem(error)}`, false);
  }
  await response.body?.cancel();
  if (!response.ok) {
    const permanent = response.status < 500 && ![408, 425, 429].includes(response.status);
    throw new TargetFailure(`notification target ${target.name} answered HTTP ${response.status}`, permanent);
  }
}

/** The kind of a fetch failure, from its code: the error's own message can name the host and port. */
function networkProblem(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  const code = cause?.code ?? (error as NodeJS.ErrnoException | undefined)?.code;
  return code ? `network failure (${code})` : 'network failure';
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  command?: string;
}

/** Sends the notice by SMTP; returns what the server refused when it took the mail for some recipients only. */
async function sendEmail(
  target: EmailTarget,
  notice: Notice,
  deliveryId: string,
  baseDir: string,
  secret: (ref: SecretRef) => Promise<string>,
): Promise<string | undefined> {
  const auth = target.auth && {
    user: typeof target.auth.user === 'string' ? target.auth.user : await secret(target.auth.user),
    pass: await secret(target.auth.password),
  };
  let ca: Buffer | undefined;
  if (target.caFile) {
    const file = path.resolve(baseDir, target.caFile);
    ca = await readFile(file).catch((error: NodeJS.ErrnoException) =>
      Promise.reject(new TargetFailure(`notification target ${target.name}: caFile ${file} cannot be read (${error.code ?? 'unreadable'})`, true)),
    );
  }
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port ?? SMTP_PORT[target.tls],
    secure: target.tls === 'implicit',
    requireTLS: target.tls === 'starttls',
    ignoreTLS: target.tls === 'none',
    auth,
    tls: ca ? { ca } : undefined,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    // Nodemailer's own log would carry the SMTP dialogue, AUTH included.
    logger: false,
    debug: false,
  });
  try {
    const info = await transport.sendMail({
      from: target.from,
      to: target.to,
      subject: notice.subject,
      text: notice.text,
      messageId: `<${deliveryId}@isms-worker>`,
    });
    const refused = info.rejected.map((recipient) => (typeof recipient === 'string' ? recipient : recipient.address));
    return refused.length > 0 ? `the SMTP server refused ${refused.length} of ${target.to.length} recipients: ${refused.join(', ')}` : undefined;
  } catch (error) {
    throw smtpFailure(target.name, error as SmtpError);
  } finally {
    transport.close();
  }
}

/** Built from the error's code, command and reply code only: Nodemailer's message quotes the server's reply. */
function smtpFailure(name: string, error: SmtpError): TargetFailure {
  const code = error.code ?? 'error';
  const reply = error.responseCode;
  if (code === 'EAUTH') return new TargetFailure(`notification target ${name}: the SMTP server refused the login${reply ? ` (${reply})` : ''}`, true);
  if (reply)
    return new TargetFailure(`notification target ${name}: the SMTP server answered ${error.command ?? 'the mail'} with ${reply} (${code})`, reply >= 500);
  if (code === 'ETIMEDOUT') return new TargetFailure(`notification target ${name}: no answer from the SMTP server within ${TIMEOUT_MS / 1000} s`, false);
  if (code === 'ETLS') return new TargetFailure(`notification target ${name}: TLS with the SMTP server failed (${code})`, false);
  return new TargetFailure(
    `notification target ${name}: ${['ESOCKET', 'ECONNECTION', 'EDNS'].includes(code) ? 'network failure' : 'SMTP failure'} (${code})`,
    false,
  );
}

export interface NotifyDeps extends DeliveryDeps {
  register: Register;
}

type Event = NotificationTarget['events'][number];

/** Tells the control's notification targets about new nonconformities, evidence gaps and failed runs. */
export async function notify(deps: NotifyDeps, input: NotifyInput): Promise<{ sent: string[] }> {
  const control = deps.config.controls.get(input.controlId);
  if (!control) return { sent: [] };
  const opened = (await Promise.all(input.reconcile.opened.concat(input.reconcile.reopened).map((id) => deps.register.get(id)))).filter(
    (nc) => nc !== undefined,
  );
  const events = new Set<Event>();
  if (opened.some((nc) => nc.checkId !== 'evidence-gap')) events.add('nonconformity-opened');
  if (input.gaps.length > 0) events.add('evidence-gap');
  if (input.status === 'error') events.add('run-error');
  const addressees = control.control.notify.flatMap((name): Addressee[] => {
    const target = deps.config.config.notifications.find((candidate) => candidate.name === name);
    const wanted = target ? target.events.filter((event) => events.has(event)) : [...events];
    return wanted.length > 0 ? [{ target: name, events: wanted }] : [];
  });
  if (addressees.length === 0) return { sent: [] };

  const lines = [
    `Control ${input.controlId} (${control.control.title}, ${control.references.join(', ')}): ${input.status}`,
    ...opened.map((nc) => `• ${nc.id} [${nc.severity}] ${nc.title}`),
    ...input.gaps.map((gap) => `• evidence gap: ${gap.sourceName}: ${gap.reason}`),
    ...(input.unrecorded
      ? [`• the run's outcome could not be recorded (${input.unrecorded.step}): ${input.unrecorded.reason}; it is retried until the catalog takes writes`]
      : []),
  ];
  const payload = {
    controlId: input.controlId,
    title: control.control.title,
    owner: control.control.owner,
    status: input.status,
    runId: input.runId,
    nonconformities: opened.map((nc) => ({ id: nc.id, title: nc.title, severity: nc.severity, status: nc.status })),
    gaps: input.gaps,
    ...(input.unrecorded ? { unrecorded: input.unrecorded } : {}),
  };
  // The notice that the outcome could not be written and the one of the outcome written later are two pieces of news.
  const deliveryRun = input.unrecorded ? `${input.runId}#unrecorded` : input.runId;
  const sent = await deliver(deps, { runId: deliveryRun, subject: lines[0]!, text: lines.join('\n'), json: payload }, addressees);
  return { sent };
}
