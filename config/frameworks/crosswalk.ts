import { z } from 'zod';
import { catalogOf, isAnnexA, ISO_27001, readFrameworkData, type Framework } from './catalog.ts';
import { parseReference } from './reference.ts';

/*
 * The shipped crosswalk (crosswalk.yaml): Annex A controls of ISO/IEC 27001:2022 to SOC 2 criteria and NIST CSF 2.0
 * subcategories. Indicative; its sources are named in the file and in `crosswalkSources()`. It runs one way, from
 * ISO to the others: a control that names only `soc2/CC6.1` is not taken to implement every Annex A control that
 * maps to CC6.1.
 */

const TARGETS = ['soc2', 'nist-csf-2.0'] as const satisfies readonly Framework[];
type Target = (typeof TARGETS)[number];

const CrosswalkFile = z
  .strictObject({
    from: z.literal(ISO_27001),
    sources: z.array(z.strictObject({ name: z.string().min(1), url: z.url() })).min(1),
    mappings: z.record(z.string(), z.strictObject({ soc2: z.array(z.string()), 'nist-csf-2.0': z.array(z.string()) })),
  })
  .superRefine((file, context) => {
    for (const [annexA, targets] of Object.entries(file.mappings)) {
      if (!isAnnexA(annexA) || !catalogOf(ISO_27001).byId.has(annexA)) {
        context.addIssue({ code: 'custom', path: ['mappings', annexA], message: `not an Annex A control of ${ISO_27001}` });
      }
      for (const target of TARGETS) {
        for (const id of targets[target]) {
          if (!catalogOf(target).byId.has(id)) context.addIssue({ code: 'custom', path: ['mappings', annexA, target], message: `no ${target} id "${id}"` });
        }
      }
    }
  });
type CrosswalkFile = z.infer<typeof CrosswalkFile>;

let loaded: CrosswalkFile | undefined;
function crosswalkFile(): CrosswalkFile {
  loaded ??= readFrameworkData('crosswalk.yaml', CrosswalkFile);
  return loaded;
}

/** Where the mapping comes from, to print beside anything that uses it. */
export function crosswalkSources(): readonly { name: string; url: string }[] {
  return crosswalkFile().sources;
}

/** The Annex A controls the crosswalk maps, in the standard's order. */
export function mappedAnnexAControls(): string[] {
  return inOrder(ISO_27001, Object.keys(crosswalkFile().mappings));
}

/** What the crosswalk maps one Annex A control to in `framework`: itself for ISO/IEC 27001, nothing when unmapped. */
export function crosswalkOf(framework: Framework, annexA: string): string[] {
  if (framework === ISO_27001) return [annexA];
  return [...(crosswalkFile().mappings[annexA]?.[framework as Target] ?? [])];
}

/**
 * The ids in `framework` that a control or calendar activity addresses: its own references in that framework and,
 * for a framework other than ISO/IEC 27001, the crosswalk of its ISO references. Without duplicates, in the
 * framework's own order. The references must have passed config validation.
 */
export function referencesIn(framework: Framework, subject: { readonly references: readonly string[] }): string[] {
  const ids = new Set<string>();
  for (const text of subject.references) {
    const reference = parseReference(text);
    if ('error' in reference) throw new Error(`reference "${text}": ${reference.error}`);
    if (reference.framework === framework) ids.add(reference.id);
    else if (reference.framework === ISO_27001) for (const id of crosswalkOf(framework, reference.id)) ids.add(id);
  }
  return inOrder(framework, ids);
}

function inOrder(framework: Framework, ids: Iterable<string>): string[] {
  const order = catalogOf(framework).order;
  return [...ids].sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
}
