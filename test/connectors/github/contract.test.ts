import { gitHub } from '../../../connectors/github/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeGitHub } from '../../support/fake-github.ts';
import { organisation, OWNER_TOKEN, resetFake } from './setup.ts';

connectorContract({
  connector: gitHub,
  async start() {
    const fake = await startFakeGitHub(organisation());
    resetFake(fake);
    return {
      server: {
        faults: fake.faults,
        requests: (list) => fake.requests.filter((request) => request.path.endsWith(`/${list}`)).length,
        reset: () => {
          fake.faults.clear();
          resetFake(fake);
        },
        close: () => fake.close(),
      },
      // Two accounts a page: the seven members alone give four cursors.
      config: { org: fake.state.org.login, baseUrl: fake.baseUrl, token: { env: 'GITHUB_TOKEN' }, perPage: 2 },
      env: { GITHUB_TOKEN: OWNER_TOKEN },
      secrets: () => [OWNER_TOKEN],
    };
  },
  operation: 'members',
  // The members list is asked for owners, then for two-factor status, then page by page: the 4th is page 2.
  at: 4,
  names: /^github: members page 2: /,
  key: (record) => String(record['id']),
});
