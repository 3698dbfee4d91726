import { describe, expect, it } from 'vitest';
import { supplierCertificateExpiry } from '../../checks/supplier-certificate-expiry.ts';
import type { SupplierCertificate, SupplierCriticality } from '../../core/records.ts';
import { certificate, runRegisterCheck, supplier } from '../support/register-records.ts';
import { outcome } from './run-check.ts';

// AT is 2025-06-01T00:00:00Z; a certificate valid until 2025-06-30 (UTC) expires at 2025-07-01T00:00:00Z, 30 days on.
const ISO = 'supplier:CloudHost:certificate:ISO/IEC 27001';

const rows: {
  name: string;
  certificates: SupplierCertificate[];
  criticality?: SupplierCriticality;
  params?: Record<string, unknown>;
  expected: { subject: string; severity: string }[];
}[] = [
  { name: 'valid for another year', certificates: [certificate('ISO/IEC 27001', '2026-05-31')], expected: [] },
  { name: 'expiring exactly 30 days out: reported', certificates: [certificate('ISO/IEC 27001', '2025-06-30')], expected: [{ subject: ISO, severity: 'low' }] },
  { name: 'expiring 31 days out', certificates: [certificate('ISO/IEC 27001', '2025-07-01')], expected: [] },
  { name: 'valid through yesterday: expired now', certificates: [certificate('ISO/IEC 27001', '2025-05-31')], expected: [{ subject: ISO, severity: 'high' }] },
  { name: 'valid through today', certificates: [certificate('ISO/IEC 27001', '2025-06-01')], expected: [{ subject: ISO, severity: 'low' }] },
  {
    name: 'expired long ago',
    certificates: [certificate('SOC 2 Type II', '2024-12-31')],
    expected: [{ subject: 'supplier:CloudHost:certificate:SOC 2 Type II', severity: 'high' }],
  },
  {
    name: 'renewed: the old certificate beside the new one',
    certificates: [certificate('ISO/IEC 27001', '2025-03-31'), certificate('iso/iec 27001', '2028-03-31')],
    expected: [],
  },
  {
    name: 'each certificate judged on its own',
    certificates: [certificate('ISO/IEC 27001', '2027-01-01'), certificate('SOC 2 Type II', '2025-06-10')],
    expected: [{ subject: 'supplier:CloudHost:certificate:SOC 2 Type II', severity: 'low' }],
  },
  {
    name: 'a supplier that is not critical is not watched by default',
    criticality: 'high',
    certificates: [certificate('ISO/IEC 27001', '2025-01-01')],
    expected: [],
  },
  {
    name: 'watched when its criticality is named',
    criticality: 'high',
    certificates: [certificate('ISO/IEC 27001', '2025-01-01')],
    params: { criticalities: ['critical', 'high'] },
    expected: [{ subject: ISO, severity: 'high' }],
  },
  { name: 'a shorter warning', certificates: [certificate('ISO/IEC 27001', '2025-06-30')], params: { expiringWithinDays: 14 }, expected: [] },
  { name: 'no certificates', certificates: [], expected: [] },
];

describe('supplier-certificate-expiry', () => {
  it.each(rows)('$name', ({ certificates, criticality, params, expected }) => {
    const suppliers = [supplier({ certificates, ...(criticality ? { criticality } : {}) })];
    expect(outcome(runRegisterCheck(supplierCertificateExpiry, { suppliers, params }))).toEqual(expected);
  });

  it('says how many days are left', () => {
    const [deviation] = runRegisterCheck(supplierCertificateExpiry, { suppliers: [supplier({ certificates: [certificate('ISO/IEC 27001', '2025-06-30')] })] });
    expect(deviation).toMatchObject({
      title: 'Supplier certificate expiring: CloudHost ISO/IEC 27001',
      values: {
        supplier: 'CloudHost',
        certificate: 'ISO/IEC 27001',
        validUntil: '2025-06-30',
        expiresAt: '2025-07-01T00:00:00.000Z',
        daysLeft: 30,
        expiringWithinDays: 30,
      },
    });
  });
});
