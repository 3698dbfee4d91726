import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveCalendar } from '../../config/calendar.ts';
import { planOccurrences } from '../../config/calendar-plan.ts';
import { ConfigError } from '../../core/errors.ts';
import { loadConfig, type LoadedConfig } from '../../config/load.ts';
import { CalendarStore } from '../../evidence/calendar-store.ts';
import { Scan } from '../../core/records.ts';
import { Register } from '../../evidence/register.ts';
import { EvidenceStore } from '../../evidence/store.ts';
import { PAGE_CSP } from '../../worker/html.ts';
import { defaultRegistries } from '../../worker/runtime.ts';
import { diffSoa, MANUAL_TEXT, renderSoaCsv, renderSoaHtml, type SoaControl, type SoaDocument } from '../../worker/soa.ts';
import { gatherSoa, keepSoa, readLicensedTitles, readStoredSoa, SOA_CONTROL_ID, storedSoas, type LicensedTitles } from '../../worker/soa-data.ts';
import { headlessChromium } from '../support/chromium.ts';

/*
 * A catalog seeded through the store, register and calendar store: a control that passes (A.8.8, plus a SOC 2 id
 * of its own), one that fails (A.5.18, A.8.5), one whose evidence could not be collected (A.8.13, beside a restore
 * test done), one that never ran and whose control is excluded (A.8.15), activities missed, never recorded and not
 * due yet, and a SoA review completed late with a file kept as evidence.
 */

const HOSTILE = '<script>alert(1)</script> "onmouseover=alert(2) x="';
const NOW = Date.parse('2026-11-12T12:00:00Z');
const dir = mkdtempSync(path.join(tmpdir(), 'isms-soa-'));

const source = (name: string) => ({ name, connector: 'scanner-files', config: { paths: [`scans/${name}`] } });
const control = (id: string, reference: string | string[], owner: string, title = `Control ${id}`) => ({
  id,
  title,
  reference,
  owner,
  schedule: { cron: '0 6 * * *' },
  sources: [source(`${id}-a`), source(`${id}-b`)],
  checks: [{ check: 'vulnerability-sla' }],
});

const configOf = (extraControls: object[] = []) => ({
  organisation: 'Example GmbH',
  dataDir: 'data',
  timezone: 'Europe/Berlin',
  controls: [
    control('vuln', ['A.8.8', 'soc2/CC8.1'], 'security@example.com', `Vulnerabilities fixed ${HOSTILE}`),
    control('access', ['A.5.18', 'A.8.5'], 'it@example.com'),
    control('backup', 'A.8.13', 'ops@example.com'),
    control('logging', 'A.8.15', 'ops@example.com'),
    ...extraControls,
  ],
  calendar: {
    owner: 'isms@example.com',
    activities: [
      { id: 'soa-review', title: 'SoA review', reference: '6.1.3', every: '1 year', anchor: '2026-04-30', evidence: [{ name: 'statement of applicability' }] },
      { id: 'supplier-review', title: 'Supplier review', reference: 'A.5.19', every: '6 months', anchor: '2026-03-31' },
      { id: 'restore-test', title: 'Restore test', reference: 'A.8.13', owner: 'ops@example.com', every: '3 months', anchor: '2026-02-15' },
      { id: 'policy-review', title: 'Policy review', reference: ['5.2', 'A.5.1'], every: '1 year', anchor: '2026-01-31' },
      { id: 'awareness', title: 'Awareness training', reference: 'A.6.3', every: '1 year', anchor: '2026-12-15' },
    ],
  },
  soa: {
    owner: 'ciso@example.com',
    defaultReasons: ['best-practice'],
    titles: 'titles.csv',
    controls: {
      'A.7.4': { applicable: false, justification: `No premises of our own ${HOSTILE}` },
      'A.8.8': { reasons: ['risk-treatment', 'contractual'], risks: ['R-3', 'R-7'], justification: 'Customer contracts require patches within 30 days' },
      'A.8.15': { applicable: false, justification: "Logs are the hosting provider's" },
      'A.5.31': { reasons: ['legal'], owner: 'legal@example.com', justification: '=GDPR and the BDSG' },
    },
  },
});

