import { createHash } from 'node:crypto';
import { formatLocalDate, fromZoned, parseLocalDate, toZoned } from '../core/calendar-occurrences.ts';
import { ConfigError } from '../core/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { AssessmentPeriod, NonconformityAtEnd } from '../evidence/assessment-period.ts';
import { EVIDENCE_GAP_CHECK } from '../evidence/register.ts';
import type { NonconformityStatus } from '../core/nonconformity.ts';
import { FILE_KIND } from '../evidence/store.ts';
import type { EvidenceRow } from '../evidence/evidence-row.ts';

/*
 * OSCAL 1.1.2 assessment results of one period, built from the catalog (pure: the same input gives the same bytes).
 * 1.1.2 is the OSCAL version of the independent validator's schemas (NIST liboscal-java 3.0.3, see
 * test/support/oscal-validator.sh); every 1.1.x reader accepts it.
 */

export const OSCAL_VERSION = '1.1.2';

/** Namespace of our own props: OSCAL's namespace has fixed prop names, ours carry the catalog's identities. */
export const ISMS_NS = 'urn:isms-worker:oscal';

/** The fixed namespace from which every UUID of our OSCAL documents is derived (UUID v5), per organisation. */
const PROJECT_NAMESPACE = '7bc055f1-59fc-4dcf-b036-0a7c0dcebcf2';

/** RFC 9562 UUID version 5: SHA-1 of the namespace's 16 bytes and the name, with version and variant bits set. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The OSCAL control-id of an ISO/IEC 27001:2022 reference. OSCAL control ids are tokens that start with a letter:
 * Annex A control "A.8.8" becomes "a.8.8" (leading zeros dropped), clause "9.2" becomes "clause-9.2".
 */
export function oscalControlIdOf(reference: string): string {
  const annex = /^A\.([5-8])\.(\d{1,2})$/.exec(reference);
  if (annex) return `a.${Number(annex[1])}.${Number(annex[2])}`;
  if (/^(4|5|6|7|8|9|10)(\.\d+){0,2}$/.test(reference)) return `clause-${reference}`;
  throw new Error(`${reference}: not an ISO/IEC 27001:2022 clause or Annex A reference`);
}

/** A control of the config as the assessment sees it. */
export interface AssessedControl {
  id: string;
  title: string;
  references: readonly string[];
  owner: string;
  sources: readonly string[];
  checks: readonly { id: string; title: string }[];
}

/** In the config's order: the document lists findings and plan activities as the owner wrote the controls. */
export function assessedControlsOf(loaded: LoadedConfig): AssessedControl[] {
  return [...loaded.controls.values()].map(({ control, references, sources, checks }) => ({
    id: control.id,
    title: control.title,
    references,
    owner: control.owner,
    sources: sources.map((source) => source.name),
    checks: checks.map(({ check }) => ({ id: check.id, title: check.title })),
  }));
}

export interface AssessmentInput {
  organisation: string | null;
  timeZone: string;
  /** ISO instants: from inclusive, to exclusive. */
  period: { from: string; to: string };
  controls: readonly AssessedControl[];
  /** The config file the plan comes from, by name and content hash. */
  config: { name: string; sha256: string };
  data: AssessmentPeriod;
}

interface Prop {
  name: string;
  ns?: string;
  value: string;
}

type ControlSelections = { 'control-selections': { 'include-controls': { 'control-id': string }[] }[] };

