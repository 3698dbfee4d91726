import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { resolveCalendar, type CalendarActivity } from '../config/calendar.ts';
import { planOccurrences } from '../config/calendar-plan.ts';
import { ConfigError } from '../core/errors.ts';
import { annexAControls, catalogOf, ISO_27001, type Framework } from '../config/frameworks/catalog.ts';
import { crosswalkOf, crosswalkSources, mappedAnnexAControls, referencesIn } from '../config/frameworks/crosswalk.ts';
import type { ResolvedControl } from '../config/load.ts';
import type { SoaConfig, SoaControlEntry } from '../config/soa.ts';
import { checkHeader, csvRowParser, readCsvRows, textCell } from '../connectors/csv.ts';
import { ConnectorError } from '../connectors/errors.ts';
import { CalendarStore } from '../evidence/calendar-store.ts';
import { evidenceOfRuns, latestControlRuns, type LatestControlRun, type RunEvidence } from '../evidence/soa-queries.ts';
import type { EvidenceStore } from '../evidence/store.ts';
import type { EvidenceRow } from '../evidence/evidence-row.ts';
import { calendarRows } from './calendar-report.ts';
import type { Runtime } from './runtime.ts';
import {
  MANUAL_TEXT,
  SOA_SCHEMA,
  SoaDocument,
  SoaStatus,
  STATUS_LABEL,
  type ActivitySource,
  type EvidenceSource,
  type FrameworkEntry,
  type Justification,
  type SoaControl,
} from './soa.ts';

/*
 * The Statement of Applicability gathered live: per Annex A control, the config's applicability, justification and
 * owner, and the latest results of the automated controls and calendar activities that reference it. Each
 * generated SoA is kept as evidence (its JSON, and the HTML or CSV asked for), which is what `isms soa diff` reads.
 */

const DAY_MS = 86_400_000;
/** How far back the latest due occurrence of an activity is looked for: longer than any yearly recurrence. */
const ACTIVITY_LOOKBACK_MS = 3 * 366 * DAY_MS;

/** The calendar activity whose completion is the SoA's review (clause 6.1.3). */
export const SOA_REVIEW_ACTIVITY = 'soa-review';

/** The evidence store's control id for generated SoAs; the colon keeps it apart from configured control ids. */
export const SOA_CONTROL_ID = 'isms:soa';
const SOA_JSON = 'soa.json';

export type SoaRuntime = Pick<Runtime, 'config' | 'store'>;

export interface LicensedTitles {
  /** As the config names it. */
  file: string;
  byId: ReadonlyMap<string, string>;
}

export interface SoaOptions {
  framework: Framework;
  now: number;
  titles: LicensedTitles | null;
}

type Category = 'ok' | 'deviation' | 'gap' | 'none';
const CATEGORY: Record<EvidenceSource['status'], Category> = {
  pass: 'ok',
  fail: 'deviation',
  error: 'gap',
  'never-ran': 'none',
  done: 'ok',
  'done-late': 'ok',
  missed: 'deviation',
  overdue: 'deviation',
  unrecorded: 'gap',
  open: 'none',
  planned: 'none',
  'not-due-yet': 'none',
};

interface Subject {
  source: EvidenceSource;
  /** Its ids in ISO/IEC 27001 and in the chosen framework. */
  iso: ReadonlySet<string>;
  framework: ReadonlySet<string>;
}

