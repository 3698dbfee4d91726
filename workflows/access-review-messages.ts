import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignProgress, DecideInput, DecideResult } from '../core/access-review-contracts.ts';

/** The campaign's messages: the workflow handles them, the CLI sends them. */
export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
export const progressQuery = defineQuery<CampaignProgress>('progress');