/** The AR and, embedded in its back-matter, the assessment plan it imports: one self-contained file. */
export function assessmentResults(input: AssessmentInput): {
  document: object;
  plan: object;
  summary: { observations: number; findings: number; notSatisfied: number; risks: number };
} {
  const ids = idsOf(input);
  const { evidence, openAtEnd } = input.data;
  const lastModified = lastModifiedOf(input);
  const reviewed = reviewedControlsOf(input.controls);

  const observationOf = new Map(evidence.map((row) => [row.id, ids.observation(row.id)]));
  const observations = evidence.map((row) => observation(row, ids));
  const risks = openAtEnd.map((nc) => risk(nc, ids, observationOf, input));
  const findings = input.controls.flatMap((control) =>
    control.checks.flatMap((check) => control.references.map((reference) => finding(control, check, reference, input, ids, observationOf))),
  );

  const plan = withVersion({
    'assessment-plan': {
      uuid: ids.plan,
      metadata: metadataOf(input, ids, `${titleOf(input)}: assessment plan`, lastModified),
      'import-ssp': { href: `#${ids.scope}` },
      'local-definitions': {
        activities: input.controls.flatMap((control) =>
          control.checks.map((check) => ({
            uuid: ids.activity(control.id, check.id),
            title: markup(`${check.title}: ${control.title}`),
            description: markup(
              `Automated check ${check.id} over the evidence of control ${control.id} (sources ${control.sources.join(', ')}), collected and evaluated on the control's schedule; owner ${control.owner}.`,
            ),
            props: [{ name: 'method', value: 'TEST' }, ...ismsProps({ control: control.id, check: check.id })],
            'related-controls': selectionOf(control.references),
          })),
        ),
      },
      'reviewed-controls': reviewed,
      'back-matter': {
        resources: [
          {
            uuid: ids.scope,
            title: 'ISMS configuration',
            description: markup(
              'The scope of the assessment: the isms-worker configuration in force (controls, their ISO/IEC 27001:2022 references, evidence sources, checks and schedules). No OSCAL system security plan exists for an ISMS; this file takes its place.',
            ),
            // The hash is a prop, not an OSCAL `hashes` entry: OSCAL 1.1.x constraints expect 32 hex digits for SHA-256
            // (bytes counted as digits, usnistgov/OSCAL#2053), so a real digest would fail validation.
            props: ismsProps({ sha256: input.config.sha256 }),
            rlinks: [{ href: input.config.name, 'media-type': 'application/yaml' }],
          },
        ],
      },
    },
  });

  const notSatisfied = findings.filter((entry) => entry.target.status.state === 'not-satisfied').length;
  const document = withVersion({
    'assessment-results': {
      uuid: ids.results,
      metadata: metadataOf(input, ids, `${titleOf(input)}: assessment results`, lastModified),
      'import-ap': { href: `#${ids.planResource}` },
      results: [
        {
          uuid: ids.result,
          title: markup(`Automated ISMS assessment, ${labelOf(input.period.from, input.timeZone)} to ${labelOf(input.period.to, input.timeZone)}`),
          description: markup(resultDescription(input, findings.length, notSatisfied, risks.length)),
          start: input.period.from,
          end: input.period.to,
          'reviewed-controls': reviewed,
          ...nonEmpty('observations', observations),
          ...nonEmpty('risks', risks),
          ...nonEmpty('findings', findings),
        },
      ],
      'back-matter': {
        resources: [
          {
            uuid: ids.planResource,
            title: 'Assessment plan',
            description: markup('The OSCAL assessment plan these results import: one automated test activity per control and check.'),
            base64: { filename: 'assessment-plan.json', 'media-type': 'application/oscal.ap+json', value: Buffer.from(serialize(plan)).toString('base64') },
          },
        ],
      },
    },
  });
  return { document, plan, summary: { observations: observations.length, findings: findings.length, notSatisfied, risks: risks.length } };
}

