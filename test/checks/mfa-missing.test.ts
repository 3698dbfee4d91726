import { describe, expect, it } from 'vitest';
import { mfaMissing } from '../../checks/mfa-missing.ts';
import type { Identity } from '../../core/records.ts';
import { accessKey, identity } from '../support/records.ts';
import { IDENTITY_EVIDENCE, outcome, runCheck } from './run-check.ts';

const subjectOf = (id: string) => `aws-iam:111122223333:${id}`;
const noMfa = (overrides: Parameters<typeof identity>[0] = {}) => identity({ mfaEnabled: false, ...overrides });

const rows: { name: string; account: Identity; params?: Record<string, unknown>; expected: { subject: string; severity: string }[] }[] = [
  { name: 'privileged without MFA', account: noMfa({ privileged: true }), expected: [{ subject: subjectOf('jdoe'), severity: 'high' }] },
  { name: 'person without MFA (required for all by default)', account: noMfa(), expected: [{ subject: subjectOf('jdoe'), severity: 'medium' }] },
  { name: 'person without MFA when only privileged accounts need it', account: noMfa(), params: { requireForAll: false }, expected: [] },
  {
    name: 'privileged without MFA even when not required for all',
    account: noMfa({ privileged: true }),
    params: { requireForAll: false },
    expected: [{ subject: subjectOf('jdoe'), severity: 'high' }],
  },
  { name: 'MFA enrolled', account: identity({ mfaEnabled: true, privileged: true }), expected: [] },
  { name: "'unknown' is not missing by default", account: identity({ mfaEnabled: 'unknown' }), expected: [] },
  { name: "privileged 'unknown' is not missing by default", account: identity({ mfaEnabled: 'unknown', privileged: true }), expected: [] },
  {
    name: "'unknown' counted as missing",
    account: identity({ mfaEnabled: 'unknown' }),
    params: { unknownCountsAsMissing: true },
    expected: [{ subject: subjectOf('jdoe'), severity: 'medium' }],
  },
  {
    name: "privileged 'unknown' counted as missing",
    account: identity({ mfaEnabled: 'unknown', privileged: true }),
    params: { unknownCountsAsMissing: true },
    expected: [{ subject: subjectOf('jdoe'), severity: 'high' }],
  },
  { name: 'service account by svc-* pattern', account: noMfa({ username: 'svc-deploy' }), expected: [] },
  { name: 'service account by *-bot pattern, other case', account: noMfa({ username: 'Release-BOT' }), expected: [] },
  { name: 'Google service account address', account: noMfa({ username: 'ci@build-prod.iam.gserviceaccount.com' }), expected: [] },
  { name: 'service account by tag list', account: noMfa({ username: 'deployer', raw: { tags: ['team-x', 'Service-Account'] } }), expected: [] },
  { name: 'service account by tag key', account: noMfa({ username: 'deployer', raw: { tags: { 'service-account': 'true' } } }), expected: [] },
  { name: 'service account by tag value', account: noMfa({ username: 'deployer', raw: { tags: { type: 'service-account' } } }), expected: [] },
  {
    name: 'service account by AWS Key/Value tag',
    account: noMfa({ username: 'deployer', raw: { tags: [{ Key: 'service-account', Value: '' }] } }),
    expected: [],
  },
  {
    name: 'tag key set to false is not a service account',
    account: noMfa({ username: 'deployer', raw: { tags: { 'service-account': 'false' } } }),
    expected: [{ subject: subjectOf('deployer'), severity: 'medium' }],
  },
  {
    name: 'a custom service-account tag replaces the default',
    account: noMfa({ username: 'deployer', raw: { tags: ['service-account'] } }),
    params: { serviceAccountTag: 'machine' },
    expected: [{ subject: subjectOf('deployer'), severity: 'medium' }],
  },
  {
    name: 'privileged service account still needs MFA',
    account: noMfa({ username: 'svc-admin', privileged: true }),
    expected: [{ subject: subjectOf('svc-admin'), severity: 'high' }],
  },
  {
    name: 'exempt by pattern, other case',
    account: noMfa({ username: 'BreakGlass-01', privileged: true }),
    params: { exemptAccounts: ['breakglass-*'] },
    expected: [],
  },
  {
    name: 'exempt by exact name',
    account: noMfa({ username: '<root_account>', privileged: true }),
    params: { exemptAccounts: ['<root_account>'] },
    expected: [],
  },
  {
    name: 'a dot in a pattern is a dot, not a wildcard',
    account: noMfa({ username: 'adminXops' }),
    params: { exemptAccounts: ['admin.ops'] },
    expected: [{ subject: subjectOf('adminXops'), severity: 'medium' }],
  },
  {
    name: 'a pattern matches the whole username only',
    account: noMfa({ username: 'svc-deploy-jane' }),
    params: { exemptAccounts: ['deploy'], serviceAccountPatterns: ['svc'] },
    expected: [{ subject: subjectOf('svc-deploy-jane'), severity: 'medium' }],
  },
  // MFA protects interactive sign-in: an IAM user with keys and no console password has none to protect.
  { name: 'key-only account (no interactive sign-in)', account: noMfa({ interactiveSignIn: false, credentials: [accessKey()] }), expected: [] },
  { name: 'privileged key-only account', account: noMfa({ interactiveSignIn: false, privileged: true, credentials: [accessKey()] }), expected: [] },
  {
    name: 'key-only account when MFA is required for all',
    account: noMfa({ interactiveSignIn: false, credentials: [accessKey()] }),
    params: { requireForAll: true },
    expected: [],
  },
  {
    name: 'console password and keys: the password sign-in is judged',
    account: noMfa({
      interactiveSignIn: true,
      credentials: [accessKey(), { kind: 'password', id: 'password', active: true, createdAt: null, lastUsedAt: null }],
    }),
    expected: [{ subject: subjectOf('jdoe'), severity: 'medium' }],
  },
  {
    name: 'a source that does not say: judged as a directory account',
    account: noMfa({ credentials: [accessKey()] }),
    expected: [{ subject: subjectOf('jdoe'), severity: 'medium' }],
  },
  { name: 'suspended', account: noMfa({ status: 'suspended', privileged: true }), expected: [] },
  { name: 'disabled', account: noMfa({ status: 'disabled', privileged: true }), expected: [] },
  { name: 'deleted', account: noMfa({ status: 'deleted', privileged: true }), expected: [] },
];

