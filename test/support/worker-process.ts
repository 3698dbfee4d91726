/**
 * A real worker in its own process, so a test can kill it with SIGKILL mid-collection.
 * Usage: node test/support/worker-process.ts <config file> <temporal address> <workflow bundle path>
 */
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { testRegistries } from './test-connectors.ts';

const [configFile, address, bundlePath] = process.argv.slice(2);
if (!configFile || !address || !bundlePath) throw new Error('usage: worker-process.ts <config> <address> <bundle>');
const runtime = await openRuntime(configFile, createLogger({ level: 'warn' }), testRegistries);
const connection = await NativeConnection.connect({ address });
const worker = await createWorker(runtime, connection, {
  namespace: 'default',
  workflowBundle: { codePath: bundlePath },
  identity: `worker-process-${process.pid}`,
});
process.once('SIGTERM', () => worker.shutdown());
const running = worker.run();
process.stdout.write('ready\n');
await running;
