import { z } from 'zod';
import { csvCell } from '../activities/review-report.ts';
import { Framework, ISO_27001 } from '../config/frameworks/catalog.ts';
import { InclusionReason } from '../config/soa.ts';
import { all, dateIn, el, htmlPage, markup, table, timeIn, type Content, type Markup } from './html.ts';

/*
 * The Statement of Applicability as a document: its shape (one zod schema, also used to read stored SoAs back for
 * `isms soa diff`), its HTML and CSV forms, and what changed between two of them. Pure: soa-data.ts gathers it from
 * the config and the catalog.
 */

export const SOA_SCHEMA = 'isms-worker/statement-of-applicability@1';

/**
 * implemented: everything that references the control has passing, current evidence; deviations: a control run
 * failed or an activity is missed or overdue; evidence-gap: a run could not collect its evidence, or an activity's
 * due occurrence was never recorded; not-yet-evidenced: something references it but has no result yet; manual:
 * nothing automated or scheduled references it.
 */
export const SoaStatus = z.enum(['implemented', 'deviations', 'evidence-gap', 'not-yet-evidenced', 'manual', 'not-applicable']);
export type SoaStatus = z.infer<typeof SoaStatus>;

export const STATUS_LABEL: Record<SoaStatus, string> = {
  implemented: 'implemented',
  deviations: 'deviations',
  'evidence-gap': 'evidence gap',
  'not-yet-evidenced': 'not yet evidenced',
  manual: 'manual',
  'not-applicable': 'not applicable',
};

/** What the SoA says where nothing automated or scheduled gives evidence. */
export const MANUAL_TEXT = 'manual: no automated evidence';

const StoredEvidence = z.object({ id: z.string(), sha256: z.string(), name: z.string(), at: z.string() });
const LinkedEvidence = z.object({ name: z.string(), link: z.string() });

export const ControlRunStatus = z.enum(['pass', 'fail', 'error', 'never-ran']);
export const ActivityStatus = z.enum(['planned', 'open', 'overdue', 'missed', 'done', 'done-late', 'unrecorded', 'not-due-yet']);

/** An automated control that references the SoA entry, with its latest run. */
const ControlSource = z.object({
  kind: z.literal('control'),
  id: z.string(),
  title: z.string(),
  owner: z.string(),
  status: ControlRunStatus,
  evaluatedAt: z.string().nullable(),
  runId: z.string().nullable(),
  openNonconformities: z.number().int(),
  /** The evidence of the latest run. */
  evidence: z.array(StoredEvidence),
});

/** A calendar activity that references the SoA entry, with its latest due occurrence and last completion. */
export const ActivitySource = z.object({
  kind: z.literal('activity'),
  id: z.string(),
  title: z.string(),
  owner: z.string(),
  /** Of the latest occurrence due by the time of the SoA. */
  status: ActivityStatus,
  due: z.string().nullable(),
  lastCompleted: z.object({ occurrenceId: z.string(), performedAt: z.string(), by: z.string(), late: z.boolean() }).nullable(),
  /** The evidence of the last completion. */
  evidence: z.array(z.union([StoredEvidence, LinkedEvidence])),
});
export type ActivitySource = z.infer<typeof ActivitySource>;

export const EvidenceSource = z.discriminatedUnion('kind', [ControlSource, ActivitySource]);
export type EvidenceSource = z.infer<typeof EvidenceSource>;

export const Justification = z.object({
  reasons: z.array(InclusionReason),
  text: z.string().nullable(),
  /** Risk ids from the config, until the risk register links them (issue 18). */
  risks: z.array(z.string()),
  /** config: stated for this control; default: `soa.defaultReasons`; none: nobody said why. */
  stated: z.enum(['config', 'default', 'none']),
});
export type Justification = z.infer<typeof Justification>;

export const SoaControl = z.object({
  id: z.string(),
  group: z.string(),
  title: z.string(),
  applicable: z.boolean(),
  justification: Justification,
  status: SoaStatus,
  statusText: z.string(),
  owners: z.array(z.string()),
  evidencedBy: z.array(EvidenceSource),
  /** The control's ids in the chosen framework through the crosswalk; empty for ISO/IEC 27001 itself. */
  mapped: z.array(z.string()),
});
export type SoaControl = z.infer<typeof SoaControl>;

