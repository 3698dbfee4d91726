// @module-tag moto
import { awsIdentityCenter } from '../../../connectors/aws-identity-center/index.ts';
import { connectorContract } from '../../support/connector-contract.ts';
import { configOf, SECRET_ENV, startWorld } from './setup.ts';

connectorContract({
  connector: awsIdentityCenter,
  async start() {
    const world = await startWorld();
    return {
      server: {
        faults: world.proxy.faults,
        requests: (operation) => world.proxy.operations.filter((seen) => seen === operation).length,
        reset: () => world.proxy.reset(),
        close: () => world.close(),
      },
      config: configOf(world.proxy.endpoint),
      env: SECRET_ENV,
      secrets: () => Object.values(SECRET_ENV),
    };
  },
  operation: 'ListUsers',
  names: /^aws-identity-center: account 123456789012 \(management\): ListUsers page 2: /,
  key: (record) => `${String(record['tenant'])}/${String(record['id'])}`,
});