/** The bytes of a document: stable key order (as built), two-space indent, final newline. */
export function serialize(document: object): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function idsOf(input: AssessmentInput) {
  // Per organisation, so that two registers' NC-0001 are different risks; per period where the thing is per period.
  const namespace = uuidV5(PROJECT_NAMESPACE, `organisation:${input.organisation ?? ''}`);
  const period = `${input.period.from}/${input.period.to}`;
  const id = (name: string) => uuidV5(namespace, name);
  return {
    results: id(`assessment-results:${period}`),
    result: id(`result:${period}`),
    plan: id(`assessment-plan:${period}`),
    planResource: id(`resource:assessment-plan:${period}`),
    scope: id('resource:isms-configuration'),
    party: id('party:organisation'),
    activity: (controlId: string, checkId: string) => id(`activity:${controlId}:${checkId}`),
    observation: (evidenceId: string) => id(`observation:${evidenceId}`),
    finding: (controlId: string, checkId: string, reference: string) => id(`finding:${controlId}:${checkId}:${reference}:${period}`),
    risk: (nonconformityId: string) => id(`risk:${nonconformityId}`),
    riskLogEntry: (nonconformityId: string, index: number) => id(`risk-log:${nonconformityId}:${index}`),
  };
}
type Ids = ReturnType<typeof idsOf>;

/** The newest moment the period's data shows, else the period's start: never the clock, so output is reproducible. */
function lastModifiedOf(input: AssessmentInput): string {
  const { evidence, checkRuns, openAtEnd } = input.data;
  const times = [
    ...evidence.map((row) => row.collectedAt),
    ...checkRuns.map((run) => run.evaluatedAt),
    ...openAtEnd.flatMap((nc) => nc.historyToEnd.map((entry) => entry.at)),
  ];
  return times.reduce((newest, at) => (at > newest ? at : newest), input.period.from);
}

function titleOf(input: AssessmentInput): string {
  return input.organisation ? `${input.organisation} ISMS` : 'ISMS';
}

function metadataOf(input: AssessmentInput, ids: Ids, title: string, lastModified: string) {
  return {
    title: markup(title),
    'last-modified': lastModified,
    version: '',
    'oscal-version': OSCAL_VERSION,
    ...(input.organisation ? { parties: [{ uuid: ids.party, type: 'organization', name: input.organisation }] } : {}),
  };
}

/** Sets metadata.version to a digest of the rest: any change of content is a new version, the same content the same. */
function withVersion<T extends object>(document: T): T {
  const root = Object.values(document)[0] as { metadata: { version: string } };
  root.metadata.version = `sha256:${createHash('sha256').update(serialize(document)).digest('hex').slice(0, 16)}`;
  return document;
}

function reviewedControlsOf(controls: readonly AssessedControl[]): ControlSelections {
  const references = controls.flatMap((control) => control.references);
  if (references.length === 0) throw new ConfigError('the config has no control: OSCAL assessment results review at least one');
  return selectionOf(references);
}

function selectionOf(references: readonly string[]): ControlSelections {
  const controlIds = [...new Set(references.map(oscalControlIdOf))].sort(compareControlIds);
  return { 'control-selections': [{ 'include-controls': controlIds.map((controlId) => ({ 'control-id': controlId })) }] };
}

/** a.5.9 before a.5.10; clauses after Annex A. */
function compareControlIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function observation(row: EvidenceRow, ids: Ids) {
  const isFile = row.kinds.includes(FILE_KIND);
  const file = isFile ? (row.provenance.file as { name?: string } | undefined) : undefined;
  const what = isFile ? `File ${file?.name ?? row.sourceName}` : `${row.recordCount} ${row.recordCount === 1 ? 'record' : 'records'} (${row.kinds.join(', ')})`;
  return {
    uuid: ids.observation(row.id),
    title: markup(`Evidence ${row.sourceName} of ${row.controlId}`),
    description: markup(
      `${what} from source ${row.sourceName} (connector ${row.connector} ${row.connectorVersion}), collected for control ${row.controlId} by run ${row.runId}.`,
    ),
    props: ismsProps({ control: row.controlId, source: row.sourceName }),
    // Files are kept by people (a review record, a report) and examined; snapshots feed automated checks.
    methods: [isFile ? 'EXAMINE' : 'TEST'],
    collected: row.collectedAt,
    'relevant-evidence': [
      {
        // The snapshot's name in the evidence bundle of the period (`isms evidence export`).
        href: `evidence/${row.id}.ndjson.zst`,
        description: markup(`Evidence snapshot ${row.id}: zstd-compressed NDJSON; its sha256 is of the uncompressed content.`),
        props: ismsProps({ 'evidence-id': row.id, sha256: row.sha256 }),
      },
    ],
    ...(row.warnings.length ? { remarks: markup(`Collected with warnings: ${row.warnings.join('; ')}`) } : {}),
  };
}

