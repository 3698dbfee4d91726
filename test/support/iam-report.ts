import { parseCredentialReport, REPORT_COLUMNS, type ReportEntry } from '../../connectors/aws-iam/mapping.ts';

export const REPORT_HEADER = REPORT_COLUMNS.join(',');

/** A credential report row with the given cells changed, everything else as for a user with nothing. */
export function userRow(cells: Partial<Record<(typeof REPORT_COLUMNS)[number], string>>): string {
  const base: Record<string, string> = {
    user: 'zed',
    arn: 'arn:aws:iam::111111111111:user/zed',
    user_creation_time: '2023-01-01T00:00:00+00:00',
    password_enabled: 'false',
    mfa_active: 'false',
    access_key_1_active: 'false',
    access_key_2_active: 'false',
    cert_1_active: 'false',
    cert_2_active: 'false',
  };
  return REPORT_COLUMNS.map((column) => cells[column] ?? base[column] ?? 'N/A').join(',');
}

/** The report entry of one such row, as the connector reads it. */
export function reportEntry(cells: Parameters<typeof userRow>[0]): ReportEntry {
  const [entry] = parseCredentialReport(Buffer.from(`${REPORT_HEADER}\n${userRow(cells)}\n`), 'aws-iam: test report').entries;
  if (!entry) throw new Error('the row gave no entry');
  return entry;
}
