import { accessChecks } from './access.ts';
import { backupChecks } from './backup.ts';
import type { AnyCheck } from './contract.ts';
import { registerChecks } from './registers.ts';
import { scanStaleness } from './scan-staleness.ts';
import { vulnerabilitySla } from './vulnerability-sla.ts';

/** Every check this build ships; config names them by `id`. */
export const builtinChecks: readonly AnyCheck[] = [vulnerabilitySla, scanStaleness, ...accessChecks, ...backupChecks, ...registerChecks];

export const defaultChecks: ReadonlyMap<string, AnyCheck> = new Map(builtinChecks.map((check) => [check.id, check]));
