import { IAMClient } from '@aws-sdk/client-iam';
import type { z } from 'zod';
import type { ConnectorContext } from '../contract.ts';
import { awsFailure } from '../kit/aws-errors.ts';
import { awsClientConfig, countSdkRetries, openAwsAccount, type AwsCredentialProvider } from '../kit/aws.ts';
import type { RetryTally } from '../kit/retries.ts';
import { nextPageToken, parseResponse } from '../kit/validate.ts';
import type { AwsIamAccount, AwsIamConfig } from './config.ts';
import { SOURCE } from './mapping.ts';

export interface SessionSettings extends Pick<AwsIamConfig, 'endpoint' | 'maxAttempts'> {
  /** The worker's credentials; undefined means the SDK's default credential chain. */
  credentials: AwsCredentialProvider | undefined;
  tally: RetryTally;
}

/** The IAM client of one account, with the prefix every message about that account carries. */
export interface Session {
  readonly accountId: string;
  readonly iam: IAMClient;
  readonly signal: AbortSignal;
  where(operation: string): string;
  destroy(): void;
}

/** The credential report is not there yet, or no longer: a later attempt generates it again. */
const REPORT_NOT_READY: ReadonlyMap<string, string> = new Map([
  ['ReportNotPresent', ''],
  ['ReportExpired', ''],
  ['ReportInProgress', ''],
]);

/** Reaches one account: through its role, assumed with the worker's credentials, or with the worker's credentials as they are. */
export async function openSession(target: AwsIamAccount, index: number, settings: SessionSettings, ctx: ConnectorContext): Promise<Session> {
  const account = await openAwsAccount(target, index, target.region, {
    source: SOURCE,
    sessionName: 'isms-worker-aws-iam',
    stsEndpoint: settings.endpoint,
    maxAttempts: settings.maxAttempts,
    credentials: settings.credentials,
    tally: settings.tally,
    signal: ctx.signal,
  });
  const iam = new IAMClient(
    awsClientConfig({ region: target.region, endpoint: settings.endpoint, maxAttempts: settings.maxAttempts, credentials: account.credentials }),
  );
  countSdkRetries(iam, settings.tally, account.where);
  return {
    accountId: account.accountId,
    iam,
    signal: ctx.signal,
    where: account.where,
    destroy: () => {
      iam.destroy();
      account.close();
    },
  };
}

interface Scope {
  readonly signal: AbortSignal;
  where(operation: string): string;
}

export async function call<T>(scope: Scope, operation: string, send: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  try {
    return await send({ abortSignal: scope.signal });
  } catch (error) {
    throw awsFailure(error, scope.where(operation), { transient: REPORT_NOT_READY });
  }
}

interface Page<T> {
  items: T[];
  next: string | undefined;
}

/** Follows IsTruncated/Marker to the end; `operation` names the call (and user) in errors, with the page number. */
export async function* pages<T>(
  session: Session,
  operation: string,
  schema: z.ZodType<Page<T>>,
  send: (marker: string | undefined, options: { abortSignal: AbortSignal }) => Promise<unknown>,
): AsyncGenerator<T[]> {
  let marker: string | undefined;
  for (let page = 1; ; page++) {
    const where = page === 1 ? operation : `${operation} page ${page}`;
    const out = parseResponse(schema, await call(session, where, (options) => send(marker, options)), session.where(where));
    yield out.items;
    const next = nextPageToken(out.next, marker, session.where(where), 'Marker');
    if (next === undefined) return;
    marker = next;
  }
}

export async function allPages<T>(...args: Parameters<typeof pages<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const items of pages(...args)) out.push(...items);
  return out;
}
