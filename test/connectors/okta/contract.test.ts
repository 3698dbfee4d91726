import { okta } from '../../../connectors/okta/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeOkta } from '../../support/fake-okta.ts';
import { API_TOKEN, organisation, resetFake } from './setup.ts';

connectorContract({
  connector: okta,
  async start() {
    const fake = await startFakeOkta({ users: organisation() });
    resetFake(fake);
    return {
      server: {
        faults: fake.faults,
        requests: () => fake.requests.filter((request) => request.path === '/api/v1/users').length,
        reset: () => {
          fake.faults.clear();
          resetFake(fake);
        },
        close: () => fake.close(),
      },
      // Three users a page: seven users and the deprovisioned one give three cursors.
      config: { orgUrl: fake.orgUrl, token: { env: 'OKTA_API_TOKEN' }, pageSize: 3 },
      env: { OKTA_API_TOKEN: API_TOKEN },
      secrets: () => [API_TOKEN],
    };
  },
  operation: 'users',
  // Page 2 of the users: page 1's users were yielded before.
  at: 2,
  names: /^okta: users page 2: /,
  key: (record) => String(record['id']),
});
