import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import { campaignIdOf, resolveReview, reviewPeriodOf } from '../config/review.ts';
import { ReviewRefusal } from '../evidence/access-reviews.ts';
import { accessReviewCampaign } from '../workflows/access-review.ts';
import type { CampaignInput, CampaignProgress, DecideInput, DecideResult } from '../core/access-review-contracts.ts';
import { decideUpdate, progressQuery } from '../workflows/access-review.ts';

/**
 * What `isms review` does with Temporal: open a period's campaign (or attach to the one already open), wait for
 * its lists, and send decisions as the campaign's `decide` Update. Reading campaigns needs only the catalog.
 */

export interface OpenedCampaign {
  campaignId: string;
  period: string;
}

/**
 * Starts the campaign of the period `at` falls in (or `period`), as the schedule would. A period has one campaign:
 * opening it again, even after it ended, attaches to the existing one.
 */
export async function openReview(
  client: Client,
  loaded: LoadedConfig,
  controlId: string,
  options: { at?: Date; period?: string } = {},
): Promise<OpenedCampaign> {
  const review = resolveReview(loaded, controlId);
  const at = options.at ?? new Date();
  const period = options.period ?? reviewPeriodOf(review.review, at, loaded.config.timezone);
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(period)) throw new ConfigError(`period "${period}": letters, digits and dashes, such as 2026-Q4`);
  const campaignId = campaignIdOf(controlId, period);
  const input: CampaignInput = { controlId, period, openedAt: new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString(), trigger: 'manual' };
  try {
    await client.workflow.start(accessReviewCampaign, {
      taskQueue: loaded.config.temporal.taskQueue,
      workflowId: campaignId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return { campaignId, period };
}

/** Waits until the campaign's review lists are open (or it has ended), polling its `progress` query. */
export async function waitForReviewLists(
  client: Client,
  campaignId: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<CampaignProgress> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const handle = client.workflow.getHandle(campaignId);
  for (;;) {
    const progress = await handle.query(progressQuery);
    if (progress.phase !== 'collecting') return progress;
    if (Date.now() > deadline)
      throw new Error(`campaign ${campaignId} is still collecting its sources after ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s`);
    await sleep(options.intervalMs ?? 250);
  }
}

/**
 * Sends a decision to the campaign as its `decide` Update and returns what was recorded. A refused decision
 * (unknown entry, defer without reason, campaign closed) throws a ReviewRefusal saying why.
 */
export async function decideReview(client: Client, campaignId: string, decision: DecideInput): Promise<DecideResult> {
  try {
    return await client.workflow.getHandle(campaignId).executeUpdate(decideUpdate, { args: [decision] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new ReviewRefusal(error.cause instanceof ApplicationFailure ? error.cause.message : (error.cause?.message ?? error.message));
    }
    throw error;
  }
}
