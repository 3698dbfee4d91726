import { z } from 'zod';
import { addDays, formatLocalDate, type LocalDate, type Span } from '../../core/calendar-occurrences.ts';
import { SupplierCriticality, type Supplier, type SupplierCertificate } from '../../core/records.ts';
import { startOfDay } from '../dates.ts';
import { entryDate, entryList, entryText, parseEntry, personReference, ReviewInterval, reviewSchedule, type RegisterEntry } from '../register-file.ts';

/** The fields a supplier register entry may have, in YAML keys or CSV headers alike. */
export const SUPPLIER_FIELDS = ['name', 'service', 'data', 'criticality', 'owner', 'reviewEvery', 'lastReview', 'certificates', 'notes'] as const;

export const SUPPLIER_REQUIRED = ['name', 'criticality'] as const;

export interface SupplierMappingRules {
  readonly connector: string;
  readonly file: string;
  readonly reviewEvery: Span;
  readonly timezone: string;
}

const CERTIFICATE_TEXT = /^(.+?)\s+until\s+(\S+)$/i;
const INVALID_DATE = 'expected a date written YYYY-MM-DD that exists on the calendar';

/**
 * A certificate: in YAML `{ name, validUntil }` or, as in a CSV cell, the text `<name> until <YYYY-MM-DD>`.
 * Without a date it could never be seen to expire, so the date is required.
 */
const CertificateMap = z.strictObject({
  name: entryText.pipe(z.string('the certificate has no name')),
  validUntil: entryDate.pipe(z.custom<LocalDate>((date) => date !== null, 'the certificate has no validUntil date')),
});

const CertificateText = z.string().transform((text, ctx) => {
  const match = CERTIFICATE_TEXT.exec(text.trim());
  const validUntil = match ? entryDate.safeParse(match[2]) : undefined;
  if (!match || !validUntil?.success || validUntil.data === null) {
    ctx.addIssue({
      code: 'custom',
      message: match ? INVALID_DATE : 'expected a certificate written "<name> until <YYYY-MM-DD>" (e.g. "ISO/IEC 27001 until 2027-03-31")',
    });
    return z.NEVER;
  }
  return { name: match[1]!.trim(), validUntil: validUntil.data };
});

/**
 * A certificate: in YAML `{ name, validUntil }` or, as in a CSV cell, the text `<name> until <YYYY-MM-DD>`.
 * Without a date it could never be seen to expire, so the date is required. Each form reports its own fault, which a
 * union would fold into one message.
 */
const Certificate = z.unknown().transform((value, ctx): { name: string; validUntil: LocalDate } => {
  const parsed = (typeof value === 'string' ? CertificateText : CertificateMap).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

function entrySchema() {
  return z.object({
    name: entryText.pipe(z.string('the name is empty')),
    service: entryText,
    data: entryList,
    criticality: entryText.pipe(z.string('the criticality is empty').toLowerCase().pipe(SupplierCriticality)),
    owner: entryText,
    reviewEvery: ReviewInterval.optional(),
    lastReview: entryDate,
    // A CSV cell holds the certificates one after another, separated by `;`.
    certificates: z
      .preprocess(
        (value) =>
          typeof value === 'string'
            ? value
                .split(';')
                .map((item) => item.trim())
                .filter((item) => item !== '')
            : value,
        z.array(Certificate, { error: 'expected a list of certificates' }).nullish(),
      )
      .transform((certificates) => certificates ?? []),
    notes: entryText,
  });
}

/** Turns one register entry into a Supplier, or throws naming the file, the entry and the field at fault. */
export function supplierMapper(rules: SupplierMappingRules): (entry: RegisterEntry) => Supplier {
  const schema = entrySchema();
  return (entry) => {
    const fields = parseEntry(rules, entry, schema);
    const certificates: SupplierCertificate[] = fields.certificates.map((certificate) => ({
      name: certificate.name,
      validUntil: formatLocalDate(certificate.validUntil),
      // Valid through its last day, in the zone the register counts days in.
      expiresAt: startOfDay(addDays(certificate.validUntil, 1), rules.timezone),
    }));
    return {
      kind: 'supplier',
      source: rules.connector,
      name: fields.name,
      service: fields.service,
      data: fields.data,
      criticality: fields.criticality,
      owner: personReference(fields.owner),
      certificates,
      ...reviewSchedule(fields.lastReview, fields.reviewEvery ?? rules.reviewEvery, rules.timezone),
      raw: { at: entry.at, ...(fields.notes === null ? {} : { notes: fields.notes }) },
    };
  };
}
