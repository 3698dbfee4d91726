import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DeleteUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import type { CampaignSummary } from '../../core/access-review-contracts.ts';
import { decideReview, openReview, waitForReviewLists } from '../../worker/review.ts';
import { startFakeOkta, type FakeOkta } from '../support/fake-okta.ts';
import { seedIdentityCenter, type SeededIdentityCenter } from '../support/identity-center-seed.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';

const DAY_MS = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
const OKTA_TOKEN = '00reviewOktaTokenNotARealOne00000000000001';
const REGION = 'eu-west-1';

let okta: FakeOkta;
let moto: MotoServer;
let center: SeededIdentityCenter;
let current: TemporalHarness | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'isms-idp-review-'));

beforeAll(async () => {
  Object.assign(process.env, { REVIEW_OKTA_TOKEN: OKTA_TOKEN, REVIEW_IDC_KEY: 'AKIAREVIEWIDC0000001', REVIEW_IDC_SECRET: 'review-idc-secret' });
  okta = await startFakeOkta({
    tokens: new Set([OKTA_TOKEN]),
    users: [
      {
        id: '00u0rev001',
        status: 'ACTIVE',
        login: 'ada@example.com',
        created: ago(900),
        lastLogin: ago(1),
        factors: [{ factorType: 'push', provider: 'OKTA', status: 'ACTIVE' }],
        roles: [{ type: 'SUPER_ADMIN', assignmentType: 'USER' }],
      },
      { id: '00u0rev002', status: 'ACTIVE', login: 'bob@example.com', created: ago(600), lastLogin: ago(200), factors: [] },
      {
        id: '00u0rev003',
        status: 'ACTIVE',
        login: 'grace@example.com',
        created: ago(300),
        lastLogin: null,
        factors: [{ factorType: 'webauthn', provider: 'FIDO', status: 'ACTIVE' }],
      },
      { id: '00u0rev004', status: 'DEPROVISIONED', login: 'linus@example.com', created: ago(800), lastLogin: ago(20) },
    ],
  });
  moto = await startMoto();
  center = await seedIdentityCenter(moto.endpoint, REGION, {
    users: [
      { userName: 'ada@example.com', displayName: 'Ada Lovelace', email: 'ada@example.com' },
      { userName: 'linus@example.com', displayName: 'Linus Torvalds', email: 'linus@example.com' },
      { userName: 'stranger@example.com', displayName: 'Some Stranger', email: 'stranger@example.com' },
    ],
    groups: [{ name: 'admins', members: ['ada@example.com'] }],
    permissionSets: [
      { name: 'Administrator', managed: ['AdministratorAccess'] },
      { name: 'ReadOnly', managed: ['ReadOnlyAccess'] },
    ],
    assignments: [
      { permissionSet: 'Administrator', group: 'admins' },
      { permissionSet: 'ReadOnly', user: 'linus@example.com' },
      { permissionSet: 'ReadOnly', user: 'stranger@example.com' },
    ],
  });
  writeFileSync(
    path.join(dir, 'hr.csv'),
    [
      'Employee ID,Full Name,Work Email,Employment Status,Termination Date',
      'E-1,Ada Lovelace,ada@example.com,Active,',
      'E-2,Grace Hopper,grace@example.com,Active,',
      `E-3,Linus Torvalds,linus@example.com,Terminated,${ago(10).slice(0, 10)}`,
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await current?.close();
  await okta?.close();
  await moto?.stop();
  for (const name of ['REVIEW_OKTA_TOKEN', 'REVIEW_IDC_KEY', 'REVIEW_IDC_SECRET']) delete process.env[name];
  rmSync(dir, { recursive: true, force: true });
});

describe('access review campaign over Okta and IAM Identity Center on a real Temporal server', () => {
  it("lists both systems' active accounts with their flags, and verifies the revocations each carried out", async () => {
    const controlId = `idp-access-${randomUUID().slice(0, 8)}`;
    current = await harness(
      {
        controls: [
          {
            id: controlId,
            title: 'Access rights granted through the identity providers are reviewed and revoked',
            reference: ['A.5.18'],
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            sources: [
              { name: 'okta', connector: 'okta', config: { orgUrl: okta.orgUrl, token: { env: 'REVIEW_OKTA_TOKEN' }, pageSize: 2 } },
              {
                name: 'aws-sso',
                connector: 'aws-identity-center',
                config: {
                  account: { id: center.accountId },
                  region: REGION,
                  endpoint: moto.endpoint,
                  credentials: { accessKeyId: { env: 'REVIEW_IDC_KEY' }, secretAccessKey: { env: 'REVIEW_IDC_SECRET' } },
                  pageSize: 2,
                },
              },
              {
                name: 'hr',
                connector: 'hr-csv',
                config: {
                  path: path.join(dir, 'hr.csv'),
                  columns: {
                    employeeId: 'Employee ID',
                    displayName: 'Full Name',
                    email: 'Work Email',
                    status: 'Employment Status',
                    terminationDate: 'Termination Date',
                  },
                },
              },
            ],
            checks: [
              { check: 'inactive-account', params: { maxInactiveDays: 90 } },
              { check: 'account-never-used', params: { graceDays: 14 } },
              { check: 'leaver-still-active' },
              { check: 'orphan-account' },
            ],
            review: {
              every: 'quarterly',
              dueInDays: 1,
              verifyAfter: '2s',
              maxVerifications: 1,
              reviewers: { okta: 'it-lead@example.com', 'aws-sso': 'cloud-lead@example.com' },
            },
          },
        ],
      },
      testRegistries,
    );
    const { client, worker, runtime } = current;
    const reviews = new AccessReviewStore(runtime.store.catalog);
    const { campaignId } = await openReview(client, runtime.config, controlId);

    const summary = await worker.runUntil(async () => {
      expect(await waitForReviewLists(client, campaignId)).toMatchObject({ phase: 'open', entryCount: 6, systems: ['okta', 'aws-sso'] });
      const entries = await reviews.entries(campaignId);
      const row = (entry: (typeof entries)[number]) => [
        entry.system,
        entry.username,
        entry.reviewer,
        entry.privileged,
        entry.mfa,
        entry.lastLoginAt === null || entry.lastLoginAt === 'unknown' ? entry.lastLoginAt : 'a date',
        entry.flags.inactive,
        entry.flags.neverUsed,
        entry.flags.leaver !== null,
        entry.flags.orphan,
      ];
      // Okta's deprovisioned linus is no access any more, so he is not under review.
      expect(entries.map(row).sort()).toEqual([
        // Identity Center: privilege from the permission set; last sign-in and MFA unknown, so neither inactive nor never used.
        ['aws-sso', 'ada@example.com', 'cloud-lead@example.com', true, 'unknown', 'unknown', false, false, false, false],
        ['aws-sso', 'linus@example.com', 'cloud-lead@example.com', false, 'unknown', 'unknown', false, false, true, false],
        ['aws-sso', 'stranger@example.com', 'cloud-lead@example.com', false, 'unknown', 'unknown', false, false, false, true],
        ['okta', 'ada@example.com', 'it-lead@example.com', true, true, 'a date', false, false, false, false],
        ['okta', 'bob@example.com', 'it-lead@example.com', false, false, 'a date', true, false, false, true],
        ['okta', 'grace@example.com', 'it-lead@example.com', false, true, null, false, true, false, false],
      ]);
      await decideReview(client, campaignId, {
        entries: ['okta:ada@example.com', 'okta:grace@example.com', 'aws-sso:ada@example.com'],
        decision: 'approve',
        by: 'security@example.com',
      });
      await decideReview(client, campaignId, {
        entries: ['okta:bob@example.com', 'aws-sso:linus@example.com', 'aws-sso:stranger@example.com'],
        decision: 'revoke',
        by: 'security@example.com',
        reason: 'left, unused or unknown',
      });
      // Okta deactivates bob; Identity Center deletes linus; the stranger keeps his access.
      okta.state.users = okta.state.users.map((user) => (user.login === 'bob@example.com' ? { ...user, status: 'DEPROVISIONED' } : user));
      const store = new IdentitystoreClient({
        endpoint: moto.endpoint,
        region: REGION,
        credentials: { accessKeyId: 'AKIAREVIEWIDC0000001', secretAccessKey: 'review-idc-secret' },
      });
      await store.send(new DeleteUserCommand({ IdentityStoreId: center.identityStoreId, UserId: center.userIds.get('linus@example.com')! }));
      store.destroy();
      return (await current!.client.workflow.getHandle(campaignId).result()) as CampaignSummary;
    });

    expect(summary).toMatchObject({ campaignId, controlId, status: 'completed', entryCount: 6, undecidedAtClose: 0 });
    expect(summary.revocations).toEqual({ effective: 2, notEffective: 1, unverifiable: 0 });
    const verified = Object.fromEntries(
      (await reviews.entries(campaignId))
        .filter((entry) => entry.decision === 'revoke')
        .map((entry) => [`${entry.system}:${entry.username}`, entry.verification]),
    );
    expect(verified).toEqual({
      'okta:bob@example.com': 'effective',
      'aws-sso:linus@example.com': 'effective',
      'aws-sso:stranger@example.com': 'not-effective',
    });
  });
});
