import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated } from './faults.ts';

/**
 * A local IAM + STS that speaks the AWS Query protocol as AWS does: form-encoded POSTs to `/` signed with
 * SigV4 (the signature is verified), XML results wrapped in `<{Action}Response><{Action}Result>`, XML error
 * bodies with IAM's status codes, Marker paging that may return fewer items than MaxItems while IsTruncated
 * is true, and a credential report generated asynchronously (STARTED, then COMPLETE) as a 22-column CSV.
 * Faults are injected per action (`inject`), or through `faults`, the uniform switches every fake has
 * (test/support/faults.ts), by action name. The real SDK clients are pointed at it with `endpoint`.
 */

export interface FakeAccessKey {
  id: string;
  status: 'Active' | 'Inactive';
  createdAt: string;
  lastUsed?: { at: string; region: string; service: string };
}

export interface FakeUser {
  name: string;
  createdAt: string;
  path?: string;
  password?: { changedAt: string; lastUsedAt?: string };
  mfaDevices?: string[];
  accessKeys?: FakeAccessKey[];
  groups?: string[];
  attachedPolicies?: string[];
  inlinePolicies?: string[];
  /** Served by ListUserTags, paged like every IAM list. */
  tags?: { key: string; value: string }[];
}

export interface FakeGroup {
  attachedPolicies?: string[];
  inlinePolicies?: string[];
}

export interface FakeAccount {
  id: string;
  createdAt: string;
  rootMfa?: boolean;
  rootPasswordLastUsedAt?: string;
  users: FakeUser[];
  groups?: Record<string, FakeGroup>;
  /** GenerateCredentialReport calls answered STARTED/INPROGRESS before the report is COMPLETE; default 1. */
  reportPollsBeforeComplete?: number;
  /** Served as the report instead of one generated from `users` (for edge values and malformed reports). */
  reportCsv?: string;
}

export interface FakeRole {
  arn: string;
  externalId?: string;
}

export interface FakeIamOptions {
  accounts: FakeAccount[];
  /** The long-term keys the connector is configured with, and the account they belong to. */
  credentials: { accessKeyId: string; secretAccessKey: string; account: string };
  roles?: FakeRole[];
  /** The most items one page holds, whatever MaxItems asks: IAM returns short pages too. */
  maxPageSize?: number;
  /**
   * Renders an account's ListUsers members once and serves every page from them. For benchmarks with 100k users,
   * where rendering the whole account on each of 100 pages would cost more than the client being measured; only
   * for accounts whose users do not change while served.
   */
  renderUsersOnce?: boolean;
}

export interface FakeError {
  code: string;
  status: number;
  message: string;
  type?: 'Sender' | 'Receiver';
  /** The Retry-After header of the answer. */
  retryAfter?: string;
}

export const FAKE_ERRORS = {
  throttling: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  accessDenied: { code: 'AccessDenied', status: 403, message: 'User: arn:aws:iam::111111111111:user/isms is not authorized to perform this action' },
  invalidClientTokenId: { code: 'InvalidClientTokenId', status: 403, message: 'The security token included in the request is invalid.' },
  serviceFailure: { code: 'ServiceFailure', status: 500, message: 'Request processing has failed due to some unknown error.', type: 'Receiver' },
} satisfies Record<string, FakeError>;

export interface FakeFault {
  /** The action to disturb; any action when absent. */
  action?: string;
  /** How many matching requests to disturb; forever when absent. */
  times?: number;
  error?: FakeError;
  /** A 200 response with this body instead of the real one. */
  body?: string;
  /** Rewrites the real 200 XML body (to drop or garble a field). */
  rewrite?: (xml: string) => string;
}

export interface FakeRequest {
  action: string;
  /** The account the signing key belongs to; undefined when the request was not authenticated. */
  account: string | undefined;
  params: Record<string, string>;
}

interface Caller {
  account: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: number;
  arn: string;
}

