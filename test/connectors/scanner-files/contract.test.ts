import { readFileSync } from 'node:fs';
import { scannerFiles } from '../../../connectors/scanner-files/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';
import { fixture } from './helpers.ts';

const read = (name: string) => readFileSync(fixture(name));
const trivy = JSON.parse(read('trivy-alpine-310.json').toString('utf8')) as { Results: { Vulnerabilities: Record<string, unknown>[] }[] };

/** scanner-files on local files: one cursor per file read. The S3 input runs the whole contract in s3-contract.test.ts. */
fileConnectorContract({
  connector: scannerFiles,
  files: {
    valid: () => ({ 'a.json': read('grype-fix-available.json'), 'b.sarif': read('semgrep-juice-shop.sarif'), 'c.json': read('trivy-alpine-310.json') }),
    malformed: () => {
      const broken = structuredClone(trivy);
      broken.Results[0]!.Vulnerabilities[1]!['VulnerabilityID'] = 42;
      return { 'scan.json': JSON.stringify(broken) };
    },
    truncated: () => {
      const whole = read('trivy-alpine-310.json');
      return { 'scan.json': whole.subarray(0, Math.floor(whole.length / 2)) };
    },
  },
  config: (paths) => ({ paths }),
  names: /^scanner-files: \/.*\/(scan|a|b|c)\.(json|sarif)\b/,
  key: (record) => JSON.stringify(record),
});