function writeConfig(extraControls: object[] = []): string {
  const file = path.join(dir, 'isms.yaml');
  writeFileSync(file, stringify(configOf(extraControls)));
  return file;
}

let config: LoadedConfig;
let store: EvidenceStore;
let titles: LicensedTitles;
let soa: SoaDocument;
let soaReviewEvidence: { id: string; sha256: string };
const row = (id: string) => soa.controls.find((control) => control.id === id)!;

async function snapshot(runId: string, controlId: string, sourceName: string, collectedAt: string) {
  const staged = await store.stage(runId, sourceName);
  await staged.append(
    Scan.parse({ kind: 'scan', source: sourceName, scanner: 'trivy', asset: sourceName, scannedAt: collectedAt, origin: 'seed', findingCount: 0 }),
  );
  return await store.commit(staged, {
    runId,
    controlId,
    sourceName,
    connector: 'scanner-files',
    connectorVersion: '1',
    kinds: ['scan'],
    collectedAt,
    provenance: {},
    warnings: [],
  });
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'titles.csv'), 'id,title\nA.5.1,Licensed title of A.5.1\n9.2,Licensed clause title\nA.8.8,"Licensed, with a comma"\n');
  config = await loadConfig(writeConfig(), defaultRegistries);
  store = await EvidenceStore.open(config.dataDir);
  const register = new Register(store.catalog);
  const run = async (runId: string, controlId: string, evaluatedAt: string, status: 'pass' | 'fail' | 'error', deviations = 0) => {
    const found = Array.from({ length: deviations }, (_, index) => ({
      checkId: 'vulnerability-sla',
      subject: `s${index}`,
      title: `Finding ${index}`,
      severity: 'high' as const,
      detail: '',
      values: {},
      evidenceIds: [],
    }));
    const saved = await register.saveCheckRun(
      { runId, controlId, evaluatedAt, status, results: [{ checkId: 'vulnerability-sla', status, deviations }] },
      found,
    );
    const gaps = status === 'error' ? [{ sourceName: `${controlId}-b`, reason: 'denied', errorType: 'PermissionError' }] : [];
    await register.reconcile({ checkRunId: saved.id, controlId, reference: 'x', owner: 'o', at: evaluatedAt, gaps, collectedSources: [`${controlId}-a`] });
  };
  // vuln failed yesterday and passes today: only today's run and its evidence count.
  await snapshot('vuln-1', 'vuln', 'vuln-a', '2026-11-11T06:00:00.000Z');
  await run('vuln-1', 'vuln', '2026-11-11T06:01:00.000Z', 'fail', 1);
  await snapshot('vuln-2', 'vuln', 'vuln-a', '2026-11-12T06:00:00.000Z');
  await snapshot('vuln-2', 'vuln', 'vuln-b', '2026-11-12T06:00:01.000Z');
  await run('vuln-2', 'vuln', '2026-11-12T06:01:00.000Z', 'pass');
  await snapshot('access-1', 'access', 'access-a', '2026-11-12T06:00:00.000Z');
  await run('access-1', 'access', '2026-11-12T06:02:00.000Z', 'fail', 2);
  await snapshot('backup-1', 'backup', 'backup-a', '2026-11-12T06:00:00.000Z');
  await run('backup-1', 'backup', '2026-11-12T06:03:00.000Z', 'error');

  const calendar = resolveCalendar(config.config);
  const calendarStore = new CalendarStore(store.catalog);
  const occurrence = (activityId: string, dueDate: string) =>
    planOccurrences(calendar.activities.get(activityId)!, { from: Date.parse('2026-01-01'), to: NOW }).find((entry) => entry.dueDate === dueDate)!;
  const review = occurrence('soa-review', '2026-04-30');
  await calendarStore.open(review, review.opensAt);
  const file = await store.storeFile(
    {
      runId: review.occurrenceId,
      controlId: 'activity:soa-review',
      sourceName: 'soa.html',
      connector: 'calendar',
      connectorVersion: '1',
      collectedAt: '2026-05-02T10:00:00.000Z',
      provenance: {},
      warnings: [],
    },
    { name: 'soa.html', mediaType: 'text/html' },
    '<p>reviewed</p>',
  );
  soaReviewEvidence = { id: file.id, sha256: file.sha256 };
  await calendarStore.complete({
    occurrenceId: review.occurrenceId,
    by: 'ciso@example.com',
    performedAt: '2026-05-02T10:00:00.000Z',
    recordedAt: '2026-05-02T10:05:00.000Z',
    late: true,
    evidence: [{ name: 'statement of applicability', evidenceId: file.id, sha256: file.sha256, uri: file.uri }],
  });
  const supplier = occurrence('supplier-review', '2026-09-30');
  await calendarStore.open(supplier, supplier.opensAt);
  await calendarStore.missed(supplier.occurrenceId, 'NC-0099', supplier.graceUntil);
  const restore = occurrence('restore-test', '2026-08-15');
  await calendarStore.open(restore, restore.opensAt);
  await calendarStore.complete({
    occurrenceId: restore.occurrenceId,
    by: 'ops@example.com',
    performedAt: '2026-08-14T09:00:00.000Z',
    recordedAt: '2026-08-14T09:00:00.000Z',
    late: false,
    evidence: [{ name: 'restore report', link: 'https://wiki.example.com/restore' }],
  });

  titles = await readLicensedTitles('titles.csv', config.baseDir);
  soa = await gatherSoa({ config, store }, { framework: 'iso27001:2022', now: NOW, titles });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Statement of Applicability', () => {
  it('lists all 93 Annex A controls in order, with the licensed titles where the CSV gives them and ours elsewhere', () => {
    expect(soa.controls).toHaveLength(93);
    expect(soa.controls.map((control) => control.id).slice(0, 3)).toEqual(['A.5.1', 'A.5.2', 'A.5.3']);
    expect(soa.controls.at(-1)!.id).toBe('A.8.34');
    expect(row('A.5.1').title).toBe('Licensed title of A.5.1');
    expect(row('A.8.8').title).toBe('Licensed, with a comma');
    expect(row('A.8.13').title).toBe('Backups and restore tests');
    expect(soa.titles).toEqual({ source: 'licensed', file: 'titles.csv', licensed: 3 });
    expect(soa.schema).toBe('isms-worker/statement-of-applicability@1');
  });

  it("derives live status from the latest runs of the controls that reference each one, with that run's evidence ids and hashes", async () => {
    const vuln = await store.list({ controlId: 'vuln' });
    expect(row('A.8.8')).toMatchObject({
      status: 'implemented',
      statusText: 'implemented: control vuln pass',
      owners: ['security@example.com'],
      evidencedBy: [
        {
          kind: 'control',
          id: 'vuln',
          status: 'pass',
          runId: 'vuln-2',
          evaluatedAt: '2026-11-12T06:01:00.000Z',
          openNonconformities: 0,
          evidence: [
            {
              id: vuln.find((entry) => entry.runId === 'vuln-2' && entry.sourceName === 'vuln-a')!.id,
              sha256: vuln[1]!.sha256,
              name: 'vuln-a',
              at: '2026-11-12T06:00:00.000Z',
            },
            { id: vuln[0]!.id, sha256: vuln[0]!.sha256, name: 'vuln-b', at: '2026-11-12T06:00:01.000Z' },
          ],
        },
      ],
    });
    expect(row('A.5.18')).toMatchObject({
      status: 'deviations',
      statusText: 'deviations: control access fail',
      owners: ['it@example.com'],
      evidencedBy: [{ id: 'access', openNonconformities: 2 }],
    });
    expect(row('A.8.5').status).toBe('deviations');
    // The backup control could not collect; the restore test beside it was done.
    expect(row('A.8.13')).toMatchObject({ status: 'evidence-gap', statusText: 'evidence gap: control backup error, activity restore-test done' });
    expect(row('A.8.13').evidencedBy[1]).toEqual({
      kind: 'activity',
      id: 'restore-test',
      title: 'Restore test',
      owner: 'ops@example.com',
      status: 'done',
      due: expect.stringMatching(/^2026-08-15T/),
      lastCompleted: { occurrenceId: 'activity:restore-test:2026-08-15', performedAt: '2026-08-14T09:00:00.000Z', by: 'ops@example.com', late: false },
      evidence: [{ name: 'restore report', link: 'https://wiki.example.com/restore' }],
    });
  });

  it('derives status from the calendar activities that reference a control: missed, never recorded, not due yet', () => {
    expect(row('A.5.19')).toMatchObject({ status: 'deviations', statusText: 'deviations: activity supplier-review missed', owners: ['isms@example.com'] });
    expect(row('A.5.1')).toMatchObject({ status: 'evidence-gap', statusText: 'evidence gap: activity policy-review unrecorded' });
    expect(row('A.6.3')).toMatchObject({ status: 'not-yet-evidenced', statusText: 'not yet evidenced: activity awareness not-due-yet' });
  });

  it('says "manual: no automated evidence" where nothing references a control, with the SoA owner and the default reasons', () => {
    expect(row('A.5.2')).toEqual({
      id: 'A.5.2',
      group: 'Organisational controls',
      title: 'Assigned security roles',
      applicable: true,
      justification: { reasons: ['best-practice'], text: null, risks: [], stated: 'default' },
      status: 'manual',
      statusText: MANUAL_TEXT,
      owners: ['ciso@example.com'],
      evidencedBy: [],
      mapped: [],
    } satisfies SoaControl);
    expect(MANUAL_TEXT).toBe('manual: no automated evidence');
    expect(row('A.5.31')).toMatchObject({
      status: 'manual',
      owners: ['legal@example.com'],
      justification: { reasons: ['legal'], text: '=GDPR and the BDSG', stated: 'config' },
    });
  });

  it('takes applicability and justification from the config: exclusions, risk treatment with its risks, an excluded control still referenced', () => {
    expect(row('A.7.4')).toMatchObject({
      applicable: false,
      status: 'not-applicable',
      statusText: 'not applicable',
      justification: { reasons: [], text: `No premises of our own ${HOSTILE}`, stated: 'config' },
    });
    expect(row('A.8.8').justification).toEqual({
      reasons: ['risk-treatment', 'contractual'],
      text: 'Customer contracts require patches within 30 days',
      risks: ['R-3', 'R-7'],
      stated: 'config',
    });
    expect(row('A.8.15')).toMatchObject({ applicable: false, status: 'not-applicable', statusText: 'not applicable, yet referenced by control logging' });
    expect(soa.summary).toEqual({
      controls: 93,
      applicable: 91,
      byStatus: { implemented: 1, deviations: 3, 'evidence-gap': 2, 'not-yet-evidenced': 1, manual: 84, 'not-applicable': 2 },
    });
  });

  it("gives the last SoA review: the calendar's soa-review completion with its evidence", () => {
    expect(soa.lastReview).toMatchObject({
      id: 'soa-review',
      status: 'done-late',
      lastCompleted: { occurrenceId: 'activity:soa-review:2026-04-30', performedAt: '2026-05-02T10:00:00.000Z', by: 'ciso@example.com', late: true },
      evidence: [{ id: soaReviewEvidence.id, sha256: soaReviewEvidence.sha256, name: 'statement of applicability' }],
    });
  });

  it('maps every control to SOC 2 or NIST CSF 2.0 through the crosswalk, and lists each framework id with what evidences it', async () => {
    const soc2 = await gatherSoa({ config, store }, { framework: 'soc2', now: NOW, titles: null });
    expect(soc2.framework).toEqual({ id: 'soc2', name: 'SOC 2 (2017 Trust Services Criteria)' });
    expect(soc2.controls.find((control) => control.id === 'A.8.8')!.mapped).toEqual(['CC7.1']);
    expect(soc2.controls.find((control) => control.id === 'A.7.4')!.mapped).toEqual([]);
    const entry = (id: string) => soc2.frameworkView.find((candidate) => candidate.id === id)!;
    expect(soc2.frameworkView).toHaveLength(36);
    expect(entry('CC8.1')).toMatchObject({ status: 'implemented', annexA: [], evidencedBy: [{ kind: 'control', id: 'vuln' }] });
    expect(entry('CC7.1')).toMatchObject({ status: 'implemented', annexA: ['A.8.8'] });
    expect(entry('CC6.1')).toMatchObject({ status: 'deviations', annexA: ['A.5.16', 'A.5.17', 'A.8.2', 'A.8.5'], evidencedBy: [{ id: 'access' }] });
    expect(entry('CC9.2')).toMatchObject({ status: 'deviations', evidencedBy: [{ kind: 'activity', id: 'supplier-review' }] });
    expect(entry('A1.3')).toMatchObject({ status: 'evidence-gap', statusText: 'evidence gap: control backup error, activity restore-test done' });
    expect(entry('CC1.1')).toMatchObject({ status: 'manual', statusText: MANUAL_TEXT, evidencedBy: [] });
    expect(soc2.crosswalk!.sources).toHaveLength(2);

    const csf = await gatherSoa({ config, store }, { framework: 'nist-csf-2.0', now: NOW, titles: null });
    expect(csf.controls.find((control) => control.id === 'A.8.8')!.mapped).toEqual(['ID.RA-01', 'PR.PS-02']);
    expect(csf.frameworkView).toHaveLength(106);
    expect(csf.frameworkView.find((candidate) => candidate.id === 'PR.DS-11')).toMatchObject({ annexA: ['A.8.13'], status: 'evidence-gap' });
    expect(soa.frameworkView).toEqual([]);
    expect(soa.crosswalk).toBeNull();
  });
});

