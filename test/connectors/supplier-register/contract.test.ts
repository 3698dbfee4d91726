import { supplierRegister } from '../../../connectors/supplier-register/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';

const HEADER = 'name,service,data,criticality,owner,reviewEvery,lastReview,certificates';
const rows = Array.from(
  { length: 40 },
  (_, index) =>
    `Supplier ${index + 1},service ${index + 1},customer PII,${index % 3 === 0 ? 'critical' : 'low'},owner${index + 1}@example.com,1 year,2026-01-20,ISO/IEC 27001 until 2027-01-31`,
);
const csv = (lines: string[]) => `${HEADER}\n${lines.join('\n')}\n`;

fileConnectorContract({
  connector: supplierRegister,
  readsWhole: true,
  files: {
    valid: () => ({ 'suppliers.csv': csv(rows) }),
    malformed: () => ({ 'suppliers.csv': csv([...rows.slice(0, 3), 'Supplier X,service,customer PII,critical,x@example.com,1 year,20/01/2026,']) }),
    // Cut inside a quoted field: the export stopped partway.
    truncated: () => ({ 'suppliers.csv': `${csv(rows.slice(0, 3))}Supplier Y,"service` }),
  },
  config: ([path]) => ({ path }),
  names: /^supplier-register: .*suppliers\.csv/,
  key: (record) => String(record['name']),
});
