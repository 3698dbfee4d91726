import { fileURLToPath } from 'node:url';

/**
 * The `access-control` example control over the files in examples/: the HR export joined to two systems whose
 * user lists only exist as CSV exports. The same shape goes into config/isms.example.yaml with paths relative to
 * config/; tests pass the absolute folder so the config can live anywhere.
 */

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

export const exampleHrConfig = (examples: string) => ({
  path: `${examples}hr/people.csv`,
  columns: {
    employeeId: 'Employee #',
    email: 'Work Email',
    displayName: 'Display Name',
    status: 'Status',
    terminationDate: 'Termination Date',
    manager: 'Supervisor Email',
    aliases: 'Aliases',
  },
});

export const exampleJiraConfig = (examples: string) => ({
  path: `${examples}identities/jira-users.csv`,
  system: 'jira-cloud',
  columns: {
    id: 'User id',
    // Atlassian's "User name" is the display name; the address is what people and service accounts are known by.
    username: 'email',
    email: 'email',
    displayName: 'User name',
    status: 'User status',
    role: 'Org role',
    lastLogin: 'Last seen in Jira',
    created: 'Added to org',
    groups: 'Groups',
  },
  privilegedRoles: ['Org admin'],
});

export const exampleVpnConfig = (examples: string) => ({
  path: `${examples}identities/vpn-users.csv`,
  system: 'corporate-vpn',
  timezone: 'Europe/Berlin',
  columns: {
    id: 'Username',
    username: 'Username',
    email: 'Email',
    status: 'Enabled',
    mfa: 'MFA',
    lastLogin: 'Last Login',
    created: 'Created',
    groups: 'Groups',
    role: 'Groups',
  },
  privilegedRoles: ['vpn-admins'],
});

export const exampleAccessControl = (examples: string = EXAMPLES_DIR) => ({
  id: 'access-control',
  title: 'Access rights follow the HR record - leavers revoked, no orphans, MFA on, no unused accounts',
  reference: ['A.5.18', 'A.8.5'],
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
  sources: [
    { name: 'hr', connector: 'hr-csv', config: exampleHrConfig(examples) },
    { name: 'jira', connector: 'identity-csv', config: exampleJiraConfig(examples) },
    { name: 'vpn', connector: 'identity-csv', config: exampleVpnConfig(examples) },
  ],
  checks: [
    { check: 'leaver-still-active', params: { slaHours: 24 } },
    { check: 'orphan-account', params: { serviceAccountPatterns: ['svc-*'] } },
    { check: 'mfa-missing', params: { requireForAll: true } },
    { check: 'account-never-used', params: { graceDays: 14 } },
    { check: 'inactive-account', params: { maxInactiveDays: 90 } },
  ],
});