/** One id of the chosen framework (SOC 2 criterion, CSF subcategory), with what references it. */
export const FrameworkEntry = z.object({
  id: z.string(),
  group: z.string(),
  title: z.string(),
  /** Annex A controls the crosswalk maps to it. */
  annexA: z.array(z.string()),
  status: SoaStatus,
  statusText: z.string(),
  evidencedBy: z.array(EvidenceSource),
});
export type FrameworkEntry = z.infer<typeof FrameworkEntry>;

export const SoaDocument = z.object({
  schema: z.literal(SOA_SCHEMA),
  organisation: z.string().nullable(),
  generatedAt: z.string(),
  timeZone: z.string(),
  framework: z.object({ id: Framework, name: z.string() }),
  titles: z.object({ source: z.enum(['isms-worker', 'licensed']), file: z.string().nullable(), licensed: z.number().int() }),
  /** The calendar's `soa-review` activity; null when the calendar has none. */
  lastReview: ActivitySource.nullable(),
  summary: z.object({ controls: z.number().int(), applicable: z.number().int(), byStatus: z.record(SoaStatus, z.number().int()) }),
  controls: z.array(SoaControl),
  /** Empty unless a framework other than ISO/IEC 27001 was chosen. */
  frameworkView: z.array(FrameworkEntry),
  /** The crosswalk's sources, when a framework other than ISO/IEC 27001 was chosen. */
  crosswalk: z.object({ sources: z.array(z.object({ name: z.string(), url: z.string() })) }).nullable(),
});
export type SoaDocument = z.infer<typeof SoaDocument>;

// ---------------------------------------------------------------------------------------------------------------
// Words

const REASON_LABEL: Record<InclusionReason, string> = {
  'risk-treatment': 'risk treatment',
  legal: 'legal',
  contractual: 'contractual',
  'best-practice': 'best practice',
};

export function describeJustification(control: Pick<SoaControl, 'applicable' | 'justification'>): string {
  const { reasons, text, risks, stated } = control.justification;
  if (!control.applicable) return `excluded: ${text ?? ''}`;
  if (stated === 'none') return 'not stated';
  const why = reasons
    .map((reason) => (reason === 'risk-treatment' && risks.length > 0 ? `risk treatment (${risks.join(', ')})` : REASON_LABEL[reason]))
    .join(', ');
  return [why, text].filter(Boolean).join(': ') + (stated === 'default' ? ' (default)' : '');
}

