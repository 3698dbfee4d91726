import { z } from 'zod';
import { isAnnexAControl } from '../annex-a.ts';
import { defineConnector } from '../contract.ts';
import { isEmailAddress } from '../csv.ts';
import { collectRegister, EntryWarning, registerFileConfig, requireFormat, ReviewInterval } from '../register-file.ts';
import { RISK_FIELDS, RISK_REQUIRED, riskMapper, Scale } from './mapping.ts';

export const RiskRegisterConfig = z
  .strictObject({
    ...registerFileConfig,
    scales: z
      .strictObject({
        likelihood: Scale.default(['rare', 'unlikely', 'possible', 'likely', 'almost certain']).describe(
          'The names of the likelihood levels, lowest first (2 to 10).',
        ),
        impact: Scale.default(['negligible', 'minor', 'moderate', 'major', 'severe']).describe('The names of the impact levels, lowest first (2 to 10).'),
      })
      .prefault({})
      .describe(
        "The names of each scale's levels, lowest first; a register may write a level by name or by number (1 = lowest). A score is likelihood x impact.",
      ),
    reviewEvery: ReviewInterval.prefault('1 year').describe(
      'How often a risk is reviewed unless its entry says otherwise (its own `reviewEvery`): whole days, weeks, months or years, e.g. `90 days`, `6 months`, `1 year`.',
    ),
  })
  .superRefine(requireFormat)
  .describe(
    "The risk register as a YAML or CSV file beside the config: each risk's levels on the scales below, treatment, the Annex A controls that treat it, acceptance and reviews.",
  );
export type RiskRegisterConfig = z.infer<typeof RiskRegisterConfig>;

export const riskRegister = defineConnector({
  name: 'risk-register',
  kinds: ['risk'],
  version: '1',
  config: RiskRegisterConfig,
  async *collect(config, ctx) {
    const file = config.path;
    ctx.provenance({ source: 'register file', scales: config.scales, timezone: config.timezone });
    const toRisk = riskMapper({ connector: 'risk-register', file, scales: config.scales, reviewEvery: config.reviewEvery, timezone: config.timezone });
    const unknownControls = new EntryWarning(
      (entries) => `risk-register: ${file}: controls that are not ISO/IEC 27001:2022 Annex A controls, so no control run can show them working: ${entries}`,
    );
    const noOwner = new EntryWarning((entries, count) => `risk-register: ${file}: ${count} risk(s) have no owner (6.1.2 c): ${entries}`);
    const notAddresses = new EntryWarning(
      (entries) => `risk-register: ${file}: people named by something other than an email address, which no check can join to HR: ${entries}`,
    );
    const untreated = new EntryWarning(
      (entries, count) => `risk-register: ${file}: ${count} risk(s) treated by "mitigate" name no control that treats them: ${entries}`,
    );
    yield* collectRegister({
      connector: 'risk-register',
      config,
      ctx,
      listKey: 'risks',
      fields: RISK_FIELDS,
      requiredColumns: RISK_REQUIRED,
      key: { noun: 'risk id', of: (risk) => risk.id },
      toRecord(entry) {
        const risk = toRisk(entry);
        const unknown = risk.controls.filter((control) => !isAnnexAControl(control));
        if (unknown.length > 0) unknownControls.add(`${risk.id} (${unknown.map(describeControl).join(', ')})`);
        if (risk.owner === null) noOwner.add(risk.id);
        for (const [field, person] of [
          ['owner', risk.owner],
          ['acceptedBy', risk.acceptance?.by ?? null],
        ] as const) {
          if (person !== null && !isEmailAddress(person)) notAddresses.add(`${risk.id} ${field}`);
        }
        if (risk.treatment === 'mitigate' && risk.controls.length === 0) untreated.add(risk.id);
        return risk;
      },
    });
    for (const warning of [unknownControls, noOwner, notAddresses, untreated]) warning.report(ctx);
  },
});

/** A control id is the register's structure and safe to name; anything longer or odder is described, not quoted. */
function describeControl(text: string): string {
  return /^[\w.-]{1,16}$/.test(text) ? text : 'an entry that is not a control id';
}
