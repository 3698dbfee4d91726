import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A mail as the SMTP server received it: the session's TLS and login, the envelope, the headers and the decoded body. */
export interface ReceivedMail {
  secure: boolean;
  user: string | undefined;
  mailFrom: string | false;
  rcptTo: string[];
  headers: Map<string, string>;
  body: string;
}

export interface SmtpReceiver {
  port: number;
  /** The PEM certificate the server presents: a test client trusts it as its CA. */
  caFile: string;
  mails: ReceivedMail[];
  logins: { username?: string; password?: string }[];
  close(): Promise<void>;
}

/** Decodes a quoted-printable body (RFC 2045 6.7) as UTF-8. */
const fromQuotedPrintable = (text: string) =>
  Buffer.from(
    text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 with STARTTLS on a self-signed certificate made for it, AUTH PLAIN and
 * LOGIN that accept only `user` with `password` (and refuse AUTH before TLS), keeping every mail it accepts.
 */
export async function smtpReceiver(credentials: { user: string; password: string }, options: SMTPServerOptions = {}): Promise<SmtpReceiver> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-smtp-'));
  const keyFile = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      caFile,
    ],
    { stdio: 'ignore' },
  );
  const mails: ReceivedMail[] = [];
  const logins: SmtpReceiver['logins'] = [];
  const server = new SMTPServer({
    key: readFileSync(keyFile),
    cert: readFileSync(caFile),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username ?? undefined, password: auth.password ?? undefined });
      if (auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
      stream.on('end', () => {
        const split = raw.indexOf('\r\n\r\n');
        const headers = new Map<string, string>();
        for (const line of raw
          .slice(0, split)
          .replace(/\r\n[ \t]+/g, ' ')
          .split('\r\n')) {
          const colon = line.indexOf(':');
          headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
        const body = raw.slice(split + 4);
        mails.push({
          secure: session.secure,
          user: session.user,
          mailFrom: session.envelope.mailFrom && session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((address) => address.address),
          headers,
          body: headers.get('content-transfer-encoding') === 'quoted-printable' ? fromQuotedPrintable(body) : body,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    caFile,
    mails,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).finally(() => rmSync(dir, { recursive: true, force: true })),
  };
}
