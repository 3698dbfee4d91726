/** `npm run config:reference`: writes config/isms.schema.json and config/REFERENCE.md from the zod schemas. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultRegistries } from '../worker/runtime.ts';
import { referenceFiles } from './reference.ts';

for (const { file, text } of referenceFiles(defaultRegistries)) {
  writeFileSync(file, text);
  process.stdout.write(`${path.relative(process.cwd(), file)}: written\n`);
}
