import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated } from './faults.ts';

/**
 * A local BambooHR speaking the custom-report endpoint as the real API does:
 * `POST /api/gateway.php/{subdomain}/v1/reports/custom?format=JSON&onlyCurrent=false`, HTTP Basic auth with the
 * API key as user name (any password), a JSON body `{title, fields}`, and a JSON answer
 * `{title, fields: [{id, type, name}], employees: [{id, ...}]}` holding only the asked fields, every value a
 * string or null. Errors carry their reason in the `X-BambooHR-Error-Message` header over an empty body;
 * throttling is 429 or 503 with `Retry-After` in seconds. Faults are injected through `faults` (the uniform switches,
 * operation `reports/custom`), and BambooHR's own quirks through `quirks`.
 */

/** An employee as BambooHR stores it: field name to value, every value a string or null. */
export type FakeEmployee = { id: string } & Record<string, string | null>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

export interface FakeBambooHrQuirks {
  /** Put the caller's Authorization header into error headers and bodies, as a careless proxy might. */
  echoCredentials?: boolean;
  /** Fields the API user may not see: left out of `fields` and of every employee. */
  hiddenFields?: string[];
}

export const REPORT_OPERATION = 'reports/custom';

export interface FakeBambooHr {
  /** Pass as the connector's `baseUrl`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  employees: FakeEmployee[];
  readonly faults: FaultSwitch;
  quirks: FakeBambooHrQuirks;
  close(): Promise<void>;
}

/** BambooHR's own names and types for the fields a report may ask for. */
const KNOWN_FIELDS: Record<string, { type: string; name: string }> = {
  id: { type: 'int', name: 'EEID' },
  employeeNumber: { type: 'employee_number', name: 'Employee #' },
  firstName: { type: 'text', name: 'First Name' },
  lastName: { type: 'text', name: 'Last Name' },
  displayName: { type: 'text', name: 'Display name' },
  workEmail: { type: 'email', name: 'Work Email' },
  homeEmail: { type: 'email', name: 'Home Email' },
  status: { type: 'status', name: 'Status' },
  employmentHistoryStatus: { type: 'list', name: 'Employment Status' },
  terminationDate: { type: 'date', name: 'Termination Date' },
  hireDate: { type: 'date', name: 'Hire date' },
  supervisorEmail: { type: 'email', name: 'Supervisor email' },
  lastChanged: { type: 'timestamp', name: 'Last changed' },
  department: { type: 'list', name: 'Department' },
  jobTitle: { type: 'list', name: 'Job Title' },
  location: { type: 'list', name: 'Location' },
  division: { type: 'list', name: 'Division' },
};

const REPORT_PATH = /^\/api\/gateway\.php\/([^/]+)\/v1\/reports\/custom\/?$/;

export async function startFakeBambooHr(options: { subdomain: string; apiKey: string; employees: FakeEmployee[] }): Promise<FakeBambooHr> {
  const requests: RecordedRequest[] = [];
  const state = { employees: options.employees, quirks: {} as FakeBambooHrQuirks };
  const faults = new FaultSwitch();

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        accept: req.headers.accept,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
      });
      serveReport(req, res, url, body);
    });
  });

  function fail(res: ServerResponse, status: number, message: string | undefined, extraHeaders: Record<string, string> = {}): void {
    const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=UTF-8', ...extraHeaders };
    if (message !== undefined) headers['X-BambooHR-Error-Message'] = message;
    res.writeHead(status, headers).end();
  }

  function serveReport(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const route = REPORT_PATH.exec(url.pathname);
    if (route === null) return fail(res, 404, undefined);
    if (route[1] !== options.subdomain) return fail(res, 404, undefined);
    if (req.method !== 'POST') return fail(res, 405, undefined, { Allow: 'POST' });

    const quirks = state.quirks;
    const echo = quirks.echoCredentials === true ? ` (${req.headers.authorization ?? ''})` : '';
    const fault = faults.take(REPORT_OPERATION);
    if (fault?.kind === 'throttle') return fail(res, 429, `Rate limit exceeded${echo}`, { 'Retry-After': fault.retryAfter ?? '0' });
    if (fault?.kind === 'auth' || apiKeyOf(req.headers.authorization) !== options.apiKey) return fail(res, 401, undefined);
    if (fault?.kind === 'permission') return fail(res, 403, `You do not have access to this resource${echo}`);
    if (fault?.kind === 'not-found') return fail(res, 404, undefined);
    if (fault?.kind === 'unavailable') return fail(res, 500, 'Internal error');
    if (fault?.kind === 'reject') return fail(res, 400, 'Invalid request');

    if ((url.searchParams.get('format') ?? '').toUpperCase() !== 'JSON') return fail(res, 400, 'Invalid format');
    let request: { title?: unknown; fields?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return fail(res, 400, 'Malformed JSON body');
    }
    if (!Array.isArray(request.fields) || !request.fields.every((field) => typeof field === 'string')) return fail(res, 400, 'Missing fields');
    const unknown = request.fields.find((field) => KNOWN_FIELDS[field] === undefined);
    if (unknown !== undefined) return fail(res, 400, `Invalid field: "${unknown}"`);

    const hidden = new Set(quirks.hiddenFields ?? []);
    const fields = (request.fields as string[]).filter((field) => !hidden.has(field));
    const report = {
      title: typeof request.title === 'string' ? request.title : 'Report',
      fields: fields.map((id) => ({ id, ...KNOWN_FIELDS[id] })),
      employees: state.employees.map((employee) => ({ id: employee.id, ...Object.fromEntries(fields.map((field) => [field, employee[field] ?? null])) })),
    };
    // A malformed report: an employee id that is not a string of digits.
    if (fault?.kind === 'malformed' && report.employees[0] !== undefined) (report.employees[0] as Record<string, unknown>)['id'] = 42;
    const text = JSON.stringify(report);
    const headers = { 'Content-Type': 'application/json; charset=utf-8' };
    if (fault?.kind === 'truncated') return sendTruncated(res, 200, headers, text);
    if (fault?.kind === 'stall') return sendStalled(res, 200, headers, text);
    res.writeHead(200, headers);
    res.end(text);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/gateway.php`,
    requests,
    get employees() {
      return state.employees;
    },
    set employees(employees) {
      state.employees = employees;
    },
    faults,
    get quirks() {
      return state.quirks;
    },
    set quirks(quirks) {
      state.quirks = quirks;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function apiKeyOf(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(0, colon);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
