import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { ControlRunInput, ControlRunSummary } from '../workflows/contracts.ts';

export function manualWorkflowIdOf(controlId: string, occurrence: string): string {
  return `control:${controlId}:${occurrence}`;
}

/**
 * Starts one occurrence of a control and waits for its summary. Starting an occurrence that already ran,
 * or is running, attaches to that run: an occurrence runs once.
 */
export function requireControl(loaded: LoadedConfig, controlId: string): void {
  if (!loaded.controls.has(controlId)) {
    throw new ConfigError(`no control "${controlId}" in ${loaded.file} (controls: ${[...loaded.controls.keys()].join(', ') || 'none'})`);
  }
}

export async function runControl(client: Client, loaded: LoadedConfig, controlId: string, occurrence = new Date()): Promise<ControlRunSummary> {
  requireControl(loaded, controlId);
  const at = new Date(Math.floor(occurrence.getTime() / 1000) * 1000).toISOString();
  const workflowId = manualWorkflowIdOf(controlId, at);
  const input: ControlRunInput = { controlId, trigger: 'manual', occurrence: at };
  try {
    const handle = await client.workflow.start('controlRun', {
      taskQueue: loaded.config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return (await handle.result()) as ControlRunSummary;
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return (await client.workflow.getHandle(workflowId).result()) as ControlRunSummary;
  }
}

export function exitCodeOf(summary: ControlRunSummary): number {
  if (summary.status === 'pass') return 0;
  return summary.status === 'fail' ? 1 : 3;
}