function describeSources(sources: readonly EvidenceSource[]): string {
  return sources.map((source) => `${source.kind} ${source.id}`).join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

const STATUS_CLASS: Record<string, string> = {
  implemented: 'good',
  pass: 'good',
  done: 'good',
  'done-late': 'warn',
  deviations: 'bad',
  fail: 'bad',
  missed: 'bad',
  overdue: 'bad',
  'evidence-gap': 'bad',
  error: 'bad',
  unrecorded: 'bad',
  'not-yet-evidenced': 'warn',
  'never-ran': 'warn',
};

const badge = (status: string, label = status) => el('span', { class: `badge ${STATUS_CLASS[status] ?? 'neutral'}` }, label);
const short = (sha256: string) => el('code', { title: `sha256 ${sha256}` }, `${sha256.slice(0, 12)}…`);

function sourceCell(sources: readonly EvidenceSource[], zone: string): Markup {
  if (sources.length === 0) return el('span', { class: 'muted' }, 'nothing references it');
  return all(
    ...sources.map((source) => {
      const when =
        source.kind === 'control'
          ? source.evaluatedAt
            ? ` ${timeIn(source.evaluatedAt, zone)}`
            : ''
          : source.lastCompleted
            ? ` last done ${dateIn(source.lastCompleted.performedAt, zone)} by ${source.lastCompleted.by}`
            : source.due
              ? ` due ${dateIn(source.due, zone)}`
              : '';
      const open =
        source.kind === 'control' && source.openNonconformities > 0
          ? el('span', { class: 'bad-text' }, ` ${source.openNonconformities} open NC${source.openNonconformities === 1 ? '' : 's'}`)
          : '';
      const evidence = source.evidence.map((item) =>
        'link' in item
          ? el('li', {}, item.name, ': ', item.link)
          : el('li', {}, el('b', {}, item.id), ' ', short(item.sha256), el('small', {}, ` ${item.name}`)),
      );
      return el(
        'div',
        { class: 'source', 'data-source': `${source.kind}:${source.id}` },
        el('small', {}, source.kind),
        ' ',
        el('b', {}, source.title),
        ' ',
        el('small', {}, source.id),
        ' ',
        badge(source.status),
        el('small', {}, when),
        open,
        evidence.length > 0 ? el('ul', {}, ...evidence) : '',
      );
    }),
  );
}

function header(soa: SoaDocument): Markup {
  const zone = soa.timeZone;
  const review = soa.lastReview;
  const reviewText: Content = !review
    ? el('span', { class: 'muted' }, 'the calendar has no soa-review activity')
    : review.lastCompleted
      ? all(
          dateIn(review.lastCompleted.performedAt, zone),
          ` by ${review.lastCompleted.by}`,
          review.lastCompleted.late ? ' (late)' : '',
          ' ',
          el('small', {}, review.lastCompleted.occurrenceId),
        )
      : all(el('span', { class: 'bad-text' }, 'never completed'), review.due ? ` (due ${dateIn(review.due, zone)}, ${review.status})` : '');
  const titles =
    soa.titles.source === 'licensed'
      ? `licensed titles from ${soa.titles.file} (${soa.titles.licensed}); the others in isms-worker's own words`
      : "isms-worker's own short titles (set soa.titles to a CSV of your licensed ones)";
  const facts: [string, Content][] = [
    ['Organisation', soa.organisation ?? '(not set in the config)'],
    ['Standard', `ISO/IEC 27001:2022, Annex A (${soa.summary.controls} controls)`],
    ['Generated', `${timeIn(soa.generatedAt, zone)} ${zone}`],
    ['Last SoA review', reviewText],
    ['Titles', titles],
  ];
  if (soa.framework.id !== ISO_27001) facts.push(['Mapped to', `${soa.framework.name} (indicative crosswalk)`]);
  return all(
    el('h1', {}, 'Statement of Applicability', soa.organisation ? `: ${soa.organisation}` : ''),
    el('dl', { class: 'facts' }, ...facts.map(([term, value]) => all(el('dt', {}, term), el('dd', {}, value)))),
  );
}

function glance(soa: SoaDocument): Markup {
  const tile = (value: number | string, label: string, kind: string) => el('div', { class: `tile ${kind}` }, el('b', {}, value), el('span', {}, label));
  const count = (status: SoaStatus) => soa.summary.byStatus[status] ?? 0;
  return el(
    'section',
    { class: 'glance' },
    tile(`${soa.summary.applicable}/${soa.summary.controls}`, 'controls applicable', 'neutral'),
    tile(count('implemented'), 'implemented', 'good'),
    tile(count('deviations'), 'with deviations', count('deviations') > 0 ? 'bad' : 'good'),
    tile(count('evidence-gap'), 'with evidence gaps', count('evidence-gap') > 0 ? 'bad' : 'good'),
    tile(count('not-yet-evidenced'), 'not yet evidenced', count('not-yet-evidenced') > 0 ? 'warn' : 'good'),
    tile(count('manual'), 'manual, no automated evidence', 'neutral'),
  );
}

function controlRows(soa: SoaDocument): Markup {
  const zone = soa.timeZone;
  const mappedHeader = soa.framework.id === ISO_27001 ? [] : [soa.framework.name];
  const groups = [...new Set(soa.controls.map((control) => control.group))];
  return all(
    ...groups.map((group) =>
      el(
        'section',
        { class: 'group' },
        el('h2', {}, group),
        el(
          'table',
          { class: 'soa' },
          el(
            'thead',
            {},
            el('tr', {}, ...['Control', 'Applicable', 'Justification', 'Status', 'Evidenced by', 'Owner', ...mappedHeader].map((name) => el('th', {}, name))),
          ),
          el(
            'tbody',
            {},
            ...soa.controls
              .filter((control) => control.group === group)
              .map((control) =>
                el(
                  'tr',
                  { 'data-control': control.id, class: control.applicable ? undefined : 'excluded' },
                  el('td', {}, el('b', {}, control.id), markup('<br>'), control.title),
                  el('td', {}, control.applicable ? 'yes' : 'no'),
                  el('td', { class: control.applicable && control.justification.stated === 'none' ? 'warn-text' : undefined }, describeJustification(control)),
                  el('td', {}, badge(control.status, STATUS_LABEL[control.status]), markup('<br>'), el('small', {}, control.statusText)),
                  el('td', {}, sourceCell(control.evidencedBy, zone)),
                  el('td', {}, control.owners.join(', ') || el('span', { class: 'muted' }, 'none')),
                  ...(mappedHeader.length > 0 ? [el('td', {}, control.mapped.join(', '))] : []),
                ),
              ),
          ),
        ),
      ),
    ),
  );
}

function frameworkView(soa: SoaDocument): Markup {
  if (soa.framework.id === ISO_27001) return markup('');
  const zone = soa.timeZone;
  return el(
    'section',
    { id: 'framework' },
    el('h2', {}, `By ${soa.framework.name}`),
    el(
      'p',
      { class: 'muted' },
      `Each ${soa.framework.name} id with the controls and activities that reference it, directly or through the crosswalk of their ISO/IEC 27001 references, and the Annex A controls the crosswalk maps to it.`,
    ),
    table(
      ['Id', 'Status', 'Annex A', 'Evidenced by'],
      soa.frameworkView.map((entry) => [
        all(el('b', {}, entry.id), markup('<br>'), entry.title),
        all(badge(entry.status, STATUS_LABEL[entry.status]), markup('<br>'), el('small', {}, entry.statusText)),
        entry.annexA.join(', '),
        sourceCell(entry.evidencedBy, zone),
      ]),
      { class: 'framework' },
      'The framework has no ids.',
    ),
  );
}

function footer(soa: SoaDocument): Markup {
  const sources = soa.crosswalk?.sources ?? [];
  return el(
    'footer',
    {},
    el(
      'p',
      { class: 'muted' },
      'Generated by isms-worker from the config and the evidence catalog (',
      el('code', {}, 'isms soa'),
      '); each generated SoA is kept as evidence, and ',
      el('code', {}, 'isms soa diff'),
      ' shows what changed since the one before. Status is derived from the latest runs of the automated controls and the calendar activities that reference each control.',
    ),
    sources.length > 0
      ? el(
          'p',
          { class: 'muted' },
          `The crosswalk to ${soa.framework.name} is indicative, not an authoritative equivalence. Sources: `,
          sources.map((source) => `${source.name} (${source.url})`).join('; '),
          '.',
        )
      : '',
  );
}

const STYLE = `
*{box-sizing:border-box}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px 28px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 10px}h2{font-size:17px;margin:28px 0 6px;padding-bottom:3px;border-bottom:2px solid #1d1d1f}
small{color:#555;font-size:11px}.muted{color:#666}p{margin:4px 0 8px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0 0 14px}
dl.facts dt{font-weight:600;color:#444}dl.facts dd{margin:0}
.glance{display:grid;grid-template-columns:repeat(6,1fr);gap:8px;margin:12px 0 4px}
.tile{border:1px solid #d0d0d0;border-left:5px solid #9e9e9e;border-radius:4px;padding:6px 8px}
.tile.good{border-left-color:#2e7d32}.tile.bad{border-left-color:#c62828}.tile.warn{border-left-color:#ef6c00}
.tile b{display:block;font-size:20px}.tile span{font-size:11px;color:#444}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid #d0d0d0;padding:3px 6px;text-align:left;vertical-align:top}
thead th{background:#f2f2f2;font-weight:600}
table.soa td:first-child{width:210px}table.soa td:nth-child(2){width:70px}
tr.excluded td{background:#f7f7f7;color:#555}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600;white-space:nowrap}
.badge.good{background:#c8e6c9;color:#1b5e20}.badge.warn{background:#ffe0b2;color:#8a4b00}.badge.bad{background:#ffcdd2;color:#8e0000}.badge.neutral{background:#e8e8e8;color:#333}
.bad-text{color:#b71c1c;font-weight:700}.warn-text{color:#8a4b00;font-weight:700}
.source+.source{margin-top:4px;padding-top:4px;border-top:1px dotted #ccc}
.source ul{margin:2px 0 0;padding-left:16px}code{font-size:11px}
@media print{
  @page{size:A4 landscape;margin:10mm}
  body{margin:0;font-size:10px}
  h2{break-after:avoid;margin-top:16px}
  tr,.tile{break-inside:avoid}
  thead{display:table-header-group}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}`;

/** The SoA as one self-contained page: inline style, no script, nothing external, every value escaped. */
export function renderSoaHtml(soa: SoaDocument): string {
  const title = `Statement of Applicability${soa.organisation ? `: ${soa.organisation}` : ''}, ${dateIn(soa.generatedAt, soa.timeZone)}`;
  return htmlPage(title, STYLE, [header(soa), glance(soa), controlRows(soa), frameworkView(soa), footer(soa)]);
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

/** RFC 4180 with a byte-order mark, one row per Annex A control; cells a spreadsheet would run as formulas stay text. */
export function renderSoaCsv(soa: SoaDocument): string {
  const mapped = soa.framework.id === ISO_27001 ? [] : [soa.framework.id];
  const header = [
    'control',
    'theme',
    'title',
    'applicable',
    'reasons',
    'justification',
    'risks',
    'status',
    'status detail',
    'owners',
    'evidenced by',
    'evidence',
    ...mapped,
  ];
  const rows = soa.controls.map((control) => [
    control.id,
    control.group,
    control.title,
    control.applicable ? 'yes' : 'no',
    control.justification.reasons.join(' '),
    control.justification.text ?? '',
    control.justification.risks.join(' '),
    control.status,
    control.statusText,
    control.owners.join(' '),
    describeSources(control.evidencedBy),
    control.evidencedBy
      .flatMap((source) => source.evidence.map((item) => ('link' in item ? `${item.name} ${item.link}` : `${item.id} sha256:${item.sha256}`)))
      .join('; '),
    ...(mapped.length > 0 ? [control.mapped.join(' ')] : []),
  ]);
  return `\uFEFF${[header, ...rows].map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Diff

export interface SoaChange {
  control: string;
  title: string;
  field: 'applicability' | 'justification' | 'status' | 'evidenced by' | 'owners';
  before: string;
  after: string;
}

/** What changed per Annex A control between two SoAs: applicability, justification, status, what evidences it, owners. */
export function diffSoa(before: SoaDocument, after: SoaDocument): SoaChange[] {
  const previous = new Map(before.controls.map((control) => [control.id, control]));
  const changes: SoaChange[] = [];
  for (const control of after.controls) {
    const old = previous.get(control.id);
    if (!old) continue;
    const fields: [SoaChange['field'], (entry: SoaControl) => string][] = [
      ['applicability', (entry) => (entry.applicable ? 'applicable' : 'not applicable')],
      ['justification', (entry) => describeJustification(entry)],
      ['status', (entry) => STATUS_LABEL[entry.status]],
      ['evidenced by', (entry) => describeSources(entry.evidencedBy) || 'nothing'],
      ['owners', (entry) => entry.owners.join(', ') || 'none'],
    ];
    for (const [field, describe] of fields) {
      const [was, now] = [describe(old), describe(control)];
      if (was !== now) changes.push({ control: control.id, title: control.title, field, before: was, after: now });
    }
  }
  return changes;
}
