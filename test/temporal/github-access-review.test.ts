import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessReviewStore } from '../../evidence/access-reviews.ts';
import { decideReview, openReview, waitForReviewLists } from '../../worker/review.ts';
import { OWNER_TOKEN, resetFake } from '../connectors/github/setup.ts';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.ts';
import { harness, type TemporalHarness } from '../support/temporal.ts';
import { testRegistries } from '../support/test-connectors.ts';
import type { accessReviewCampaign } from '../../workflows/access-review.ts';

let fake: FakeGitHub;
let current: TemporalHarness | undefined;

beforeAll(async () => {
  process.env.REVIEW_GITHUB_TOKEN = OWNER_TOKEN;
  fake = await startFakeGitHub();
  resetFake(fake);
});
afterAll(async () => {
  await current?.close();
  await fake.close();
  delete process.env.REVIEW_GITHUB_TOKEN;
});

describe('access review campaign over a GitHub organisation on a real Temporal server', () => {
  it('lists the members and outside collaborators, and verifies a revocation the organisation carried out', async () => {
    const controlId = `github-access-${randomUUID().slice(0, 8)}`;
    current = await harness(
      {
        controls: [
          {
            id: controlId,
            title: 'Access rights to the source code are reviewed and revoked',
            reference: ['A.5.18', 'A.8.4'],
            owner: 'security@example.com',
            schedule: { cron: '0 6 * * *' },
            sources: [
              {
                name: 'github',
                connector: 'github',
                config: { org: fake.state.org.login, baseUrl: fake.baseUrl, token: { env: 'REVIEW_GITHUB_TOKEN' }, perPage: 3 },
              },
            ],
            checks: [{ check: 'mfa-missing' }],
            review: { every: 'quarterly', dueInDays: 1, verifyAfter: '2s', reviewers: { github: 'eng-lead@example.com' } },
          },
        ],
      },
      testRegistries,
    );
    const { client, worker, runtime } = current;
    const reviews = new AccessReviewStore(runtime.store.catalog);
    const { campaignId } = await openReview(client, runtime.config, controlId);

    const summary = await worker.runUntil(async () => {
      expect(await waitForReviewLists(client, campaignId)).toMatchObject({ phase: 'open', entryCount: 8, systems: ['github'] });
      const entries = await reviews.entries(campaignId);
      // Owners first; pending invitations are not access yet, so they are not under review.
      expect(entries.map((entry) => [entry.entryNo, entry.username, entry.privileged, entry.mfa, entry.lastLoginAt])).toEqual([
        [1, 'ghost-admin', true, false, 'unknown'],
        [2, 'octo-owner', true, true, 'unknown'],
        [3, 'alice-gh', false, true, 'unknown'],
        [4, 'bob-gh', false, false, 'unknown'],
        [5, 'carol-gh', false, true, 'unknown'],
        [6, 'contractor-x', false, false, 'unknown'],
        [7, 'deploy-bot', false, true, 'unknown'],
        [8, 'stranger', false, true, 'unknown'],
      ]);
      await decideReview(client, campaignId, { entries: ['1-7'], decision: 'approve', by: 'eng-lead@example.com' });
      await decideReview(client, campaignId, { entries: ['github:stranger'], decision: 'revoke', by: 'eng-lead@example.com', reason: 'not one of ours' });
      // The owner removes the account before the verification collects again.
      fake.state.members = fake.state.members.filter((member) => member.user.login !== 'stranger');
      return await current!.client.workflow.getHandle<typeof accessReviewCampaign>(campaignId).result();
    });

    expect(summary).toMatchObject({ campaignId, controlId, status: 'completed', entryCount: 8, undecidedAtClose: 0, verifications: 1 });
    expect(summary.revocations).toEqual({ effective: 1, notEffective: 0, unverifiable: 0 });
    expect((await reviews.entries(campaignId)).find((entry) => entry.username === 'stranger')).toMatchObject({ decision: 'revoke', verification: 'effective' });
    // The opening collection and the verification: both read the members' pages by GitHub's Link headers.
    expect(fake.requests.filter((request) => request.path === '/orgs/example-org/invitations')).toHaveLength(2);
  });
});
