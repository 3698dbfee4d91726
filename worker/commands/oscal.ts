import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { readAssessmentPeriod } from '../../evidence/assessment-period.ts';
import { assessedControlsOf, assessmentResults, OSCAL_VERSION, serialize } from '../oscal.ts';
import type { CliContext } from './context.ts';
import { instantOf } from './report.ts';

/** `isms oscal assessment-results`: the catalog of a period as OSCAL assessment results. */
export function registerOscalCommands(context: CliContext): void {
  const { program, print, withRuntime } = context;
  const oscal = program.command('oscal').description('OSCAL documents generated from the catalog');

  oscal
    .command('assessment-results')
    .description(
      'OSCAL assessment results of a period: an observation per evidence snapshot, a finding per control, reference and check, open nonconformities as risks; the assessment plan embedded',
    )
    .requiredOption('--from <date>', 'start of the period (inclusive): YYYY-MM-DD (midnight in the config time zone) or ISO 8601')
    .requiredOption('--to <date>', 'end of the period (exclusive), e.g. 2027-01-01')
    .requiredOption('--out <file>', 'the JSON file to write')
    .action(async (options: { from: string; to: string; out: string }) => {
      await withRuntime(async (runtime) => {
        const zone = runtime.config.config.timezone;
        const range = { from: instantOf(options.from, '--from', zone), to: instantOf(options.to, '--to', zone) };
        if (range.to <= range.from) throw new ConfigError('--to must be after --from');
        const period = { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
        const configBytes = await readFile(runtime.config.file);
        const { document, summary } = assessmentResults({
          organisation: runtime.config.config.organisation ?? null,
          timeZone: zone,
          period,
          controls: assessedControlsOf(runtime.config),
          config: { name: path.basename(runtime.config.file), sha256: createHash('sha256').update(configBytes).digest('hex') },
          data: await readAssessmentPeriod(runtime.store, runtime.register, period),
        });
        await writeFileAtomically(options.out, serialize(document));
        print(
          `${options.out}: OSCAL ${OSCAL_VERSION} assessment results, ${period.from} to ${period.to}: ${summary.observations} observations, ` +
            `${summary.findings} findings (${summary.notSatisfied} not satisfied), ${summary.risks} open nonconformities as risks`,
        );
      });
    });
}

/** Writes beside the target, syncs, then renames: a reader sees the old file or the whole new one, never a part. */
async function writeFileAtomically(file: string, content: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
