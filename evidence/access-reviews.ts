import { decisionRefusal, parseEntryRef, type DecideInput, type ReviewDecision } from '../core/access-review-contracts.ts';
import { insertionOrder, type Catalog, type CatalogSession, type Migration, type ModuleSchema } from './catalog.ts';
import type { Identity } from '../core/records.ts';

/**
 * Access review campaigns in the catalog: one row per campaign, one per entry (an account on a review list, with
 * its flags and the decision taken on it) and the history of every decision, so that a changed mind stays visible.
 */

const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE access_review_campaigns (
     id TEXT PRIMARY KEY,
     control_id TEXT NOT NULL,
     period TEXT NOT NULL,
     status TEXT NOT NULL,
     opened_at TEXT NOT NULL,
     due_at TEXT NOT NULL,
     closed_at TEXT,
     entry_count INTEGER NOT NULL,
     systems TEXT NOT NULL,
     missing_sources TEXT NOT NULL,
     evidence_ids TEXT NOT NULL,
     report_evidence_ids TEXT NOT NULL
   );
   CREATE INDEX access_review_campaigns_control ON access_review_campaigns (control_id, opened_at);
   CREATE TABLE access_review_entries (
     campaign_id TEXT NOT NULL REFERENCES access_review_campaigns (id),
     entry_no INTEGER NOT NULL,
     system TEXT NOT NULL,
     reviewer TEXT NOT NULL,
     tenant TEXT NOT NULL,
     account_id TEXT NOT NULL,
     username TEXT NOT NULL,
     email TEXT,
     display_name TEXT,
     status TEXT NOT NULL,
     privileged INTEGER NOT NULL,
     mfa TEXT NOT NULL,
     last_login_at TEXT,
     flags TEXT NOT NULL,
     evidence_id TEXT NOT NULL,
     decision TEXT,
     reason TEXT,
     decided_by TEXT,
     decided_at TEXT,
     verification TEXT,
     verified_at TEXT,
     verification_evidence_id TEXT,
     PRIMARY KEY (campaign_id, entry_no)
   );
   CREATE INDEX access_review_entries_account ON access_review_entries (campaign_id, system, username);
   CREATE TABLE access_review_decisions (
     campaign_id TEXT NOT NULL,
     entry_no INTEGER NOT NULL,
     decision TEXT NOT NULL,
     reason TEXT,
     decided_by TEXT NOT NULL,
     decided_at TEXT NOT NULL
   );
   CREATE INDEX access_review_decisions_entry ON access_review_decisions (campaign_id, entry_no);`,
  insertionOrder('access_review_decisions'),
];

export const ACCESS_REVIEW_SCHEMA: ModuleSchema = { module: 'access-review', migrations: MIGRATIONS };

/** What the access checks say about an account, shown to its reviewer. */
export interface ReviewFlags {
  /** Not used within the inactive-account check's limit. */
  inactive: boolean;
  /** Never used since its grace period (account-never-used). */
  neverUsed: boolean;
  /**
   * The person HR knows the account by; null when none matched or no HR source was collected. `joinedBy` says how
   * the source's join found them ("template {username}@example.com", "mapping file joins/aws.csv"); lists built
   * before joins were configurable have none.
   */
  owner: { employeeId: string; email: string | null; displayName: string | null; status: 'active' | 'leaver'; joinedBy?: string } | null;
  /** The leaver the account belongs to, whatever the revocation SLA says; null when none. */
  leaver: { employeeId: string; terminationDate: string } | null;
  /** Owned by no HR person and not a service account; null when no HR source was collected to tell. */
  orphan: boolean | null;
  serviceAccount: boolean;
}

export interface ReviewEntryDraft {
  system: string;
  reviewer: string;
  tenant: string;
  accountId: string;
  username: string;
  email: string | null;
  displayName: string | null;
  status: Identity['status'];
  privileged: boolean;
  mfa: Identity['mfaEnabled'];
  lastLoginAt: Identity['lastLoginAt'];
  flags: ReviewFlags;
  evidenceId: string;
}

export type Verification = 'effective' | 'not-effective' | 'unverifiable';

export interface ReviewEntry extends ReviewEntryDraft {
  campaignId: string;
  entryNo: number;
  decision: ReviewDecision | null;
  reason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  verification: Verification | null;
  verifiedAt: string | null;
  verificationEvidenceId: string | null;
}

export type CampaignStatus = 'open' | 'completed' | 'incomplete';

export interface Campaign {
  id: string;
  controlId: string;
  period: string;
  status: CampaignStatus;
  openedAt: string;
  dueAt: string;
  closedAt: string | null;
  entryCount: number;
  undecided: number;
  systems: string[];
  missingSources: string[];
  /** The snapshots the review lists were built from. */
  evidenceIds: string[];
  /** The CSV and HTML exports kept as evidence. */
  reportEvidenceIds: string[];
}

export type NewCampaign = Pick<Campaign, 'id' | 'controlId' | 'period' | 'openedAt' | 'dueAt' | 'systems' | 'missingSources' | 'evidenceIds'>;

/** A decision that cannot be recorded as asked: the reviewer must change the request. */
export class ReviewRefusal extends Error {
  override readonly name = 'ReviewRefusal';
}

export class AccessReviewStore {
  private readonly catalog: Catalog;
  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private async migrated(): Promise<Catalog> {
    await this.catalog.migrateModule(ACCESS_REVIEW_SCHEMA.module, ACCESS_REVIEW_SCHEMA.migrations);
    return this.catalog;
  }

  /** Stores a campaign with its numbered entries once; a retried build gets the stored campaign back. */
  async create(campaign: NewCampaign, entries: readonly ReviewEntryDraft[]): Promise<Campaign> {
    return (await this.migrated()).transaction(async (tx) => {
      const existing = await this.get(campaign.id, tx);
      if (existing) return existing;
      await tx.run(
        `INSERT INTO access_review_campaigns (id, control_id, period, status, opened_at, due_at, entry_count, systems, missing_sources, evidence_ids, report_evidence_ids)
         VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, '[]')`,
        campaign.id,
        campaign.controlId,
        campaign.period,
        campaign.openedAt,
        campaign.dueAt,
        entries.length,
        JSON.stringify(campaign.systems),
        JSON.stringify(campaign.missingSources),
        JSON.stringify(campaign.evidenceIds),
      );
      for (const [index, entry] of entries.entries()) {
        await tx.run(
          `INSERT INTO access_review_entries (campaign_id, entry_no, system, reviewer, tenant, account_id, username, email, display_name, status,
             privileged, mfa, last_login_at, flags, evidence_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          campaign.id,
          index + 1,
          entry.system,
          entry.reviewer,
          entry.tenant,
          entry.accountId,
          entry.username,
          entry.email,
          entry.displayName,
          entry.status,
          entry.privileged ? 1 : 0,
          String(entry.mfa),
          entry.lastLoginAt,
          JSON.stringify(entry.flags),
          entry.evidenceId,
        );
      }
      return (await this.get(campaign.id, tx))!;
    });
  }

  async get(id: string, db?: CatalogSession): Promise<Campaign | undefined> {
    const row = await (db ?? (await this.migrated())).get<CampaignRow>(`${CAMPAIGN_SELECT} WHERE c.id = ?`, id);
    return row && toCampaign(row);
  }

  async list(filter: { controlId?: string } = {}): Promise<Campaign[]> {
    const catalog = await this.migrated();
    const rows = filter.controlId
      ? await catalog.all<CampaignRow>(`${CAMPAIGN_SELECT} WHERE c.control_id = ? ORDER BY c.opened_at DESC, c.id`, filter.controlId)
      : await catalog.all<CampaignRow>(`${CAMPAIGN_SELECT} ORDER BY c.opened_at DESC, c.id`);
    return rows.map(toCampaign);
  }

  async entries(campaignId: string): Promise<ReviewEntry[]> {
    return (await (await this.migrated()).all<EntryRow>('SELECT * FROM access_review_entries WHERE campaign_id = ? ORDER BY entry_no', campaignId)).map(
      toEntry,
    );
  }

  async decisionHistory(campaignId: string): Promise<{ entryNo: number; decision: ReviewDecision; reason: string | null; by: string; at: string }[]> {
    const rows = await (
      await this.migrated()
    ).all<{ entry_no: number; decision: ReviewDecision; reason: string | null; decided_by: string; decided_at: string }>(
      'SELECT * FROM access_review_decisions WHERE campaign_id = ? ORDER BY rowid',
      campaignId,
    );
    return rows.map((row) => ({ entryNo: Number(row.entry_no), decision: row.decision, reason: row.reason, by: row.decided_by, at: row.decided_at }));
  }

  /**
   * The entry numbers that references name: numbers, ranges, or `<source>:<username>` (case aside). Every
   * reference must name at least one entry; the refusal lists each one that does not.
   */
  async resolve(campaignId: string, refs: readonly string[], db?: CatalogSession): Promise<number[]> {
    const session = db ?? (await this.migrated());
    const campaign = await this.get(campaignId, session);
    if (!campaign) throw new ReviewRefusal(`no access review campaign ${campaignId}`);
    const found = new Set<number>();
    const unknown: string[] = [];
    for (const ref of refs) {
      const parsed = parseEntryRef(ref);
      if (parsed?.kind === 'numbers' && parsed.from >= 1 && parsed.to <= campaign.entryCount) {
        for (let entryNo = parsed.from; entryNo <= parsed.to; entryNo++) found.add(entryNo);
        continue;
      }
      const rows =
        parsed?.kind === 'account'
          ? await session.all<{ entry_no: number }>(
              'SELECT entry_no FROM access_review_entries WHERE campaign_id = ? AND system = ? AND lower(username) = lower(?)',
              campaignId,
              parsed.system,
              parsed.account,
            )
          : [];
      if (rows.length === 0) unknown.push(ref);
      for (const row of rows) found.add(Number(row.entry_no));
    }
    if (unknown.length > 0) throw new ReviewRefusal(`campaign ${campaignId}: unknown entr${unknown.length === 1 ? 'y' : 'ies'} ${unknown.join(', ')}`);
    return [...found].sort((a, b) => a - b);
  }

  /**
   * Records one decision on the named entries while the campaign is open; a later decision on the same entry
   * replaces it, and both stay in the history.
   */
  async decide(campaignId: string, input: DecideInput & { at: string }): Promise<{ entries: number[]; undecided: number }> {
    return (await this.migrated()).transaction(async (tx) => {
      const campaign = await this.get(campaignId, tx);
      if (!campaign) throw new ReviewRefusal(`no access review campaign ${campaignId}`);
      const refusal = decisionRefusal(
        { campaignId, phase: 'open', closed: campaign.status !== 'open', entryCount: campaign.entryCount, systems: campaign.systems },
        input,
      );
      if (refusal) throw new ReviewRefusal(refusal);
      const entries = await this.resolve(campaignId, input.entries, tx);
      const reason = input.reason?.trim() || null;
      for (const entryNo of entries) {
        await tx.run(
          `UPDATE access_review_entries SET decision = ?, reason = ?, decided_by = ?, decided_at = ?, verification = NULL, verified_at = NULL, verification_evidence_id = NULL
           WHERE campaign_id = ? AND entry_no = ?`,
          input.decision,
          reason,
          input.by.trim(),
          input.at,
          campaignId,
          entryNo,
        );
        await tx.run(
          'INSERT INTO access_review_decisions (campaign_id, entry_no, decision, reason, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)',
          campaignId,
          entryNo,
          input.decision,
          reason,
          input.by.trim(),
          input.at,
        );
      }
      return { entries, undecided: (await this.get(campaignId, tx))!.undecided };
    });
  }

  /** Ends the decisions: completed when every entry is decided, incomplete otherwise. Closing twice changes nothing. */
  async close(campaignId: string, at: string): Promise<Campaign> {
    return (await this.migrated()).transaction(async (tx) => {
      const campaign = await this.get(campaignId, tx);
      if (!campaign) throw new ReviewRefusal(`no access review campaign ${campaignId}`);
      if (campaign.status !== 'open') return campaign;
      await tx.run(
        'UPDATE access_review_campaigns SET status = ?, closed_at = ? WHERE id = ?',
        campaign.undecided === 0 ? 'completed' : 'incomplete',
        at,
        campaignId,
      );
      return (await this.get(campaignId, tx))!;
    });
  }

  async addReports(campaignId: string, evidenceIds: readonly string[]): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      const campaign = await this.get(campaignId, tx);
      if (!campaign) throw new ReviewRefusal(`no access review campaign ${campaignId}`);
      const merged = [...new Set([...campaign.reportEvidenceIds, ...evidenceIds])];
      await tx.run('UPDATE access_review_campaigns SET report_evidence_ids = ? WHERE id = ?', JSON.stringify(merged), campaignId);
    });
  }

  /** Revocations decided at or before `cutoff` that no collection has yet shown effective. */
  async revocationsToVerify(campaignId: string, cutoff: string): Promise<ReviewEntry[]> {
    const rows = await (
      await this.migrated()
    ).all<EntryRow>(
      `SELECT * FROM access_review_entries WHERE campaign_id = ? AND decision = 'revoke' AND decided_at <= ? AND (verification IS NULL OR verification <> 'effective')
       ORDER BY entry_no`,
      campaignId,
      cutoff,
    );
    return rows.map(toEntry);
  }

  async recordVerifications(
    campaignId: string,
    outcomes: readonly { entryNo: number; verification: Verification; evidenceId: string | null }[],
    at: string,
  ): Promise<void> {
    await (
      await this.migrated()
    ).transaction(async (tx) => {
      for (const outcome of outcomes) {
        await tx.run(
          'UPDATE access_review_entries SET verification = ?, verified_at = ?, verification_evidence_id = ? WHERE campaign_id = ? AND entry_no = ?',
          outcome.verification,
          at,
          outcome.evidenceId,
          campaignId,
          outcome.entryNo,
        );
      }
    });
  }
}

