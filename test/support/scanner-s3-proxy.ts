import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of moto's S3 for what moto cannot be made to do: S3's throttling answer
 * (`503 SlowDown` with S3's XML error body and request-id headers), bodies that are not what S3 sends, and a listing
 * whose ETag no longer matches the object. Requests are forwarded byte for byte with their Host header, so moto still
 * sees what the SDK signed.
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

function errorBody(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`;
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const upstream = new URL(target);
  const faults: S3Fault[] = [];
  const rewrites: S3Rewrite[] = [];
  const requests: S3Request[] = [];

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, seen: S3Request) => {
    const rewrite = rewrites.find((candidate) => candidate.matches(seen));
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
    const fault = faults.find((candidate) => candidate.times > 0 && candidate.matches(seen));
    if (fault === undefined) {
      forward(incoming, outgoing, seen);
      return;
    }
    fault.times -= 1;
    incoming.resume();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const body = errorBody(fault.code, fault.message, requestId);
    outgoing.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), 'x-amz-request-id': requestId });
    outgoing.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    fail: (fault) => void faults.push(fault),
    rewrite: (rewrite) => void rewrites.push(rewrite),
    reset: () => {
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
