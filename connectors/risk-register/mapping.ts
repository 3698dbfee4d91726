import { z } from 'zod';
import { formatLocalDate, type Span } from '../../core/calendar-occurrences.ts';
import { RiskTreatment, type Risk } from '../../core/records.ts';
import { normalizeControlId } from '../annex-a.ts';
import { entryDate, entryList, entryText, parseEntry, personReference, ReviewInterval, reviewSchedule, type RegisterEntry } from '../register-file.ts';

/** The fields a risk register entry may have, in YAML keys or CSV headers alike. */
export const RISK_FIELDS = [
  'id',
  'title',
  'owner',
  'asset',
  'likelihood',
  'impact',
  'residualLikelihood',
  'residualImpact',
  'treatment',
  'controls',
  'acceptedBy',
  'acceptedOn',
  'reviewEvery',
  'lastReview',
  'description',
  'notes',
] as const;

export const RISK_REQUIRED = ['id', 'title', 'likelihood', 'impact', 'treatment'] as const;

/** A scale's levels by name, lowest first: level n is the n-th name. */
export const Scale = z
  .array(z.string().trim().min(1))
  .min(2)
  .max(10)
  .refine((levels) => new Set(levels.map((level) => level.toLowerCase())).size === levels.length, 'every level needs a name of its own');

export interface RiskMappingRules {
  readonly connector: string;
  readonly file: string;
  readonly scales: { readonly likelihood: readonly string[]; readonly impact: readonly string[] };
  readonly reviewEvery: Span;
  readonly timezone: string;
}

/** A level written as the scale's name (any letter case) or its number. */
function level(scale: readonly string[], name: string) {
  const byName = new Map(scale.map((label, index) => [label.toLowerCase(), index + 1]));
  return entryText.transform((text, ctx): number => {
    const value = text === null ? undefined : /^\d+$/.test(text) ? Number(text) : byName.get(text.toLowerCase());
    if (value === undefined || value < 1 || value > scale.length) {
      ctx.addIssue({ code: 'custom', message: `expected a level of the ${name} scale: ${scale.map((label, index) => `${index + 1} ${label}`).join(', ')}` });
      return z.NEVER;
    }
    return value;
  });
}

function entrySchema(rules: RiskMappingRules) {
  const likelihood = level(rules.scales.likelihood, 'likelihood');
  const impact = level(rules.scales.impact, 'impact');
  return z
    .object({
      id: entryText.pipe(z.string('the id is empty')),
      title: entryText.pipe(z.string('the title is empty')),
      owner: entryText,
      asset: entryText,
      likelihood,
      impact,
      residualLikelihood: likelihood.optional(),
      residualImpact: impact.optional(),
      treatment: entryText.pipe(z.string('the treatment is empty').toLowerCase().pipe(RiskTreatment)),
      controls: entryList,
      acceptedBy: entryText,
      acceptedOn: entryDate,
      reviewEvery: ReviewInterval.optional(),
      lastReview: entryDate,
      description: entryText,
      notes: entryText,
    })
    .superRefine((entry, ctx) => {
      // Half a residual rating would be guessed at: one level without the other is a mistake in the register.
      if ((entry.residualLikelihood === undefined) !== (entry.residualImpact === undefined)) {
        const missing = entry.residualLikelihood === undefined ? 'residualLikelihood' : 'residualImpact';
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: 'give both residualLikelihood and residualImpact, or neither (the residual rating is then the inherent one)',
        });
      }
    });
}

/** Turns one register entry into a Risk, or throws naming the file, the entry and the field at fault. */
export function riskMapper(rules: RiskMappingRules): (entry: RegisterEntry) => Risk {
  const schema = entrySchema(rules);
  return (entry) => {
    const fields = parseEntry(rules, entry, schema);
    const residualLikelihood = fields.residualLikelihood ?? fields.likelihood;
    const residualImpact = fields.residualImpact ?? fields.impact;
    const acceptance =
      fields.acceptedBy === null && fields.acceptedOn === null
        ? null
        : { by: personReference(fields.acceptedBy), on: fields.acceptedOn && formatLocalDate(fields.acceptedOn) };
    return {
      kind: 'risk',
      source: rules.connector,
      id: fields.id,
      title: fields.title,
      owner: personReference(fields.owner),
      asset: fields.asset,
      likelihood: fields.likelihood,
      impact: fields.impact,
      inherentScore: fields.likelihood * fields.impact,
      residualLikelihood,
      residualImpact,
      residualScore: residualLikelihood * residualImpact,
      treatment: fields.treatment,
      controls: [...new Set(fields.controls.map(normalizeControlId))],
      acceptance,
      ...reviewSchedule(fields.lastReview, fields.reviewEvery ?? rules.reviewEvery, rules.timezone),
      raw: {
        at: entry.at,
        scales: { likelihood: rules.scales.likelihood.length, impact: rules.scales.impact.length },
        residualRated: fields.residualLikelihood !== undefined,
        ...(fields.description === null ? {} : { description: fields.description }),
        ...(fields.notes === null ? {} : { notes: fields.notes }),
      },
    };
  };
}
