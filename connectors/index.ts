import { connectorRegistry, type AnyConnector } from './contract.ts';

/** Every connector this build ships; config names them by `name`. */
export const builtinConnectors: readonly AnyConnector[] = [];

export const defaultConnectors = connectorRegistry(builtinConnectors);