export async function gatherSoa(runtime: SoaRuntime, options: SoaOptions): Promise<SoaDocument> {
  const loaded = runtime.config;
  const soa = loaded.config.soa;
  const { framework, now } = options;
  const catalog = runtime.store.catalog;
  const runs = await latestControlRuns(catalog);
  const evidence = await evidenceOfRuns(
    catalog,
    [...runs.values()].map((run) => run.runId),
  );
  const calendarStore = new CalendarStore(catalog);
  const subjectOf = (references: readonly string[], source: EvidenceSource): Subject => ({
    source,
    iso: new Set(referencesIn(ISO_27001, { references })),
    framework: new Set(referencesIn(framework, { references })),
  });
  const subjects = [
    ...[...loaded.controls.values()].map((control) => subjectOf(control.references, controlSource(control, runs.get(control.control.id), evidence))),
    ...(await Promise.all(
      [...resolveCalendar(loaded.config).activities.values()].map(async (activity) =>
        subjectOf(activity.references, await activitySource(activity, calendarStore, now)),
      ),
    )),
  ];

  const controls = annexAControls().map((entry): SoaControl => {
    const configured = soa?.controls[entry.id];
    const applicable = configured?.applicable ?? true;
    const evidencedBy = subjects.filter((subject) => subject.iso.has(entry.id)).map((subject) => subject.source);
    const derived = statusOf(evidencedBy);
    return {
      id: entry.id,
      group: entry.group,
      title: options.titles?.byId.get(entry.id) ?? entry.title,
      applicable,
      justification: justificationOf(configured, soa),
      status: applicable ? derived.status : 'not-applicable',
      statusText: applicable
        ? derived.text
        : evidencedBy.length > 0
          ? `not applicable, yet referenced by ${evidencedBy.map((source) => `${source.kind} ${source.id}`).join(', ')}`
          : 'not applicable',
      owners: ownersOf(configured, evidencedBy, soa),
      evidencedBy,
      mapped: framework === ISO_27001 ? [] : crosswalkOf(framework, entry.id),
    };
  });

  const frameworkView =
    framework === ISO_27001
      ? []
      : catalogOf(framework).entries.map((entry): FrameworkEntry => {
          const evidencedBy = subjects.filter((subject) => subject.framework.has(entry.id)).map((subject) => subject.source);
          const derived = statusOf(evidencedBy);
          return {
            id: entry.id,
            group: entry.group,
            title: entry.title,
            annexA: mappedAnnexAControls().filter((annexA) => crosswalkOf(framework, annexA).includes(entry.id)),
            status: derived.status,
            statusText: derived.text,
            evidencedBy,
          };
        });

  const byStatus = Object.fromEntries(SoaStatus.options.map((status) => [status, controls.filter((control) => control.status === status).length])) as Record<
    SoaStatus,
    number
  >;
  return {
    schema: SOA_SCHEMA,
    organisation: loaded.config.organisation ?? null,
    generatedAt: new Date(now).toISOString(),
    timeZone: loaded.config.timezone,
    framework: { id: framework, name: catalogOf(framework).name },
    titles: options.titles
      ? { source: 'licensed', file: options.titles.file, licensed: options.titles.byId.size }
      : { source: 'isms-worker', file: null, licensed: 0 },
    lastReview:
      subjects.map((subject) => subject.source).find((source): source is ActivitySource => source.kind === 'activity' && source.id === SOA_REVIEW_ACTIVITY) ??
      null,
    summary: { controls: controls.length, applicable: controls.filter((control) => control.applicable).length, byStatus },
    controls,
    frameworkView,
    crosswalk: framework === ISO_27001 ? null : { sources: [...crosswalkSources()] },
  };
}

function controlSource(control: ResolvedControl, run: LatestControlRun | undefined, evidence: readonly RunEvidence[]): EvidenceSource {
  return {
    kind: 'control',
    id: control.control.id,
    title: control.control.title,
    owner: control.control.owner,
    status: run?.status ?? 'never-ran',
    evaluatedAt: run?.evaluatedAt ?? null,
    runId: run?.runId ?? null,
    openNonconformities: run?.openNonconformities ?? 0,
    evidence: run
      ? evidence.filter((row) => row.runId === run.runId).map((row) => ({ id: row.id, sha256: row.sha256, name: row.sourceName, at: row.collectedAt }))
      : [],
  };
}

/** An activity's latest occurrence due by `now` (planned or recorded) and its last completion with the evidence kept. */
async function activitySource(activity: CalendarActivity, store: CalendarStore, now: number): Promise<ActivitySource> {
  const recorded = await store.list({ activityId: activity.id });
  const planned = planOccurrences(activity, { from: now - ACTIVITY_LOOKBACK_MS, to: now + 1 });
  const latest = calendarRows(planned, recorded, now)
    .filter((row) => Date.parse(row.due) <= now)
    .at(-1);
  const done = recorded
    .filter((occurrence) => occurrence.status === 'done' && occurrence.performedAt !== null)
    .sort((a, b) => Date.parse(a.performedAt!) - Date.parse(b.performedAt!))
    .at(-1);
  return {
    kind: 'activity',
    id: activity.id,
    title: activity.title,
    owner: latest?.owner ?? activity.owner,
    status: latest?.status ?? 'not-due-yet',
    due: latest?.due ?? null,
    lastCompleted: done ? { occurrenceId: done.occurrenceId, performedAt: done.performedAt!, by: done.completedBy ?? '', late: done.late } : null,
    evidence: (done?.evidence ?? []).map((item) =>
      'link' in item ? { name: item.name, link: item.link } : { id: item.evidenceId, sha256: item.sha256, name: item.name, at: done!.performedAt! },
    ),
  };
}

/** The worst of what references it: deviations over evidence gaps over nothing yet over implemented. */
function statusOf(sources: readonly EvidenceSource[]): { status: SoaStatus; text: string } {
  if (sources.length === 0) return { status: 'manual', text: MANUAL_TEXT };
  const categories = new Set(sources.map((source) => CATEGORY[source.status]));
  const status: SoaStatus = categories.has('deviation')
    ? 'deviations'
    : categories.has('gap')
      ? 'evidence-gap'
      : categories.has('none')
        ? 'not-yet-evidenced'
        : 'implemented';
  return { status, text: `${STATUS_LABEL[status]}: ${sources.map((source) => `${source.kind} ${source.id} ${source.status}`).join(', ')}` };
}

