import { accountNeverUsed } from '../checks/account-never-used.ts';
import { accountSubject, isActive, serviceAccountTest } from '../checks/kit/accounts.ts';
import type { AnyCheck, CheckEvidence, EvidenceSnapshot } from '../checks/kit/contract.ts';
import { checkEvidence } from '../checks/kit/contract.ts';
import { inactiveAccount } from '../checks/inactive-account.ts';
import type { AccountJoin } from '../checks/kit/join.ts';
import { leaverClock } from '../checks/leaver-still-active.ts';
import { orphanAccount } from '../checks/orphan-account.ts';
import { accountOwners, describeMatch, type PersonMatch } from '../checks/kit/people.ts';
import type { ReviewEntryDraft, ReviewFlags } from '../evidence/access-reviews.ts';
import type { Identity } from '../core/records.ts';

/**
 * Review lists from snapshots. Every flag comes from the access checks themselves (run with the control's
 * parameters) or from the join of accounts to people they share, so a reviewer sees exactly what the checks would report.
 */

/** A source's snapshot with the source's name; its join is the default join by email when absent. */
export interface Snapshot extends EvidenceSnapshot {
  readonly sourceName: string;
}

/** The parameters the control gives each check it runs; checks it does not run are judged with their defaults. */
export type CheckParams = ReadonlyMap<string, unknown>;

export interface ReviewListInput {
  /** One snapshot per identity source under review. */
  systems: readonly Snapshot[];
  /** HR snapshots; none means owner, leaver and orphan cannot be told. */
  people: readonly Snapshot[];
  reviewerOf(sourceName: string): string;
  checkParams: CheckParams;
  at: Date;
}

function paramsOf(check: AnyCheck, configured: CheckParams): unknown {
  return configured.get(check.id) ?? check.params.parse({});
}

function flaggedSubjects(check: AnyCheck, evidence: CheckEvidence, configured: CheckParams, at: Date): Set<string> {
  return new Set(check.evaluate(evidence, paramsOf(check, configured), at).map((deviation) => deviation.subject));
}

/**
 * An account known to both a current employee and a leaver belongs to the employee, as leaver-still-active decides;
 * the reviewer sees how the account was joined, so that a wrong owner can be traced to the rule that found it.
 */
function ownerOf(matches: readonly PersonMatch[], join: AccountJoin): ReviewFlags['owner'] {
  const best = matches.find((match) => match.person.status === 'active') ?? matches[0];
  if (!best) return null;
  const { person } = best;
  return { employeeId: person.employeeId, email: person.email, displayName: person.displayName, status: person.status, joinedBy: describeMatch(best, join) };
}

/**
 * The entries of every review list: the active accounts of each system (suspended, disabled and deleted ones
 * cannot sign in, so there is no access to review), grouped by system and reviewer, privileged accounts first.
 */
export function buildReviewEntries(input: ReviewListInput): ReviewEntryDraft[] {
  const hrKnown = input.people.length > 0;
  const isServiceAccount = serviceAccountTest(orphanAccount.params.parse(input.checkParams.get('orphan-account') ?? {}));

  const entries: ReviewEntryDraft[] = [];
  for (const system of input.systems) {
    const evidence = checkEvidence([system, ...input.people]);
    const all = evidence.records('identity');
    const owners = hrKnown ? accountOwners(evidence) : [];
    const ownerAt = new Map(all.map((identity, position) => [identity, owners[position]]));
    const identities = all.filter(isActive);
    const inactive = flaggedSubjects(inactiveAccount, evidence, input.checkParams, input.at);
    const neverUsed = flaggedSubjects(accountNeverUsed, evidence, input.checkParams, input.at);
    const orphans = hrKnown ? flaggedSubjects(orphanAccount, evidence, input.checkParams, input.at) : new Set<string>();
    const leavers = hrKnown ? leaverClock(evidence, input.at) : [];
    const reviewer = input.reviewerOf(system.sourceName);

    const leaverOf = (identity: Identity) => {
      const entry = leavers.find(
        (candidate) => candidate.system === identity.source && candidate.tenant === identity.tenant && candidate.account === identity.username,
      );
      return entry ? { employeeId: entry.employeeId, terminationDate: entry.terminationDate } : null;
    };
    const drafts = identities.map((identity): ReviewEntryDraft => {
      const subject = accountSubject(identity);
      return {
        system: system.sourceName,
        reviewer,
        tenant: identity.tenant,
        accountId: identity.id,
        username: identity.username,
        email: identity.email,
        displayName: identity.displayName,
        status: identity.status,
        privileged: identity.privileged,
        mfa: identity.mfaEnabled,
        lastLoginAt: identity.lastLoginAt,
        flags: {
          inactive: inactive.has(subject),
          neverUsed: neverUsed.has(subject),
          owner: hrKnown ? ownerOf(ownerAt.get(identity) ?? [], evidence.joinOf(identity)) : null,
          leaver: leaverOf(identity),
          orphan: hrKnown ? orphans.has(subject) : null,
          serviceAccount: isServiceAccount(identity),
        },
        evidenceId: evidence.evidenceIdOf(identity),
      };
    });
    drafts.sort((a, b) => Number(b.privileged) - Number(a.privileged) || a.tenant.localeCompare(b.tenant) || a.username.localeCompare(b.username));
    entries.push(...drafts);
  }
  return entries;
}

/** One review list per system and reviewer, in entry order. */
export function reviewListsOf<E extends { system: string; reviewer: string }>(entries: readonly E[]): { system: string; reviewer: string; entries: E[] }[] {
  const lists = new Map<string, { system: string; reviewer: string; entries: E[] }>();
  for (const entry of entries) {
    const key = `${entry.system}\n${entry.reviewer}`;
    const list = lists.get(key) ?? { system: entry.system, reviewer: entry.reviewer, entries: [] };
    list.entries.push(entry);
    lists.set(key, list);
  }
  return [...lists.values()];
}
