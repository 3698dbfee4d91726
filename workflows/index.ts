export { controlRun } from './control-run.ts';
export { accessReviewCampaign, openAccessReview } from './access-review.ts';
export { maintenanceActivity, openActivityOccurrences } from './maintenance-activity.ts';
