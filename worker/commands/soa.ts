import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { FRAMEWORKS, ISO_27001, type Framework } from '../../config/frameworks/catalog.ts';
import { diffSoa, renderSoaCsv, renderSoaHtml, STATUS_LABEL, type SoaDocument } from '../soa.ts';
import { gatherSoa, keepSoa, readLicensedTitles, readStoredSoa, storedSoas } from '../soa-data.ts';
import { table, type CliContext } from './context.ts';

const FORMATS = ['html', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** `isms soa`: the Statement of Applicability, written and kept as evidence; `isms soa diff`: what changed since the one before. */
export function registerSoaCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;

  const soa = program
    .command('soa')
    .description('the Statement of Applicability: every Annex A control with applicability, justification, live status, owner and evidence; kept as evidence')
    .option('--format <format>', 'html, csv or json (default: from the --out extension, else html)')
    .option('--framework <framework>', `also map every control to this framework through the crosswalk: ${FRAMEWORKS.join(', ')}`, ISO_27001)
    .option('--out <file>', 'the file to write')
    .action(async (options: { format?: string; framework: string; out?: string }) => {
      if (!options.out) throw new ConfigError('soa: --out <file> is required (.html, .csv or .json)');
      const format = options.format === undefined ? formatOf(options.out) : choice('--format', options.format, FORMATS);
      const framework = frameworkOption(options.framework);
      await withRuntime(async (runtime) => {
        const titlesFile = runtime.config.config.soa?.titles;
        const titles = titlesFile ? await readLicensedTitles(titlesFile, runtime.config.baseDir) : null;
        const document = await gatherSoa(runtime, { framework, now: Date.now(), titles });
        const content = format === 'html' ? renderSoaHtml(document) : format === 'csv' ? renderSoaCsv(document) : `${JSON.stringify(document, null, 2)}\n`;
        await writeFile(options.out!, content);
        const kept = await keepSoa(runtime.store, document, format === 'json' ? undefined : { format, content });
        print(`${options.out}: ${summaryOf(document)}; kept as evidence ${kept.map((row) => row.id).join(', ')}`);
      });
    });

  soa
    .command('diff')
    .description('what changed between the two latest kept SoAs: applicability, justification, status, what evidences each control, owners')
    .option('--json', 'JSON output')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(async ({ store }) => {
        const [latest, previous] = await storedSoas(store);
        if (!latest || !previous)
          throw new ConfigError(`soa diff: ${latest ? 'one SoA is' : 'no SoA is'} kept so far; \`isms soa --out FILE\` generates and keeps one`);
        const changes = diffSoa(await readStoredSoa(store, previous), await readStoredSoa(store, latest));
        if (options.json)
          return print({
            before: { evidenceId: previous.id, generatedAt: previous.collectedAt },
            after: { evidenceId: latest.id, generatedAt: latest.collectedAt },
            changes,
          });
        print(
          `SoA ${previous.id} (${previous.collectedAt}) -> ${latest.id} (${latest.collectedAt}): ${changes.length === 0 ? 'no changes' : changedControls(changes)}`,
        );
        if (changes.length > 0) print(table(changes, ['control', 'field', 'before', 'after']));
      });
    });
}

/** Commander's own choice check exits 1; a bad option is a usage error (exit 2) like every other. */
function choice<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${option} ${value}: not one of ${allowed.join(', ')}`);
  return value as T;
}

export function frameworkOption(value: string): Framework {
  return choice('--framework', value, FRAMEWORKS);
}

function formatOf(file: string): Format {
  const extension = path.extname(file).slice(1).toLowerCase();
  return (FORMATS as readonly string[]).includes(extension) ? (extension as Format) : 'html';
}

function changedControls(changes: readonly { control: string }[]): string {
  const count = new Set(changes.map((change) => change.control)).size;
  return `${count} control${count === 1 ? '' : 's'} changed`;
}

function summaryOf(document: SoaDocument): string {
  const counts = Object.entries(document.summary.byStatus)
    .filter(([status, count]) => count > 0 && status !== 'not-applicable')
    .map(([status, count]) => `${count} ${STATUS_LABEL[status as keyof typeof STATUS_LABEL]}`);
  return `${document.summary.controls} Annex A controls, ${document.summary.applicable} applicable (${counts.join(', ')})`;
}
