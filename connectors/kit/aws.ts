import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { SecretRef, type Secret } from '../../core/secrets.ts';
import type { ConnectorContext } from '../contract.ts';
import { AWS_THROTTLING_CODES, awsErrorSummary, awsFailure } from './aws-errors.ts';
import type { RetryTally } from './retries.ts';
import { parseResponse } from './validate.ts';

// ---------------------------------------------------------------- config

export const AwsAccountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
export const AwsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1');
/** IAM's own rule for role names and paths, in any partition (aws, aws-us-gov, aws-cn). */
export const AwsRoleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN such as arn:aws:iam::123456789012:role/isms-reader');

/** What every AWS account entry of a connector says; each connector adds where it looks (a region, regions). */
export const awsAccountFields = {
  id: AwsAccountId.optional().describe("The 12-digit account id; taken from roleArn, or asked of STS (GetCallerIdentity) for the worker's own credentials."),
  label: z.string().min(1).optional().describe('A name for the account in messages and provenance, e.g. "production".'),
  roleArn: AwsRoleArn.optional().describe("The role the worker assumes to read this account; without it, the worker's own credentials are used."),
  // An external id guards against the confused deputy; it is not a secret, so it is plain config.
  externalId: z.string().min(2).max(1224).optional().describe("The external id the role's trust policy requires; needs roleArn."),
};

type AccountFields = { id?: string | undefined; roleArn?: string | undefined; externalId?: string | undefined };

/** The checks an account entry needs beyond its fields: records are labelled with `id`, so it must be the role's account. */
export function checkAwsAccount(account: AccountFields, ctx: z.RefinementCtx): void {
  if (account.externalId !== undefined && account.roleArn === undefined)
    ctx.addIssue({ code: 'custom', message: 'externalId needs a roleArn', path: ['externalId'] });
  if (account.id !== undefined && account.roleArn !== undefined && accountOfRole(account.roleArn) !== account.id) {
    ctx.addIssue({ code: 'custom', message: `the roleArn belongs to account ${accountOfRole(account.roleArn)}, not to id ${account.id}`, path: ['roleArn'] });
  }
}

/** A list of account entries of which at most one reaches its account with the worker's credentials as they are. */
export function awsAccounts<S extends z.ZodType<AccountFields>>(entry: S) {
  return z
    .array(entry)
    .min(1)
    .refine((accounts) => accounts.filter((account) => account.roleArn === undefined).length <= 1, {
      message: 'only one account can use the worker credentials as they are; give the others a roleArn',
    });
}

/** Static keys, as secret references; without them the SDK's default credential chain (environment, profile, instance or task role). */
export const AwsKeys = z
  .strictObject({
    accessKeyId: SecretRef.describe('The access key id, as a secret reference.'),
    secretAccessKey: SecretRef.describe('The secret access key, as a secret reference.'),
    sessionToken: SecretRef.optional().describe('A session token, for temporary keys.'),
  })
  .describe("Static keys; without them the SDK's default credential chain (environment, profile, instance or task role) is used.");
export type AwsKeys = z.infer<typeof AwsKeys>;

export function accountOfRole(roleArn: string): string {
  return roleArn.split(':')[4] ?? '';
}

// ---------------------------------------------------------------- credentials

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
/** An SDK credential provider: called when a request is signed, so the values never sit in a client's configuration. */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

/**
 * The worker's own credentials: the configured keys, revealed only when a request is signed, or undefined for the
 * SDK's default chain (environment, shared config, SSO, web identity, container and instance roles).
 */
export async function workerCredentials(keys: AwsKeys | undefined, ctx: Pick<ConnectorContext, 'secret'>): Promise<AwsCredentialProvider | undefined> {
  if (keys === undefined) return undefined;
  const accessKeyId: Secret = await ctx.secret(keys.accessKeyId);
  const secretAccessKey: Secret = await ctx.secret(keys.secretAccessKey);
  const sessionToken: Secret | undefined = keys.sessionToken === undefined ? undefined : await ctx.secret(keys.sessionToken);
  return async () => ({
    accessKeyId: accessKeyId.reveal(),
    secretAccessKey: secretAccessKey.reveal(),
    ...(sessionToken === undefined ? {} : { sessionToken: sessionToken.reveal() }),
  });
}

/** What every SDK client of a connector is built with. */
export interface AwsClientSettings {
  region: string;
  endpoint?: string | undefined;
  maxAttempts: number;
  credentials: AwsCredentialProvider | undefined;
}

export function awsClientConfig(settings: AwsClientSettings) {
  return {
    region: settings.region,
    maxAttempts: settings.maxAttempts,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  };
}

// ---------------------------------------------------------------- accounts

export interface AwsAccountReach {
  /** The connector's name: the start of every message. */
  source: string;
  /** Names the role sessions in CloudTrail, so the account's owner sees who read what. */
  sessionName: string;
  /** The STS endpoint (a VPC endpoint, a local server); the SDK's own otherwise. */
  stsEndpoint: string | undefined;
  maxAttempts: number;
  credentials: AwsCredentialProvider | undefined;
  tally: RetryTally;
  signal: AbortSignal;
}

/** One account, reached: the id its records carry, the credentials that reach it, and how messages name it. */
export interface AwsAccountAccess {
  readonly accountId: string;
  /** Undefined means the SDK's default credential chain. */
  readonly credentials: AwsCredentialProvider | undefined;
  /** `aws-iam: account 123456789012 (prod): ListUsers`. */
  where(operation: string): string;
  close(): void;
}

