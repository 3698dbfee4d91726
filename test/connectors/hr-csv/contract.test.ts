import { HEARTBEAT_EVERY_ROWS, hrCsv } from '../../../connectors/hr-csv/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';

const HEADER = 'id,email,status,terminated';
/** Two heartbeats and a bit' worth of rows: two cursors. */
const rows = Array.from(
  { length: HEARTBEAT_EVERY_ROWS * 2 + 500 },
  (_, index) => `${index + 1},person${index + 1}@example.com,${index % 7 === 0 ? 'terminated,2026-01-31' : 'active,'}`,
);
const csv = (lines: string[]) => `${HEADER}\n${lines.join('\n')}\n`;

fileConnectorContract({
  connector: hrCsv,
  files: {
    valid: () => ({ 'export.csv': csv(rows) }),
    malformed: () => ({ 'export.csv': csv([...rows.slice(0, 3), '4,person4@example.com,terminated,31/01/2026']) }),
    // Cut inside a quoted field: the export stopped partway.
    truncated: () => ({ 'export.csv': `${csv(rows.slice(0, 3))}4,"person4@exam` }),
  },
  config: ([path]) => ({ path, columns: { employeeId: 'id', email: 'email', status: 'status', terminationDate: 'terminated' } }),
  names: /^hr-csv: export\.csv: line \d+/,
  key: (record) => String(record['employeeId']),
});
