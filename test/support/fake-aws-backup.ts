import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated, type Fault as WireFault } from './faults.ts';

/**
 * A local AWS Backup (REST-JSON) and STS (Query/XML) endpoint that speaks the wire protocol the real services
 * speak, so the real SDK clients run unchanged against it:
 * - the routes, query parameter names and body keys of @aws-sdk/client-backup's schemas (`GET /backup-jobs?createdAfter=..&maxResults=..&nextToken=..`,
 *   `GET /restore-testing/plans?MaxResults=..&NextToken=..`, ...), epoch-second timestamps, NextToken paging;
 * - SigV4: every request's signature is recomputed with the caller's secret key, so a wrong secret gets
 *   InvalidSignatureException, an unknown key UnrecognizedClientException and an expired session ExpiredTokenException,
 *   as from AWS. The account and region a request reaches come from its credentials and its signing scope.
 * - STS AssumeRole and GetCallerIdentity (`POST /` with a form body), so several accounts are reached with role sessions;
 * - REST-JSON errors with the `x-amzn-errortype` header and a `{ "__type", "message" }` body, STS errors as `<ErrorResponse>` XML;
 * - injected faults (throttling, access denied, expired token, unavailability, malformed bodies) on any call and page,
 *   through `inject`, or through `faults`: the uniform switches every fake has (test/support/faults.ts).
 */

export type WireObject = Record<string, unknown>;

export type Operation =
  'ListBackupJobs' | 'ListRestoreJobs' | 'ListProtectedResources' | 'ListRestoreTestingPlans' | 'ListTags' | 'AssumeRole' | 'GetCallerIdentity';

/** What one account holds in one region, in the shapes AWS puts on the wire (timestamps as epoch seconds). */
export interface FakeRegion {
  backupJobs?: WireObject[];
  restoreJobs?: WireObject[];
  protectedResources?: WireObject[];
  restoreTestingPlans?: WireObject[];
  /** Tags by resource ARN, as ListTags returns them. */
  tags?: Record<string, Record<string, string>>;
  /** ARNs ListTags refuses, as it does for resource types AWS Backup does not fully manage. */
  untaggable?: string[];
}

export interface FakeUser {
  account: string;
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface FakeRole {
  arn: string;
  /** When set, AssumeRole without this external id is denied, as a trust policy with sts:ExternalId does. */
  externalId?: string;
}

export type FaultKind = 'throttle' | 'too-many-requests' | 'access-denied' | 'expired-token' | 'service-unavailable' | 'malformed';

export interface Fault {
  operation: Operation;
  kind: FaultKind;
  /** How many matching requests fail; the operation then behaves again. Unlimited when omitted. */
  times?: number;
  account?: string;
  region?: string;
  /** Only the request for this page (1-based) fails. */
  page?: number;
  /** For 'malformed': the body served instead of the page, or a change made to the page's JSON. */
  body?: string | ((page: WireObject) => unknown);
  retryAfterSeconds?: number;
  /** For 'throttle': the code to throttle with instead of the service's own (S3's SlowDown, RequestThrottled...). */
  code?: string;
}

export interface RecordedRequest {
  operation: Operation | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  /** The form parameters of an STS call. */
  form: Record<string, string>;
  accessKeyId: string | undefined;
  account: string | undefined;
  region: string | undefined;
  /** What the server answered. */
  status: number;
}

export interface FakeAwsBackupOptions {
  users: FakeUser[];
  roles?: FakeRole[];
  /** Account id -> region -> data. A region without data answers with empty lists, as AWS does. */
  data?: Record<string, Record<string, FakeRegion>>;
  /** The most items the service puts on one page, whatever maxResults asks for. */
  pageSize?: number;
  /** The service's clock for the 30-day window of ListBackupJobs. */
  now?: () => Date;
}

interface Session {
  account: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  /** The caller's ARN, as AWS names it in AccessDenied messages. */
  arn: string;
  userId: string;
}

interface Caller {
  accessKeyId: string;
  session: Session;
  region: string;
}

class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  /** The Retry-After header: seconds, or an HTTP-date. */
  readonly retryAfter: string | undefined;
  constructor(status: number, code: string, message: string, retryAfter?: string | number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter === undefined ? undefined : String(retryAfter);
  }
}

