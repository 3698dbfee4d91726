import { riskRegister } from '../../../connectors/risk-register/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';

const HEADER = 'id,title,owner,asset,likelihood,impact,treatment,controls,reviewEvery,lastReview';
const rows = Array.from(
  { length: 40 },
  (_, index) =>
    `R-${index + 1},Risk ${index + 1},owner${index + 1}@example.com,asset ${index + 1},${(index % 5) + 1},${(index % 4) + 1},mitigate,A.8.13; A.8.7,6 months,2026-05-10`,
);
const csv = (lines: string[]) => `${HEADER}\n${lines.join('\n')}\n`;

fileConnectorContract({
  connector: riskRegister,
  readsWhole: true,
  files: {
    valid: () => ({ 'risks.csv': csv(rows) }),
    malformed: () => ({ 'risks.csv': csv([...rows.slice(0, 3), 'R-99,Risk,x@example.com,asset,very likely,3,mitigate,A.8.13,6 months,2026-05-10']) }),
    // Cut inside a quoted field: the export stopped partway.
    truncated: () => ({ 'risks.csv': `${csv(rows.slice(0, 3))}R-98,"Risk` }),
  },
  config: ([path]) => ({ path }),
  names: /^risk-register: .*risks\.csv/,
  key: (record) => String(record['id']),
});