interface ReportState {
  polls: number;
  csv?: string;
  generatedAt?: string;
}

class Failure extends Error {
  readonly fault: FakeError;
  constructor(fault: FakeError) {
    super(fault.message);
    this.fault = fault;
  }
}

const IAM_VERSION = '2010-05-08';
const STS_VERSION = '2011-06-15';
const IAM_NS = `https://iam.amazonaws.com/doc/${IAM_VERSION}/`;
const STS_NS = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
const STS_ACTIONS = new Set(['AssumeRole', 'GetCallerIdentity']);

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** `<Name>value</Name>`; undefined leaves the element out, as IAM does for absent optional members. */
const el = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${value}</${name}>`);
const text = (name: string, value: string | undefined) => el(name, value === undefined ? undefined : escapeXml(value));
const members = (name: string, items: string[]) => el(name, items.map((item) => `<member>${item}</member>`).join(''));
/** IAM writes XML timestamps as ISO 8601 in UTC without fractions. */
const xmlTime = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** The credential report writes `2014-09-01T22:28:48+00:00`. */
const reportTime = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export const REPORT_HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
  'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
  'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

/** The uniform faults as IAM and STS answer them; body faults are served by the handler. */
const WIRE_ERRORS = {
  throttle: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  unavailable: { code: 'ServiceFailure', status: 500, message: 'Request processing has failed due to some unknown error.', type: 'Receiver' },
  reject: { code: 'InvalidAction', status: 400, message: 'The action or operation requested is invalid. Verify that the action is typed correctly.' },
  auth: FAKE_ERRORS.invalidClientTokenId,
  permission: FAKE_ERRORS.accessDenied,
  'not-found': { code: 'NoSuchEntity', status: 404, message: 'The entity could not be found.' },
} satisfies Record<string, FakeError>;

export class FakeIam {
  readonly requests: FakeRequest[] = [];
  readonly faults = new FaultSwitch();
  readonly accounts: Map<string, FakeAccount>;
  readonly #options: FakeIamOptions;
  readonly #callers = new Map<string, Caller>();
  readonly #reports = new Map<string, ReportState>();
  readonly #renderedUsers = new WeakMap<FakeAccount, string[]>();
  #faults: FakeFault[] = [];
  #server: Server | undefined;

  constructor(options: FakeIamOptions) {
    this.#options = options;
    this.accounts = new Map(options.accounts.map((account) => [account.id, account]));
    const { accessKeyId, secretAccessKey, account } = options.credentials;
    this.#callers.set(accessKeyId, { account, secretAccessKey, arn: `arn:aws:iam::${account}:user/isms-collector` });
  }

  /** Starts listening on 127.0.0.1 at a random port and returns the endpoint URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  inject(fault: FakeFault): void {
    this.#faults.push({ ...fault });
  }

  /** Loads fresh accounts and forgets faults, recorded requests, reports and issued sessions, so one server serves many tests. */
  reset(accounts: FakeAccount[] = [...this.accounts.values()]): void {
    this.#faults = [];
    this.faults.clear();
    this.requests.length = 0;
    this.#reports.clear();
    this.accounts.clear();
    for (const account of accounts) this.accounts.set(account.id, account);
    for (const [key, caller] of this.#callers) if (caller.sessionToken !== undefined) this.#callers.delete(key);
  }

  /** The secret keys of the sessions AssumeRole issued, to prove they never reach evidence. */
  issuedSecrets(): string[] {
    return [...this.#callers.values()].filter((caller) => caller.sessionToken !== undefined).map((caller) => caller.secretAccessKey);
  }

  count(action: string): number {
    return this.requests.filter((request) => request.action === action).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    const action = params.Action ?? '';
    const sts = STS_ACTIONS.has(action);
    const ns = sts ? STS_NS : IAM_NS;
    const request: FakeRequest = { action, account: undefined, params };
    this.requests.push(request);
    try {
      if (req.method !== 'POST' || req.url !== '/')
        throw new Failure({ code: 'InvalidAction', status: 400, message: `${req.method} ${req.url} is not an AWS Query request` });
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
        throw new Failure({ code: 'InvalidParameterValue', status: 400, message: 'Content-Type must be application/x-www-form-urlencoded' });
      }
      if (params.Version !== (sts ? STS_VERSION : IAM_VERSION))
        throw new Failure({ code: 'InvalidParameterValue', status: 400, message: `Version ${params.Version} is not supported` });
      const caller = this.#authenticate(req, body, sts ? 'sts' : 'iam');
      request.account = caller.account;
      const fault = this.#takeFault(action);
      if (fault?.error) throw new Failure(fault.error);
      if (fault?.body !== undefined) return this.#send(res, 200, fault.body);
      const wire = this.faults.take(action);
      if (wire !== undefined && wire.kind in WIRE_ERRORS) {
        const error: FakeError = WIRE_ERRORS[wire.kind as keyof typeof WIRE_ERRORS];
        throw new Failure(wire.kind === 'throttle' ? { ...error, retryAfter: wire.retryAfter ?? '0' } : error);
      }
      const result = sts ? this.#sts(action, params, caller) : this.#iam(action, params, this.#account(caller.account));
      let xml = `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result>${this.#metadata()}</${action}Response>`;
      // Malformed: the first member of the list loses its first field, as a broken proxy or a changed API might.
      if (wire?.kind === 'malformed') xml = xml.replace(/<member><(\w+)>[^<]*<\/\1>/, '<member>');
      if (wire?.kind === 'truncated' || wire?.kind === 'stall') {
        return (wire.kind === 'truncated' ? sendTruncated : sendStalled)(
          res,
          200,
          { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomBytes(16).toString('hex') },
          xml,
        );
      }
      this.#send(res, 200, fault?.rewrite ? fault.rewrite(xml) : xml);
    } catch (error) {
      const fault: FakeError =
        error instanceof Failure ? error.fault : { code: 'ServiceFailure', status: 500, message: String(error), type: 'Receiver' as const };
      const xml =
        `<ErrorResponse xmlns="${ns}"><Error><Type>${fault.type ?? 'Sender'}</Type>${text('Code', fault.code)}${text('Message', fault.message)}</Error>` +
        `<RequestId>${randomBytes(16).toString('hex')}</RequestId></ErrorResponse>`;
      this.#send(res, fault.status, xml, fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter });
    }
  }

  #send(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}) {
    res.writeHead(status, {
      'Content-Type': 'text/xml',
      'Content-Length': Buffer.byteLength(xml),
      'x-amzn-RequestId': randomBytes(16).toString('hex'),
      ...headers,
    });
    res.end(xml);
  }

  #metadata() {
    return `<ResponseMetadata><RequestId>${randomBytes(16).toString('hex')}</RequestId></ResponseMetadata>`;
  }

  #takeFault(action: string): FakeFault | undefined {
    const index = this.#faults.findIndex((fault) => fault.action === undefined || fault.action === action);
    const fault = this.#faults[index];
    if (!fault) return undefined;
    if (fault.times !== undefined && --fault.times <= 0) this.#faults.splice(index, 1);
    return fault;
  }

  /** Verifies the SigV4 signature the SDK computed, as AWS does, with the secret of the access key it names. */
  #authenticate(req: IncomingMessage, body: Buffer, service: string): Caller {
    const header = req.headers.authorization ?? '';
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      header,
    );
    if (!match) throw new Failure({ code: 'MissingAuthenticationToken', status: 403, message: 'Request is missing Authentication Token' });
    const [, accessKeyId = '', date = '', region = '', signedService = '', signedHeaders = '', signature = ''] = match;
    const caller = this.#callers.get(accessKeyId);
    if (!caller) throw new Failure(FAKE_ERRORS.invalidClientTokenId);
    if (caller.sessionToken !== undefined) {
      if (req.headers['x-amz-security-token'] !== caller.sessionToken) throw new Failure(FAKE_ERRORS.invalidClientTokenId);
      if ((caller.expiresAt ?? 0) <= Date.now())
        throw new Failure({ code: 'ExpiredToken', status: 403, message: 'The security token included in the request is expired' });
    }
    if (signedService !== service)
      throw new Failure({ code: 'SignatureDoesNotMatch', status: 403, message: `Credential should be scoped to correct service: '${service}'.` });
    const canonicalHeaders = signedHeaders
      .split(';')
      .map(
        (name) =>
          `${name}:${String(req.headers[name] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const canonicalRequest = [req.method, req.url, '', canonicalHeaders, signedHeaders, sha256(body)].join('\n');
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const scope = `${date}/${region}/${signedService}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${caller.secretAccessKey}`, date), region), signedService), 'aws4_request');
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw new Failure({
        code: 'SignatureDoesNotMatch',
        status: 403,
        message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      });
    }
    return caller;
  }

  #account(id: string): FakeAccount {
    const account = this.accounts.get(id);
    if (!account) throw new Failure({ code: 'AccessDenied', status: 403, message: `account ${id} is not served by this fake` });
    return account;
  }

  #sts(action: string, params: Record<string, string>, caller: Caller): string {
    if (action === 'GetCallerIdentity') return text('Arn', caller.arn) + text('UserId', 'AIDAFAKECALLER') + text('Account', caller.account);
    const role = (this.#options.roles ?? []).find((candidate) => candidate.arn === params.RoleArn);
    if (!role || role.externalId !== params.ExternalId || !params.RoleSessionName) {
      throw new Failure({
        code: 'AccessDenied',
        status: 403,
        message: `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`,
      });
    }
    const account = role.arn.split(':')[4] ?? '';
    const roleName = role.arn.split('/').pop() ?? '';
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const issued: Caller = {
      account,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiresAt: Date.now() + 3600_000,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${params.RoleSessionName}`,
    };
    this.#callers.set(accessKeyId, issued);
    return (
      el('AssumedRoleUser', text('AssumedRoleId', `AROAFAKE:${params.RoleSessionName}`) + text('Arn', issued.arn)) +
      el(
        'Credentials',
        text('AccessKeyId', accessKeyId) +
          text('SecretAccessKey', issued.secretAccessKey) +
          text('SessionToken', issued.sessionToken) +
          text('Expiration', xmlTime(new Date(issued.expiresAt ?? 0).toISOString())),
      )
    );
  }

  #iam(action: string, params: Record<string, string>, account: FakeAccount): string {
    const user = () => {
      const found = account.users.find((candidate) => candidate.name === params.UserName);
      if (!found) throw new Failure({ code: 'NoSuchEntity', status: 404, message: `The user with name ${params.UserName} cannot be found.` });
      return found;
    };
    const group = () => {
      const found = account.groups?.[params.GroupName ?? ''];
      if (!found) throw new Failure({ code: 'NoSuchEntity', status: 404, message: `The group with name ${params.GroupName} cannot be found.` });
      return found;
    };
    const policy = (name: string) => el('member', text('PolicyName', name) + text('PolicyArn', `arn:aws:iam::aws:policy/${name}`));
    switch (action) {
      case 'ListUsers':
        return this.#page('Users', this.#userMembers(account), params);
      case 'ListGroupsForUser':
        return this.#page(
          'Groups',
          (user().groups ?? []).map((name) =>
            el(
              'member',
              text('Path', '/') +
                text('GroupName', name) +
                text('GroupId', `AGPA${name.toUpperCase()}`) +
                text('Arn', `arn:aws:iam::${account.id}:group/${name}`) +
                text('CreateDate', xmlTime(account.createdAt)),
            ),
          ),
          params,
        );
      case 'ListAttachedUserPolicies':
        return this.#page('AttachedPolicies', (user().attachedPolicies ?? []).map(policy), params);
      case 'ListUserPolicies':
        return this.#page('PolicyNames', (user().inlinePolicies ?? []).map(escapeXml), params, true);
      case 'ListAttachedGroupPolicies':
        return this.#page('AttachedPolicies', (group().attachedPolicies ?? []).map(policy), params);
      case 'ListGroupPolicies':
        return this.#page('PolicyNames', (group().inlinePolicies ?? []).map(escapeXml), params, true);
      case 'ListAccessKeys': {
        const owner = user();
        return this.#page(
          'AccessKeyMetadata',
          (owner.accessKeys ?? []).map((key) =>
            el('member', text('UserName', owner.name) + text('AccessKeyId', key.id) + text('Status', key.status) + text('CreateDate', xmlTime(key.createdAt))),
          ),
          params,
        );
      }
      case 'ListUserTags':
        return this.#page(
          'Tags',
          (user().tags ?? []).map((tag) => el('member', text('Key', tag.key) + text('Value', tag.value))),
          params,
        );
      case 'ListMFADevices': {
        const owner = user();
        return this.#page(
          'MFADevices',
          (owner.mfaDevices ?? []).map((serial) =>
            el('member', text('UserName', owner.name) + text('SerialNumber', serial) + text('EnableDate', xmlTime(owner.createdAt))),
          ),
          params,
        );
      }
      case 'GetLoginProfile': {
        const owner = user();
        if (!owner.password) throw new Failure({ code: 'NoSuchEntity', status: 404, message: `Login Profile for User ${owner.name} cannot be found.` });
        return el(
          'LoginProfile',
          text('UserName', owner.name) + text('CreateDate', xmlTime(owner.password.changedAt)) + text('PasswordResetRequired', 'false'),
        );
      }
      case 'GetAccessKeyLastUsed': {
        for (const owner of account.users) {
          const key = owner.accessKeys?.find((candidate) => candidate.id === params.AccessKeyId);
          if (!key) continue;
          const used = key.lastUsed;
          const lastUsed = used
            ? text('LastUsedDate', xmlTime(used.at)) + text('ServiceName', used.service) + text('Region', used.region)
            : text('ServiceName', 'N/A') + text('Region', 'N/A');
          return text('UserName', owner.name) + el('AccessKeyLastUsed', lastUsed);
        }
        throw new Failure({ code: 'AccessDenied', status: 403, message: `The access key ${params.AccessKeyId} does not belong to account ${account.id}` });
      }
      case 'GenerateCredentialReport':
        return this.#generateReport(account);
      case 'GetCredentialReport': {
        const report = this.#reports.get(account.id);
        if (!report)
          throw new Failure({
            code: 'ReportNotPresent',
            status: 410,
            message: 'Credential report not present. Use GenerateCredentialReport to generate a report.',
          });
        if (report.csv === undefined) throw new Failure({ code: 'ReportInProgress', status: 404, message: 'Credential report generation is in progress.' });
        return (
          text('Content', Buffer.from(report.csv).toString('base64')) +
          text('ReportFormat', 'text/csv') +
          text('GeneratedTime', xmlTime(report.generatedAt ?? ''))
        );
      }
      default:
        throw new Failure({ code: 'InvalidAction', status: 400, message: `Could not find operation ${action} for version ${IAM_VERSION}` });
    }
  }

  #userXml(account: FakeAccount, user: FakeUser) {
    return (
      text('Path', user.path ?? '/') +
      text('UserName', user.name) +
      text('UserId', `AIDA${createHash('md5').update(user.name).digest('hex').slice(0, 17).toUpperCase()}`) +
      text('Arn', `arn:aws:iam::${account.id}:user${user.path ?? '/'}${user.name}`) +
      text('CreateDate', xmlTime(user.createdAt)) +
      (user.password?.lastUsedAt ? text('PasswordLastUsed', xmlTime(user.password.lastUsedAt)) : '')
    );
  }

  #userMembers(account: FakeAccount): string[] {
    const rendered = this.#options.renderUsersOnce ? this.#renderedUsers.get(account) : undefined;
    if (rendered) return rendered;
    const members = account.users.map((entry) => el('member', this.#userXml(account, entry)));
    if (this.#options.renderUsersOnce) this.#renderedUsers.set(account, members);
    return members;
  }

  /** Pages as IAM does: an opaque Marker, and at most maxPageSize items even when MaxItems asks for more. */
  #page(name: string, items: string[], params: Record<string, string>, raw = false): string {
    const maxItems = Number(params.MaxItems ?? 100);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000)
      throw new Failure({ code: 'ValidationError', status: 400, message: 'MaxItems must be between 1 and 1000' });
    let offset = 0;
    if (params.Marker !== undefined) {
      const decoded = /^page:(\d+)$/.exec(Buffer.from(params.Marker, 'base64url').toString('utf8'));
      if (!decoded) throw new Failure({ code: 'InvalidInput', status: 400, message: 'Invalid Marker' });
      offset = Number(decoded[1]);
    }
    const size = Math.min(maxItems, this.#options.maxPageSize ?? maxItems);
    const slice = items.slice(offset, offset + size);
    const truncated = offset + size < items.length;
    const list = raw ? members(name, slice) : el(name, slice.join(''));
    return (
      (slice.length === 0 ? `<${name}/>` : list) +
      text('IsTruncated', String(truncated)) +
      (truncated ? text('Marker', Buffer.from(`page:${offset + size}`).toString('base64url')) : '')
    );
  }

  #generateReport(account: FakeAccount): string {
    let report = this.#reports.get(account.id);
    if (!report) {
      report = { polls: 0 };
      this.#reports.set(account.id, report);
    }
    if (report.csv === undefined) {
      report.polls++;
      if (report.polls <= (account.reportPollsBeforeComplete ?? 1)) {
        return report.polls === 1
          ? text('State', 'STARTED') + text('Description', 'No report exists. Starting a new report generation task')
          : text('State', 'INPROGRESS');
      }
      report.csv = account.reportCsv ?? credentialReportCsv(account);
      report.generatedAt = new Date().toISOString();
    }
    return text('State', 'COMPLETE');
  }
}

