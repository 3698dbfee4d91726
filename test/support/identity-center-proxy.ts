import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSwitch, sendStalled, sendTruncated, type Fault } from './faults.ts';

/**
 * A pass-through proxy in front of moto's `identitystore` and `sso-admin` (both JSON 1.1: a POST to / naming the
 * call in `X-Amz-Target`, paged by NextToken) for what moto cannot be made to do: the uniform faults
 * (test/support/faults.ts), answered as these services answer them, with their JSON error bodies (`__type`,
 * `message`, RetryAfterSeconds on throttling) and request-id headers. Requests pass byte for byte with their Host
 * header, so moto still sees what the SDK signed. Operations are the target's call name: ListUsers, ListAccountAssignments.
 */
export interface IdentityCenterProxy {
  readonly endpoint: string;
  readonly faults: FaultSwitch;
  /** The calls seen, in order. */
  readonly operations: string[];
  /** Changes what moto answered to a successful `operation` (say, the order of a listing) until reset. */
  rewrite(operation: string, body: (json: Record<string, unknown>) => Record<string, unknown>): void;
  reset(): void;
  close(): Promise<void>;
}

/** As the services' models declare them: identitystore's and sso-admin's errors carry their own HTTP status. */
const REFUSALS: Partial<Record<Fault['kind'], { status: number; type: string; message: string }>> = {
  throttle: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  unavailable: { status: 500, type: 'InternalServerException', message: 'An internal error occurred.' },
  reject: { status: 400, type: 'ValidationException', message: '1 validation error detected' },
  auth: { status: 400, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
  permission: { status: 403, type: 'AccessDeniedException', message: 'User is not authorized to perform this action' },
  'not-found': { status: 404, type: 'ResourceNotFoundException', message: 'Identity store not found' },
};

function operationOf(incoming: IncomingMessage): string {
  const target = incoming.headers['x-amz-target'];
  return typeof target === 'string' ? (target.split('.').at(-1) ?? target) : `${incoming.method ?? 'GET'} ${incoming.url ?? '/'}`;
}

/** Malformed: the first id of the answer (UserId, GroupId, an account id...) turns into a number. */
function malform(body: string): string {
  return body.replace(/"(UserId|GroupId|AccountId|InstanceArn|PermissionSetArn)":\s*"[^"]*"/, '"$1": 42');
}

export async function startIdentityCenterProxy(target: string): Promise<IdentityCenterProxy> {
  const upstream = new URL(target);
  const faults = new FaultSwitch();
  const operations: string[] = [];
  const rewrites = new Map<string, (json: Record<string, unknown>) => Record<string, unknown>>();

  const forward = (
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    wire: Fault | undefined,
    rewrite: ((json: Record<string, unknown>) => Record<string, unknown>) | undefined,
  ) => {
    const proxied = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        if (wire === undefined && (rewrite === undefined || answer.statusCode !== 200)) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const headers = Object.fromEntries(
            Object.entries(answer.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'content-length'),
          );
          let body = Buffer.concat(parts);
          if (rewrite !== undefined && answer.statusCode === 200)
            body = Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')) as Record<string, unknown>)));
          if (wire === undefined) {
            outgoing.writeHead(200, { ...headers, 'content-length': String(body.length) });
            outgoing.end(body);
            return;
          }
          if (wire.kind === 'malformed') body = Buffer.from(malform(body.toString('utf8')));
          if (wire.kind === 'truncated') return sendTruncated(outgoing, answer.statusCode ?? 200, headers, body);
          if (wire.kind === 'stall') return sendStalled(outgoing, answer.statusCode ?? 200, headers, body);
          outgoing.writeHead(answer.statusCode ?? 200, { ...headers, 'content-length': String(body.length) });
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
    const operation = operationOf(incoming);
    operations.push(operation);
    const wire = faults.take(operation);
    const refusal = wire === undefined ? undefined : REFUSALS[wire.kind];
    if (refusal === undefined) {
      forward(incoming, outgoing, wire, rewrites.get(operation));
      return;
    }
    incoming.resume();
    const retryAfter = wire?.kind === 'throttle' ? (wire.retryAfter ?? '0') : undefined;
    const seconds =
      retryAfter === undefined
        ? undefined
        : /^\d+$/.test(retryAfter)
          ? Number(retryAfter)
          : Math.max(0, Math.ceil((Date.parse(retryAfter) - Date.now()) / 1000));
    const body = JSON.stringify({ __type: refusal.type, message: refusal.message, ...(seconds === undefined ? {} : { RetryAfterSeconds: seconds }) });
    outgoing.writeHead(refusal.status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': refusal.type,
      ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
    });
    outgoing.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    operations,
    rewrite: (operation, body) => void rewrites.set(operation, body),
    reset: () => {
      faults.clear();
      rewrites.clear();
      operations.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
