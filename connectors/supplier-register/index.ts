import { z } from 'zod';
import { defineConnector } from '../contract.ts';
import { isEmailAddress } from '../csv.ts';
import { collectRegister, EntryWarning, registerFileConfig, requireFormat, ReviewInterval } from '../register-file.ts';
import { SUPPLIER_FIELDS, SUPPLIER_REQUIRED, supplierMapper } from './mapping.ts';

export const SupplierRegisterConfig = z
  .strictObject({
    ...registerFileConfig,
    reviewEvery: ReviewInterval.prefault('1 year').describe(
      'How often a supplier is reviewed unless its entry says otherwise (its own `reviewEvery`): whole days, weeks, months or years, e.g. `90 days`, `6 months`, `1 year`.',
    ),
  })
  .superRefine(requireFormat)
  .describe(
    "The supplier register as a YAML or CSV file beside the config: each supplier's service, the data it handles, criticality, owner, reviews and certificates with their expiry.",
  );
export type SupplierRegisterConfig = z.infer<typeof SupplierRegisterConfig>;

export const supplierRegister = defineConnector({
  name: 'supplier-register',
  kinds: ['supplier'],
  version: '1',
  config: SupplierRegisterConfig,
  async *collect(config, ctx) {
    const file = config.path;
    ctx.provenance({ source: 'register file', timezone: config.timezone });
    const toSupplier = supplierMapper({ connector: 'supplier-register', file, reviewEvery: config.reviewEvery, timezone: config.timezone });
    const noOwner = new EntryWarning((entries, count) => `supplier-register: ${file}: ${count} supplier(s) have no owner: ${entries}`);
    const notAddresses = new EntryWarning(
      (entries) => `supplier-register: ${file}: owners named by something other than an email address, which no check can join to HR: ${entries}`,
    );
    yield* collectRegister({
      connector: 'supplier-register',
      config,
      ctx,
      listKey: 'suppliers',
      fields: SUPPLIER_FIELDS,
      requiredColumns: SUPPLIER_REQUIRED,
      key: { noun: 'supplier', of: (supplier) => supplier.name },
      toRecord(entry) {
        const supplier = toSupplier(entry);
        if (supplier.owner === null) noOwner.add(supplier.name);
        else if (!isEmailAddress(supplier.owner)) notAddresses.add(supplier.name);
        return supplier;
      },
    });
    noOwner.report(ctx);
    notAddresses.report(ctx);
  },
});