/** The report IAM would write for the account now: the root row first, then users, keys ordered by creation. */
export function credentialReportCsv(account: FakeAccount): string {
  const time = (iso: string | undefined, none = 'N/A') => (iso ? reportTime(iso) : none);
  const root = [
    '<root_account>',
    `arn:aws:iam::${account.id}:root`,
    time(account.createdAt),
    'not_supported',
    time(account.rootPasswordLastUsedAt, 'no_information'),
    'not_supported',
    'not_supported',
    String(account.rootMfa ?? false),
    ...['false', 'N/A', 'N/A', 'N/A', 'N/A', 'false', 'N/A', 'N/A', 'N/A', 'N/A', 'false', 'N/A', 'false', 'N/A'],
  ];
  const rows = account.users.map((user) => {
    const keys = [...(user.accessKeys ?? [])].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const slot = (key: FakeAccessKey | undefined) =>
      key
        ? [String(key.status === 'Active'), time(key.createdAt), time(key.lastUsed?.at), key.lastUsed?.region ?? 'N/A', key.lastUsed?.service ?? 'N/A']
        : ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
    return [
      user.name,
      `arn:aws:iam::${account.id}:user${user.path ?? '/'}${user.name}`,
      time(user.createdAt),
      String(user.password !== undefined),
      user.password ? time(user.password.lastUsedAt, 'no_information') : 'N/A',
      time(user.password?.changedAt),
      'N/A',
      String((user.mfaDevices ?? []).length > 0),
      ...slot(keys[0]),
      ...slot(keys[1]),
      ...['false', 'N/A', 'false', 'N/A'],
    ];
  });
  return [REPORT_HEADER, root.join(','), ...rows.map((row) => row.join(','))].join('\n') + '\n';
}
