import { z } from 'zod';

/**
 * What a check may know besides its evidence: facts the catalog holds about the rest of the ISMS. A check names
 * the kinds it reads in `context`; the evaluation looks them up once per run and hands them over as data, so the
 * check stays a pure function of what it is given.
 */

const isoTimestamp = z.iso.datetime({ offset: true });

/** The latest run of one configured control, or null fields when it never ran. */
export const ControlStatus = z.object({
  controlId: z.string().min(1),
  /** The ISO/IEC 27001 references the control gives evidence for (`A.8.13`, `9.2`). */
  references: z.array(z.string()),
  status: z.enum(['pass', 'fail', 'error']).nullable(),
  evaluatedAt: isoTimestamp.nullable(),
  runId: z.string().nullable(),
});
export type ControlStatus = z.infer<typeof ControlStatus>;

/** A change to the ISMS recorded with `isms change record` (clause 6.3), and the review it started. */
export const IsmsChange = z.object({
  id: z.string().min(1),
  title: z.string(),
  /** What the change affects: scope, risk, soa. */
  affects: z.array(z.string()),
  /** Ids of the risk register entries the change names. */
  risks: z.array(z.string()),
  recordedAt: isoTimestamp,
  /** When the change's review is due; null when its occurrence is not in the catalog. */
  reviewDue: isoTimestamp.nullable(),
});
export type IsmsChange = z.infer<typeof IsmsChange>;

export const contextSchemas = {
  'control-status': ControlStatus,
  'isms-change': IsmsChange,
} as const;

export type ContextKind = keyof typeof contextSchemas;
export type ContextOf<K extends ContextKind> = z.infer<(typeof contextSchemas)[K]>;
/** The context an evaluation supplies: only the kinds its checks declare. */
export type CheckContext = { readonly [K in ContextKind]?: readonly ContextOf<K>[] };
