/** `npm run config:reference`: writes config/isms.schema.json and config/REFERENCE.md from the zod schemas. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultChecks } from '../checks/index.ts';
import { defaultConnectors } from '../connectors/index.ts';
import { referenceFiles } from './reference.ts';

for (const { file, text } of referenceFiles({ connectors: defaultConnectors, checks: defaultChecks })) {
  writeFileSync(file, text);
  process.stdout.write(`${path.relative(process.cwd(), file)}: written\n`);
}
