import { realpathSync } from 'node:fs';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { fakeGraphCertificate } from './fake-graph.ts';

const certificatePath = fileURLToPath(new URL('../fixtures/graph/test-only-localhost.cert.pem', import.meta.url));

/**
 * Makes this test process trust the fake Graph's self-signed certificate, so the real SDKs talk to it over
 * HTTPS exactly as they talk to graph.microsoft.com. NODE_EXTRA_CA_CERTS is read only when a process starts;
 * tls.setDefaultCACertificates (Node 22.19+, 24.5+) changes this process's default trust store at run time, and
 * both clients use that store: the Graph client's global fetch (undici) and @azure/identity's token requests
 * (node:https). The system roots stay trusted.
 */
export function trustFakeGraphCertificate(): void {
  // A property read, not a named import: on an older Node the import itself would fail before this message.
  if (typeof tls.setDefaultCACertificates !== 'function') {
    if (trustedAtStart()) return;
    throw new Error(
      `this Node (${process.version}) cannot trust a certificate at run time: run the tests with NODE_EXTRA_CA_CERTS=${certificatePath}, or on Node 22.19+ / 24.5+`,
    );
  }
  const current = tls.getCACertificates('default');
  if (!current.some((pem) => pem.trim() === fakeGraphCertificate.trim())) tls.setDefaultCACertificates([...current, fakeGraphCertificate]);
}

function trustedAtStart(): boolean {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra === undefined || extra === '') return false;
  try {
    return realpathSync(extra) === realpathSync(certificatePath);
  } catch {
    return false;
  }
}
