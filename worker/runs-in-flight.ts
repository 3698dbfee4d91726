import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Register } from '../evidence/register.ts';
import type { RunInFlight } from '../evidence/store.ts';
import { connectClient, type TemporalSettings } from './connection.ts';

/**
 * Tells `isms evidence verify` whether the run owning a staging file may still finish it. A run that has stored its
 * check run is past collecting; otherwise its workflow (the run id is the workflow id) must be running. Temporal is
 * asked only when a staging file needs it; when it cannot be asked, the file is reported with that reason.
 */
export function runsInFlight(register: Register, settings: TemporalSettings): { runInFlight: RunInFlight; close(): Promise<void> } {
  let client: Promise<Client> | undefined;
  const connect = () => (client ??= connectClient(settings).then((connection) => new Client({ connection, namespace: settings.namespace })));
  return {
    async runInFlight(owner) {
      if (register.checkRunOf(owner.runId)) return { inFlight: false, why: `run ${owner.runId} has already evaluated its evidence` };
      try {
        const description = await (await connect()).workflow.getHandle(owner.runId).describe();
        const status = description.status.name;
        return status === 'RUNNING' ? { inFlight: true, why: 'its workflow is running' } : { inFlight: false, why: `its workflow is ${status}` };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { inFlight: false, why: `Temporal namespace ${settings.namespace} has no workflow ${owner.runId}` };
        return { inFlight: false, why: `Temporal at ${settings.address} could not be asked: ${(error as Error).message}` };
      }
    },
    async close() {
      const connected = await client?.catch(() => undefined);
      await connected?.connection.close();
    },
  };
}