describe('licensed titles', () => {
  const titlesFrom = async (content: string) => {
    writeFileSync(path.join(dir, 'bad-titles.csv'), content);
    return readLicensedTitles('bad-titles.csv', dir);
  };
  it('refuses an id the catalog does not have, a second title, a missing column and a missing file, naming file and line', async () => {
    await expect(titlesFrom('id,title\nA.5.1,x\nA.5.38,y\n')).rejects.toThrow(
      new ConfigError('soa.titles: bad-titles.csv: line 3: "A.5.38" is not a clause or Annex A control of ISO/IEC 27001:2022'),
    );
    await expect(titlesFrom('id,title\nA.5.1,x\nA.5.1,y\n')).rejects.toThrow(new ConfigError('soa.titles: bad-titles.csv: line 3: a second title for A.5.1'));
    await expect(titlesFrom('control,name\nA.5.1,x\n')).rejects.toThrow(ConfigError);
    await expect(titlesFrom('control,name\nA.5.1,x\n')).rejects.toThrow(/^soa\.titles: bad-titles\.csv: header "id" \(columns\.id\) is missing/);
    await expect(titlesFrom('id,title\nA.5.1,\n')).rejects.toThrow(/^soa\.titles: bad-titles\.csv: line 2: column "title": empty title$/);
    await expect(readLicensedTitles('nowhere.csv', dir)).rejects.toThrow(/^soa\.titles: nowhere\.csv: no such file/);
  });
});

