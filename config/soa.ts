import { z } from 'zod';
import { catalogOf, isAnnexA, ISO_27001 } from './frameworks/catalog.ts';

/*
 * The `soa:` section of isms.yaml: what the Statement of Applicability cannot derive from the controls and the
 * catalog. Which Annex A controls are excluded and why, why the others are included, who owns them, and
 * optionally the licensed official titles.
 */

/** Why an Annex A control is included (ISO/IEC 27001:2022, 6.1.3 d). */
export const InclusionReason = z.enum(['risk-treatment', 'legal', 'contractual', 'best-practice']);
export type InclusionReason = z.infer<typeof InclusionReason>;

export const SoaControlEntry = z
  .strictObject({
    applicable: z.boolean().default(true).describe('false excludes the control; an exclusion needs a justification.'),
    reasons: z.array(InclusionReason).min(1).optional().describe('Why the control is included (6.1.3 d); soa.defaultReasons otherwise.'),
    justification: z.string().min(1).optional().describe('In words: why the control is included, or (required) why it is excluded.'),
    // The risk register does not exist yet (issue 18): until it does, the ids are taken as written and the register will check them.
    risks: z.array(z.string().min(1)).min(1).optional().describe('The risks whose treatment selected the control, by id; needs the reason risk-treatment.'),
    owner: z.string().min(1).optional().describe('Default: the owners of the controls that reference it, else of the calendar activities, else `soa.owner`.'),
  })
  .superRefine((entry, context) => {
    const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (!entry.applicable) {
      if (!entry.justification) issue('justification', 'an excluded control needs the justification for its exclusion');
      if (entry.reasons) issue('reasons', 'reasons for inclusion do not apply to an excluded control');
      if (entry.risks) issue('risks', 'an excluded control treats no risk');
    } else if (entry.risks && entry.reasons && !entry.reasons.includes('risk-treatment')) {
      issue('risks', 'risks belong to the reason risk-treatment: add it to reasons');
    }
  });
export type SoaControlEntry = z.infer<typeof SoaControlEntry>;

export const SoaConfig = z
  .strictObject({
    owner: z.string().min(1).optional().describe('Owner of the Annex A controls that nothing else gives an owner.'),
    defaultReasons: z
      .array(InclusionReason)
      .min(1)
      .optional()
      .describe('The reasons for including every applicable control not listed under `controls` (or listed without reasons).'),
    titles: z
      .string()
      .min(1)
      .optional()
      .describe('A CSV with columns `id` and `title`: licensed official titles shown instead of ours. Relative to the config file.'),
    controls: z.record(z.string(), SoaControlEntry).default({}).describe('What only people can say about single Annex A controls, by id, e.g. `A.7.4`.'),
  })
  .superRefine((soa, context) => {
    // Checked here rather than as the record's key schema, whose own message zod replaces with "Invalid key".
    for (const id of Object.keys(soa.controls)) {
      if (!isAnnexA(id) || !catalogOf(ISO_27001).byId.has(id)) {
        context.addIssue({
          code: 'custom',
          path: ['controls', id],
          message: `"${id}" is not an Annex A control of ISO/IEC 27001:2022 (A.5.1-A.5.37, A.6.1-A.6.8, A.7.1-A.7.14, A.8.1-A.8.34)`,
        });
      }
    }
  });
export type SoaConfig = z.infer<typeof SoaConfig>;
