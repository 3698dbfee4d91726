import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignProgress, DecideInput, DecideResult } from '../core/access-review-contracts.ts';

export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
export const progressQuery = defineQuery<CampaignProgress>('progress');
