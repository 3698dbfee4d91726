import { connectorRegistry, type AnyConnector } from './contract.ts';
import { googleWorkspace } from './google-workspace/index.ts';
import { microsoftGraph } from './microsoft-graph/index.ts';

/** Every connector this build ships; config names them by `name`. */
export const builtinConnectors: readonly AnyConnector[] = [googleWorkspace, microsoftGraph];

export const defaultConnectors = connectorRegistry(builtinConnectors);
