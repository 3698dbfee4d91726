import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runControl } from '../../worker/run-control.ts';
import { DEMO_CONTROL, startIdentityDemo, type IdentityDemo } from '../support/demo-identities.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-identities-demo-test-'));
let demo: IdentityDemo;
let current: TemporalHarness;

beforeAll(async () => {
  demo = await startIdentityDemo(dir);
  // The worker's activities resolve secret references from the environment of this process.
  Object.assign(process.env, demo.env);
  current = await harness(demo.config);
});
afterAll(async () => {
  await current?.close();
  await demo?.close();
  for (const name of Object.keys(demo?.env ?? {})) delete process.env[name];
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo:identities', () => {
  it('collects AWS IAM, Identity Center, Google Workspace, Entra ID, Okta, BambooHR and the HR export, and raises exactly the expected nonconformities', async () => {
    const { worker, client, runtime } = current;
    const summary = await worker.runUntil(runControl(client, runtime.config, DEMO_CONTROL));

    expect(summary.gaps).toEqual([]);
    expect(Object.fromEntries(summary.evidence.map((ref) => [ref.sourceName, ref.recordCount]))).toEqual({
      'aws-prod': 5,
      google: 5,
      entra: 3,
      okta: 4,
      'aws-sso': 3,
      bamboohr: 3,
      'hris-export': 3,
    });
    expect(summary.status).toBe('fail');
    // Every access check found exactly what it was seeded to find.
    expect(Object.fromEntries(summary.checks.map((check) => [check.checkId, [check.status, check.deviations]]))).toEqual({
      'leaver-still-active': ['fail', 3],
      // Identity Center's users have no known last sign-in or MFA: neither inactive, never used nor without MFA.
      'inactive-account': ['fail', 1],
      'account-never-used': ['fail', 1],
      'mfa-missing': ['fail', 2],
      'aws-root-account': ['fail', 1],
      'stale-credentials': ['fail', 1],
      'orphan-account': ['fail', 1],
    });

    const raised = await runtime.register.list({ controlId: DEMO_CONTROL });
    const key = (nc: { checkId: string; subject: string }) => `${nc.checkId} ${nc.subject}`;
    expect(raised.map(key).sort()).toEqual(demo.expected.map(key).sort());
    expect(raised.every((nc) => nc.status === 'open' && nc.owner === 'security@example.com')).toBe(true);
    const titles = Object.fromEntries(raised.map((nc) => [key(nc), nc.title]));
    expect(Object.values(titles).sort()).toEqual([
      'AWS root user without MFA: <root_account> in aws-iam (111111111111)',
      'Account never used: joan@example.com in google-workspace (C03az79cb)',
      'Account owned by no known person: old.intern@example.com in google-workspace (C03az79cb)',
      'Account without MFA: grace@example.com in aws-iam (111111111111)',
      `Account without MFA: margaret@example.com in okta (${demo.tenants.okta})`,
      'Inactive account: old.intern@example.com in google-workspace (C03az79cb)',
      "Leaver's account still active: ken@example.com in microsoft-graph (00000000-0000-4000-8000-00000000aaaa)",
      "Leaver's account still active: linus@example.com in aws-iam (111111111111)",
      `Leaver's account still active: linus@example.com in aws-identity-center (${demo.tenants.identityCenter})`,
      'Stale access key AKIADEMOSVCDEPLOY001 of svc-deploy in aws-iam (111111111111)',
    ]);
    // No secret of any source reached the register or the evidence rows.
    const stored = JSON.stringify([raised, await runtime.store.list({ controlId: DEMO_CONTROL })]);
    for (const secret of Object.values(demo.env).filter((value) => !value.startsWith('AKIA'))) expect(stored).not.toContain(secret);
    expect((await runtime.store.verify()).ok).toBe(true);
  });
});
