import { trainingCsv } from '../../../connectors/training-csv/index.ts';
import { fileConnectorContract } from '../../support/connector-contract.ts';

const HEADER = 'Email,Content,Enrollment Date,Completion Date,Status';
const rows = Array.from(
  { length: 60 },
  (_, index) =>
    `person${index + 1}@example.com,Security Awareness 2026,2026-02-02 09:00,${index % 4 === 0 ? '' : '2026-02-10 14:32'},${index % 4 === 0 ? 'Not Started' : 'Passed'}`,
);
const csv = (lines: string[]) => `${HEADER}\n${lines.join('\n')}\n`;

fileConnectorContract({
  connector: trainingCsv,
  readsWhole: true,
  files: {
    valid: () => ({ 'enrollments.csv': csv(rows) }),
    malformed: () => ({ 'enrollments.csv': csv([...rows.slice(0, 3), 'x@example.com,Security Awareness 2026,next tuesday,,Passed']) }),
    // Cut inside a quoted field: the export stopped partway.
    truncated: () => ({ 'enrollments.csv': `${csv(rows.slice(0, 3))}y@example.com,"Security` }),
  },
  config: ([path]) => ({ path, columns: { email: 'Email', course: 'Content', assigned: 'Enrollment Date', completed: 'Completion Date', status: 'Status' } }),
  names: /^training-csv: .*enrollments\.csv/,
  key: (record) => `${String(record['person'])} ${String(record['course'])}`,
});