describe('the SoA as HTML', () => {
  let html: string;
  beforeAll(() => {
    html = renderSoaHtml(soa);
  });

  it('is one self-contained page: a strict CSP, inline style only, no script and nothing external', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP.replace(/'/g, '&#39;')}">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base|form)\b/i);
    expect(html).not.toMatch(/\s(src|href|action)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).toMatch(/@media print\{[^]*@page\{size:A4 landscape/);
  });

  it('escapes every hostile value', () => {
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt; &quot;onmouseover=alert(2) x=&quot;';
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/\sonmouseover=/i);
    expect(html).toContain(`<td>excluded: No premises of our own ${escaped}</td>`);
    expect(html).toContain(`<b>Vulnerabilities fixed ${escaped}</b>`);
    const hostileOrganisation = renderSoaHtml({ ...soa, organisation: HOSTILE });
    expect(hostileOrganisation).toContain(`<h1>Statement of Applicability: ${escaped}</h1>`);
    expect(hostileOrganisation).not.toContain(HOSTILE);
  });

  it('has a row per Annex A control with applicability, justification, status, evidence and owner, and the last review', async () => {
    expect(html.match(/<tr data-control="/g)).toHaveLength(93);
    const a88 = /<tr data-control="A\.8\.8">([^]*?)<\/tr>/.exec(html)![1]!;
    expect(a88).toContain('<td>risk treatment (R-3, R-7), contractual: Customer contracts require patches within 30 days</td>');
    expect(a88).toContain('<span class="badge good">implemented</span>');
    const [latest] = await store.list({ controlId: 'vuln' });
    expect(a88).toContain(`<b>${latest!.id}</b> <code title="sha256 ${latest!.sha256}">${latest!.sha256.slice(0, 12)}…</code><small> vuln-b</small>`);
    expect(a88).toContain('<td>security@example.com</td>');
    expect(html).toContain('<tr data-control="A.7.4" class="excluded">');
    expect(/<tr data-control="A\.5\.2">([^]*?)<\/tr>/.exec(html)![1]).toContain('<small>manual: no automated evidence</small>');
    expect(html).toContain('<dt>Last SoA review</dt><dd>2026-05-02 by ciso@example.com (late) <small>activity:soa-review:2026-04-30</small></dd>');
    expect(html).toContain('<div class="tile good"><b>1</b><span>implemented</span></div>');
    expect(html).not.toContain('<section id="framework">');
  });

  it('adds the chosen framework: a column of mapped ids and a section per framework id, naming the crosswalk as indicative with its sources', async () => {
    const page = renderSoaHtml(await gatherSoa({ config, store }, { framework: 'soc2', now: NOW, titles: null }));
    expect(page).toContain('<th>SOC 2 (2017 Trust Services Criteria)</th>');
    expect(/<tr data-control="A\.5\.18">([^]*?)<\/tr>/.exec(page)![1]).toMatch(/<td>CC6\.2, CC6\.3<\/td>$/);
    expect(page).toContain('<h2>By SOC 2 (2017 Trust Services Criteria)</h2>');
    expect(page).toMatch(
      /The crosswalk to SOC 2 \(2017 Trust Services Criteria\) is indicative, not an authoritative equivalence\. Sources: NIST Cybersecurity Framework 2\.0/,
    );
  });
});

describe('the SoA in a browser', { tags: ['chromium'] }, () => {
  it('renders in headless Chromium: 93 control rows, the hostile values as text, no script', async () => {
    const file = path.join(dir, 'soa.html');
    writeFileSync(file, renderSoaHtml(soa));
    const dom = await headlessChromium(file, path.join(dir, 'profile'), ['--dump-dom']);
    expect(dom.match(/<tr data-control="A\.\d\.\d+"/g)).toHaveLength(93);
    expect(dom.match(/<span class="badge bad">deviations<\/span>/g)).toHaveLength(3);
    expect(dom).toContain('excluded: No premises of our own &lt;script&gt;alert(1)&lt;/script&gt; "onmouseover=alert(2) x="');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
  }, 90_000);

  it('takes a screenshot', async () => {
    const file = path.join(dir, 'soa.html');
    writeFileSync(file, renderSoaHtml(soa));
    const png = path.join(dir, 'soa.png');
    await headlessChromium(file, path.join(dir, 'profile'), [`--screenshot=${png}`, '--window-size=1280,1600']);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 1600]);
  }, 90_000);
});

describe('the SoA as CSV', () => {
  it('has a header and a row per control, formulas kept as text, the evidence with full hashes', async () => {
    const csv = renderSoaCsv(soa);
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines).toHaveLength(94);
    expect(lines[0]).toBe('control,theme,title,applicable,reasons,justification,risks,status,status detail,owners,evidenced by,evidence');
    expect(lines.find((line) => line.startsWith('A.5.31,'))).toBe(
      "A.5.31,Organisational controls,Legal and contractual obligations,yes,legal,'=GDPR and the BDSG,,manual,manual: no automated evidence,legal@example.com,,",
    );
    const a88 = lines.find((line) => line.startsWith('A.8.8,'))!;
    expect(a88).toContain('"Licensed, with a comma",yes,risk-treatment contractual,Customer contracts require patches within 30 days,R-3 R-7,implemented');
    const vuln = row('A.8.8').evidencedBy[0]!;
    if (vuln.kind !== 'control') throw new Error('A.8.8 is evidenced by the vuln control');
    expect(vuln.evidence).toHaveLength(2);
    for (const evidence of vuln.evidence) expect(a88).toContain(`${evidence.id} sha256:${evidence.sha256}`);
    expect(renderSoaCsv(await gatherSoa({ config, store }, { framework: 'nist-csf-2.0', now: NOW, titles: null })).split('\r\n')[0]).toMatch(
      /,evidence,nist-csf-2\.0$/,
    );
  });
});

