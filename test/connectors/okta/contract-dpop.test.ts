import { generateKeyPairSync } from 'node:crypto';
import { okta } from '../../../connectors/okta/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeOkta } from '../../support/fake-okta.ts';
import { organisation, resetFake } from './setup.ts';

/**
 * The contract again with an OAuth service app that requires DPoP: every retry sends a fresh proof, and neither the
 * app's private key nor an issued token leaves the connector.
 */
const app = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PRIVATE_KEY = app.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

connectorContract({
  connector: okta,
  async start() {
    const fake = await startFakeOkta({ users: organisation() });
    const reset = () => {
      fake.faults.clear();
      resetFake(fake);
      fake.state.apps = [
        { clientId: '0oaDpopApp', publicKey: app.publicKey, scopes: ['okta.users.read', 'okta.roles.read', 'okta.groups.read'], requireDpop: true },
      ];
    };
    reset();
    return {
      server: {
        faults: fake.faults,
        requests: () => fake.requests.filter((request) => request.path === '/api/v1/users').length,
        reset,
        close: () => fake.close(),
      },
      config: { orgUrl: fake.orgUrl, oauth: { clientId: '0oaDpopApp', privateKey: { env: 'OKTA_DPOP_APP_KEY' }, dpop: true }, pageSize: 3 },
      env: { OKTA_DPOP_APP_KEY: PRIVATE_KEY },
      // The PEM's base64 body lines, and every access token the fake issued.
      secrets: () => [...PRIVATE_KEY.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')), ...fake.issuedTokens],
    };
  },
  operation: 'users',
  at: 2,
  names: /^okta: users page 2: /,
  key: (record) => String(record['id']),
});
