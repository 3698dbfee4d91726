import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Register } from '../evidence/register.ts';
import type { RunInFlight } from '../evidence/store.ts';

/**
 * Tells `verify` whether the run owning a staging file may still finish it. A run that has stored its check run is
 * past collecting; otherwise its workflow (the run id is the workflow id) must be running. Temporal is asked only
 * when a staging file needs it, over one connection; when it cannot be asked, the file is reported with that reason.
 */
export function runsInFlight(register: Register, connect: () => Promise<Client>): RunInFlight {
  let client: Promise<Client> | undefined;
  return async (owner) => {
    if (await register.checkRunOf(owner.runId)) return { inFlight: false, why: `run ${owner.runId} has already evaluated its evidence` };
    try {
      const description = await (await (client ??= connect())).workflow.getHandle(owner.runId).describe();
      const status = description.status.name;
      return status === 'RUNNING' ? { inFlight: true, why: 'its workflow is running' } : { inFlight: false, why: `its workflow is ${status}` };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { inFlight: false, why: `Temporal has no workflow ${owner.runId}` };
      return { inFlight: false, why: `Temporal could not be asked: ${(error as Error).message}` };
    }
  };
}
