/**
 * The small values that cross the workflow/activity boundary and so live in workflow history.
 * Records never do: an EvidenceRef is a claim check on the evidence store.
 */

export interface ControlRunInput {
  controlId: string;
  /** Set by `isms run` to mark a manual run; schedule-started runs leave it out. */
  trigger?: 'schedule' | 'manual';
  /** The occurrence a manual run stands for; schedule-started runs take Temporal's scheduled time. */
  occurrence?: string;
}

export interface CollectionPlan {
  controlId: string;
  sources: string[];
  collection: {
    timeout: string;
    heartbeatTimeout: string;
    maximumAttempts: number;
    initialRetryInterval: string;
    maximumRetryInterval: string;
  };
}

/** What a control run is planned from: its collection, and which of its sources records an obligation of the calendar. */
export interface ControlRunPlan extends CollectionPlan {
  /** Sources that are risk registers: a snapshot of one may complete the risk assessment review. Absent from plans made before. */
  riskRegisters?: string[];
}

export interface CollectInput {
  runId: string;
  controlId: string;
  sourceName: string;
  /** The occurrence this run stands for (schedule time, or start time of a manual run). */
  occurrence: string;
}

export interface EvidenceRef {
  id: string;
  controlId: string;
  sourceName: string;
  sha256: string;
  recordCount: number;
  collectedAt: string;
  uri: string;
  warnings: number;
}

export interface EvidenceGap {
  sourceName: string;
  /** Why collection failed, as the last attempt reported it. Never holds a secret. */
  reason: string;
  errorType: string;
}

export interface EvaluateInput {
  runId: string;
  controlId: string;
  occurrence: string;
  refs: EvidenceRef[];
  gaps: EvidenceGap[];
}

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface EvaluationSummary {
  checkRunId: string;
  status: CheckStatus;
  checks: { checkId: string; status: CheckStatus; deviations: number; message?: string }[];
}

export interface ReconcileInput {
  runId: string;
  controlId: string;
  checkRunId: string;
  occurrence: string;
  gaps: EvidenceGap[];
}

export interface ReconcileSummary {
  opened: string[];
  stillObserved: string[];
  reopened: string[];
  noLongerObserved: string[];
}

export interface NotifyInput {
  runId: string;
  controlId: string;
  status: CheckStatus;
  reconcile: ReconcileSummary;
  gaps: EvidenceGap[];
  /**
   * The run could not write its own outcome (a full disk, a catalog gone): the step and why. Told apart from the
   * notice of the recorded outcome that follows once the catalog takes writes, so both reach the owner once each.
   */
  unrecorded?: { step: string; reason: string; errorType: string };
}

export interface ControlRunSummary {
  runId: string;
  controlId: string;
  occurrence: string;
  /** pass: every check passed; fail: nonconformities are observed; error: evidence is missing or a check could not run. */
  status: CheckStatus;
  evidence: EvidenceRef[];
  gaps: EvidenceGap[];
  checks: EvaluationSummary['checks'];
  nonconformities: ReconcileSummary;
}
