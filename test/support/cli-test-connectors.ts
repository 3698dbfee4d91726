/**
 * Loaded with `node --import` before worker/cli.ts: adds the test connectors to the default registry, so a test runs
 * the real `isms worker` command (its config loading, Temporal connection and signal handling) on a source whose pace
 * it controls. The registry is read-only to the code; only this preload, in a test's own process, adds to it.
 */
import { defaultConnectors } from '../../connectors/index.ts';
import type { AnyConnector } from '../../connectors/contract.ts';
import { pagedFindings } from './test-connectors.ts';

(defaultConnectors as Map<string, AnyConnector>).set(pagedFindings.name, pagedFindings);