const THIRTY_DAYS_SECONDS = 30 * 86_400;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export class FakeAwsBackup {
  readonly requests: RecordedRequest[] = [];
  readonly faults = new FaultSwitch();
  readonly #server: Server;
  readonly #sessions = new Map<string, Session>();
  readonly #roles: FakeRole[];
  readonly #data: Record<string, Record<string, FakeRegion>>;
  readonly #faults: (Fault & { remaining: number })[] = [];
  readonly #pageSize: number;
  readonly #now: () => Date;
  #url = '';

  constructor(options: FakeAwsBackupOptions) {
    for (const user of options.users) {
      this.#sessions.set(user.accessKeyId, {
        account: user.account,
        secretAccessKey: user.secretAccessKey,
        arn: `arn:aws:iam::${user.account}:user/${user.userName}`,
        userId: `AIDA${user.accessKeyId.slice(4)}`,
      });
    }
    this.#roles = options.roles ?? [];
    this.#data = options.data ?? {};
    this.#pageSize = options.pageSize ?? 1000;
    this.#now = options.now ?? (() => new Date());
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
  }

  get url(): string {
    return this.#url;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Forgets injected faults and recorded requests, so one server serves many tests. */
  reset(): void {
    this.#faults.length = 0;
    this.faults.clear();
    this.requests.length = 0;
  }

  /** Ends every role session now, as if its duration had run out. */
  expireSessions(): void {
    for (const session of this.#sessions.values()) {
      if (session.sessionToken !== undefined) session.expiration = new Date(Date.now() - 1000);
    }
  }

  /** Role sessions issued so far, with their keys, so tests can look for them where they must not be. */
  issuedSessions(): { accessKeyId: string; secretAccessKey: string; sessionToken: string; account: string; arn: string }[] {
    return [...this.#sessions.entries()].flatMap(([accessKeyId, session]) =>
      session.sessionToken === undefined
        ? []
        : [{ accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken, account: session.account, arn: session.arn }],
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const isSts = req.method === 'POST' && url.pathname === '/';
    const form = isSts ? Object.fromEntries(new URLSearchParams(body.toString('utf8'))) : {};
    const operation = isSts ? stsOperation(form['Action']) : restOperation(req.method ?? 'GET', url.pathname);
    const recorded: RecordedRequest = {
      operation,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form,
      accessKeyId: undefined,
      account: undefined,
      region: undefined,
      status: 0,
    };
    this.requests.push(recorded);
    const reply = (status: number, headers: Record<string, string>, payload: string) => {
      recorded.status = status;
      res.writeHead(status, {
        'x-amzn-requestid': randomUUID(),
        date: new Date().toUTCString(),
        'content-length': String(Buffer.byteLength(payload)),
        ...headers,
      });
      res.end(payload);
    };
    const refuse = (refusal: Refusal) => {
      const retryAfter: Record<string, string> = refusal.retryAfter === undefined ? {} : { 'retry-after': refusal.retryAfter };
      if (isSts) {
        reply(refusal.status, { 'content-type': 'text/xml', ...retryAfter }, stsError(refusal));
      } else {
        const family = refusal.code.includes('Throttl') || refusal.code === 'TooManyRequestsException' ? 'availability' : 'service';
        reply(
          refusal.status,
          {
            'content-type': 'application/json',
            'x-amzn-errortype': `${refusal.code}:http://internal.amazon.com/coral/com.amazon.coral.${family}/`,
            ...retryAfter,
          },
          JSON.stringify({ __type: refusal.code, message: refusal.message }),
        );
      }
    };

    try {
      const caller = this.#authenticate(req, url, body, isSts ? 'sts' : 'backup');
      recorded.accessKeyId = caller.accessKeyId;
      recorded.account = caller.session.account;
      recorded.region = caller.region;
      if (operation === 'unknown') throw new Refusal(404, 'UnknownOperationException', `No operation matches ${req.method} ${url.pathname}`);
      const page = pageNumberOf(operation, url.searchParams, form);
      const fault = this.#takeFault(operation, caller, page);
      if (fault !== undefined && fault.kind !== 'malformed') throw refusalFor(fault, operation, caller, form);
      const wire = this.faults.take(operation);
      const wireRefusal = wire === undefined ? undefined : wireRefusalFor(wire, operation, caller);
      if (wireRefusal !== undefined) throw wireRefusal;
      if (isSts) {
        reply(200, { 'content-type': 'text/xml' }, this.#sts(operation, caller, form));
        return;
      }
      const payload = this.#rest(operation, caller, url);
      if (fault?.kind === 'malformed') {
        const served = typeof fault.body === 'function' ? JSON.stringify(fault.body(payload)) : (fault.body ?? '{"BackupJobs": [');
        reply(200, { 'content-type': 'application/json' }, served);
        return;
      }
      if (wire?.kind === 'malformed') {
        reply(200, { 'content-type': 'application/json' }, JSON.stringify(misshapen(payload)));
        return;
      }
      if (wire?.kind === 'truncated' || wire?.kind === 'stall') {
        recorded.status = 200;
        (wire.kind === 'truncated' ? sendTruncated : sendStalled)(
          res,
          200,
          { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() },
          JSON.stringify(payload),
        );
        return;
      }
      reply(200, { 'content-type': 'application/json' }, JSON.stringify(payload));
    } catch (error) {
      if (error instanceof Refusal) refuse(error);
      else throw error;
    }
  }

  #takeFault(operation: Operation, caller: Caller, page: number): Fault | undefined {
    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 &&
        f.operation === operation &&
        (f.account === undefined || f.account === caller.session.account) &&
        (f.region === undefined || f.region === caller.region) &&
        (f.page === undefined || f.page === page),
    );
    if (fault !== undefined) fault.remaining -= 1;
    return fault;
  }

  /** Verifies a SigV4 signature the way AWS does, so only the right secret key gets in. */
  #authenticate(req: IncomingMessage, url: URL, body: Buffer, service: string): Caller {
    const authorization = req.headers.authorization;
    if (authorization === undefined) throw new Refusal(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (match === null) throw new Refusal(400, 'IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature.');
    const [, accessKeyId = '', day = '', region = '', scopeService = '', signedHeaders = '', signature = ''] = match;
    const invalidToken =
      service === 'sts'
        ? new Refusal(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
        : new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    const session = this.#sessions.get(accessKeyId);
    if (session === undefined) throw invalidToken;
    if (session.sessionToken !== undefined && req.headers['x-amz-security-token'] !== session.sessionToken) throw invalidToken;
    if (scopeService !== service) throw new Refusal(400, 'InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);

    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const headerNames = signedHeaders.split(';');
    const canonicalHeaders = headerNames.map((name) => `${name}:${headerValue(req, name)}\n`).join('');
    const canonicalRequest = [req.method, canonicalPath(url), canonicalQuery(req.url ?? '/'), canonicalHeaders, signedHeaders, sha256Hex(body)].join('\n');
    const scope = `${day}/${region}/${scopeService}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = hmac(`AWS4${session.secretAccessKey}`, day);
    for (const part of [region, scopeService, 'aws4_request']) key = hmac(key, part);
    const expected = hmac(key, stringToSign);
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Refusal(
        403,
        service === 'sts' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    if (session.expiration !== undefined && session.expiration.getTime() <= Date.now()) {
      throw service === 'sts'
        ? new Refusal(400, 'ExpiredTokenException', 'The security token included in the request is expired')
        : new Refusal(403, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    return { accessKeyId, session, region };
  }

  #sts(operation: Operation, caller: Caller, form: Record<string, string>): string {
    if (operation === 'GetCallerIdentity') {
      return stsResponse(
        'GetCallerIdentity',
        `<Arn>${xml(caller.session.arn)}</Arn><UserId>${xml(caller.session.userId)}</UserId><Account>${caller.session.account}</Account>`,
      );
    }
    const roleArn = form['RoleArn'] ?? '';
    const sessionName = form['RoleSessionName'] ?? '';
    if (roleArn === '' || sessionName === '') throw new Refusal(400, 'ValidationError', 'RoleArn and RoleSessionName are required');
    const role = this.#roles.find((r) => r.arn === roleArn);
    if (role === undefined || (role.externalId !== undefined && role.externalId !== form['ExternalId'])) {
      throw new Refusal(403, 'AccessDenied', `User: ${caller.session.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (account === null) throw new Refusal(400, 'ValidationError', `${roleArn} is not a role ARN`);
    const [, accountId = '', roleName = ''] = account;
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const durationSeconds = Number(form['DurationSeconds'] ?? 3600);
    const roleId = `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase()}`;
    const session: Session = {
      account: accountId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiration: new Date(Date.now() + durationSeconds * 1000),
      arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
      userId: `${roleId}:${sessionName}`,
    };
    this.#sessions.set(accessKeyId, session);
    return stsResponse(
      'AssumeRole',
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${xml(session.sessionToken ?? '')}</SessionToken><Expiration>${session.expiration?.toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>${xml(session.userId)}</AssumedRoleId><Arn>${xml(session.arn)}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>`,
    );
  }

  #rest(operation: Operation, caller: Caller, url: URL): WireObject {
    const data = this.#data[caller.session.account]?.[caller.region] ?? {};
    const query = url.searchParams;
    switch (operation) {
      case 'ListBackupJobs': {
        const createdAfter = timestampParam(query, 'createdAfter');
        const createdBefore = timestampParam(query, 'createdBefore');
        const oldest = this.#now().getTime() / 1000 - THIRTY_DAYS_SECONDS;
        const jobs = (data.backupJobs ?? []).filter((job) => {
          const created = Number(job['CreationDate']);
          return (
            created >= oldest &&
            (createdAfter === undefined || created > createdAfter) &&
            (createdBefore === undefined || created < createdBefore) &&
            matches(job['State'], query.get('state')) &&
            matches(job['ResourceType'], query.get('resourceType')) &&
            matches(job['ResourceArn'], query.get('resourceArn'))
          );
        });
        return this.#page(operation, jobs, query, 'maxResults', 'nextToken', 'BackupJobs');
      }
      case 'ListRestoreJobs': {
        const createdAfter = timestampParam(query, 'createdAfter');
        const jobs = (data.restoreJobs ?? []).filter(
          (job) =>
            (createdAfter === undefined || Number(job['CreationDate']) > createdAfter) &&
            matches(job['Status'], query.get('status')) &&
            matches(job['ResourceType'], query.get('resourceType')) &&
            matches((job['CreatedBy'] as WireObject | undefined)?.['RestoreTestingPlanArn'], query.get('restoreTestingPlanArn')),
        );
        return this.#page(operation, jobs, query, 'maxResults', 'nextToken', 'RestoreJobs');
      }
      case 'ListProtectedResources':
        return this.#page(operation, data.protectedResources ?? [], query, 'maxResults', 'nextToken', 'Results');
      case 'ListRestoreTestingPlans':
        return this.#page(operation, data.restoreTestingPlans ?? [], query, 'MaxResults', 'NextToken', 'RestoreTestingPlans');
      case 'ListTags': {
        const arn = decodeURIComponent(url.pathname.replace(/^\/tags\//, '').replace(/\/$/, ''));
        if (data.untaggable?.includes(arn))
          throw new Refusal(400, 'InvalidParameterValueException', `Invalid ARN: ${arn}. Only resources fully managed by AWS Backup can be tagged or listed.`);
        const tags = data.tags?.[arn];
        const known = tags !== undefined || (data.protectedResources ?? []).some((resource) => resource['ResourceArn'] === arn);
        if (!known) throw new Refusal(404, 'ResourceNotFoundException', `Resource ${arn} not found`);
        return { Tags: tags ?? {} };
      }
      default:
        throw new Refusal(404, 'UnknownOperationException', `No operation ${operation}`);
    }
  }

  #page(operation: Operation, items: WireObject[], query: URLSearchParams, maxName: string, tokenName: string, listKey: string): WireObject {
    const maxResults = query.has(maxName) ? Number(query.get(maxName)) : 1000;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) {
      throw new Refusal(400, 'InvalidParameterValueException', `${maxName} must be between 1 and 1000`);
    }
    const token = query.get(tokenName);
    const position = token === null ? { offset: 0, page: 1 } : readToken(operation, token);
    const size = Math.min(maxResults, this.#pageSize);
    const slice = items.slice(position.offset, position.offset + size);
    const next = position.offset + size < items.length ? writeToken(operation, { offset: position.offset + size, page: position.page + 1 }) : undefined;
    return next === undefined ? { [listKey]: slice } : { [listKey]: slice, NextToken: next };
  }
}

export async function startFakeAwsBackup(options: FakeAwsBackupOptions): Promise<FakeAwsBackup> {
  return new FakeAwsBackup(options).listen();
}

function restOperation(method: string, path: string): Operation | 'unknown' {
  if (method !== 'GET') return 'unknown';
  const route = path.replace(/\/$/, '');
  if (route === '/backup-jobs') return 'ListBackupJobs';
  if (route === '/restore-jobs') return 'ListRestoreJobs';
  if (route === '/resources') return 'ListProtectedResources';
  if (route === '/restore-testing/plans') return 'ListRestoreTestingPlans';
  if (/^\/tags\/[^/]+$/.test(route)) return 'ListTags';
  return 'unknown';
}

function stsOperation(action: string | undefined): Operation | 'unknown' {
  return action === 'AssumeRole' || action === 'GetCallerIdentity' ? action : 'unknown';
}

function pageNumberOf(operation: Operation, query: URLSearchParams, form: Record<string, string>): number {
  const token = query.get('nextToken') ?? query.get('NextToken') ?? form['NextToken'];
  if (token === null || token === undefined) return 1;
  try {
    return readToken(operation, token).page;
  } catch {
    return 0;
  }
}

/** Tokens are opaque to clients, as AWS's are, and refused when forged or carried to another call. */
function writeToken(operation: Operation, position: { offset: number; page: number }): string {
  return Buffer.from(JSON.stringify({ operation, ...position })).toString('base64');
}

function readToken(operation: Operation, token: string): { offset: number; page: number } {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { operation?: unknown; offset?: unknown; page?: unknown };
    if (decoded.operation === operation && typeof decoded.offset === 'number' && typeof decoded.page === 'number')
      return { offset: decoded.offset, page: decoded.page };
  } catch {
    // fall through to the refusal below
  }
  throw new Refusal(400, 'InvalidParameterValueException', 'The NextToken is invalid');
}

function timestampParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) throw new Refusal(400, 'InvalidParameterValueException', `${name} is not a timestamp: ${value}`);
  return millis / 1000;
}

function matches(value: unknown, wanted: string | null): boolean {
  return wanted === null || value === wanted;
}

function refusalFor(fault: Fault, operation: Operation, caller: Caller, form: Record<string, string>): Refusal {
  const sts = operation === 'AssumeRole' || operation === 'GetCallerIdentity';
  switch (fault.kind) {
    case 'throttle':
      return new Refusal(
        fault.code === 'SlowDown' ? 503 : 400,
        fault.code ?? (sts ? 'Throttling' : 'ThrottlingException'),
        'Rate exceeded',
        fault.retryAfterSeconds,
      );
    case 'too-many-requests':
      return new Refusal(429, 'TooManyRequestsException', 'Too Many Requests', fault.retryAfterSeconds);
    case 'access-denied':
      return sts
        ? new Refusal(403, 'AccessDenied', `User: ${caller.session.arn} is not authorized to perform: sts:AssumeRole on resource: ${form['RoleArn'] ?? ''}`)
        : new Refusal(
            403,
            'AccessDeniedException',
            `User: ${caller.session.arn} is not authorized to perform: backup:${operation} because no identity-based policy allows the backup:${operation} action`,
          );
    case 'expired-token':
      return new Refusal(sts ? 400 : 403, 'ExpiredTokenException', 'The security token included in the request is expired');
    case 'service-unavailable':
      return new Refusal(503, 'ServiceUnavailableException', 'The request failed due to a temporary failure of the server.');
    case 'malformed':
      return new Refusal(500, 'InternalFailure', 'malformed faults are served as bodies');
  }
}

/** The uniform faults as AWS Backup (REST-JSON) and STS answer them; the body faults are served by the caller. */
function wireRefusalFor(fault: WireFault, operation: Operation, caller: Caller): Refusal | undefined {
  switch (fault.kind) {
    case 'throttle':
      return new Refusal(400, 'ThrottlingException', 'Rate exceeded', fault.retryAfter ?? '0');
    case 'unavailable':
      return new Refusal(503, 'ServiceUnavailableException', 'The request failed due to a temporary failure of the server.');
    case 'reject':
      return new Refusal(400, 'InvalidParameterValueException', `Invalid value for a parameter of ${operation}`);
    case 'auth':
      return new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'permission':
      return new Refusal(403, 'AccessDeniedException', `User: ${caller.session.arn} is not authorized to perform: backup:${operation}`);
    case 'not-found':
      return new Refusal(404, 'ResourceNotFoundException', `The resource ${operation} asked for was not found`);
    default:
      return undefined;
  }
}

/** A page whose first item carries a string field as a number: the SDK passes it through, the mapping must name it. */
function misshapen(payload: WireObject): WireObject {
  const [listKey, items] = Object.entries(payload).find(([, value]) => Array.isArray(value)) ?? [];
  if (listKey === undefined || !Array.isArray(items) || items.length === 0) return { ...payload, [listKey ?? 'Items']: 'not a list' };
  const first = items[0] as WireObject;
  const field = Object.keys(first).find((key) => typeof first[key] === 'string') ?? 'Id';
  return { ...payload, [listKey]: [{ ...first, [field]: 42 }, ...items.slice(1)] };
}

function stsResponse(action: string, result: string): string {
  return `<${action}Response xmlns="${STS_NAMESPACE}">\n  <${action}Result>${result}</${action}Result>\n  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>\n</${action}Response>\n`;
}

function stsError(refusal: Refusal): string {
  const type = refusal.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${STS_NAMESPACE}">\n  <Error><Type>${type}</Type><Code>${refusal.code}</Code><Message>${xml(refusal.message)}</Message></Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha256Hex(data: string | Buffer): string {
  return data.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding, as SigV4 canonical forms use it. */
function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Services other than S3 sign the path as sent, encoded once more. */
function canonicalPath(url: URL): string {
  return url.pathname
    .split('/')
    .map((segment) => uriEscape(segment))
    .join('/');
}

function canonicalQuery(rawUrl: string): string {
  const question = rawUrl.indexOf('?');
  if (question < 0) return '';
  return rawUrl
    .slice(question + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = decodeURIComponent(equals < 0 ? pair : pair.slice(0, equals));
      const value = equals < 0 ? '' : decodeURIComponent(pair.slice(equals + 1));
      return [uriEscape(name), uriEscape(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}
