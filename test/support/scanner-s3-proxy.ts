import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated, type Fault } from './faults.ts';

/**
 * A pass-through HTTP proxy in front of moto's S3 for what moto cannot be made to do: S3's throttling answer
 * (`503 SlowDown` with S3's XML error body and request-id headers), bodies that are not what S3 sends, and a listing
 * whose ETag no longer matches the object. Requests are forwarded byte for byte with their Host header, so moto still
 * sees what the SDK signed. Besides its own `fail` and `rewrite`, it has the uniform switches every fake has
 * (`faults`, test/support/faults.ts), by operation: ListObjectsV2 and GetObject.
 */
export interface S3Request {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

export interface S3Fault {
  matches(request: S3Request): boolean;
  /** How many matching requests it answers; later ones pass. */
  times: number;
  status: number;
  code: string;
  message: string;
}

export interface S3Rewrite {
  matches(request: S3Request): boolean;
  /** Changes the body moto answered with (a successful answer only). */
  body(text: string): string;
}

export interface S3Proxy {
  readonly endpoint: string;
  /** Every request seen, in order. */
  readonly requests: S3Request[];
  fail(fault: S3Fault): void;
  rewrite(rewrite: S3Rewrite): void;
  readonly faults: FaultSwitch;
  /** Forgets faults, rewrites and requests seen. */
  reset(): void;
  close(): Promise<void>;
}

/** ListObjectsV2 is a GET on the bucket with `list-type=2`; with path-style URLs the bucket is the first segment. */
export function isListing(request: S3Request): boolean {
  return request.method === 'GET' && request.url.searchParams.get('list-type') === '2';
}

export function isGetObject(request: S3Request): boolean {
  return request.method === 'GET' && request.url.searchParams.get('x-id') === 'GetObject';
}

function operationOf(request: S3Request): string {
  return isListing(request) ? 'ListObjectsV2' : isGetObject(request) ? 'GetObject' : `${request.method} ${request.url.pathname}`;
}

/** The uniform faults as S3 answers them (REST-XML error bodies); body faults are made of what moto answered. */
const REFUSALS: Partial<Record<Fault['kind'], { status: number; code: string; message: string }>> = {
  throttle: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  unavailable: { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  reject: { status: 400, code: 'InvalidArgument', message: 'Invalid Argument' },
  auth: { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' },
  permission: { status: 403, code: 'AccessDenied', message: 'Access Denied' },
  'not-found': { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist' },
};

function errorBody(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`;
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const upstream = new URL(target);
  const faults: S3Fault[] = [];
  const rewrites: S3Rewrite[] = [];
  const requests: S3Request[] = [];
  const switches = new FaultSwitch();

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, seen: S3Request, wire?: Fault) => {
    const rewrite = rewrites.find((candidate) => candidate.matches(seen));
    if (wire !== undefined) {
      const proxied = request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const headers = Object.fromEntries(
              Object.entries(answer.headers).filter(
                (entry): entry is [string, string] => typeof entry[1] === 'string' && !entry[0].startsWith('x-amz-checksum-'),
              ),
            );
            let body = Buffer.concat(parts);
            // Malformed: the first listed object loses its Key.
            if (wire.kind === 'malformed') body = Buffer.from(body.toString('utf8').replace(/<Key>[^<]*<\/Key>/, ''));
            if (wire.kind === 'truncated') return sendTruncated(outgoing, answer.statusCode ?? 200, headers, body);
            if (wire.kind === 'stall') return sendStalled(outgoing, answer.statusCode ?? 200, headers, body);
            outgoing.writeHead(answer.statusCode ?? 200, { ...headers, 'content-length': String(body.length) });
            outgoing.end(body);
          });
        },
      );
      incoming.pipe(proxied);
      return;
    }
    const proxied = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        if (rewrite === undefined || (answer.statusCode ?? 500) >= 300) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const body = Buffer.from(rewrite.body(Buffer.concat(parts).toString('utf8')), 'utf8');
          const headers: IncomingHttpHeaders = { ...answer.headers, 'content-length': String(body.length) };
          // The body changed, so a checksum of the old one would now be wrong for reasons other than the test's.
          for (const name of Object.keys(headers)) if (name.startsWith('x-amz-checksum-')) delete headers[name];
          outgoing.writeHead(answer.statusCode ?? 200, headers);
          outgoing.end(body);
        });
      },
    );
    proxied.on('error', (error) => {
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`proxy: ${error.message}`);
    });
    incoming.pipe(proxied);
  };

  const server = createServer((incoming, outgoing) => {
    const seen: S3Request = { method: incoming.method ?? 'GET', url: new URL(incoming.url ?? '/', 'http://s3.local'), headers: incoming.headers };
    requests.push(seen);
    const wire = switches.take(operationOf(seen));
    const injected = faults.find((candidate) => candidate.times > 0 && candidate.matches(seen));
    if (injected !== undefined) injected.times -= 1;
    const fault = injected ?? (wire === undefined ? undefined : REFUSALS[wire.kind]);
    if (fault === undefined) {
      forward(incoming, outgoing, seen, wire);
      return;
    }
    incoming.resume();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const body = errorBody(fault.code, fault.message, requestId);
    const retryAfter: Record<string, string> = wire?.kind === 'throttle' ? { 'retry-after': wire.retryAfter ?? '0' } : {};
    outgoing.writeHead(fault.status, {
      'content-type': 'application/xml',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-request-id': requestId,
      ...retryAfter,
    });
    outgoing.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    fail: (fault) => void faults.push(fault),
    rewrite: (rewrite) => void rewrites.push(rewrite),
    faults: switches,
    reset: () => {
      switches.clear();
      faults.length = 0;
      rewrites.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
