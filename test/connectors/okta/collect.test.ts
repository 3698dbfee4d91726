import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, MalformedResponseError, PermissionError, ThrottledError, UnavailableError, type ConnectorError } from '../../../connectors/errors.ts';
import { oktaError, rateLimited, startFakeOkta, type FakeOkta } from '../../support/fake-okta.ts';
import { collect, collectToFailure, EVERYONE, resetFake, usernames } from './setup.ts';

let fake: FakeOkta;
beforeAll(async () => {
  fake = await startFakeOkta();
});
afterAll(() => fake.close());
beforeEach(() => resetFake(fake));

const listCalls = () => fake.requests.filter((request) => request.path === '/api/v1/users').map((request) => new URLSearchParams(request.query).toString());

describe('okta collect', () => {
  it("lists every user page by page by the `after` cursor of Okta's Link headers, then the deprovisioned, with each user's factors, roles and groups", async () => {
    const { records, heartbeats, provenance, warnings } = await collect(fake);
    expect(usernames(records)).toEqual(EVERYONE);
    expect(listCalls()).toEqual(['limit=3', 'limit=3&after=00u003', 'limit=3&after=00u006', 'limit=3&filter=status+eq+%22DEPROVISIONED%22']);
    expect(fake.requests.every((request) => request.scheme === 'SSWS' && request.status === 200)).toBe(true);
    expect(fake.requests.filter((request) => request.path.startsWith('/api/v1/users/00u001/')).map((request) => request.path)).toEqual([
      '/api/v1/users/00u001/factors',
      '/api/v1/users/00u001/roles',
      '/api/v1/users/00u001/groups',
    ]);
    expect(heartbeats.map((cursor) => JSON.parse(cursor!) as unknown)).toEqual([
      { section: 'users', after: '00u003' },
      { section: 'users', after: '00u006' },
      { section: 'users', after: '00u007' },
      { section: 'deprovisioned', after: '00u008' },
    ]);
    expect(provenance).toEqual({
      api: 'Okta Management API v1',
      orgUrl: fake.orgUrl,
      auth: 'the configured API token',
      pageSize: 3,
      users: 7,
      deprovisioned: 1,
      pages: 4,
      removedDuringCollection: 0,
      requests: 4 + 8 * 3,
      retries: 0,
      throttledWaitMs: 0,
    });
    expect(warnings).toEqual([]);
  });

  it('maps status, MFA from active factors, admin roles as privilege, lastLogin null as never and groups by name', async () => {
    const { records } = await collect(fake, { pageSize: 200 });
    const by = new Map(records.map((record) => [record.username, record]));
    expect(by.get('ada@example.com')).toEqual({
      kind: 'identity',
      source: 'okta',
      tenant: new URL(fake.orgUrl).host,
      id: '00u001',
      username: 'ada@example.com',
      email: 'ada@example.com',
      displayName: 'Ada Admin',
      status: 'active',
      privileged: true,
      mfaEnabled: true,
      lastLoginAt: '2025-06-01T09:30:00.000Z',
      createdAt: '2024-01-02T08:00:00.000Z',
      credentials: [],
      groups: ['Everyone', 'Admins'],
      raw: {
        oktaStatus: 'ACTIVE',
        statusChanged: '2024-01-02T08:00:00.000Z',
        passwordChanged: null,
        adminRoles: [{ type: 'SUPER_ADMIN', assignment: 'USER' }],
        factors: [{ type: 'push', provider: 'OKTA', status: 'ACTIVE' }],
      },
    });
    const summary = records.map((record) => [
      record.username,
      record.status,
      record.privileged,
      record.mfaEnabled,
      record.lastLoginAt === null ? 'never' : 'seen',
    ]);
    expect(summary).toEqual([
      ['ada@example.com', 'active', true, true, 'seen'],
      ['bob@example.com', 'active', false, true, 'seen'],
      ['carol@example.com', 'active', false, false, 'never'], // no factor enrolled
      ['dan@example.com', 'active', true, false, 'seen'], // locked out keeps the account; a factor pending activation is no MFA; a role through a group is privilege
      ['erin@example.com', 'suspended', false, false, 'seen'], // a security question is no second factor
      ['new.hire@example.com', 'suspended', false, false, 'never'],
      ['pending@example.com', 'active', false, true, 'never'],
      ['leaver@example.com', 'disabled', false, true, 'seen'],
    ]);
  });

  it('resumes from each cursor it reported, reading neither a kept user again nor a kept section', async () => {
    const full = await collect(fake);
    const kept = [3, 6, 7, 8];
    for (const [i, cursor] of full.heartbeats.entries()) {
      fake.requests.length = 0;
      const { records, provenance } = await collect(fake, {}, { resumeCursor: cursor });
      expect([...EVERYONE.slice(0, kept[i]), ...usernames(records)]).toEqual(EVERYONE);
      expect(provenance['resumedFrom']).toEqual(JSON.parse(cursor!));
      expect(fake.requests[0]!.query['after'] ?? null).toBe(JSON.parse(cursor!).after);
    }
  });

  it('a user added before the cursor between attempts is not read, one added after it is: Okta pages by id', async () => {
    fake.state.users.push(
      { id: '00u0025', status: 'ACTIVE', login: 'early@example.com', created: '2025-07-01T00:00:00.000Z', lastLogin: null },
      { id: '00u0065', status: 'ACTIVE', login: 'late@example.com', created: '2025-07-01T00:00:00.000Z', lastLogin: null },
    );
    const { records } = await collect(fake, {}, { resumeCursor: JSON.stringify({ section: 'users', after: '00u003' }) });
    expect(usernames(records)).toEqual([
      'dan@example.com',
      'erin@example.com',
      'new.hire@example.com',
      'late@example.com',
      'pending@example.com',
      'leaver@example.com',
    ]);
  });

  it('refuses a cursor that is not a section and a user id, before any request', async () => {
    for (const cursor of ['not json', JSON.stringify({ section: 'users', after: '../../x' }), JSON.stringify({ section: 'groups', after: '00u1' })]) {
      const { error } = await collectToFailure(fake, {}, { resumeCursor: cursor });
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(error.message).toMatch(/^okta: the resume cursor is not a section and a user id: /);
    }
    expect(fake.requests).toEqual([]);
  });

  it('records a user deleted between the listing and its factors with a warning, and carries on', async () => {
    fake.state.inject.push(null, oktaError(404, 'E0000007', 'Not found: Resource not found: 00u001 (User)'));
    const { records, warnings, provenance } = await collect(fake);
    expect(usernames(records)).toEqual(EVERYONE.slice(1));
    expect(warnings).toEqual(['okta: user ada@example.com (00u001) was deleted while the collection ran: not recorded']);
    expect(provenance['removedDuringCollection']).toBe(1);
  });

  describe('rate limits', () => {
    it("waits until x-rate-limit-reset, measured from the answer's Date, and carries on", async () => {
      const date = new Date(Math.floor(Date.now() / 1000) * 1000);
      fake.state.inject.push(rateLimited(date.getTime() / 1000 + 1, date));
      const started = Date.now();
      const { records, provenance, logLines } = await collect(fake);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(usernames(records)).toEqual(EVERYONE);
      expect(fake.requests.map((request) => request.status).slice(0, 2)).toEqual([429, 200]);
      expect(provenance).toMatchObject({ retries: 1 });
      expect(provenance['throttledWaitMs']).toBeGreaterThanOrEqual(1000);
      expect(logLines.filter((line) => line.includes('okta: /api/v1/users: retried after HTTP 429: rate limited (E0000047)'))).toHaveLength(1);
    });

    it('fails as a retryable ThrottledError carrying the wait when the reset is beyond the cap, or after maxRetries waits', async () => {
      const date = new Date(Math.floor(Date.now() / 1000) * 1000);
      fake.state.inject.push(rateLimited(date.getTime() / 1000 + 600, date));
      const { error } = await collectToFailure(fake);
      expect(error).toBeInstanceOf(ThrottledError);
      expect((error as ThrottledError).retryable).toBe(true);
      expect((error as ThrottledError).retryAfterMs).toBe(600_000);
      expect(error.message).toBe('okta: users page 1: HTTP 429: rate limited (E0000047)');

      resetFake(fake);
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      fake.state.inject.push(rateLimited(now.getTime() / 1000, now), rateLimited(now.getTime() / 1000, now), rateLimited(now.getTime() / 1000, now));
      const spent = await collectToFailure(fake, { rateLimit: { maxRetries: 2 } });
      expect(spent.error.message).toBe('okta: users page 1: HTTP 429: rate limited (E0000047); still failing after 2 retries');
      expect(fake.requests).toHaveLength(3);
    });

    it('stops waiting at once when the collection is aborted', async () => {
      const controller = new AbortController();
      fake.state.inject.push(rateLimited(Math.floor(Date.now() / 1000) + 30));
      const failing = collectToFailure(fake, {}, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reason = new Error('cancelled by the test');
      controller.abort(reason);
      expect((await failing).error).toBe(reason);
    });
  });

  describe('failures', () => {
    it('a bad token fails at once as a non-retryable AuthError, without the token anywhere', async () => {
      const badToken = '00zZzZzZrevoked0token0000000000000000000000';
      const { error, logLines, warnings, provenance } = await collectToFailure(fake, {}, { env: { OKTA_API_TOKEN: badToken } });
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).retryable).toBe(false);
      expect(error.message).toBe(
        `okta: users page 1: Okta rejected the credentials of the configured API token for ${fake.orgUrl} (401 E0000011 Invalid token provided)`,
      );
      expect(fake.requests).toHaveLength(1);
      const everything = [error.message, error.stack, inspect(error, { depth: 5 }), ...logLines, ...warnings, JSON.stringify(provenance)].join('\n');
      expect(everything).not.toContain(badToken);
      expect(everything).not.toContain(badToken.slice(4, 20));
    });

    it('a 403 is a PermissionError naming the role or scopes needed; a 5xx is retryable', async () => {
      fake.state.inject.push(oktaError(403, 'E0000006', 'You do not have permission to perform the requested action'));
      const denied = await collectToFailure(fake);
      expect(denied.error).toBeInstanceOf(PermissionError);
      expect(denied.error.message).toBe(
        'okta: users page 1: the configured API token may not read this (403 E0000006 You do not have permission to perform the requested action); it needs a read-only administrator role, or the scopes okta.users.read, okta.roles.read and okta.groups.read',
      );

      fake.state.inject.push(null, null, oktaError(500, 'E0000009', 'Internal Server Error'));
      const failed = await collectToFailure(fake, { concurrency: 1 });
      expect(failed.error).toBeInstanceOf(UnavailableError);
      expect((failed.error as ConnectorError).retryable).toBe(true);
      expect(failed.error.message).toBe('okta: user ada@example.com: Okta failed (500 E0000009 Internal Server Error)');
    });

    it('a body of the wrong shape is malformed and names the field; a next link to another host is refused', async () => {
      fake.state.inject.push({ status: 200, body: [{ id: '00u1', status: 'ACTIVE', profile: {} }] });
      const malformed = await collectToFailure(fake);
      expect(malformed.error).toBeInstanceOf(MalformedResponseError);
      expect(malformed.error.message).toBe('okta: users page 1: field [0].profile.login: Invalid input: expected string, received undefined');

      fake.state.inject.push({ status: 200, body: [], headers: { link: '<http://127.0.0.2:9/api/v1/users?after=00u1>; rel="next"' } });
      const elsewhere = await collectToFailure(fake);
      expect(elsewhere.error).toBeInstanceOf(MalformedResponseError);
      expect(elsewhere.error.message).toBe(`okta: users page 2: a next-page link leads to http://127.0.0.2:9, not to ${fake.orgUrl}`);
    });
  });
});
