import { accountNeverUsed } from '../checks/account-never-used.ts';
import { accountSubject, isActive, serviceAccountTest } from '../checks/accounts.ts';
import type { AnyCheck, CheckEvidence } from '../checks/contract.ts';
import { checkEvidence } from '../checks/contract.ts';
import { inactiveAccount } from '../checks/inactive-account.ts';
import { leaverClock } from '../checks/leaver-still-active.ts';
import { orphanAccount } from '../checks/orphan-account.ts';
import { indexPeople, PersonMatchingParams, type PersonMatch } from '../checks/people.ts';
import type { ReviewEntryDraft, ReviewFlags } from '../evidence/access-reviews.ts';
import type { EvidenceRecord, Identity } from '../evidence/records.ts';

/**
 * Review lists from snapshots. Every flag comes from the access checks themselves (run with the control's
 * parameters) or from the people matching they share, so a reviewer sees exactly what the checks would report.
 */

export interface Snapshot {
  sourceName: string;
  evidenceId: string;
  records: readonly EvidenceRecord[];
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

/** How the control's people checks join accounts to people, so that the owner shown is the one they would find. */
function matchingOf(configured: CheckParams): PersonMatchingParams {
  const params = (configured.get('leaver-still-active') ?? configured.get('orphan-account') ?? {}) as Partial<PersonMatchingParams>;
  return PersonMatchingParams.parse({ ignorePlusAddressing: params.ignorePlusAddressing, mappings: params.mappings });
}

/** An account known to both a current employee and a leaver belongs to the employee, as leaver-still-active decides. */
function ownerOf(matches: readonly PersonMatch[]): ReviewFlags['owner'] {
  const best = matches.find((match) => match.person.status === 'active') ?? matches[0];
  if (!best) return null;
  const { person } = best;
  return { employeeId: person.employeeId, email: person.email, displayName: person.displayName, status: person.status };
}

/**
 * The entries of every review list: the active accounts of each system (suspended, disabled and deleted ones
 * cannot sign in, so there is no access to review), grouped by system and reviewer, privileged accounts first.
 */
export function buildReviewEntries(input: ReviewListInput): ReviewEntryDraft[] {
  const hrKnown = input.people.length > 0;
  const matching = matchingOf(input.checkParams);
  const people = indexPeople(
    input.people.flatMap((snapshot) => snapshot.records.filter((record) => record.kind === 'hr-person')),
    matching,
  );
  const isServiceAccount = serviceAccountTest(orphanAccount.params.parse(input.checkParams.get('orphan-account') ?? {}));

  const entries: ReviewEntryDraft[] = [];
  for (const system of input.systems) {
    const evidence = checkEvidence([system, ...input.people]);
    const identities = evidence.records('identity').filter(isActive);
    const inactive = flaggedSubjects(inactiveAccount, evidence, input.checkParams, input.at);
    const neverUsed = flaggedSubjects(accountNeverUsed, evidence, input.checkParams, input.at);
    const orphans = hrKnown ? flaggedSubjects(orphanAccount, evidence, input.checkParams, input.at) : new Set<string>();
    const leavers = hrKnown ? leaverClock(evidence, input.at, matching) : [];
    const reviewer = input.reviewerOf(system.sourceName);

    const leaverOf = (identity: Identity) => {
      const entry = leavers.find((candidate) => candidate.system === identity.source && candidate.tenant === identity.tenant && candidate.account === identity.username);
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
          owner: hrKnown ? ownerOf(people.matchesOf(identity)) : null,
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
