import { z } from 'zod';
import { catalogOf, Framework, FRAMEWORKS, ISO_27001 } from './catalog.ts';

/*
 * A reference from a control or a calendar activity to a framework: `iso27001:2022/A.8.8`, `soc2/CC7.1`,
 * `nist-csf-2.0/ID.RA-01`, or bare `A.8.8` / `9.2`, which stays ISO/IEC 27001:2022. Every id must exist in the
 * framework's catalog.
 */

export interface ParsedReference {
  framework: Framework;
  id: string;
}

const SHAPE = /^(?:([a-z0-9][a-z0-9:.-]*)\/)?([A-Za-z0-9][A-Za-z0-9.-]*)$/;

const ISO_RANGES = 'Annex A: A.5.1-A.5.37, A.6.1-A.6.8, A.7.1-A.7.14, A.8.1-A.8.34; clauses 4 to 10 and their subclauses such as 6.1.3';

/** The framework and id a reference names, or why it names nothing. */
export function parseReference(text: string): ParsedReference | { error: string } {
  const match = SHAPE.exec(text.trim());
  if (!match) return { error: 'a reference such as "A.8.8" or "9.2" (ISO/IEC 27001:2022), "soc2/CC7.1" or "nist-csf-2.0/ID.RA-01"' };
  const prefix = match[1];
  const id = match[2]!;
  const framework = Framework.safeParse(prefix ?? ISO_27001);
  if (!framework.success) return { error: `unknown framework "${prefix}" in "${text}" (known: ${[...FRAMEWORKS].sort().join(', ')})` };
  const catalog = catalogOf(framework.data);
  if (!catalog.byId.has(id)) {
    const hint = framework.data === ISO_27001 ? ISO_RANGES : `${catalog.file} lists them`;
    return { error: `no ${catalog.name} id "${id}" (${hint})` };
  }
  return { framework: framework.data, id };
}

/** One reference, checked against the catalogs; kept as written (a bare `A.8.8` stays bare). */
export const Reference = z.string().superRefine((text, context) => {
  const parsed = parseReference(text);
  if ('error' in parsed) context.addIssue({ code: 'custom', message: parsed.error });
});

/** A control's or activity's `reference:`: one reference or a list of them. */
export const References = z.union([Reference, z.array(Reference).min(1)]);
