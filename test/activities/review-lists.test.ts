import { describe, expect, it } from 'vitest';
import { buildReviewEntries, reviewListsOf, type Snapshot } from '../../activities/review-lists.ts';
import { inactiveAccount } from '../../checks/index.ts';
import type { AccountJoin } from '../../checks/kit/join.ts';
import { join, withMapping } from '../support/joins.ts';
import { AT, daysBefore, hoursBefore, identity, leaver, person } from '../support/records.ts';

const aws = (records: Snapshot['records'], rules?: AccountJoin): Snapshot => ({ sourceName: 'aws-prod', evidenceId: 'ev-aws', records, join: rules });
const google = (records: Snapshot['records']): Snapshot => ({ sourceName: 'google', evidenceId: 'ev-google', records });
const hr = (records: Snapshot['records']): Snapshot => ({ sourceName: 'hris', evidenceId: 'ev-hr', records });

const reviewers: Record<string, string> = { 'aws-prod': 'cloud-lead@example.com' };
const build = (systems: Snapshot[], people: Snapshot[] = [], checkParams: Map<string, unknown> = new Map()) =>
  buildReviewEntries({ systems, people, reviewerOf: (source) => reviewers[source] ?? 'owner@example.com', checkParams, at: AT });

describe('review lists', () => {
  it('lists the active accounts of each system for its reviewer, privileged first, with the values a reviewer judges by', () => {
    const entries = build([
      aws([
        identity({ username: 'zed' }),
        identity({ username: 'admin', privileged: true, mfaEnabled: false, lastLoginAt: null }),
        identity({ username: 'gone', status: 'deleted' }),
        identity({ username: 'paused', status: 'suspended' }),
      ]),
      google([
        identity({
          source: 'google-workspace',
          tenant: 'C03az79cb',
          username: 'amy@example.com',
          displayName: 'Amy',
          mfaEnabled: 'unknown',
          lastLoginAt: 'unknown',
        }),
      ]),
    ]);
    expect(entries.map((entry) => [entry.system, entry.reviewer, entry.username, entry.privileged, entry.mfa, entry.lastLoginAt, entry.evidenceId])).toEqual([
      ['aws-prod', 'cloud-lead@example.com', 'admin', true, false, null, 'ev-aws'],
      ['aws-prod', 'cloud-lead@example.com', 'zed', false, true, daysBefore(1), 'ev-aws'],
      ['google', 'owner@example.com', 'amy@example.com', false, 'unknown', 'unknown', 'ev-google'],
    ]);
    expect(entries[2]).toMatchObject({ tenant: 'C03az79cb', accountId: 'amy@example.com', email: 'amy@example.com', displayName: 'Amy', status: 'active' });
    expect(reviewListsOf(entries).map((list) => [list.system, list.reviewer, list.entries.length])).toEqual([
      ['aws-prod', 'cloud-lead@example.com', 2],
      ['google', 'owner@example.com', 1],
    ]);
  });

  it("flags inactive and never-used accounts exactly as the checks judge them, with the control's parameters", () => {
    const accounts = aws([
      identity({ username: 'idle', lastLoginAt: daysBefore(91) }),
      identity({ username: 'at-limit', lastLoginAt: daysBefore(90) }),
      identity({ username: 'never', lastLoginAt: null, createdAt: daysBefore(15) }),
      identity({ username: 'new', lastLoginAt: null, createdAt: daysBefore(14) }),
    ]);
    const flags = (checkParams?: Map<string, unknown>) =>
      Object.fromEntries(build([accounts], [], checkParams).map((entry) => [entry.username, [entry.flags.inactive, entry.flags.neverUsed]]));
    expect(flags()).toEqual({ idle: [true, false], 'at-limit': [false, false], never: [false, true], new: [false, false] });
    // The control runs inactive-account with a 45-day limit (CIS): the review shows that limit, not the default.
    const cis = new Map<string, unknown>([['inactive-account', inactiveAccount.params.parse({ maxInactiveDays: 45 })]]);
    expect(flags(cis)).toMatchObject({ idle: [true, false], 'at-limit': [true, false] });
  });

  it('names the HR owner, the leaver an account belongs to (whatever the SLA), orphans and service accounts', () => {
    const entries = build(
      [
        aws(
          [
            identity({ username: 'ann@example.com' }),
            identity({ username: 'lee@example.com' }),
            identity({ username: 'just-left@example.com' }),
            identity({ username: 'stranger@example.com' }),
            identity({ username: 'svc-backup', email: null }),
            identity({ username: 'JDOE', email: null }),
            identity({ username: 'shared@example.com' }),
          ],
          withMapping(join(), { jdoe: 'jd@example.com' }),
        ),
      ],
      [
        hr([
          person({ employeeId: 'E1', email: 'ann@example.com', displayName: 'Ann' }),
          leaver(72, { employeeId: 'E2', email: 'lee@example.com' }),
          leaver(1, { employeeId: 'E3', email: 'just-left@example.com' }),
          person({ employeeId: 'E4', email: 'jd@example.com' }),
          leaver(500, { employeeId: 'E5', email: 'shared@example.com' }),
          person({ employeeId: 'E6', email: 'new.owner@example.com', aliases: ['Shared@Example.com'] }),
        ]),
      ],
    );
    const byName = Object.fromEntries(entries.map((entry) => [entry.username, entry.flags]));
    expect(byName['ann@example.com']).toEqual({
      inactive: false,
      neverUsed: false,
      owner: { employeeId: 'E1', email: 'ann@example.com', displayName: 'Ann', status: 'active', joinedBy: 'email' },
      leaver: null,
      orphan: false,
      serviceAccount: false,
    });
    expect(byName['lee@example.com']).toMatchObject({
      owner: { employeeId: 'E2', status: 'leaver' },
      leaver: { employeeId: 'E2', terminationDate: hoursBefore(72) },
      orphan: false,
    });
    // Terminated an hour ago: within the 24-hour SLA, so no leaver-still-active finding, but the reviewer must see it.
    expect(byName['just-left@example.com']).toMatchObject({ leaver: { employeeId: 'E3' } });
    expect(byName['stranger@example.com']).toMatchObject({ owner: null, leaver: null, orphan: true });
    expect(byName['svc-backup']).toMatchObject({ owner: null, orphan: false, serviceAccount: true });
    // Joined through the source's mapping file, case aside.
    expect(byName['JDOE']).toMatchObject({ owner: { employeeId: 'E4', joinedBy: 'mapping file exceptions.csv' }, orphan: false });
    // A current employee holds the address now (as an alias): not the leaver's account.
    expect(byName['shared@example.com']).toMatchObject({ owner: { employeeId: 'E6', status: 'active' }, leaver: null });
  });

  it('shows how each account was joined, by the join of its own system', () => {
    const entries = build(
      [
        aws(
          [
            identity({ username: 'ann.lee', email: null }),
            identity({ username: 'ops', email: null }),
            identity({ username: 'bo', email: null, raw: { tags: { owner: 'E3' } } }),
          ],
          withMapping(
            join({ template: '{username}@example.com', tag: { key: 'owner', matches: 'employeeId' } }),
            { ops: 'ann.lee@example.com' },
            'email',
            'joins/aws.csv',
          ),
        ),
        google([
          identity({ source: 'google-workspace', tenant: 'C03az79cb', username: 'ann.lee@example.com' }),
          identity({ source: 'google-workspace', tenant: 'C03az79cb', username: 'ann.lee', email: null }),
        ]),
      ],
      [hr([person({ employeeId: 'E1', email: 'ann.lee@example.com' }), person({ employeeId: 'E3', email: 'bo@example.com' })])],
    );
    expect(
      entries.map((entry) => [entry.system, entry.username, entry.flags.owner?.employeeId ?? null, entry.flags.owner?.joinedBy ?? null, entry.flags.orphan]),
    ).toEqual([
      ['aws-prod', 'ann.lee', 'E1', 'template {username}@example.com', false],
      ['aws-prod', 'bo', 'E3', 'tag owner (HR employee id)', false],
      ['aws-prod', 'ops', 'E1', 'mapping file joins/aws.csv', false],
      ['google', 'ann.lee', null, null, true],
      ['google', 'ann.lee@example.com', 'E1', 'email', false],
    ]);
  });

  it("takes plus-addressing from the system's join, as the checks do", () => {
    const entries = (rules?: AccountJoin) =>
      build([aws([identity({ username: 'jane+ops@example.com' })], rules)], [hr([leaver(100, { employeeId: 'E7', email: 'jane@example.com' })])]);
    expect(entries(join({ ignorePlusAddressing: false }))[0]!.flags).toMatchObject({ owner: null, leaver: null, orphan: true });
    expect(entries()[0]!.flags).toMatchObject({ owner: { employeeId: 'E7' }, leaver: { employeeId: 'E7' }, orphan: false });
  });

  it('cannot tell owner, leaver or orphan without HR evidence, and says so instead of guessing', () => {
    const [entry] = build([aws([identity({ username: 'stranger@example.com' })])]);
    expect(entry!.flags).toMatchObject({ owner: null, leaver: null, orphan: null });
  });
});
