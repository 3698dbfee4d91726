import type { Secret } from '../../core/secrets.ts';
import { fetchJson, withRetries, type RetryPolicy } from '../kit/http.ts';
import type { RetryTally } from '../kit/retries.ts';

export interface CustomReportCall {
  readonly baseUrl: string;
  readonly subdomain: string;
  readonly apiKey: Secret;
  readonly body: unknown;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal;
  readonly tally: RetryTally;
}

const WHERE = 'bamboohr: reports/custom';

export function customReportUrl(baseUrl: string, subdomain: string): URL {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(subdomain)}/v1/reports/custom`);
  url.searchParams.set('format', 'JSON');
  url.searchParams.set('onlyCurrent', 'false');
  return url;
}

/**
 * Runs the custom report and returns its unvalidated body. BambooHR answers 429 or 503 with Retry-After when it
 * throttles; those, its other 5xx and a report cut short are sent again a bounded number of times. Every text
 * that can reach an error passes through `redact`, so a server that echoes the API key cannot carry it into a message.
 */
export async function fetchCustomReport(call: CustomReportCall): Promise<unknown> {
  const key = call.apiKey.reveal();
  const credentials = Buffer.from(`${key}:x`).toString('base64');
  const redact = (text: string) => [key, credentials].reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  const url = customReportUrl(call.baseUrl, call.subdomain);
  const send = async () => {
    const answer = await fetchJson({
      where: WHERE,
      url,
      method: 'POST',
      headers: { Authorization: `Basic ${credentials}`, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(call.body),
      signal: call.signal,
      redact,
      // BambooHR explains an error in this header; the body is usually empty.
      detailOf: (response) => response.headers.get('x-bamboohr-error-message') ?? undefined,
      hints: {
        auth: 'BambooHR rejected the API key',
        permission: "the API key's user may not run custom reports over every employee",
        'not-found': `no BambooHR company "${call.subdomain}" at ${url.origin}`,
        rejected: 'BambooHR refused the report request; check the extra `fields`',
      },
      badRequestIsConfig: true,
    });
    return answer.body;
  };
  return withRetries(WHERE, send, { policy: call.retry, signal: call.signal, tally: call.tally });
}
