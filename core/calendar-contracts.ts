/**
 * The small values of the maintenance calendar that cross the workflow boundary. Evidence files never do: a
 * completion carries refs to files already in the evidence store (id, sha256, uri) or links.
 */

export type OccurrenceOrigin = 'calendar' | 'audit-cycle' | 'change';

/** A notice to the owner at a planned time. The first rung of the ladder is the opening notice itself. */
export interface PlannedReminder {
  at: string;
  kind: 'reminder' | 'due' | 'overdue';
  label: string;
}

/** One dated occurrence of a recurring obligation: everything its workflow needs, so config never enters history. */
export interface ActivityOccurrence {
  /** `activity:<activityId>:<due date>`; also the workflow id. */
  occurrenceId: string;
  activityId: string;
  origin: OccurrenceOrigin;
  title: string;
  reference: string;
  owner: string;
  /** The due instant and its local date in the activity's zone. */
  due: string;
  dueDate: string;
  timeZone: string;
  opensAt: string;
  /** After this a missing completion is a nonconformity. */
  graceUntil: string;
  /** After this the occurrence takes no late completion: the next one is due (or 90 days passed for a one-off). */
  closesAt: string;
  reminders: PlannedReminder[];
  evidence: { name: string; required: boolean }[];
}

export type EvidenceItem = { name: string; evidenceId: string; sha256: string; uri: string } | { name: string; link: string };

export interface Completion {
  by: string;
  /** When the activity was performed; the workflow records when it learnt of it. */
  at?: string;
  note?: string;
  evidence: EvidenceItem[];
}

export interface CompletionReceipt {
  occurrenceId: string;
  completedBy: string;
  performedAt: string;
  recordedAt: string;
  late: boolean;
  /** The missed-activity nonconformity a late completion moved to no-longer-observed. */
  settledNonconformity?: string;
}

export interface Reassignment {
  owner: string;
  by: string;
}

export interface OccurrenceOutcome {
  occurrenceId: string;
  status: 'done' | 'missed';
  late: boolean;
  owner: string;
  nonconformityId?: string;
}

export interface OccurrenceState {
  occurrenceId: string;
  owner: string;
  completed: boolean;
  nonconformityId?: string;
}

export type OccurrenceNotice = 'opened' | 'reminder' | 'due' | 'overdue' | 'missed' | 'reassigned';

export interface OccurrenceNoticeInput {
  occurrenceId: string;
  kind: OccurrenceNotice;
  /** The planned time of the notice: with occurrence and kind it identifies the notice, so a retry sends it once. */
  at: string;
  owner: string;
  text: string;
}

export const ACTIVITY_SCHEDULE_PREFIX = 'isms:activity:';

/** The failure type that refuses a completion whose evidence refs do not match the evidence store: the person corrects it. */
export const INVALID_EVIDENCE = 'InvalidEvidenceError';
