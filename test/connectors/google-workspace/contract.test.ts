import { readFileSync } from 'node:fs';
import { googleWorkspace } from '../../../connectors/google-workspace/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { startFakeGoogleDirectory, testServiceAccountKey, USER_READONLY_SCOPE, type DirectoryUserJson } from '../../support/fake-google-directory.ts';

const ADMIN = 'liz@example.com';
const recorded = JSON.parse(readFileSync(new URL('../../fixtures/google-workspace/users-page.json', import.meta.url), 'utf8')) as {
  users: DirectoryUserJson[];
};
const serviceAccount = testServiceAccountKey();

connectorContract({
  connector: googleWorkspace,
  async start() {
    const fake = await startFakeGoogleDirectory({
      users: recorded.users,
      serviceAccounts: [{ clientEmail: serviceAccount.json.client_email, publicKey: serviceAccount.publicKey, delegatedScopes: [USER_READONLY_SCOPE] }],
    });
    return {
      server: {
        faults: fake.faults,
        requests: () => fake.listRequests.length,
        reset: () => {
          fake.faults.clear();
          fake.listRequests.length = 0;
        },
        close: () => fake.close(),
      },
      // Two users a page: the recorded page's users take several.
      config: { serviceAccountKey: { env: 'GW_SA_KEY' }, subject: ADMIN, rootUrl: fake.rootUrl, tokenUrl: fake.tokenUrl, maxResults: 2, retryBaseMs: 5 },
      env: { GW_SA_KEY: JSON.stringify(serviceAccount.json) },
      secrets: () => [...serviceAccount.privateKeyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----')), ...fake.issuedTokens],
    };
  },
  operation: 'users.list',
  names: /^google-workspace: users\.list page 2/,
  key: (record) => String(record['id']),
});