const CAMPAIGN_SELECT = `SELECT c.*, (SELECT COUNT(*) FROM access_review_entries e WHERE e.campaign_id = c.id AND e.decision IS NULL) AS undecided
  FROM access_review_campaigns c`;

type CampaignRow = {
  id: string;
  control_id: string;
  period: string;
  status: CampaignStatus;
  opened_at: string;
  due_at: string;
  closed_at: string | null;
  entry_count: number;
  undecided: number;
  systems: string;
  missing_sources: string;
  evidence_ids: string;
  report_evidence_ids: string;
};

function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    controlId: row.control_id,
    period: row.period,
    status: row.status,
    openedAt: row.opened_at,
    dueAt: row.due_at,
    closedAt: row.closed_at,
    entryCount: Number(row.entry_count),
    undecided: Number(row.undecided),
    systems: JSON.parse(row.systems) as string[],
    missingSources: JSON.parse(row.missing_sources) as string[],
    evidenceIds: JSON.parse(row.evidence_ids) as string[],
    reportEvidenceIds: JSON.parse(row.report_evidence_ids) as string[],
  };
}

type EntryRow = {
  campaign_id: string;
  entry_no: number;
  system: string;
  reviewer: string;
  tenant: string;
  account_id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  status: Identity['status'];
  privileged: number;
  mfa: string;
  last_login_at: string | null;
  flags: string;
  evidence_id: string;
  decision: ReviewDecision | null;
  reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  verification: Verification | null;
  verified_at: string | null;
  verification_evidence_id: string | null;
};

function toEntry(row: EntryRow): ReviewEntry {
  return {
    campaignId: row.campaign_id,
    entryNo: Number(row.entry_no),
    system: row.system,
    reviewer: row.reviewer,
    tenant: row.tenant,
    accountId: row.account_id,
    username: row.username,
    email: row.email,
    displayName: row.display_name,
    status: row.status,
    privileged: Number(row.privileged) === 1,
    mfa: row.mfa === 'true' ? true : row.mfa === 'false' ? false : 'unknown',
    lastLoginAt: row.last_login_at as Identity['lastLoginAt'],
    flags: JSON.parse(row.flags) as ReviewFlags,
    evidenceId: row.evidence_id,
    decision: row.decision,
    reason: row.reason,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    verification: row.verification,
    verifiedAt: row.verified_at,
    verificationEvidenceId: row.verification_evidence_id,
  };
}
