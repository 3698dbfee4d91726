import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { LoadedConfig } from '../config/load.ts';
import { reviewScheduleOf, reviewsOf, type ResolvedReview } from '../config/review.ts';
import { openAccessReview } from '../workflows/access-review.ts';
import type { OpenReviewInput } from '../core/access-review-contracts.ts';
import { HASH_MEMO, reconcileSchedules, scheduleDigest, specOf, type PlannedChange } from './schedules.ts';

export const REVIEW_SCHEDULE_PREFIX = 'isms:review:';

export function reviewScheduleIdOf(controlId: string): string {
  return `${REVIEW_SCHEDULE_PREFIX}${controlId}`;
}

export function desiredReviewSchedule(review: ResolvedReview, loaded: LoadedConfig): ScheduleOptions {
  const control = loaded.controls.get(review.controlId)!.control;
  const spec = specOf(reviewScheduleOf(review.review), loaded.config.timezone);
  const args: [OpenReviewInput] = [{ controlId: review.controlId }];
  const taskQueue = loaded.config.temporal.taskQueue;
  const catchupWindow = loaded.config.temporal.catchupWindow;
  const hash = scheduleDigest({ spec, args, taskQueue, catchupWindow });
  return {
    scheduleId: reviewScheduleIdOf(review.controlId),
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: openAccessReview,
      // The opener is short-lived; the campaign it starts is named by its period, not by this id.
      workflowId: `review-opener:${review.controlId}`,
      taskQueue,
      args,
      memo: { [HASH_MEMO]: hash },
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow, pauseOnFailure: false },
    state: { paused: control.paused, note: control.paused ? 'paused in config' : undefined },
    memo: { controlTitle: control.title },
  };
}

/** One schedule per control with a `review`, reconciled as the control schedules are. */
export function syncReviewSchedules(client: Client, loaded: LoadedConfig, options: { dryRun?: boolean } = {}): Promise<PlannedChange[]> {
  const desired = reviewsOf(loaded).map((review) => ({ options: desiredReviewSchedule(review, loaded), detail: describeReview(review) }));
  return reconcileSchedules(
    client,
    { prefix: REVIEW_SCHEDULE_PREFIX, taskQueue: loaded.config.temporal.taskQueue, desired, removed: 'access review no longer in config' },
    options,
  );
}

function describeReview(review: ResolvedReview): string {
  const every = review.review.every;
  const cadence =
    typeof every === 'string'
      ? every
      : 'cron' in every
        ? `cron ${[every.cron].flat().join(' | ')}`
        : 'every' in every
          ? `every ${every.every}`
          : `calendar (${every.calendar.length} entries)`;
  return `access review ${cadence}, due in ${review.review.dueInDays} days`;
}
