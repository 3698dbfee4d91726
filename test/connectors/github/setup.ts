import { GitHubConfig } from '../../../connectors/github/config.ts';
import { gitHub } from '../../../connectors/github/index.ts';
import type { Identity } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import type { FakeGitHub, FakeGitHubState, FakeInvitation, FakeUser } from '../../support/fake-github.ts';

export const OWNER_TOKEN = 'github_pat_11AAAAAAA0owner0token0do0not0leak0000000000000000000000000000';
export const MEMBER_TOKEN = 'github_pat_11BBBBBBB0member0token0do0not0leak000000000000000000000000000';
export const NO_PERMISSION_TOKEN = 'github_pat_11CCCCCCC0no0permission00000000000000000000000000000000000000';
export const TOKEN_ENV = { GITHUB_TOKEN: OWNER_TOKEN };

const user = (id: number, login: string, extra: Partial<FakeUser> = {}): FakeUser => ({ id, login, ...extra });

/** Seven members (two owners, one a bot), an outside collaborator and two invitations. */
export function organisation(): Pick<FakeGitHubState, 'members' | 'outsideCollaborators' | 'invitations' | 'twoFactorDisabled'> {
  const members: FakeGitHubState['members'] = [
    { user: user(1001, 'octo-owner'), role: 'admin' },
    { user: user(1002, 'alice-gh'), role: 'member' },
    { user: user(1003, 'bob-gh'), role: 'member' },
    { user: user(1004, 'carol-gh'), role: 'member' },
    { user: user(1005, 'stranger'), role: 'member' },
    { user: user(1006, 'ghost-admin'), role: 'admin' },
    { user: user(1007, 'deploy-bot'), role: 'member' },
  ];
  const invitations: FakeInvitation[] = [
    { id: 3001, login: 'new-hire', email: null, role: 'direct_member', created_at: '2025-05-20T09:00:00+02:00', inviter: 'octo-owner' },
    { id: 3002, login: null, email: 'Future.Owner@example.com', role: 'admin', created_at: '2025-05-28T10:30:00Z', inviter: 'octo-owner' },
  ];
  return {
    members,
    outsideCollaborators: [user(2001, 'contractor-x')],
    invitations,
    twoFactorDisabled: new Set(['bob-gh', 'ghost-admin', 'contractor-x']),
  };
}

export function resetFake(fake: FakeGitHub): void {
  Object.assign(fake.state, organisation(), { inject: [], truncateNext: 0, managedUsers: false });
  fake.state.tokens = new Map([
    [OWNER_TOKEN, { owner: true, membersRead: true }],
    [MEMBER_TOKEN, { owner: false, membersRead: true }],
    [NO_PERMISSION_TOKEN, { owner: true, membersRead: false }],
  ]);
  fake.requests.length = 0;
}

export function configFor(fake: FakeGitHub, overrides: Record<string, unknown> = {}): GitHubConfig {
  return GitHubConfig.parse({ org: fake.state.org.login, baseUrl: fake.baseUrl, token: { env: 'GITHUB_TOKEN' }, perPage: 2, ...overrides });
}

export async function collect(fake: FakeGitHub, overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: TOKEN_ENV, ...context });
  const records = await collectAll(gitHub.collect(configFor(fake, overrides), recorded.ctx));
  return { ...recorded, records };
}

/** Runs a collection expected to fail; returns the error with whatever was yielded before it. */
export async function collectToFailure(fake: FakeGitHub, overrides: Record<string, unknown> = {}, context: Parameters<typeof testContext>[0] = {}) {
  const recorded = testContext({ env: TOKEN_ENV, ...context });
  const records: Identity[] = [];
  try {
    for await (const record of gitHub.collect(configFor(fake, overrides), recorded.ctx)) records.push(record);
  } catch (error) {
    return { ...recorded, records, error: error as Error };
  }
  throw new Error('the collection was expected to fail');
}

export const usernames = (records: readonly Identity[]) => records.map((record) => record.username);
