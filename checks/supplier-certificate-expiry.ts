import { z } from 'zod';
import { SupplierCriticality, type SupplierCertificate } from '../core/records.ts';
import { DAY_MS, defineCheck, epochMillis, type CheckDeviation } from './kit/contract.ts';

export const SupplierCertificateParams = z.strictObject({
  expiringWithinDays: z
    .number()
    .nonnegative()
    .default(30)
    .describe(
      'Report a certificate that expires within this many days, so a renewed one can be asked for in time; exactly this many days out is reported. Default: 30.',
    ),
  criticalities: z
    .array(SupplierCriticality)
    .min(1)
    .default(['critical'])
    .describe('The suppliers whose certificates are watched, by criticality. Default: critical.'),
});

export const supplierCertificateExpiry = defineCheck({
  id: 'supplier-certificate-expiry',
  title: "Critical suppliers' certificates are current",
  references: ['A.5.19', 'A.5.22'],
  inputs: ['supplier'],
  params: SupplierCertificateParams,
  evaluate(evidence, params, at): CheckDeviation[] {
    const watched = new Set(params.criticalities);
    const deviations: CheckDeviation[] = [];
    for (const supplier of evidence.records('supplier')) {
      if (!watched.has(supplier.criticality)) continue;
      // A renewed certificate is listed beside the old one: the latest of a name is the one that counts.
      const latest = new Map<string, SupplierCertificate>();
      for (const certificate of supplier.certificates) {
        const key = certificate.name.toLowerCase();
        const known = latest.get(key);
        if (known === undefined || epochMillis(certificate.expiresAt) > epochMillis(known.expiresAt)) latest.set(key, certificate);
      }
      for (const certificate of latest.values()) {
        const daysLeft = (epochMillis(certificate.expiresAt) - at.getTime()) / DAY_MS;
        if (daysLeft > params.expiringWithinDays) continue;
        const expired = daysLeft <= 0;
        deviations.push({
          subject: `supplier:${supplier.name}:certificate:${certificate.name}`,
          title: expired
            ? `Supplier certificate expired: ${supplier.name} ${certificate.name}`
            : `Supplier certificate expiring: ${supplier.name} ${certificate.name}`,
          severity: expired ? 'high' : 'low',
          detail: expired
            ? `${certificate.name} of ${supplier.name} (${supplier.criticality}) was valid until ${certificate.validUntil} and has expired; ask for the renewed certificate or report.`
            : `${certificate.name} of ${supplier.name} (${supplier.criticality}) is valid until ${certificate.validUntil}, ${Math.ceil(daysLeft)} day(s) from ${at.toISOString()} (warning at ${params.expiringWithinDays}).`,
          values: {
            supplier: supplier.name,
            criticality: supplier.criticality,
            certificate: certificate.name,
            validUntil: certificate.validUntil,
            expiresAt: certificate.expiresAt,
            daysLeft: Math.ceil(daysLeft),
            expiringWithinDays: params.expiringWithinDays,
          },
          evidenceIds: [evidence.evidenceIdOf(supplier)],
        });
      }
    }
    return deviations;
  },
});
