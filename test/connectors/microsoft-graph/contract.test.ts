import { readFileSync } from 'node:fs';
import { microsoftGraph } from '../../../connectors/microsoft-graph/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeGraph, type FakeGraphUser, type FakeRegistration } from '../../support/fake-graph.ts';
import { trustFakeGraphCertificate } from '../../support/graph-env.ts';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/graph/${name}`, import.meta.url), 'utf8')) as T;
const SECRET = 'Qx8~graph-client-secret-do-not-leak.7f2a';
const OPERATIONS = { users: '/v1.0/users', userRegistrationDetails: '/v1.0/reports/authenticationMethods/userRegistrationDetails' };

connectorContract({
  connector: microsoftGraph,
  async start() {
    trustFakeGraphCertificate();
    const fake = await startFakeGraph({
      clientSecret: SECRET,
      users: fixture<FakeGraphUser[]>('users.json'),
      registrations: fixture<FakeRegistration[]>('user-registration-details.json'),
    });
    return {
      server: {
        faults: fake.faults,
        requests: (operation) => fake.requests.filter((request) => request.path === OPERATIONS[operation as keyof typeof OPERATIONS]).length,
        reset: () => {
          fake.faults.clear();
          fake.requests.length = 0;
        },
        close: () => fake.close(),
      },
      config: {
        tenantId: fake.state.tenantId,
        clientId: fake.state.clientId,
        clientSecret: { env: 'GRAPH_CLIENT_SECRET' },
        baseUrl: fake.url,
        authorityHost: fake.url,
        pageSize: 3,
        retry: { maxRetries: 2, delaySeconds: 0 },
      },
      env: { GRAPH_CLIENT_SECRET: SECRET },
      secrets: () => [SECRET, ...fake.state.issuedTokens],
    };
  },
  operation: 'users',
  names: /^microsoft-graph: users page 2/,
  key: (record) => String(record['id']),
});
