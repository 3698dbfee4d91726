import { HEARTBEAT_EVERY_ROWS, identityCsv } from '../../../connectors/identity-csv/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';
import { COLUMNS, line, rows } from './helpers.ts';

/** Two heartbeats' worth of rows and a few more: two cursors. */
const accounts = Array.from({ length: HEARTBEAT_EVERY_ROWS * 2 + 500 }, (_, index) =>
  line({ id: `U${index + 1}`, user: `user${index + 1}`, email: `user${index + 1}@example.com` }),
);

fileConnectorContract({
  connector: identityCsv,
  files: {
    valid: () => ({ 'users.csv': rows(...accounts) }),
    malformed: () => ({ 'users.csv': rows(...accounts.slice(0, 3), line({ id: 'U4', user: 'user4', 'last login': 'last Tuesday' })) }),
    // Cut inside a quoted field: the export stopped partway.
    truncated: () => ({ 'users.csv': `${rows(...accounts.slice(0, 3))}U4,"user4` }),
  },
  config: ([path]) => ({ path, system: 'jira-cloud', columns: COLUMNS }),
  names: /^identity-csv: users\.csv: line \d+/,
  key: (record) => String(record['id']),
});
