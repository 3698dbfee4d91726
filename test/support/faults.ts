import type { ServerResponse } from 'node:http';

/**
 * Faults on the wire, the same switches for every fake API server (test/support/fake-*.ts, the S3 proxy in front of
 * moto): a test (or the connector contract suite) says what goes wrong with which call, and each fake answers it as
 * its real API would, with its own status codes, error bodies and headers.
 */
export type FaultKind =
  /** The source's throttling answer (429, or its own code) with Retry-After. */
  | 'throttle'
  /** A server fault (5xx). */
  | 'unavailable'
  /** A permanent refusal of the request itself (400: InvalidAction, invalid input). */
  | 'reject'
  /** The credentials are refused (401, or the source's code for it). */
  | 'auth'
  /** The credentials are good but may not do this (403). */
  | 'permission'
  /** What the call names is not there (404). */
  | 'not-found'
  /** A well-formed body of the wrong shape: a field missing or of the wrong type. */
  | 'malformed'
  /** The connection drops halfway through the body it announced. */
  | 'truncated'
  /** Half the body is sent, then nothing more until the server closes: a page the caller must be able to abandon. */
  | 'stall';

export interface Fault {
  kind: FaultKind;
  /** The call it disturbs, as the fake names it (ListBackupJobs, users.list); any call when absent. */
  operation?: string;
  /** The matching request it starts at: 1 is the next one, 2 the one after (a later page). */
  at?: number;
  /** How many matching requests it disturbs from there: 1 unless said, Infinity for all. */
  times?: number;
  /** For 'throttle': the Retry-After header, seconds ("1") or an HTTP-date. */
  retryAfter?: string;
}

interface Armed {
  fault: Fault;
  seen: number;
  left: number;
}

export class FaultSwitch {
  #armed: Armed[] = [];
  /** How many requests were answered with a fault since the last clear. */
  fired = 0;

  inject(fault: Fault): void {
    this.#armed.push({ fault, seen: 0, left: fault.times ?? 1 });
  }

  /** Asked by the fake for each request it serves: the fault to answer with, if one is due. */
  take(operation: string): Fault | undefined {
    let due: Fault | undefined;
    for (const armed of this.#armed) {
      if (armed.left <= 0 || (armed.fault.operation !== undefined && armed.fault.operation !== operation)) continue;
      armed.seen++;
      if (due === undefined && armed.seen >= (armed.fault.at ?? 1)) {
        armed.left--;
        due = armed.fault;
      }
    }
    if (due !== undefined) this.fired++;
    return due;
  }

  clear(): void {
    this.#armed = [];
    this.fired = 0;
  }
}

/** Answers with the full Content-Length announced, sends half the body and drops the connection. */
export function sendTruncated(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
}

/** Announces the body, sends half of it and then nothing: only the caller giving up (or the server closing) ends it. */
export function sendStalled(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
}