const ROLE_SESSION_SECONDS = 3600;
/** Role sessions are renewed this long before they expire, so a page never goes out with credentials about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

const AssumedRole = z.object({
  Credentials: z.object({
    AccessKeyId: z.string().min(1),
    SecretAccessKey: z.string().min(1),
    SessionToken: z.string().min(1),
    Expiration: z.date().refine((date) => !Number.isNaN(date.getTime()), 'expected a valid timestamp'),
  }),
});
const CallerIdentity = z.object({ Account: AwsAccountId });

/**
 * Reaches one account: through its role, assumed now with the worker's credentials (so a refused role fails here,
 * naming the role) and renewed before the session expires; or with the worker's credentials as they are, asking STS
 * whose account they are when the entry names none.
 */
export async function openAwsAccount(
  entry: AccountFields & { label?: string | undefined },
  index: number,
  region: string,
  reach: AwsAccountReach,
): Promise<AwsAccountAccess> {
  const knownId = entry.id ?? (entry.roleArn === undefined ? undefined : accountOfRole(entry.roleArn));
  const label = entry.label === undefined ? '' : ` (${entry.label})`;
  const prefixOf = (id: string | undefined) => `${reach.source}: account ${id ?? `#${index + 1}`}${label}`;
  const sts = new STSClient(awsClientConfig({ region, endpoint: reach.stsEndpoint, maxAttempts: reach.maxAttempts, credentials: reach.credentials }));
  countSdkRetries(sts, reach.tally, (command) => `${prefixOf(knownId)}: ${command}`);
  const call = async <T>(where: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw awsFailure(error, where);
    }
  };
  try {
    if (entry.roleArn !== undefined) {
      const request = { RoleArn: entry.roleArn, RoleSessionName: reach.sessionName, DurationSeconds: ROLE_SESSION_SECONDS, ExternalId: entry.externalId };
      const where = `${prefixOf(knownId)}: AssumeRole ${entry.roleArn}`;
      const assume = async (): Promise<AwsCredentials> => {
        const out = await call(where, () => sts.send(new AssumeRoleCommand(request), { abortSignal: reach.signal }));
        const { Credentials: issued } = parseResponse(AssumedRole, out, where);
        return { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken, expiration: issued.Expiration };
      };
      let current = await assume();
      let renewal: Promise<AwsCredentials> | undefined;
      const credentials: AwsCredentialProvider = async () => {
        if (current.expiration !== undefined && current.expiration.getTime() - Date.now() < RENEW_BEFORE_MS) {
          renewal ??= assume().finally(() => (renewal = undefined));
          current = await renewal;
        }
        return current;
      };
      return { accountId: knownId!, credentials, where: (operation) => `${prefixOf(knownId)}: ${operation}`, close: () => sts.destroy() };
    }
    let accountId = knownId;
    if (accountId === undefined) {
      const where = `${prefixOf(undefined)}: GetCallerIdentity`;
      accountId = parseResponse(
        CallerIdentity,
        await call(where, () => sts.send(new GetCallerIdentityCommand({}), { abortSignal: reach.signal })),
        where,
      ).Account;
    }
    sts.destroy();
    return { accountId, credentials: reach.credentials, where: (operation) => `${prefixOf(accountId)}: ${operation}`, close: () => undefined };
  } catch (error) {
    sts.destroy();
    throw error;
  }
}

// ---------------------------------------------------------------- retries inside the SDK

/** The part of an SDK client's middleware stack used here; every @aws-sdk client has it, under types too deep to name. */
interface RelativeStack {
  addRelativeTo(
    middleware: (next: (args: unknown) => Promise<unknown>, context: Record<string | symbol, unknown>) => (args: unknown) => Promise<unknown>,
    options: { relation: 'after'; toMiddleware: string; name: string; override: boolean },
  ): void;
}

interface Attempts {
  count: number;
  endedAt: number;
  throttled: boolean;
  reason: string;
}

const ATTEMPTS = Symbol('isms-worker attempts');

/**
 * Counts the retries the SDK makes by itself (its standard retry strategy retries throttling, 5xx and dropped
 * connections, honouring Retry-After), so they reach the evidence's provenance and the log. The middleware sits
 * just inside the SDK's retry middleware, where each attempt passes once: an attempt after the first is a retry,
 * and the time since the attempt before it failed is the wait. The context is the one of a single `send`.
 */
export function countSdkRetries(client: { readonly middlewareStack: object }, tally: RetryTally, where: (command: string) => string): void {
  (client.middlewareStack as RelativeStack).addRelativeTo(
    (next, context) => async (args) => {
      const attempts = ((context as Record<symbol, Attempts | undefined>)[ATTEMPTS] ??= { count: 0, endedAt: 0, throttled: false, reason: '' });
      const command = String(context['commandName'] ?? 'request').replace(/Command$/, '');
      if (attempts.count > 0)
        tally.retried({ where: where(command), reason: attempts.reason, throttled: attempts.throttled, waitedMs: Date.now() - attempts.endedAt });
      attempts.count++;
      try {
        return await next(args);
      } catch (error) {
        const summary = awsErrorSummary(error);
        attempts.endedAt = Date.now();
        attempts.throttled = summary !== undefined && (AWS_THROTTLING_CODES.has(summary.code) || summary.httpStatusCode === 429);
        attempts.reason =
          summary === undefined ? String(error) : `${summary.code}${summary.httpStatusCode === undefined ? '' : ` (HTTP ${summary.httpStatusCode})`}`;
        throw error;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'ismsRetryTally', override: true },
  );
}
