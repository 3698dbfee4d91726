import { z } from 'zod';

export const NonconformityStatus = z.enum(['open', 'root-cause', 'corrective-action', 'no-longer-observed', 'verified', 'closed']);
export type NonconformityStatus = z.infer<typeof NonconformityStatus>;