function justificationOf(configured: SoaControlEntry | undefined, soa: SoaConfig | undefined): Justification {
  const text = configured?.justification ?? null;
  if (configured && !configured.applicable) return { reasons: [], text, risks: [], stated: 'config' };
  const risks = configured?.risks ?? [];
  const own = configured?.reasons ?? (risks.length > 0 ? ['risk-treatment' as const] : undefined);
  if (own) return { reasons: own, text, risks, stated: 'config' };
  if (soa?.defaultReasons) return { reasons: soa.defaultReasons, text, risks, stated: 'default' };
  return { reasons: [], text, risks, stated: text ? 'config' : 'none' };
}

/** The configured owner, else the owners of the controls that reference it, else of the activities, else `soa.owner`. */
function ownersOf(configured: SoaControlEntry | undefined, sources: readonly EvidenceSource[], soa: SoaConfig | undefined): string[] {
  if (configured?.owner) return [configured.owner];
  for (const kind of ['control', 'activity'] as const) {
    const owners = [...new Set(sources.filter((source) => source.kind === kind).map((source) => source.owner))];
    if (owners.length > 0) return owners;
  }
  return soa?.owner ? [soa.owner] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Licensed titles

const TITLE_COLUMNS = { id: 'id', title: 'title' } as const;
const TitleRow = z.object({
  id: textCell.refine((value) => value !== null, 'empty id'),
  title: textCell.refine((value) => value !== null, 'empty title'),
});

/** The official titles a licence holder keeps in a CSV (columns `id`, `title`), checked against the catalog. */
export async function readLicensedTitles(file: string, baseDir: string): Promise<LicensedTitles> {
  const source = { connector: 'soa.titles', file };
  const parseRow = csvRowParser(source, TITLE_COLUMNS, TitleRow);
  const iso = catalogOf(ISO_27001);
  const byId = new Map<string, string>();
  try {
    for await (const row of readCsvRows({
      ...source,
      absolutePath: path.resolve(baseDir, file),
      delimiter: ',',
      encoding: 'utf8',
      signal: new AbortController().signal,
      onHeader: (header) => checkHeader(source, header, TITLE_COLUMNS),
      onDigest: () => undefined,
    })) {
      const { id, title } = parseRow(row).fields;
      if (!iso.byId.has(id!)) throw new ConfigError(`soa.titles: ${file}: line ${row.line}: "${id}" is not a clause or Annex A control of ISO/IEC 27001:2022`);
      if (byId.has(id!)) throw new ConfigError(`soa.titles: ${file}: line ${row.line}: a second title for ${id}`);
      byId.set(id!, title!);
    }
  } catch (error) {
    // The file is the config's: its faults are the user's to fix (exit 2), whatever the CSV reader calls them.
    if (error instanceof ConnectorError) throw new ConfigError(error.message);
    throw error;
  }
  return { file, byId };
}

// ---------------------------------------------------------------------------------------------------------------
// Kept as evidence

/**
 * Keeps a generated SoA as evidence: its JSON always (what `isms soa diff` compares), and the rendered HTML or CSV
 * when that was asked for. One run id per generation.
 */
export async function keepSoa(store: EvidenceStore, soa: SoaDocument, rendered?: { format: 'html' | 'csv'; content: string }): Promise<EvidenceRow[]> {
  const runId = `soa:${soa.generatedAt}:${randomUUID()}`;
  const stem = `statement-of-applicability-${soa.generatedAt.slice(0, 10)}`;
  const meta = {
    runId,
    controlId: SOA_CONTROL_ID,
    connector: 'isms-soa',
    connectorVersion: '1',
    collectedAt: soa.generatedAt,
    provenance: {
      schema: soa.schema,
      framework: soa.framework.id,
      controls: soa.summary.controls,
      applicable: soa.summary.applicable,
      byStatus: soa.summary.byStatus,
    },
    warnings: [],
  };
  const rows = [
    await store.storeFile({ ...meta, sourceName: SOA_JSON }, { name: `${stem}.json`, mediaType: 'application/json' }, `${JSON.stringify(soa, null, 2)}\n`),
  ];
  if (rendered) {
    const mediaType = rendered.format === 'html' ? 'text/html' : 'text/csv';
    rows.push(await store.storeFile({ ...meta, sourceName: `soa.${rendered.format}` }, { name: `${stem}.${rendered.format}`, mediaType }, rendered.content));
  }
  return rows;
}

/** The SoAs kept so far (their JSON), newest first. */
export async function storedSoas(store: EvidenceStore): Promise<EvidenceRow[]> {
  return (await store.list({ controlId: SOA_CONTROL_ID })).filter((row) => row.sourceName === SOA_JSON);
}

export async function readStoredSoa(store: EvidenceStore, row: EvidenceRow): Promise<SoaDocument> {
  const bytes = await store.fileContent(row.id);
  let content: unknown;
  try {
    content = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    // JSON.parse quotes the text it choked on; the message names the evidence only.
    throw new Error(`evidence ${row.id}: the stored SoA is not valid JSON`, { cause: error });
  }
  const parsed = SoaDocument.safeParse(content);
  if (!parsed.success)
    throw new Error(`evidence ${row.id}: not a SoA this version reads (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}