describe('SoAs kept as evidence, and what changed between them', () => {
  it('keeps each generation (JSON and the rendered form) in the hash chain, and diffs the latest two after a control is added', async () => {
    const first = await keepSoa(store, soa, { format: 'html', content: renderSoaHtml(soa) });
    expect(first.map((entry) => [entry.controlId, entry.sourceName, entry.provenance.file])).toEqual([
      [SOA_CONTROL_ID, 'soa.json', { name: 'statement-of-applicability-2026-11-12.json', mediaType: 'application/json' }],
      [SOA_CONTROL_ID, 'soa.html', { name: 'statement-of-applicability-2026-11-12.html', mediaType: 'text/html' }],
    ]);
    expect(first[0]!.runId).toBe(first[1]!.runId);

    const added = await loadConfig(writeConfig([control('malware', ['A.8.7'], 'endpoint@example.com')]), defaultRegistries);
    const second = await gatherSoa({ config: added, store }, { framework: 'iso27001:2022', now: NOW + 60_000, titles });
    const kept = await keepSoa(store, second);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.runId).not.toBe(first[0]!.runId);

    const [latest, previous] = await storedSoas(store);
    expect([latest!.id, previous!.id]).toEqual([kept[0]!.id, first[0]!.id]);
    expect(await readStoredSoa(store, previous!)).toEqual(soa);
    expect(diffSoa(await readStoredSoa(store, previous!), await readStoredSoa(store, latest!))).toEqual([
      { control: 'A.8.7', title: 'Malware defence', field: 'status', before: 'manual', after: 'not yet evidenced' },
      { control: 'A.8.7', title: 'Malware defence', field: 'evidenced by', before: 'nothing', after: 'control malware' },
      { control: 'A.8.7', title: 'Malware defence', field: 'owners', before: 'ciso@example.com', after: 'endpoint@example.com' },
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('shows changes of applicability and justification', () => {
    const excluded = structuredClone(soa);
    const a55 = excluded.controls.find((control) => control.id === 'A.5.5')!;
    Object.assign(a55, {
      applicable: false,
      status: 'not-applicable',
      justification: { reasons: [], text: 'Handled by the parent company', risks: [], stated: 'config' },
    });
    expect(diffSoa(soa, excluded)).toEqual([
      { control: 'A.5.5', title: 'Relations with authorities', field: 'applicability', before: 'applicable', after: 'not applicable' },
      {
        control: 'A.5.5',
        title: 'Relations with authorities',
        field: 'justification',
        before: 'best practice (default)',
        after: 'excluded: Handled by the parent company',
      },
      { control: 'A.5.5', title: 'Relations with authorities', field: 'status', before: 'manual', after: 'not applicable' },
    ]);
    expect(diffSoa(soa, soa)).toEqual([]);
  });

  it('refuses to read a stored file that is not a SoA, naming the evidence', async () => {
    const bogus = await store.storeFile(
      {
        runId: 'soa:bogus',
        controlId: SOA_CONTROL_ID,
        sourceName: 'soa.json',
        connector: 'isms-soa',
        connectorVersion: '1',
        collectedAt: new Date(NOW).toISOString(),
        provenance: {},
        warnings: [],
      },
      { name: 'x.json', mediaType: 'application/json' },
      '{"schema":"something else"}',
    );
    await expect(readStoredSoa(store, bogus)).rejects.toThrow(new RegExp(`^evidence ${bogus.id}: not a SoA this version reads \\(schema: `));
  });
});
