import { writeFile } from 'node:fs/promises';
import { renderConfigJsonSchema } from '../../config/json-schema.ts';
import { loadConfig } from '../../config/load.ts';
import { defaultRegistries } from '../runtime.ts';
import type { CliContext } from './context.ts';

/** `isms config check` and `isms config schema`. */
export function registerConfigCommands(context: CliContext): void {
  const { program, configFile, print } = context;

  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config; prints every error with its YAML path and line (exit 2)')
    .action(async () => {
      const loaded = await loadConfig(configFile(), defaultRegistries);
      print(`${loaded.file}: ok (${loaded.controls.size} controls, data in ${loaded.dataDir})`);
    });
  config
    .command('schema')
    .description('print the JSON Schema of isms.yaml, for editors (the YAML language server) and validators')
    .option('--out <file>', 'write it to this file instead')
    .action(async (options: { out?: string }) => {
      const schema = renderConfigJsonSchema(defaultRegistries);
      if (options.out === undefined) return void process.stdout.write(schema);
      await writeFile(options.out, schema);
      print(`${options.out}: JSON Schema of isms.yaml written`);
    });
}
