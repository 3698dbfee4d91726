import { readFileSync } from 'node:fs';
import { bambooHr } from '../../../connectors/bamboohr/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { REPORT_OPERATION, startFakeBambooHr, type FakeEmployee } from '../../support/fake-bamboohr.ts';

const API_KEY = 'b7c1e0f4a9d24c55e3f1a0b2c4d6e8f0a1b3c5d7';
const [template] = JSON.parse(readFileSync(new URL('../../fixtures/hr/bamboohr-employees.json', import.meta.url), 'utf8')) as FakeEmployee[];
/** One report, heartbeated every 1,000 employees: 2,500 give two cursors. */
const employees = Array.from(
  { length: 2_500 },
  (_, index) => ({ ...template, id: String(index + 1), workEmail: `person${index + 1}@example.com` }) as FakeEmployee,
);

connectorContract({
  connector: bambooHr,
  async start() {
    const fake = await startFakeBambooHr({ subdomain: 'acme', apiKey: API_KEY, employees });
    return {
      server: {
        faults: fake.faults,
        requests: () => fake.requests.length,
        reset: () => {
          fake.faults.clear();
          fake.requests.length = 0;
        },
        close: () => fake.close(),
      },
      config: { subdomain: 'acme', apiKey: { env: 'BAMBOOHR_API_KEY' }, baseUrl: fake.baseUrl, retryBaseDelayMs: 1 },
      env: { BAMBOOHR_API_KEY: API_KEY },
      secrets: () => [API_KEY, Buffer.from(`${API_KEY}:x`).toString('base64')],
    };
  },
  operation: REPORT_OPERATION,
  // The whole report is one request.
  at: 1,
  names: /^bamboohr: reports\/custom: /,
  key: (record) => String(record['employeeId']),
});