function finding(
  control: AssessedControl,
  check: { id: string; title: string },
  reference: string,
  input: AssessmentInput,
  ids: Ids,
  observationOf: ReadonlyMap<string, string>,
) {
  const runs = input.data.checkRuns.flatMap((run) =>
    run.controlId === control.id ? run.results.filter((result) => result.checkId === check.id).map((result) => ({ run, result })) : [],
  );
  const count = (status: string) => runs.filter((entry) => entry.result.status === status).length;
  const [passed, failed, errors] = [count('pass'), count('fail'), count('error')];
  // Fail-closed: a check that never ran, or could not run, does not show the objective satisfied.
  const satisfied = runs.length > 0 && passed === runs.length;
  const latest = runs.at(-1);
  const description =
    runs.length === 0
      ? `Check ${check.id} did not run for control ${control.id} in this period: no evidence was evaluated, so the objective is not shown to be satisfied.`
      : `Check ${check.id} ran ${runs.length} ${runs.length === 1 ? 'time' : 'times'} for control ${control.id} in this period: ${passed} passed, ${failed} failed, ${errors} could not be evaluated (evidence gap or error). ` +
        `Latest ${latest!.run.evaluatedAt}: ${latest!.result.status}${latest!.result.message ? ` (${latest!.result.message})` : ''}.`;
  const runIds = new Set(runs.map((entry) => entry.run.runId));
  const related = input.data.evidence.filter((row) => runIds.has(row.runId)).map((row) => ({ 'observation-uuid': observationOf.get(row.id)! }));
  const risks = input.data.openAtEnd
    .filter((nc) => nc.controlId === control.id && (nc.checkId === check.id || nc.checkId === EVIDENCE_GAP_CHECK))
    .map((nc) => ({ 'risk-uuid': ids.risk(nc.id) }));
  return {
    uuid: ids.finding(control.id, check.id, reference),
    title: markup(`${reference} ${check.title}: ${control.title}`),
    description: markup(description),
    props: ismsProps({ control: control.id, check: check.id, reference }),
    target: {
      type: 'objective-id',
      'target-id': `${oscalControlIdOf(reference)}_obj`,
      status: { state: satisfied ? 'satisfied' : 'not-satisfied', reason: satisfied ? 'pass' : failed > 0 ? 'fail' : 'other' },
    },
    ...nonEmpty('related-observations', related),
    ...nonEmpty('related-risks', risks),
  };
}

/** Where a nonconformity's treatment stands, in OSCAL's risk statuses; the register's own status is a prop. */
const RISK_STATUS: Record<NonconformityStatus, string> = {
  open: 'open',
  'root-cause': 'investigating',
  'corrective-action': 'remediating',
  'no-longer-observed': 'remediating',
  verified: 'remediating',
  closed: 'closed',
};

