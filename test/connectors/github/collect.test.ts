import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gitHub } from '../../../connectors/github/index.ts';
import type { ConnectorError } from '../../../connectors/errors.ts';
import {
  AuthError,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../../../connectors/errors.ts';
import type { Identity } from '../../../core/records.ts';
import { testContext } from '../../support/connector-context.ts';
import { gitHubError, primaryRateLimit, secondaryRateLimit, simpleUser, startFakeGitHub, type FakeGitHub } from '../../support/fake-github.ts';
import { collect, collectToFailure, configFor, MEMBER_TOKEN, NO_PERMISSION_TOKEN, resetFake, TOKEN_ENV, usernames } from './setup.ts';

let fake: FakeGitHub;
beforeAll(async () => {
  fake = await startFakeGitHub();
});
afterAll(() => fake.close());
beforeEach(() => resetFake(fake));

const MEMBERS = ['octo-owner', 'alice-gh', 'bob-gh', 'carol-gh', 'stranger', 'ghost-admin', 'deploy-bot'];
const EVERYONE = [...MEMBERS, 'contractor-x', 'new-hire', 'Future.Owner@example.com'];
const apiCalls = () => fake.requests.map((request) => `${request.path}?${new URLSearchParams(request.query)}`);

describe('github collect', () => {
  it("lists owners, the 2FA-disabled, then members, outside collaborators and invitations page by page, following GitHub's Link headers", async () => {
    const { records, heartbeats, provenance, warnings } = await collect(fake);

    expect(usernames(records)).toEqual(EVERYONE);
    const org = `/orgs/${fake.state.org.login}`;
    const byId = `/organizations/${fake.state.org.id}`;
    expect(apiCalls()).toEqual([
      `${org}/members?role=admin&per_page=2`,
      `${org}/members?filter=2fa_disabled&per_page=2`,
      `${org}/outside_collaborators?filter=2fa_disabled&per_page=2`,
      `${org}/members?per_page=2`,
      `${byId}/members?per_page=2&page=2`,
      `${byId}/members?per_page=2&page=3`,
      `${byId}/members?per_page=2&page=4`,
      `${org}/outside_collaborators?per_page=2`,
      `${org}/invitations?per_page=2`,
    ]);
    expect(fake.requests.every((request) => request.scheme === 'token' && request.status === 200)).toBe(true);
    // A cursor after every page: the section, the page read and the ids on it.
    expect(heartbeats.map((cursor) => JSON.parse(cursor!) as unknown)).toEqual([
      { section: 'members', page: `${fake.baseUrl}${org}/members?per_page=2`, kept: [1001, 1002] },
      { section: 'members', page: `${fake.baseUrl}${byId}/members?per_page=2&page=2`, kept: [1003, 1004] },
      { section: 'members', page: `${fake.baseUrl}${byId}/members?per_page=2&page=3`, kept: [1005, 1006] },
      { section: 'members', page: `${fake.baseUrl}${byId}/members?per_page=2&page=4`, kept: [1007] },
      { section: 'outside_collaborators', page: `${fake.baseUrl}${org}/outside_collaborators?per_page=2`, kept: [2001] },
      { section: 'invitations', page: `${fake.baseUrl}${org}/invitations?per_page=2`, kept: [3001, 3002] },
    ]);
    expect(provenance).toEqual({
      api: 'GitHub REST API 2022-11-28',
      baseUrl: fake.baseUrl,
      org: 'example-org',
      auth: 'the configured token',
      perPage: 2,
      owners: 2,
      members: 7,
      outside_collaborators: 1,
      invitations: 2,
      pages: 6,
      retries: 0,
      throttledWaitMs: 0,
    });
    expect(warnings).toEqual(["github: GitHub's organisation APIs do not tell when an account last signed in: lastLoginAt is unknown for every account"]);
  });

  it('maps owners as privileged, 2FA from the owner-only filter, outside collaborators as external and invitations as not yet active', async () => {
    const { records } = await collect(fake, { perPage: 100 });
    const by = new Map(records.map((record) => [record.username, record]));

    expect(by.get('octo-owner')).toEqual({
      kind: 'identity',
      source: 'github',
      tenant: 'example-org',
      id: '1001',
      username: 'octo-owner',
      email: null,
      displayName: null,
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: 'unknown',
      createdAt: null,
      credentials: [],
      groups: ['admin'],
      raw: { role: 'admin', external: false, type: 'User', siteAdmin: false },
    });
    expect(by.get('ghost-admin')).toMatchObject({ privileged: true, mfaEnabled: false, groups: ['admin'] });
    expect(by.get('bob-gh')).toMatchObject({ privileged: false, mfaEnabled: false, groups: ['member'] });
    expect(by.get('alice-gh')).toMatchObject({ privileged: false, mfaEnabled: true, status: 'active' });
    expect(by.get('contractor-x')).toMatchObject({
      id: '2001',
      status: 'active',
      privileged: false,
      mfaEnabled: false,
      groups: ['outside-collaborator'],
      raw: { external: true, role: 'outside-collaborator' },
    });
    expect(by.get('new-hire')).toMatchObject({
      id: 'invitation:3001',
      status: 'suspended',
      privileged: false,
      mfaEnabled: 'unknown',
      createdAt: '2025-05-20T09:00:00+02:00',
      raw: { membership: 'pending-invitation', invitedRole: 'direct_member', invitedBy: 'octo-owner' },
    });
    expect(by.get('Future.Owner@example.com')).toMatchObject({
      id: 'invitation:3002',
      email: 'future.owner@example.com',
      status: 'suspended',
      privileged: true,
      raw: { invitedRole: 'admin' },
    });
    // GitHub never says when an account signed in: unknown, never "never" (null).
    expect(records.every((record) => record.lastLoginAt === 'unknown')).toBe(true);
  });

  it('resumes from every cursor it reported without losing or doubling an account', async () => {
    const cursors: { cursor: string; kept: number }[] = [];
    const full: Identity[] = [];
    const ctx = { ...testContext({ env: TOKEN_ENV }).ctx, heartbeat: async (cursor?: string) => void cursors.push({ cursor: cursor!, kept: full.length }) };
    for await (const record of gitHub.collect(configFor(fake), ctx)) full.push(record);
    expect(cursors).toHaveLength(6);

    for (const { cursor, kept } of cursors) {
      fake.requests.length = 0;
      const { records, provenance } = await collect(fake, {}, { resumeCursor: cursor });
      expect([...usernames(full.slice(0, kept)), ...usernames(records)]).toEqual(EVERYONE);
      expect(provenance['resumedFrom']).toBe(JSON.parse(cursor).page);
      // The kept page is read again to find where the kept accounts end; the sections before it are not.
      expect(fake.requests[3]?.path).toBe(new URL(JSON.parse(cursor).page as string).pathname);
    }
  });

  describe('resumes by identity when accounts were added or removed between attempts', () => {
    // After the members' second page: 1001-1004 are kept.
    const afterSecondPage = () =>
      JSON.stringify({ section: 'members', page: `${fake.baseUrl}/organizations/${fake.state.org.id}/members?per_page=2&page=2`, kept: [1003, 1004] });
    const resumedMembers = async () => usernames((await collect(fake, {}, { resumeCursor: afterSecondPage() })).records).slice(0, -3);
    const member = (id: number, login: string) => ({ user: { id, login }, role: 'member' as const });

    it('an account removed before the cursor pulls the next one onto the kept page: it is still read', async () => {
      fake.state.members = fake.state.members.filter((entry) => entry.user.login !== 'alice-gh');
      expect(await resumedMembers()).toEqual(['stranger', 'ghost-admin', 'deploy-bot']);
    });

    it('an account added before the cursor pushes a kept one onto the next page: it is not read twice', async () => {
      fake.state.members.push(member(900, 'early-joiner'));
      expect(await resumedMembers()).toEqual(['stranger', 'ghost-admin', 'deploy-bot']);
    });

    it('a whole page added before the cursor moves the kept accounts off their page: the section is searched from its start', async () => {
      fake.state.members.push(member(900, 'joiner-1'), member(901, 'joiner-2'), member(1008, 'late-joiner'));
      expect(await resumedMembers()).toEqual(['stranger', 'ghost-admin', 'deploy-bot', 'late-joiner']);
      expect(
        fake.requests
          .filter((request) => request.path.endsWith('/members') && request.query['role'] === undefined && request.query['filter'] === undefined)
          .map((request) => request.query['page'] ?? '1'),
      ).toEqual(['2', '1', '2', '3', '4', '5']);
    });

    it('fails for good, instead of guessing, when every kept account on the page is gone', async () => {
      fake.state.members = fake.state.members.filter((entry) => entry.user.id !== 1003 && entry.user.id !== 1004);
      const { error } = await collectToFailure(fake, {}, { resumeCursor: afterSecondPage() });
      expect(error).toBeInstanceOf(RequestRejectedError);
      expect((error as ConnectorError).retryable).toBe(false);
      expect(error.message).toBe(
        'github: members: none of the 2 accounts on the page the last attempt kept is listed any more, so the listing cannot resume without losing or doubling accounts',
      );
    });

    it('refuses a cursor that does not name a page of this organisation on the configured host', async () => {
      for (const cursor of [
        'not json',
        JSON.stringify({ section: 'members', page: 'https://evil.example/orgs/example-org/members', kept: [1] }),
        JSON.stringify({ section: 'members', page: `${fake.baseUrl}/orgs/other-org/members`, kept: [1] }),
      ]) {
        const { error } = await collectToFailure(fake, {}, { resumeCursor: cursor });
        expect(error).toBeInstanceOf(MalformedResponseError);
        expect(error.message).toMatch(/^github: the resume cursor is not a page of organisation example-org on http:\/\/127\.0\.0\.1:\d+: /);
      }
      expect(fake.requests).toEqual([]);
    });
  });

  describe('rate limits', () => {
    it('waits out the primary limit until x-ratelimit-reset, counts the wait in the provenance and carries on', async () => {
      const reset = Math.floor(Date.now() / 1000) + 100;
      fake.state.inject.push(primaryRateLimit(reset));
      // The clock the connector reads stands 150 ms before the reset.
      const { records, provenance, logLines } = await collect(fake, {}, { now: () => new Date(reset * 1000 - 150) });
      expect(usernames(records)).toEqual(EVERYONE);
      expect(fake.requests.map((request) => request.status).slice(0, 2)).toEqual([403, 200]);
      expect(provenance).toMatchObject({ retries: 1 });
      // The wait is the longer of the reset and the backoff.
      expect(provenance['throttledWaitMs']).toBeGreaterThanOrEqual(150);
      expect(
        logLines.filter((line) => line.includes('github: owners page 1: retried after HTTP 403: rate limited (API rate limit exceeded for user ID 1.')),
      ).toHaveLength(1);
    });

    it('gives up with a ThrottledError carrying the wait when the reset is beyond the cap', async () => {
      const reset = Math.floor(Date.now() / 1000) + 3600;
      fake.state.inject.push(primaryRateLimit(reset));
      const { error } = await collectToFailure(fake, {}, { now: () => new Date((reset - 3600) * 1000) });
      expect(error).toBeInstanceOf(ThrottledError);
      expect((error as ThrottledError).retryable).toBe(true);
      expect((error as ThrottledError).retryAfterMs).toBe(3_600_000);
      expect(error.message).toMatch(/^github: owners page 1: HTTP 403: rate limited \(API rate limit exceeded for user ID 1\..*\)$/);
      expect(fake.requests).toHaveLength(1);
    });

    it("waits the secondary limit's retry-after seconds, on 403 and on 429", async () => {
      fake.state.inject.push(secondaryRateLimit(1, 403), secondaryRateLimit(0, 429));
      const started = Date.now();
      const { records, provenance } = await collect(fake);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(usernames(records)).toEqual(EVERYONE);
      expect(fake.requests.map((request) => request.status).slice(0, 3)).toEqual([403, 429, 200]);
      expect(provenance).toMatchObject({ retries: 2 });
      expect(provenance['throttledWaitMs']).toBeGreaterThanOrEqual(1000);
    });

    it('takes a secondary limit without retry-after as a minute, and stops after maxRetries waits', async () => {
      fake.state.inject.push(secondaryRateLimit(undefined));
      const minute = await collectToFailure(fake, { rateLimit: { maxWaitSeconds: 30 } });
      expect(minute.error).toBeInstanceOf(ThrottledError);
      expect((minute.error as ThrottledError).retryAfterMs).toBe(60_000);

      resetFake(fake);
      fake.state.inject.push(secondaryRateLimit(0), secondaryRateLimit(0), secondaryRateLimit(0));
      const spent = await collectToFailure(fake, { rateLimit: { maxRetries: 2 } });
      expect(spent.error).toBeInstanceOf(ThrottledError);
      expect(spent.error.message).toMatch(
        /^github: owners page 1: HTTP 403: rate limited \(You have exceeded a secondary rate limit.*\); still failing after 2 retries$/,
      );
      expect(fake.requests).toHaveLength(3);
    });

    it('stops waiting at once when the collection is aborted', async () => {
      const controller = new AbortController();
      fake.state.inject.push(secondaryRateLimit(30));
      const failing = collectToFailure(fake, { rateLimit: { maxWaitSeconds: 60 } }, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reason = new Error('cancelled by the test');
      controller.abort(reason);
      const started = Date.now();
      expect((await failing).error).toBe(reason);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  it("records 2FA as unknown, never as enabled, when the token is not an owner's, and says so in the evidence", async () => {
    const { records, warnings, provenance } = await collect(fake, {}, { env: { GITHUB_TOKEN: MEMBER_TOKEN } });
    expect(usernames(records)).toEqual(EVERYONE);
    expect(records.map((record) => record.mfaEnabled)).toEqual(EVERYONE.map(() => 'unknown'));
    expect(fake.requests.filter((request) => request.query['filter'] === '2fa_disabled').map((request) => request.status)).toEqual([422, 422]);
    expect(provenance).toMatchObject({ 'twoFactor.members': 'unavailable', 'twoFactor.outside_collaborators': 'unavailable' });
    expect(warnings).toEqual([
      'github: two-factor status is unknown for every member: GitHub answers filter=2fa_disabled to organisation owners only (github: members without 2FA page 1: HTTP 422: the request was refused (Only owners can use this filter.))',
      'github: two-factor status is unknown for every outside collaborator: GitHub answers filter=2fa_disabled to organisation owners only (github: outside_collaborators without 2FA page 1: HTTP 422: the request was refused (Only owners can use this filter.))',
      expect.stringContaining('lastLoginAt is unknown for every account'),
    ]);
  });

  it('records an organisation of Enterprise Managed Users, which has no invitations, with a warning instead of failing', async () => {
    fake.state.managedUsers = true;
    const { records, warnings } = await collect(fake);
    expect(usernames(records)).toEqual(EVERYONE.slice(0, 8));
    expect(warnings).toContain(
      `github: pending invitations are not recorded: GitHub refused to list them (github: invitations page 1: HTTP 404: organisation example-org was not found at ${fake.baseUrl}, or the configured token cannot see it (Not Found))`,
    );
    // Any other failure of the list is a failure of the collection.
    fake.state.managedUsers = false;
    fake.state.inject.push(...Array.from({ length: 8 }, () => null), gitHubError(502, 'Server Error'));
    const { error } = await collectToFailure(fake, { rateLimit: { maxRetries: 0 } });
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe('github: invitations page 1: HTTP 502: the service failed (Server Error)');
  });

  describe('failures', () => {
    it('a bad token fails at once as a non-retryable AuthError naming the organisation, without the token anywhere', async () => {
      const badToken = 'github_pat_11ZZZZZZZ0revoked0token0000000000000000000000000000000000000000';
      const { error, logLines, warnings, provenance } = await collectToFailure(fake, {}, { env: { GITHUB_TOKEN: badToken } });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).retryable).toBe(false);
      expect(error.message).toBe(
        'github: owners page 1: HTTP 401: GitHub rejected the credentials of the configured token for organisation example-org (Bad credentials)',
      );
      expect(fake.requests).toHaveLength(1);
      const everything = [error.message, error.stack, inspect(error, { depth: 5 }), ...logLines, ...warnings, JSON.stringify(provenance)].join('\n');
      expect(everything).not.toContain(badToken);
      expect(everything).not.toContain(badToken.slice(11, 30));
    });

    it('a token without Members: read is a PermissionError that names the permission', async () => {
      const { error } = await collectToFailure(fake, {}, { env: { GITHUB_TOKEN: NO_PERMISSION_TOKEN } });
      expect(error).toBeInstanceOf(PermissionError);
      expect(error.message).toBe(
        'github: owners page 1: HTTP 403: the configured token may not read organisation example-org; it needs the organisation permission Members: read (Resource not accessible by personal access token)',
      );
    });

    it('an unknown organisation is a NotFoundError', async () => {
      const { error } = await collectToFailure(fake, { org: 'no-such-org' });
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.message).toBe(
        `github: owners page 1: HTTP 404: organisation no-such-org was not found at ${fake.baseUrl}, or the configured token cannot see it (Not Found)`,
      );
    });

    it('a 5xx is retried, then an UnavailableError the activity retries; a 4xx refusal fails for good', async () => {
      fake.state.inject.push(gitHubError(502, 'Server Error'));
      const retried = await collect(fake);
      expect(usernames(retried.records)).toEqual(EVERYONE);
      expect(retried.provenance).toMatchObject({ retries: 1, throttledWaitMs: 0 });

      fake.state.inject.push(gitHubError(502, 'Server Error'));
      const unavailable = await collectToFailure(fake, { rateLimit: { maxRetries: 0 } });
      expect(unavailable.error).toBeInstanceOf(UnavailableError);
      expect(unavailable.error.message).toBe('github: owners page 1: HTTP 502: the service failed (Server Error)');

      fake.state.inject.push(gitHubError(400, 'Problems parsing JSON'));
      const rejected = await collectToFailure(fake);
      expect(rejected.error).toBeInstanceOf(RequestRejectedError);
      expect((rejected.error as ConnectorError).retryable).toBe(false);
    });

    it('a body cut short is retryable; a body of the wrong shape is malformed and names the field', async () => {
      fake.state.truncateNext = 1;
      const cut = await collectToFailure(fake, { rateLimit: { maxRetries: 0 } });
      expect(cut.error).toBeInstanceOf(UnavailableError);
      expect(cut.error.message).toBe('github: owners page 1: the response ended early');

      fake.state.inject.push({ status: 200, body: [{ login: 'x', id: 'not-a-number' }] });
      const malformed = await collectToFailure(fake);
      expect(malformed.error).toBeInstanceOf(MalformedResponseError);
      expect(malformed.error.message).toBe('github: owners page 1: field [0].id: Invalid input: expected number, received string');

      fake.state.inject.push({
        status: 200,
        body: '<html><body>Unicorn! secret-looking text</body></html>',
        headers: { 'content-type': 'text/html; charset=utf-8' },
      });
      const html = await collectToFailure(fake);
      expect(html.error).toBeInstanceOf(MalformedResponseError);
      expect(html.error.message).toBe('github: owners page 1: the body is not JSON (text/html; charset=utf-8, 54 characters)');
    });

    it('refuses a next link to another host instead of sending the token there', async () => {
      const link = '<http://127.0.0.2:9/organizations/9919/members?page=2>; rel="next"';
      fake.state.inject.push({ status: 200, body: [simpleUser({ id: 1001, login: 'octo-owner' }, fake.baseUrl)], headers: { link } });
      const { error } = await collectToFailure(fake);
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(error.message).toBe(`github: owners page 2: a next-page link leads to http://127.0.0.2:9, not to ${fake.baseUrl}`);
    });

    it('an unreachable GitHub is an UnavailableError', async () => {
      const closed = await startFakeGitHub();
      await closed.close();
      const { error } = await collectToFailure(closed, { rateLimit: { maxRetries: 1 } });
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error.message).toMatch(/^github: owners page 1: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); still failing after 1 retry$/);
    });
  });
});

describe('github on an Enterprise Server layout', () => {
  it('reads under /api/v3 and resumes from its next links', async () => {
    const enterprise = await startFakeGitHub({}, { prefix: '/api/v3' });
    try {
      resetFake(enterprise);
      const { records, heartbeats } = await collect(enterprise);
      expect(usernames(records)).toEqual(EVERYONE);
      expect(enterprise.requests.every((request) => request.path.startsWith('/api/v3/') && request.status === 200)).toBe(true);
      const resumed = await collect(enterprise, {}, { resumeCursor: heartbeats[2] });
      expect(usernames(resumed.records)).toEqual(EVERYONE.slice(6));
    } finally {
      await enterprise.close();
    }
  });
});
