import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/*
 * The control catalogs of the frameworks a control may reference, as data (the YAML files beside this module), each
 * read once and checked against its schema. The titles are our own short wording; see each file's header.
 */

export const FRAMEWORKS = ['iso27001:2022', 'soc2', 'nist-csf-2.0'] as const;
export const Framework = z.enum(FRAMEWORKS);
export type Framework = z.infer<typeof Framework>;

/** The framework of a bare reference such as `A.8.8` or `9.2`, and of the Statement of Applicability. */
export const ISO_27001: Framework = 'iso27001:2022';

const CatalogEntry = z.strictObject({
  id: z.string().min(1),
  /** The clause, theme, category or function the entry belongs to. */
  group: z.string().min(1),
  title: z.string().min(1),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const CatalogFile = z
  .strictObject({
    framework: Framework,
    name: z.string().min(1),
    entries: z.array(CatalogEntry).min(1),
  })
  .superRefine((file, context) => {
    const seen = new Set<string>();
    file.entries.forEach((entry, index) => {
      if (seen.has(entry.id)) context.addIssue({ code: 'custom', path: ['entries', index, 'id'], message: `duplicate id "${entry.id}"` });
      seen.add(entry.id);
    });
  });

const FILES: Record<Framework, string> = {
  'iso27001:2022': 'iso27001-2022.yaml',
  soc2: 'soc2-2017.yaml',
  'nist-csf-2.0': 'nist-csf-2.0.yaml',
};

export interface FrameworkCatalog {
  framework: Framework;
  /** How people name it: "ISO/IEC 27001:2022", "SOC 2 (2017 Trust Services Criteria)", "NIST CSF 2.0". */
  name: string;
  /** The data file under config/frameworks/. */
  file: string;
  /** In the framework's own order. */
  entries: readonly CatalogEntry[];
  byId: ReadonlyMap<string, CatalogEntry>;
  /** Position of each id in `entries`, to sort references the way the framework lists them. */
  order: ReadonlyMap<string, number>;
}

/** Reads one of the shipped data files beside this module; a broken file is a defect of the release, not of a config. */
export function readFrameworkData<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  const result = schema.safeParse(parse(readFileSync(new URL(file, import.meta.url), 'utf8')));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`config/frameworks/${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}

const catalogs = new Map<Framework, FrameworkCatalog>();

export function catalogOf(framework: Framework): FrameworkCatalog {
  let catalog = catalogs.get(framework);
  if (!catalog) {
    const file = readFrameworkData(FILES[framework], CatalogFile);
    if (file.framework !== framework) throw new Error(`config/frameworks/${FILES[framework]}: holds ${file.framework}, not ${framework}`);
    catalog = {
      framework,
      name: file.name,
      file: `config/frameworks/${FILES[framework]}`,
      entries: file.entries,
      byId: new Map(file.entries.map((entry) => [entry.id, entry])),
      order: new Map(file.entries.map((entry, index) => [entry.id, index])),
    };
    catalogs.set(framework, catalog);
  }
  return catalog;
}

/** The 93 controls of ISO/IEC 27001:2022 Annex A, A.5.1 to A.8.34 in the standard's order. */
export function annexAControls(): readonly CatalogEntry[] {
  return catalogOf(ISO_27001).entries.filter((entry) => isAnnexA(entry.id));
}

export function isAnnexA(id: string): boolean {
  return id.startsWith('A.');
}
