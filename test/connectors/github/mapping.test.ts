import { describe, expect, it } from 'vitest';
import { GitHubConfig } from '../../../connectors/github/config.ts';
import { GitHubUser, invitationIdentity, OrgInvitation, userIdentity } from '../../../connectors/github/mapping.ts';
import { describeIssues } from '../../../core/zod-issues.ts';
import { Identity } from '../../../core/records.ts';

/** The examples of GitHub's REST reference for "List organization members" and "List pending organization invitations". */
const octocat = {
  login: 'octocat',
  id: 1,
  node_id: 'MDQ6VXNlcjE=',
  avatar_url: 'https://github.com/images/error/octocat_happy.gif',
  gravatar_id: '',
  url: 'https://api.github.com/users/octocat',
  html_url: 'https://github.com/octocat',
  type: 'User',
  site_admin: false,
};
const invitation = {
  id: 1,
  login: 'monalisa',
  node_id: 'MDQ6VXNlcjE=',
  email: 'octocat@github.com',
  role: 'direct_member',
  created_at: '2016-11-30T06:46:10-08:00',
  failed_at: '',
  failed_reason: '',
  inviter: { ...octocat, login: 'other_user' },
  team_count: 2,
  invitation_teams_url: 'https://api.github.com/organizations/2/invitations/1/teams',
  invitation_source: 'member',
};

describe('github mapping', () => {
  it("maps a member from GitHub's documented shape, with 2FA known only when the disabled list was read", () => {
    const user = GitHubUser.parse(octocat);
    const member = userIdentity(user, 'github', 'member', new Set([2]));
    expect(Identity.parse(member)).toEqual(member);
    expect(member).toMatchObject({
      id: '1',
      username: 'octocat',
      email: null,
      status: 'active',
      privileged: false,
      mfaEnabled: true,
      lastLoginAt: 'unknown',
      groups: ['member'],
    });
    expect(userIdentity(user, 'github', 'member', new Set([1])).mfaEnabled).toBe(false);
    expect(userIdentity(user, 'github', 'admin', undefined)).toMatchObject({ privileged: true, mfaEnabled: 'unknown' });
  });

  it('takes a public name and email when GitHub includes them, and an Enterprise Server site administrator as privileged', () => {
    const user = GitHubUser.parse({ ...octocat, name: 'The Octocat', email: 'Octocat@GitHub.com', site_admin: true });
    expect(userIdentity(user, 'github', 'member', new Set())).toMatchObject({
      displayName: 'The Octocat',
      email: 'octocat@github.com',
      privileged: true,
      raw: { siteAdmin: true },
    });
  });

  it('maps a pending invitation as not yet active, by login or, without one, by address', () => {
    const invited = invitationIdentity(OrgInvitation.parse(invitation), 'github');
    expect(Identity.parse(invited)).toEqual(invited);
    expect(invited).toMatchObject({
      id: 'invitation:1',
      username: 'monalisa',
      email: 'octocat@github.com',
      status: 'suspended',
      privileged: false,
      createdAt: '2016-11-30T06:46:10-08:00',
      raw: { invitedBy: 'other_user' },
    });
    expect(invitationIdentity(OrgInvitation.parse({ ...invitation, login: null, role: 'admin' }), 'github')).toMatchObject({
      username: 'octocat@github.com',
      privileged: true,
    });
  });
});

describe('github config', () => {
  const problems = (config: Record<string, unknown>) => {
    const parsed = GitHubConfig.safeParse(config);
    return parsed.success ? '' : describeIssues(parsed.error.issues);
  };
  const app = { appId: 1, installationId: 2, privateKey: { file: '/run/secrets/github-app.pem' } };

  it('takes a token or an app, never both or neither, and never a secret written in the config', () => {
    expect(problems({ org: 'acme', token: { env: 'GITHUB_TOKEN' } })).toBe('');
    expect(problems({ org: 'acme', app })).toBe('');
    expect(problems({ org: 'acme' })).toBe('field token: set exactly one of token (a fine-grained token) and app (a GitHub App installation)');
    expect(problems({ org: 'acme', token: { env: 'GITHUB_TOKEN' }, app })).toBe(
      'field token: set exactly one of token (a fine-grained token) and app (a GitHub App installation)',
    );
    expect(problems({ org: 'acme', token: 'github_pat_written_in_config' })).toMatch(/^field token: expected \{ env: NAME \} or \{ file: PATH \}/);
  });

  it('refuses what is not an organisation login or a page size GitHub serves', () => {
    expect(problems({ org: 'acme/evil', token: { env: 'T' } })).toBe('field org: an organisation login');
    expect(problems({ org: 'acme', token: { env: 'T' }, perPage: 101 })).toMatch(/^field perPage: /);
    expect(GitHubConfig.parse({ org: 'acme', token: { env: 'T' } })).toMatchObject({
      baseUrl: 'https://api.github.com',
      perPage: 100,
      rateLimit: { maxRetries: 3, maxWaitSeconds: 120 },
    });
  });
});