function risk(nc: NonconformityAtEnd, ids: Ids, observationOf: ReadonlyMap<string, string>, input: AssessmentInput) {
  const deadline = deadlineOf(nc.dueDate, input.timeZone);
  const statement = [
    `Nonconformity ${nc.id} of control ${nc.controlId} (${nc.reference}), check ${nc.checkId}, subject ${nc.subject}, severity ${nc.severity}: first observed ${nc.firstObserved}, last observed ${nc.lastObserved}, ${nc.occurrences} ${nc.occurrences === 1 ? 'occurrence' : 'occurrences'}.`,
    nc.rootCause ? `Root cause: ${nc.rootCause}` : '',
    nc.correctiveAction ? `Corrective action: ${nc.correctiveAction}` : '',
  ].filter(Boolean);
  const related = nc.evidenceIds.flatMap((id) => (observationOf.has(id) ? [{ 'observation-uuid': observationOf.get(id)! }] : []));
  return {
    uuid: ids.risk(nc.id),
    title: markup(nc.title),
    description: markup(nc.detail || nc.title),
    statement: statement.map(markup).join('\n\n'),
    props: ismsProps({
      nonconformity: nc.id,
      'nonconformity-status': nc.statusAtEnd,
      severity: nc.severity,
      control: nc.controlId,
      check: nc.checkId,
      ...(nc.owner ? { owner: nc.owner } : {}),
    }),
    status: RISK_STATUS[nc.statusAtEnd],
    ...(deadline ? { deadline } : {}),
    ...(nc.historyToEnd.length
      ? {
          'risk-log': {
            entries: nc.historyToEnd.map((entry, index) => ({
              uuid: ids.riskLogEntry(nc.id, index),
              title: markup(entry.toStatus ? `${entry.change}: ${entry.fromStatus ? `${entry.fromStatus} to ` : ''}${entry.toStatus}` : entry.change),
              description: markup(`By ${entry.actor}${entry.note ? `: ${entry.note}` : '.'}`),
              start: entry.at,
              ...(entry.toStatus ? { 'status-change': RISK_STATUS[entry.toStatus as NonconformityStatus] } : {}),
            })),
          },
        }
      : {}),
    ...nonEmpty('related-observations', related),
  };
}

function deadlineOf(dueDate: string | null, timeZone: string): string | undefined {
  if (!dueDate) return undefined;
  const date = parseLocalDate(dueDate);
  const instant = date ? fromZoned({ ...date, hour: 0, minute: 0, second: 0 }, timeZone) : Date.parse(dueDate);
  return Number.isNaN(instant) ? undefined : new Date(instant).toISOString();
}

function resultDescription(input: AssessmentInput, findings: number, notSatisfied: number, risks: number): string {
  const { evidence, checkRuns } = input.data;
  const lines = [
    evidence.length === 0
      ? 'No evidence was collected in this period and no observation could be made: every objective is reported not satisfied for want of evidence.'
      : `${evidence.length} evidence ${evidence.length === 1 ? 'snapshot was' : 'snapshots were'} collected and ${checkRuns.length} check ${checkRuns.length === 1 ? 'run was' : 'runs were'} evaluated in this period.`,
    `${findings} ${findings === 1 ? 'finding' : 'findings'} (one per control, ISO/IEC 27001:2022 reference and check), ${notSatisfied} not satisfied; ${risks} nonconformities open at the end of the period, reported as risks.`,
    `Period: ${input.period.from} (inclusive) to ${input.period.to} (exclusive).`,
  ];
  return lines.join('\n\n');
}

function labelOf(instant: string, timeZone: string): string {
  const local = toZoned(Date.parse(instant), timeZone);
  return local.hour === 0 && local.minute === 0 && local.second === 0 ? formatLocalDate(local) : instant;
}

function ismsProps(values: Record<string, string>): Prop[] {
  return Object.entries(values).map(([name, value]) => ({ name, ns: ISMS_NS, value }));
}

/** OSCAL's arrays have at least one item: an empty one is left out. */
function nonEmpty<K extends string, T>(key: K, items: readonly T[]): { [P in K]?: T[] } {
  return (items.length ? { [key]: [...items] } : {}) as { [P in K]?: T[] };
}

/**
 * Text from the catalog placed in OSCAL markup (Markdown) fields: HTML's special characters become entities, so a
 * title from a scanner or a person renders as text and never as HTML in an OSCAL viewer.
 */
function markup(text: string): string {
  return text.replace(/[&<>]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[char]!);
}
