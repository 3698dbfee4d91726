import type { z } from 'zod';
import { Credential, HrPerson, Identity, type Finding } from '../../core/records.ts';
import type { SnapshotMeta } from '../../evidence/store.ts';

/**
 * Factories for normalized records. Every record goes through its zod schema, so a factory (or an override) that makes
 * an invalid record fails the test instead of testing a shape no connector can produce.
 */

/** The evaluation moment the check tests share. */
export const AT = new Date('2025-06-01T00:00:00.000Z');

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** An ISO timestamp `days` (fractions allowed) before `from`. */
export function daysBefore(days: number, from: Date = AT): string {
  return new Date(from.getTime() - days * DAY_MS).toISOString();
}

/** An ISO timestamp `hours` (fractions allowed) before `from`. */
export function hoursBefore(hours: number, from: Date = AT): string {
  return new Date(from.getTime() - hours * HOUR_MS).toISOString();
}

/** An active, MFA-enrolled, non-privileged IAM user who signed in yesterday; the id and email follow the username unless given. */
export function identity(overrides: Partial<z.input<typeof Identity>> = {}): Identity {
  const username = overrides.username ?? 'jdoe';
  return Identity.parse({
    kind: 'identity',
    source: 'aws-iam',
    tenant: '111122223333',
    id: username,
    username,
    email: username.includes('@') ? username : `${username}@example.com`,
    displayName: null,
    status: 'active',
    privileged: false,
    mfaEnabled: true,
    lastLoginAt: daysBefore(1),
    createdAt: daysBefore(400),
    credentials: [],
    groups: [],
    ...overrides,
  });
}

/** An active access key created 10 days ago and used yesterday. */
export function accessKey(overrides: Partial<z.input<typeof Credential>> = {}): z.output<typeof Credential> {
  return Credential.parse({
    kind: 'access-key',
    id: 'AKIAEXAMPLE000000001',
    active: true,
    createdAt: daysBefore(10),
    lastUsedAt: daysBefore(1),
    ...overrides,
  });
}

/** A current employee; the email follows the employee id unless given. */
export function person(overrides: Partial<z.input<typeof HrPerson>> = {}): HrPerson {
  const employeeId = overrides.employeeId ?? 'E1';
  return HrPerson.parse({
    kind: 'hr-person',
    source: 'bamboohr',
    employeeId,
    email: `${employeeId.toLowerCase()}@example.com`,
    aliases: [],
    displayName: null,
    status: 'active',
    terminationDate: null,
    lastWorkingDay: null,
    manager: null,
    ...overrides,
  });
}

/** A person HR has terminated `hoursAgo` hours before AT. */
export function leaver(hoursAgo: number, overrides: Partial<z.input<typeof HrPerson>> = {}): HrPerson {
  return person({ status: 'leaver', terminationDate: hoursBefore(hoursAgo), lastWorkingDay: hoursBefore(hoursAgo), ...overrides });
}

/** A Trivy finding on asset `api`, as the store tests write it. */
export function scanFinding(id: string): Finding {
  return {
    kind: 'finding',
    source: 'scans',
    scanner: 'trivy',
    id,
    title: `vulnerability ${id}`,
    severity: 'high',
    cvss: 7.1,
    asset: 'api',
    location: 'openssl@1.1',
    scannedAt: '2026-11-01T00:00:00Z',
    firstSeenAt: '2026-11-01T00:00:00Z',
    fixedAt: null,
    fixAvailable: true,
  };
}

/** What a scanner-files pull of control `vuln` tells the store as it commits a snapshot. */
export function scanSnapshotMeta(runId: string, sourceName = 'scans'): SnapshotMeta {
  return {
    runId,
    controlId: 'vuln',
    sourceName,
    connector: 'scanner-files',
    connectorVersion: '1',
    kinds: ['finding'],
    collectedAt: '2026-11-25T00:00:00.000Z',
    provenance: { files: ['a.json'] },
    warnings: [],
  };
}
