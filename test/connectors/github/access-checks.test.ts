import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReviewEntries, reviewListsOf } from '../../../activities/review-lists.ts';
import { accountNeverUsed, inactiveAccount, leaverStillActive, mfaMissing, orphanAccount } from '../../../checks/index.ts';
import type { HrPerson, Identity } from '../../../core/records.ts';
import { runCheck } from '../../checks/run-check.ts';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github.ts';
import { join, withMapping } from '../../support/joins.ts';
import { AT, leaver, person } from '../../support/records.ts';
import { collect, MEMBER_TOKEN, resetFake } from './setup.ts';

let fake: FakeGitHub;
beforeAll(async () => {
  fake = await startFakeGitHub();
});
afterAll(() => fake.close());
beforeEach(() => resetFake(fake));

/** GitHub accounts carry no email: the source's join maps logins to employee ids through its mapping file. */
const githubJoin = withMapping(
  join(),
  { 'alice-gh': 'E1', 'carol-gh': 'E2', 'octo-owner': 'E3', 'bob-gh': 'E4', 'ghost-admin': 'E5' },
  'employeeId',
  'github-logins.csv',
);
const people: HrPerson[] = [
  person({ employeeId: 'E1', email: 'alice@example.com' }),
  leaver(72, { employeeId: 'E2', email: 'carol@example.com' }),
  person({ employeeId: 'E3', email: 'olivia@example.com' }),
  person({ employeeId: 'E4', email: 'bob@example.com' }),
  person({ employeeId: 'E5', email: 'gus@example.com' }),
];

const subjects = (deviations: readonly { subject: string; severity: string }[]) => deviations.map(({ subject, severity }) => `${subject} ${severity}`);
const subject = (id: number) => `github:example-org:${id}`;

async function identities(token?: string): Promise<Identity[]> {
  return (await collect(fake, { perPage: 100 }, token === undefined ? {} : { env: { GITHUB_TOKEN: token } })).records;
}

describe('the access checks on github records, unchanged', () => {
  it('mfa-missing reports the members, the owner and the outside collaborator without 2FA; never a pending invitation', async () => {
    expect(subjects(runCheck(mfaMissing, { identities: await identities() }))).toEqual([
      `${subject(1003)} medium`,
      `${subject(1006)} high`,
      `${subject(2001)} medium`,
    ]);
  });

  it('mfa-missing judges nobody on 2FA the token could not read, unless unknown is told to count as missing', async () => {
    const unknown = await identities(MEMBER_TOKEN);
    expect(runCheck(mfaMissing, { identities: unknown })).toEqual([]);
    expect(runCheck(mfaMissing, { identities: unknown, params: { unknownCountsAsMissing: true } })).toHaveLength(7);
  });

  it('inactive-account and account-never-used find nothing to judge: GitHub does not tell sign-ins, and unknown is not never', async () => {
    const records = await identities();
    expect(runCheck(inactiveAccount, { identities: records, params: { maxInactiveDays: 1 } })).toEqual([]);
    expect(runCheck(accountNeverUsed, { identities: records, params: { graceDays: 0 } })).toEqual([]);
  });

  it('orphan-account reports the member and the outside collaborator no person owns; the bot is a service account', async () => {
    expect(subjects(runCheck(orphanAccount, { identities: await identities(), people, join: githubJoin }))).toEqual([
      `${subject(1005)} medium`,
      `${subject(2001)} medium`,
    ]);
  });

  it("leaver-still-active reports the leaver's membership", async () => {
    const deviations = runCheck(leaverStillActive, { identities: await identities(), people, join: githubJoin });
    expect(subjects(deviations)).toEqual([`${subject(1004)} high`]);
    expect(deviations[0]?.values).toMatchObject({ system: 'github', tenant: 'example-org', account: 'carol-gh', employeeId: 'E2' });
  });
});

describe('an access review of a GitHub organisation', () => {
  it('lists the active accounts (members and outside collaborators, not invitations) with the flags the checks give them', async () => {
    const records = await identities();
    const entries = buildReviewEntries({
      systems: [{ sourceName: 'github', evidenceId: 'ev-github', records, join: githubJoin }],
      people: [{ sourceName: 'hris', evidenceId: 'ev-hr', records: people }],
      reviewerOf: () => 'eng-lead@example.com',
      checkParams: new Map(),
      at: AT,
    });
    expect(
      entries.map((entry) => [
        entry.username,
        entry.privileged,
        entry.mfa,
        entry.lastLoginAt,
        entry.flags.owner?.employeeId ?? null,
        entry.flags.leaver?.employeeId ?? null,
        entry.flags.orphan,
        entry.flags.serviceAccount,
      ]),
    ).toEqual([
      ['ghost-admin', true, false, 'unknown', 'E5', null, false, false],
      ['octo-owner', true, true, 'unknown', 'E3', null, false, false],
      ['alice-gh', false, true, 'unknown', 'E1', null, false, false],
      ['bob-gh', false, false, 'unknown', 'E4', null, false, false],
      ['carol-gh', false, true, 'unknown', 'E2', 'E2', false, false],
      ['contractor-x', false, false, 'unknown', null, null, true, false],
      ['deploy-bot', false, true, 'unknown', null, null, false, true],
      ['stranger', false, true, 'unknown', null, null, true, false],
    ]);
    expect(entries.every((entry) => !entry.flags.inactive && !entry.flags.neverUsed)).toBe(true);
    expect(reviewListsOf(entries).map((list) => [list.system, list.reviewer, list.entries.length])).toEqual([['github', 'eng-lead@example.com', 8]]);
  });
});
