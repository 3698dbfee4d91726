import { z } from 'zod';

/** Where a nonconformity stands: the register moves it, reports and OSCAL map it, the CLI takes it as input. */
export const NonconformityStatus = z.enum(['open', 'root-cause', 'corrective-action', 'no-longer-observed', 'verified', 'closed']);
export type NonconformityStatus = z.infer<typeof NonconformityStatus>;