describe('mfa-missing', () => {
  it.each(rows)('$name', ({ account, params, expected }) => {
    expect(outcome(runCheck(mfaMissing, { identities: [account], params }))).toEqual(expected);
  });

  it('names the system and account and carries the MFA state', () => {
    const [deviation] = runCheck(mfaMissing, {
      identities: [noMfa({ privileged: true, source: 'entra-id', tenant: 'contoso', id: '7f3e', username: 'jane@contoso.com' })],
    });
    expect(deviation).toMatchObject({
      checkId: 'mfa-missing',
      subject: 'entra-id:contoso:7f3e',
      title: 'Privileged account without MFA: jane@contoso.com in entra-id (contoso)',
      detail: 'jane@contoso.com in entra-id (contoso) is an active privileged account with no MFA enrolled.',
      values: { system: 'entra-id', tenant: 'contoso', account: 'jane@contoso.com', email: 'jane@contoso.com', privileged: true, mfaEnabled: false },
      evidenceIds: [IDENTITY_EVIDENCE],
    });
  });

  it('says when an unknown MFA state was counted as missing', () => {
    const [deviation] = runCheck(mfaMissing, { identities: [identity({ mfaEnabled: 'unknown' })], params: { unknownCountsAsMissing: true } });
    expect(deviation?.detail).toContain('cannot confirm');
    expect(deviation?.values['mfaEnabled']).toBe('unknown');
  });
});
